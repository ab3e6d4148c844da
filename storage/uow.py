"""The SQL unit of work: one connection holding every repository, one short transaction,
rolled back unless the use case commits. Connection failures anywhere in it surface as ``StorageUnavailable``.

On SQLite the units of work of one process take turns on the engine's writer lock and
start with ``BEGIN IMMEDIATE`` (the file's write lock taken up front, so a transaction
never fails half way on a lock another connection holds). However the block ends —
an error, or its task cancelled at any await, including inside ``__aenter__`` — the
transaction is rolled back, the connection returned and the lock released, in a
shielded task that a second cancellation cannot interrupt."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.errors import StorageUnavailable
from core.ports import (
    AccessRepository,
    AccountRepository,
    AnnouncementRepository,
    ApiKeyRepository,
    ChatSettingsRepository,
    ConversationRepository,
    CredentialRepository,
    DirectoryRepository,
    EventRepository,
    GatewayFileRepository,
    IdempotencyRepository,
    LeaseRepository,
    LedgerRepository,
    RefreshTokenRepository,
    SecurityRepository,
    UnitOfWorkFactory,
    UsageRepository,
)
from core.ports.holds import HoldRepository, StepwiseHolds
from storage.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    is_unavailable,
    sqlite_writer_lock,
    translate_errors,
)
from storage.repositories import (
    PostgresHoldRepository,
    SqlAccessRepository,
    SqlAccountRepository,
    SqlAnnouncementRepository,
    SqlApiKeyRepository,
    SqlChatSettingsRepository,
    SqlConversationRepository,
    SqlCredentialRepository,
    SqlDirectoryRepository,
    SqlEventRepository,
    SqlGatewayFileRepository,
    SqlIdempotencyRepository,
    SqlLeaseRepository,
    SqlLedgerRepository,
    SqlRefreshTokenRepository,
    SqlSecurityRepository,
    SqlUsageRepository,
)

logger = logging.getLogger(__name__)


class SqlUnitOfWork:
    # Typed as the ports so that this class satisfies ``core.ports.UnitOfWork``.
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

    def __init__(self, engine: AsyncEngine, *, atomic: bool = True) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._writer_lock = sqlite_writer_lock(engine)
        # Not atomic: on Postgres each statement runs in its own implicit transaction, no
        # BEGIN and COMMIT round trips. SQLite keeps its transaction (and its writer's
        # turn): its repositories may run several statements where Postgres runs one.
        self._autocommit = not atomic and self._writer_lock is None

    async def __aenter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already open")
        await self._take_turn()
        try:
            async with translate_errors():
                connection = await self._engine.connect()
        except BaseException:
            self._end_turn()
            raise
        try:
            async with translate_errors():
                if self._autocommit:
                    await connection.execution_options(isolation_level="AUTOCOMMIT")
                else:
                    await connection.begin()
                if self._writer_lock is not None:
                    await connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            await asyncio.shield(self._finish(connection, quietly=True))
            raise
        self._connection = connection
        self.accounts = SqlAccountRepository(connection)
        self.ledger = SqlLedgerRepository(connection)
        self.conversations = SqlConversationRepository(connection)
        self.usage = SqlUsageRepository(connection)
        self.events = SqlEventRepository(connection)
        self.credentials = SqlCredentialRepository(connection)
        self.security = SqlSecurityRepository(connection)
        self.refresh_tokens = SqlRefreshTokenRepository(connection)
        self.api_keys = SqlApiKeyRepository(connection)
        self.idempotency = SqlIdempotencyRepository(connection)
        self.directory = SqlDirectoryRepository(connection)
        self.leases = SqlLeaseRepository(connection)
        self.access = SqlAccessRepository(connection)
        self.announcements = SqlAnnouncementRepository(connection)
        self.chat_settings = SqlChatSettingsRepository(connection)
        self.gateway_files = SqlGatewayFileRepository(connection)
        stepwise = StepwiseHolds(self.accounts, self.api_keys, self.ledger, self.leases, self.usage)
        if connection.dialect.name == "postgresql":
            self.holds = PostgresHoldRepository(connection, stepwise)
        else:
            self.holds = stepwise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        # Closing rolls back whatever was not committed. It is shielded so that a
        # cancelled request still hands its connection back to the pool (and its turn
        # to the next writer) once the rollback is done.
        if exc is not None:
            # The block already failed: report that failure, not a cleanup one.
            await asyncio.shield(self._finish(connection, quietly=True))
            return
        async with translate_errors():
            await asyncio.shield(self._finish(connection, quietly=False))

    async def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit() outside the unit of work")
        # The connection's own commit: work done after an earlier commit ran in a new,
        # automatically begun transaction, and this commits that one.
        async with translate_errors():
            await self._connection.commit()

    async def _take_turn(self) -> None:
        """Wait for this process's other SQLite writers; as long as SQLite itself would."""
        if self._writer_lock is None:
            return
        try:
            async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
                await self._writer_lock.acquire()
        except TimeoutError:
            logger.warning("database unavailable: the SQLite writer lock stayed taken")
            raise StorageUnavailable() from None

    def _end_turn(self) -> None:
        if self._writer_lock is not None:
            self._writer_lock.release()

    async def _finish(self, connection: AsyncConnection, *, quietly: bool) -> None:
        """Roll back what was not committed, return the connection, end the turn."""
        try:
            if quietly:
                await self._close_quietly(connection)
            else:
                await connection.close()
        finally:
            self._end_turn()

    @staticmethod
    async def _close_quietly(connection: AsyncConnection) -> None:
        try:
            await connection.close()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.warning("could not close a database connection: %s", type(exc).__name__)


def sql_uow_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    """What the composition root hands the use cases: a fresh unit of work per call."""

    def new_unit_of_work(*, atomic: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, atomic=atomic)

    return new_unit_of_work
