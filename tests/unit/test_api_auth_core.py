"""The API's auth use cases on the in-memory fakes: register, login limits, rotation with
family revocation, logout and admin role changes refusing older tokens."""

from __future__ import annotations

import pytest

from bots.api.tokens import JwtCodec
from core.ports_api import ApiUnitOfWorkFactory
from core.services.api_auth import ApiAuthService, ApiConfig
from core.services.api_errors import InvalidCredentials, TooManyLogins, Unauthenticated
from core.services.passwords import ScryptHasher
from core.types import Role
from storage.kv.login_limits import MemoryLoginLimiter
from tests.fakes.memory import MemoryStore
from tests.fakes.memory_api import ApiTables, memory_api_uow_factory
from tests.harness import core_on
from tests.known_secrets import JWT_SECRET


async def test_auth_flow_on_memory_fakes() -> None:
    store = MemoryStore()
    uow: ApiUnitOfWorkFactory = memory_api_uow_factory(store, ApiTables())
    async with core_on(uow, "http://127.0.0.1:9/v1") as core:
        auth = ApiAuthService(
            uow,
            core.accounts,
            JwtCodec(JWT_SECRET),
            MemoryLoginLimiter(limit=2),
            ScryptHasher(n=2**10),
            ApiConfig(),
        )
        principal = await auth.register("memo", "long enough")
        pair = await auth.login("memo", "long enough", "10.0.0.1")
        assert (await auth.authenticate(pair.access_token)).account.id == principal.account.id
        rotated = await auth.refresh(pair.refresh_token)
        with pytest.raises(Unauthenticated):
            await auth.refresh(pair.refresh_token)  # reuse: the family is revoked
        with pytest.raises(Unauthenticated):
            await auth.refresh(rotated.refresh_token)
        # The admin role change (core) bumps the version the fake keeps too.
        fresh = await auth.login("memo", "long enough", "10.0.0.1")
        async with uow() as work:
            await work.accounts.set_role(principal.account.id, Role.GUEST)
            await work.commit()
        with pytest.raises(Unauthenticated):
            await auth.authenticate(fresh.access_token)
        for _ in range(2):
            with pytest.raises(InvalidCredentials):
                await auth.login("memo", "wrong password", "10.0.0.2")
        with pytest.raises(TooManyLogins):
            await auth.login("memo", "long enough", "10.0.0.3")
