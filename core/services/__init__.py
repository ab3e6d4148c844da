"""The use cases. ``Core`` bundles them; ``build_core`` wires them from ports, so the
composition root (bots/bootstrap.py) is the only place that knows concrete classes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime

from core.models_config import ModelCatalog
from core.observability import NO_METRICS, MetricsSink
from core.ports import (
    GatewayUpstream,
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
from core.services.admin_console import AdminConsole
from core.services.admin_notices import AdminNotices
from core.services.allowance_admin import AllowanceAdmin
from core.services.allowances import Allowances
from core.services.announcements import Announcements
from core.services.api_keys import ApiKeyService
from core.services.auth import AuthConfig, AuthService
from core.services.billing import Billing
from core.services.chat import ChatService
from core.services.chat_settings import ChatSettingsService
from core.services.config import CoreConfig
from core.services.conversation import ConversationService
from core.services.gate import Gate
from core.services.gateway import ChatGatewayService
from core.services.gateway_calls import GatewayService
from core.services.gateway_files import GatewayFiles
from core.services.gateway_forms import GatewayForms
from core.services.gateway_paid import PaidRelay
from core.services.lifecycle import Lifecycle
from core.services.media import MediaService
from core.services.passwords import ScryptHasher
from core.services.personas import NO_PERSONAS, PersonaCatalog
from core.services.profile import ProfileService
from core.services.progress import HoldProgress
from core.services.request_slots import RequestSlots
from core.services.usage import UsageService


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
    chat_settings: ChatSettingsService
    chat_gateway: ChatGatewayService  # /v1 chat completions: the client's body, passed through
    media: MediaService
    conversations: ConversationService
    admin: AdminService
    console: AdminConsole  # what the web admin console reads beside ``admin``
    usage: UsageService  # each person's own spending (/usage)
    allowance_admin: AllowanceAdmin  # /allowance: one account's allowance override
    lifecycle: Lifecycle
    billing: Billing  # for the composition root: replay journaled settlements, stop retrying
    progress: HoldProgress  # what open answers produced, written by the lease heartbeat
    models: ModelCatalog
    config: CoreConfig
    # The /v1 pass-through routes (embeddings, completions, responses, forms, files).
    gateway: GatewayService
    gateway_forms: GatewayForms
    files: GatewayFiles


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
    personas: PersonaCatalog = NO_PERSONAS,
    relays: Mapping[str, GatewayUpstream] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Core:
    """``token_codec`` may be None where nobody signs in over HTTP (no JWT secret).
    ``worker_id`` names this process's lease (core.services.leases) on every hold.
    ``journal`` keeps settlements through a database outage (without one, a settlement
    the database cannot take raises ``StorageUnavailable``). ``messengers``: the platforms'
    private senders, filled in by each adapter as it starts (announcements, notices).
    ``relays`` (per provider) carry the /v1 pass-through routes; without them those routes
    answer ``EndpointUnsupported``. ``clock`` is "now" for allowances and usage (CLOCK_FILE
    in tests), default the system clock."""
    now = clock or (lambda: datetime.now(UTC))
    allowances = Allowances(config.allowances, now)
    accounts = AccountService(uow, config, links, models, allowances=allowances)
    gate = Gate(uow, accounts, limiter, models, config)
    billing = Billing(
        uow,
        metrics=metrics,
        worker_id=worker_id,
        journal=journal,
        overdraft=config.max_overdraft,
        clock=now,
    )
    hasher = hasher or ScryptHasher()
    admin = AdminService(uow, accounts)
    progress = HoldProgress()
    messengers = messengers if messengers is not None else {}
    notices = AdminNotices(uow, messengers, config.notify_admins)
    accounts.on_new_account = notices.new_user
    accounts.access.set_refusal_hook(notices.closed_refusal)
    gate.after_request = notices.after_request
    paid = PaidRelay(gate, billing, relays or {}, models)
    chat_settings = ChatSettingsService(uow, accounts, personas, models)
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
        chat=ChatService(
            uow, gate, billing, providers, models, stops, config, chat_settings, progress
        ),
        chat_settings=chat_settings,
        chat_gateway=ChatGatewayService(gate, billing, providers),
        media=MediaService(gate, billing, providers, config),
        conversations=ConversationService(uow, accounts),
        admin=admin,
        console=AdminConsole(uow, admin, models, health),
        usage=UsageService(uow, accounts, allowances),
        allowance_admin=AllowanceAdmin(uow, admin),
        lifecycle=Lifecycle(gate, stops, health),
        billing=billing,
        progress=progress,
        models=models,
        config=config,
        gateway=GatewayService(paid),
        gateway_forms=GatewayForms(paid, config),
        files=GatewayFiles(uow, paid, models, RequestSlots(limiter, config), config),
    )
