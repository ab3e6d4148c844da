"""The API's auth use cases on the in-memory fakes: register, login limits, rotation with
family revocation, logout and admin role changes refusing older tokens."""

from __future__ import annotations

import pytest

from bots.jwt_tokens import JwtCodec
from core.errors import InvalidCredentials, TooManyLogins, Unauthenticated
from core.ports import UnitOfWorkFactory
from core.types import IdentityKey
from storage.kv.login_limits import MemoryLoginLimiter
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, core_on, with_config
from tests.known_secrets import JWT_SECRET


async def test_auth_flow_on_memory_fakes() -> None:
    store = MemoryStore()
    uow: UnitOfWorkFactory = memory_uow_factory(store)
    admin = caller("root", platform="api")
    config = with_config(bootstrap_admins=frozenset({IdentityKey("api", "", "root")}))
    async with core_on(
        uow,
        "http://127.0.0.1:9/v1",
        config=config,
        token_codec=JwtCodec(JWT_SECRET),
        login_limiter=MemoryLoginLimiter(limit=2),
    ) as core:
        auth = core.auth
        principal = await auth.register("memo", "long enough")
        pair = await auth.login("memo", "long enough", "10.0.0.1")
        assert (await auth.authenticate(pair.access_token)).account.id == principal.account.id
        rotated = await auth.refresh(pair.refresh_token)
        with pytest.raises(Unauthenticated):
            await auth.refresh(pair.refresh_token)  # reuse: the family is revoked
        with pytest.raises(Unauthenticated):
            await auth.refresh(rotated.refresh_token)
        # An admin's role change refuses every token issued before it.
        fresh = await auth.login("memo", "long enough", "10.0.0.1")
        await core.admin.set_role(admin, f"#{principal.account.id}", "guest")
        with pytest.raises(Unauthenticated):
            await auth.authenticate(fresh.access_token)
        for _ in range(2):
            with pytest.raises(InvalidCredentials):
                await auth.login("memo", "wrong password", "10.0.0.2")
        with pytest.raises(TooManyLogins):
            await auth.login("memo", "long enough", "10.0.0.3")
