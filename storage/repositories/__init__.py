"""SQL repositories: one per port of ``core.ports``. They map rows to core types, run
inside the connection a ``SqlUnitOfWork`` hands them, and never commit."""

from storage.repositories.access import SqlAccessRepository
from storage.repositories.accounts import SqlAccountRepository
from storage.repositories.announcements import SqlAnnouncementRepository
from storage.repositories.chat_settings import SqlChatSettingsRepository
from storage.repositories.conversations import SqlConversationRepository
from storage.repositories.credentials import SqlCredentialRepository
from storage.repositories.directory import SqlDirectoryRepository
from storage.repositories.events import SqlEventRepository
from storage.repositories.gateway_files import SqlGatewayFileRepository
from storage.repositories.holds import PostgresHoldRepository
from storage.repositories.idempotency import SqlIdempotencyRepository
from storage.repositories.leases import SqlLeaseRepository
from storage.repositories.ledger import SqlLedgerRepository
from storage.repositories.security import SqlSecurityRepository
from storage.repositories.tokens import SqlApiKeyRepository, SqlRefreshTokenRepository
from storage.repositories.usage import SqlUsageRepository

__all__ = [
    "PostgresHoldRepository",
    "SqlAccessRepository",
    "SqlAccountRepository",
    "SqlAnnouncementRepository",
    "SqlApiKeyRepository",
    "SqlChatSettingsRepository",
    "SqlConversationRepository",
    "SqlCredentialRepository",
    "SqlDirectoryRepository",
    "SqlEventRepository",
    "SqlGatewayFileRepository",
    "SqlIdempotencyRepository",
    "SqlLeaseRepository",
    "SqlLedgerRepository",
    "SqlRefreshTokenRepository",
    "SqlSecurityRepository",
    "SqlUsageRepository",
]
