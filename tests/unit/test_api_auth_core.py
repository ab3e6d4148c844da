"""The API's auth use cases on the in-memory fakes: register, login limits, rotation with
family revocation, logout and admin role changes refusing older tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bots.api.runner import start
from bots.bootstrap import open_app
from bots.jwt_tokens import JwtCodec
from bots.settings import SettingsError
from core.errors import InvalidCredentials, TooManyLogins, Unauthenticated
from core.ports import UnitOfWorkFactory
from core.types import IdentityKey
from storage.kv.login_limits import MemoryLoginLimiter
from tests.e2e.api_harness import api_settings
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import caller, core_on, with_config
from tests.known_secrets import JWT_SECRET, TEST_API_KEY


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


@pytest.mark.parametrize("secret", [None, "x" * 31])
async def test_without_a_usable_jwt_secret_the_app_opens_but_the_api_refuses(
    tmp_path: Path, secret: str | None
) -> None:
    async with FakeLLM(api_key=TEST_API_KEY) as llm:
        settings = api_settings(
            f"sqlite+aiosqlite:///{tmp_path}/sb.db",
            llm,
            jwt_secret=SecretStr(secret) if secret is not None else None,
        )
        async with open_app(settings) as app:  # what the messengers need still opens
            account = await app.core.accounts.resolve(caller("1"))
            assert account.balance > 0
            health = await app.core.lifecycle.health()
            assert (health.database, health.redis) == ("ok", "off")
            with pytest.raises(SettingsError, match="JWT_SECRET"):
                await start(app, "127.0.0.1", 0)
