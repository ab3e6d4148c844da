"""The API's unit of work: the core's repositories plus the API's, on one connection, so
an idempotent grant and its ledger row commit together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine

from core.ports_api import (
    ApiKeyRepository,
    CredentialRepository,
    DirectoryRepository,
    IdempotencyRepository,
    RefreshTokenRepository,
    SecurityRepository,
)
from storage.repositories_api.credentials import SqlCredentialRepository
from storage.repositories_api.directory import SqlDirectoryRepository
from storage.repositories_api.idempotency import SqlIdempotencyRepository
from storage.repositories_api.security import SqlSecurityRepository
from storage.repositories_api.tokens import SqlApiKeyRepository, SqlRefreshTokenRepository
from storage.uow import SqlUnitOfWork


class SqlApiUnitOfWork(SqlUnitOfWork):
    credentials: CredentialRepository
    security: SecurityRepository
    refresh_tokens: RefreshTokenRepository
    api_keys: ApiKeyRepository
    idempotency: IdempotencyRepository
    directory: DirectoryRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        connection = self._connection
        assert connection is not None
        self.credentials = SqlCredentialRepository(connection)
        self.security = SqlSecurityRepository(connection)
        self.refresh_tokens = SqlRefreshTokenRepository(connection)
        self.api_keys = SqlApiKeyRepository(connection)
        self.idempotency = SqlIdempotencyRepository(connection)
        self.directory = SqlDirectoryRepository(connection)
        return self


def sql_api_uow_factory(engine: AsyncEngine) -> Callable[[], SqlApiUnitOfWork]:
    def new_unit_of_work() -> SqlApiUnitOfWork:
        return SqlApiUnitOfWork(engine)

    return new_unit_of_work
