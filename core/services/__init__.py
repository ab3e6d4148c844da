"""The use cases. ``Core`` bundles them; ``build_core`` wires them from ports, so the
composition root (bots/bootstrap.py) is the only place that knows concrete classes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.models_config import ModelCatalog
from core.observability import NO_METRICS, MetricsSink
from core.ports import LinkCodes, ModelProvider, RateLimiter, StopSignals, UnitOfWorkFactory
from core.services.accounts import AccountService
from core.services.admin import AdminService
from core.services.billing import Billing
from core.services.chat import ChatService
from core.services.config import CoreConfig
from core.services.conversation import ConversationService
from core.services.gate import Gate
from core.services.lifecycle import Lifecycle
from core.services.media import MediaService


@dataclass(frozen=True, slots=True)
class Core:
    accounts: AccountService
    chat: ChatService
    media: MediaService
    conversations: ConversationService
    admin: AdminService
    lifecycle: Lifecycle
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
    metrics: MetricsSink = NO_METRICS,
) -> Core:
    accounts = AccountService(uow, config, links, models)
    gate = Gate(uow, accounts, limiter, models, config)
    billing = Billing(uow, metrics=metrics)
    return Core(
        accounts=accounts,
        chat=ChatService(uow, gate, billing, providers, models, stops, config),
        media=MediaService(gate, billing, providers, config),
        conversations=ConversationService(uow, accounts),
        admin=AdminService(uow, accounts),
        lifecycle=Lifecycle(gate, stops),
        models=models,
        config=config,
    )
