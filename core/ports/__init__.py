"""The protocols the use cases depend on, with their contracts written on them. ``storage``
implements them for SQL and Redis, ``tests/fakes`` in memory, and one contract suite
(tests/contract) runs against both so the fakes stay honest. Import them from here."""

from core.ports.access import AccessRepository, AccessRule, Invite
from core.ports.accounts import (
    AccountRepository,
    DirectoryRepository,
    SecurityRepository,
    UserEntry,
)
from core.ports.announcements import (
    AnnouncementRepository,
    Broadcast,
    Reachable,
    Recipient,
)
from core.ports.auth import (
    ApiKeyRecord,
    ApiKeyRepository,
    Credential,
    CredentialRepository,
    InvalidToken,
    KeyOptions,
    KeyPrincipal,
    LoginLimiter,
    RefreshRecord,
    RefreshTokenRepository,
    SessionPrincipal,
    TokenClaims,
    TokenCodec,
    TokenType,
)
from core.ports.chat_settings import ChatSettings, ChatSettingsRepository, VoiceMode
from core.ports.conversations import (
    ConversationRepository,
    EventRepository,
    UsageRepository,
)
from core.ports.gateway import (
    FormPart,
    GatewayFile,
    GatewayFileRepository,
    GatewayUpstream,
    JsonObject,
    RawAnswer,
    RelayEvent,
)
from core.ports.health import HealthProbe
from core.ports.holds import (
    HoldClosing,
    HoldOpening,
    HoldOwner,
    HoldRepository,
    OpenedHold,
    StepwiseHolds,
)
from core.ports.kv import (
    LinkCodes,
    RateLimiter,
    SharedFlags,
    StopSignals,
)
from core.ports.leases import Interruption, InterruptionNotices, LeaseRepository, OrphanedHold
from core.ports.ledger import (
    GrantRecord,
    IdempotencyRepository,
    LedgerRepository,
)
from core.ports.messenger import DeliveryOutcome, PrivateMessenger
from core.ports.provider import (
    ModelProvider,
)
from core.ports.settlements import (
    PendingSettlement,
    SettlementJournal,
)
from core.ports.uow import (
    UnitOfWork,
    UnitOfWorkFactory,
)

__all__ = [
    "StepwiseHolds",
    "OpenedHold",
    "HoldRepository",
    "HoldOwner",
    "HoldOpening",
    "HoldClosing",
    "AccessRepository",
    "AccessRule",
    "Invite",
    "RelayEvent",
    "RawAnswer",
    "JsonObject",
    "GatewayUpstream",
    "GatewayFileRepository",
    "GatewayFile",
    "FormPart",
    "AccountRepository",
    "AnnouncementRepository",
    "Broadcast",
    "Reachable",
    "Recipient",
    "ApiKeyRecord",
    "KeyOptions",
    "KeyPrincipal",
    "ApiKeyRepository",
    "ChatSettings",
    "ChatSettingsRepository",
    "ConversationRepository",
    "Credential",
    "CredentialRepository",
    "DeliveryOutcome",
    "DirectoryRepository",
    "EventRepository",
    "GrantRecord",
    "HealthProbe",
    "IdempotencyRepository",
    "InvalidToken",
    "Interruption",
    "InterruptionNotices",
    "LeaseRepository",
    "LedgerRepository",
    "LinkCodes",
    "LoginLimiter",
    "ModelProvider",
    "OrphanedHold",
    "PrivateMessenger",
    "PendingSettlement",
    "RateLimiter",
    "RefreshRecord",
    "RefreshTokenRepository",
    "SecurityRepository",
    "SessionPrincipal",
    "SettlementJournal",
    "SharedFlags",
    "StopSignals",
    "TokenClaims",
    "TokenCodec",
    "TokenType",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UsageRepository",
    "UserEntry",
    "VoiceMode",
]
