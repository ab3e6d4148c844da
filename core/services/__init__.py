"""The use cases. ``Core`` bundles them; ``build_core`` wires them from ports, so the
composition root (bots/bootstrap.py) is the only place that knows concrete classes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.models_config import ModelCatalog
from core.observability import NO_METRICS, MetricsSink
from core.ports import (
    HealthProbe,
    LinkCodes,
    LoginLimiter,
    ModelProvider,
    RateLimiter,
    SettlementJournal,
    StopSignals,
    TokenCodec,
    UnitOfWorkFactory,
)
from core.services.accounts import AccountService
from core.services.admin import AdminService
from core.services.auth import AuthConfig, AuthService
from core.services.billing import Billing
from core.services.chat import ChatService
from core.services.chat_settings import ChatSettingsService
from core.services.config import CoreConfig
from core.services.conversation import ConversationService
from core.services.gate import Gate
from core.services.lifecycle import Lifecycle
from core.services.media import MediaService
from core.services.passwords import ScryptHasher
from core.services.personas import NO_PERSONAS, PersonaCatalog
from core.services.profile import ProfileService


@dataclass(frozen=True, slots=True)
class Core:
    accounts: AccountService
    auth: AuthService
    profile: ProfileService
    chat: ChatService
    chat_settings: ChatSettingsService
    media: MediaService
    conversations: ConversationService
    admin: AdminService
    lifecycle: Lifecycle
    billing: Billing  # for the composition root: replay journaled settlements, stop retrying
    models: ModelCatalog
    config: CoreConfig


def build_core(
    *,
    uow: UnitOfWorkFactory,
    providers: Mapping[str, ModelProvider],
    models: ModelCatalog,
    limiter: RateLimiter,
    links: LinkCodes,
    stops: StopSignals,
    config: CoreConfig,
    health: HealthProbe,
    login_limiter: LoginLimiter,
    token_codec: TokenCodec | None = None,
    hasher: ScryptHasher | None = None,
    auth_config: AuthConfig | None = None,
    metrics: MetricsSink = NO_METRICS,
    worker_id: str | None = None,
    journal: SettlementJournal | None = None,
    personas: PersonaCatalog = NO_PERSONAS,
) -> Core:
    """``token_codec`` may be None where nobody signs in over HTTP (no JWT secret).
    ``worker_id`` names this process's lease (core.services.leases) on every hold.
    ``journal`` keeps settlements through a database outage (without one, a settlement
    the database cannot take raises ``StorageUnavailable``)."""
    accounts = AccountService(uow, config, links, models)
    gate = Gate(uow, accounts, limiter, models, config)
    billing = Billing(uow, metrics=metrics, worker_id=worker_id, journal=journal)
    hasher = hasher or ScryptHasher()
    chat_settings = ChatSettingsService(uow, accounts, personas, models)
    return Core(
        accounts=accounts,
        auth=AuthService(
            uow, accounts, token_codec, login_limiter, hasher, auth_config or AuthConfig()
        ),
        profile=ProfileService(uow, accounts, hasher),
        chat=ChatService(uow, gate, billing, providers, models, stops, config, chat_settings),
        chat_settings=chat_settings,
        media=MediaService(gate, billing, providers, config),
        conversations=ConversationService(uow, accounts),
        admin=AdminService(uow, accounts),
        lifecycle=Lifecycle(gate, stops, health),
        billing=billing,
        models=models,
        config=config,
    )
