"""Building a real Core for tests: any unit of work, the fake LLM, in-process KV."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.models_config import ModelCatalog, parse_models
from core.money import MICRO
from core.ports import (
    LinkCodes,
    LoginLimiter,
    PrivateMessenger,
    RateLimiter,
    SettlementJournal,
    StopSignals,
    TokenCodec,
    UnitOfWorkFactory,
)
from core.providers.openai_compat import OpenAICompatibleProvider
from core.services import Core, build_core
from core.services.config import CoreConfig, RoleLimits
from core.services.passwords import ScryptHasher
from core.services.personas import NO_PERSONAS, PersonaCatalog
from core.services.requests import Caller
from core.types import IdentityKey, Role
from storage.kv.login_limits import MemoryLoginLimiter
from storage.kv.memory import MemoryLinkCodes, MemoryRateLimiter, MemoryStopSignals
from tests.known_secrets import TEST_API_KEY

MODELS_TOML = """
default_chat_model = "chat-a"
[providers.openai]
api_key_env = "OPENAI_API_KEY"
[models."chat-a"]
kind = "chat"
input_credits_per_1k = 10
output_credits_per_1k = 20
max_output_tokens = 100
roles = ["guest", "user", "admin"]
fallbacks = ["chat-b"]
[models."chat-b"]
kind = "chat"
input_credits_per_1k = 5
output_credits_per_1k = 10
max_output_tokens = 100
roles = ["guest", "user", "admin"]
[models."chat-pro"]
kind = "chat"
input_credits_per_1k = 50
output_credits_per_1k = 150
max_output_tokens = 200
roles = ["admin"]
[models."img"]
kind = "image"
credits_per_image = 40
roles = ["user", "admin"]
[models."voice"]
kind = "tts"
credits_per_1k_chars = 15
roles = ["user", "admin"]
[models."ears"]
kind = "stt"
credits_per_minute = 6
roles = ["guest", "user", "admin"]
"""

# Generous limits so tests about money are not refused by the rate limiter by accident.
OPEN_LIMITS = {role: RoleLimits(per_minute=10_000, concurrent=1_000) for role in Role}


def models_for_tests() -> ModelCatalog:
    return parse_models(tomllib.loads(MODELS_TOML))


def caller(user: str = "1", platform: str = "telegram", workspace: str = "", **kw: Any) -> Caller:
    return Caller(
        IdentityKey(platform, workspace, user),
        display_name=kw.get("name", f"user{user}"),
        locale=kw.get("locale"),
    )


@asynccontextmanager
async def core_on(
    uow: UnitOfWorkFactory,
    base_url: str,
    *,
    config: CoreConfig | None = None,
    limiter: RateLimiter | None = None,
    links: LinkCodes | None = None,
    stops: StopSignals | None = None,
    models: ModelCatalog | None = None,
    idle_timeout: float = 5.0,
    token_codec: TokenCodec | None = None,
    login_limiter: LoginLimiter | None = None,
    journal: SettlementJournal | None = None,
    personas: PersonaCatalog = NO_PERSONAS,
    worker_id: str | None = None,
    messengers: dict[str, PrivateMessenger] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[Core]:
    async with AsyncExitStack() as stack:
        provider = OpenAICompatibleProvider(base_url, TEST_API_KEY, idle_timeout=idle_timeout)
        stack.push_async_callback(provider.aclose)
        cfg = config or CoreConfig(
            role_limits=OPEN_LIMITS, welcome_credits=100 * MICRO, stop_poll_s=0.05
        )
        core = build_core(
            uow=uow,
            providers={"openai": provider},
            models=models or models_for_tests(),
            limiter=limiter or MemoryRateLimiter(),
            links=links or MemoryLinkCodes(),
            stops=stops or MemoryStopSignals(),
            config=cfg,
            health=MemoryHealth(),
            login_limiter=login_limiter or MemoryLoginLimiter(),
            token_codec=token_codec,
            hasher=ScryptHasher(n=2**10),  # fast: these tests are not about hashing cost
            journal=journal,
            personas=personas,
            worker_id=worker_id,
            messengers=messengers,
            clock=clock,
        )
        stack.push_async_callback(core.billing.aclose)
        yield core


class MemoryHealth:
    """``HealthProbe`` for cores on memory stores: always there, no Redis."""

    async def database(self) -> str:
        return "ok"

    def shared_state(self) -> str:
        return "off"


def with_config(**changes: Any) -> CoreConfig:
    base = CoreConfig(role_limits=OPEN_LIMITS, welcome_credits=100 * MICRO, stop_poll_s=0.05)
    return replace(base, **changes)


async def collect(events: AsyncIterator[Any]) -> list[Any]:
    return [event async for event in events]


Factory = Callable[[], Any]
