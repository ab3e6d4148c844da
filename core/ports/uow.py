"""The unit of work: one short transaction holding every repository. Leaving the block
without ``commit()`` rolls back; no use case keeps one open across an upstream call."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from core.ports.access import AccessRepository
from core.ports.accounts import AccountRepository, DirectoryRepository, SecurityRepository
from core.ports.announcements import AnnouncementRepository
from core.ports.auth import ApiKeyRepository, CredentialRepository, RefreshTokenRepository
from core.ports.chat_settings import ChatSettingsRepository
from core.ports.conversations import ConversationRepository, EventRepository, UsageRepository
from core.ports.gateway import GatewayFileRepository
from core.ports.holds import HoldRepository
from core.ports.leases import LeaseRepository
from core.ports.ledger import IdempotencyRepository, LedgerRepository


class UnitOfWork(Protocol):
    """One short transaction. Leaving the block without ``commit()`` rolls back."""

    accounts: AccountRepository
    ledger: LedgerRepository
    conversations: ConversationRepository
    usage: UsageRepository
    events: EventRepository
    credentials: CredentialRepository
    security: SecurityRepository
    refresh_tokens: RefreshTokenRepository
    api_keys: ApiKeyRepository
    idempotency: IdempotencyRepository
    directory: DirectoryRepository
    leases: LeaseRepository
    access: AccessRepository
    announcements: AnnouncementRepository
    chat_settings: ChatSettingsRepository
    gateway_files: GatewayFileRepository
    holds: HoldRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """A fresh unit of work per call.

    ``atomic=False`` says the block needs no transaction around its statements: at most
    one of them writes, and that one is whole on its own (a credential lookup, a
    settlement, a /v1 admission). Where the database allows, each statement then commits
    by itself and no BEGIN or COMMIT is sent: two round trips fewer on the hot path.
    Elsewhere (SQLite) it is an ordinary transaction, so a repository whose one-statement
    form exists only on Postgres may still run its steps there."""

    def __call__(self, *, atomic: bool = True) -> UnitOfWork: ...
