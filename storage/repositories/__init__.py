"""SQL repositories: one per port of ``core.ports``. They map rows to core types, run
inside the session a ``SqlUnitOfWork`` hands them, and never commit."""

from storage.repositories.accounts import SqlAccountRepository
from storage.repositories.conversations import SqlConversationRepository
from storage.repositories.events import SqlEventRepository
from storage.repositories.ledger import SqlLedgerRepository
from storage.repositories.usage import SqlUsageRepository

__all__ = [
    "SqlAccountRepository",
    "SqlConversationRepository",
    "SqlEventRepository",
    "SqlLedgerRepository",
    "SqlUsageRepository",
]
