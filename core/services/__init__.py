"""The use cases. ``Core`` bundles them; ``build_core`` wires them from ports, so the
composition root (bots/bootstrap.py) is the only place that knows concrete classes."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

from core.models_config import ModelCatalog
from core.observability import NO_METRICS, MetricsSink
from core.ports import (
    HealthProbe,
    LinkCodes,
    LoginLimiter,
    ModelProvider,
    PrivateMessenger,
    RateLimiter,
    SettlementJournal,
    StopSignals,
    TokenCodec,
    UnitOfWorkFactory,
)
from core.services.access_admin import AccessAdmin
from core.services.accounts import AccountService
from core.services.admin import AdminService
from core.services.admin_notices import AdminNotices
from core.services.announcements import Announcements
from core.services.api_keys import ApiKeyService
from core.services.auth import AuthConfig, AuthService
from core.services.billing import Billing
from core.services.chat import ChatService
from core.services.config import CoreConfig
from core.services.conversation import ConversationService
from core.services.gate import Gate
from core.services.lifecycle import Lifecycle
from core.services.media import MediaService
from core.services.passwords import ScryptHasher
from core.services.profile import ProfileService
from core.services.progress import HoldProgress


@dataclass(frozen=True, slots=True)
class Core:
    accounts: AccountService
    access: AccessAdmin
    announcements: Announcements
    notices: AdminNotices
    auth: AuthService
    profile: ProfileService
    api_keys: ApiKeyService
    chat: ChatService
    media: MediaService
    conversations: ConversationService
    admin: AdminService
    lifecycle: Lifecycle
    billing: Billing  # for the composition root: replay journaled settlements, stop retrying
    progress: HoldProgress  # what open answers produced, written by the lease heartbeat
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
    messengers: MutableMapping[str, PrivateMessenger] | None = None,
) -> Core:
    """``token_codec`` may be None where nobody signs in over HTTP (no JWT secret).
    ``worker_id`` names this process's lease (core.services.leases) on every hold.
    ``journal`` keeps settlements through a database outage (without one, a settlement
    the database cannot take raises ``StorageUnavailable``). ``messengers``: the platforms'
    private senders, filled in by each adapter as it starts (announcements, notices)."""
    accounts = AccountService(uow, config, links, models)
    gate = Gate(uow, accounts, limiter, models, config)
    billing = Billing(uow, metrics=metrics, worker_id=worker_id, journal=journal)
    hasher = hasher or ScryptHasher()
    progress = HoldProgress()
    admin = AdminService(uow, accounts)
    messengers = messengers if messengers is not None else {}
    notices = AdminNotices(uow, messengers, config.notify_admins)
    accounts.on_new_account = notices.new_user
    accounts.access.set_refusal_hook(notices.closed_refusal)
    gate.after_request = notices.after_request
    return Core(
        accounts=accounts,
        access=AccessAdmin(uow, accounts, admin, config.access_mode),
        announcements=Announcements(uow, admin, messengers, lease_s=config.broadcast_lease_s),
        notices=notices,
        auth=AuthService(
            uow, accounts, token_codec, login_limiter, hasher, auth_config or AuthConfig()
        ),
        profile=ProfileService(uow, accounts, hasher),
        api_keys=ApiKeyService(uow, models),
        chat=ChatService(uow, gate, billing, providers, models, stops, config, progress),
        media=MediaService(gate, billing, providers, config),
        conversations=ConversationService(uow, accounts),
        admin=admin,
        lifecycle=Lifecycle(gate, stops, health),
        billing=billing,
        progress=progress,
        models=models,
        config=config,
    )
