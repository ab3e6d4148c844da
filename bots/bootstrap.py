"""The composition root: the one place where settings, engines, clients and use cases meet.

``open_app`` opens everything in order and closes it in reverse, whatever happens."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

from bots.clock import file_clock
from bots.jwt_tokens import MIN_SECRET_BYTES, JwtCodec
from bots.metrics import process_metrics
from bots.settings import Settings
from bots.streaming import Pacer, ScheduledPacer
from core import tokenizer
from core.models_config import ModelCatalog, load_models_file
from core.ports import InterruptionNotices, LoginLimiter, PrivateMessenger, UnitOfWorkFactory
from core.providers.openai_compat import OpenAICompatibleProvider
from core.providers.relay import Relay
from core.services import Core, build_core
from core.services.auth import AuthConfig
from core.services.config import DEFAULT_SYSTEM_PROMPT, CoreConfig
from core.services.passwords import ScryptHasher
from core.services.personas import load_personas_file, merged
from storage.db import create_engine
from storage.health import StorageHealth
from storage.kv import KvServices, open_kv
from storage.migrate import migrate
from storage.settlement_journal import FileSettlementJournal
from storage.uow import sql_uow_factory

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class App:
    settings: Settings
    core: Core
    kv: KvServices
    uow: UnitOfWorkFactory  # for background jobs (the sweep) that work beside the use cases
    # Names this process's lease on every hold; the lease is renewed by the heartbeat job
    # of bots.runners (a process that never renews one is never taken for dead).
    worker_id: str = ""
    # Per platform, registered by each running adapter that can write to a chat outside a
    # request; the lease sweep tells people there that a dead worker cut their answer.
    notices: dict[str, InterruptionNotices] = field(default_factory=dict)
    # Per platform, registered by each running chat adapter: how to write to one person
    # privately (announcements, admin notices). The core holds this very dict.
    messengers: dict[str, PrivateMessenger] = field(default_factory=dict)

    def pacer(self, namespace: str, global_rate: float) -> Pacer:
        """Edit pacing for one bot: budgets shared through Redis by every worker when Redis
        is configured (``namespace`` keeps each bot's global budget apart), in-process while
        it is unreachable or when it is not configured; the relay's scheduling policy in
        front of them."""
        budgets = self.kv.pace_budgets(f"{self.settings.redis_prefix}pace:{namespace}:")
        return ScheduledPacer(budgets, global_rate=global_rate)


def core_config(settings: Settings) -> CoreConfig:
    return CoreConfig(
        new_account_role=settings.new_account_role,
        welcome_credits=settings.welcome_micro,
        max_overdraft=settings.overdraft_micro,
        allowances=settings.allowance_policy,
        context_messages=settings.context_messages,
        bootstrap_admins=settings.admins,
        role_limits=settings.role_limits,
        max_input_chars=settings.max_input_chars,
        max_audio_bytes=settings.max_audio_mb * 1024 * 1024,
        max_audio_seconds=settings.max_audio_seconds,
        max_image_bytes=int(settings.max_image_mb * 1024 * 1024),
        image_max_side=settings.image_max_side,
        max_document_bytes=int(settings.max_document_mb * 1024 * 1024),
        max_document_pages=settings.max_document_pages,
        document_tokens=settings.document_tokens,
        system_prompt=settings.system_prompt or DEFAULT_SYSTEM_PROMPT,
        access_mode=settings.access,
        access_allow=settings.access_allow_subjects,
        access_block=settings.access_block_subjects,
        notify_admins=settings.admin_notices,
        broadcast_lease_s=settings.broadcast_lease,
        context_idle_minutes=settings.context_idle_minutes,
        quote_depth=settings.quote_depth,
        gateway_files_per_account=settings.gateway_files_per_account,
        gateway_file_micro_per_mb=settings.gateway_file_micro_per_mb,
    )


def _api_key(settings: Settings, env_name: str) -> str | None:
    if env_name == "OPENAI_API_KEY" and settings.openai_api_key is not None:
        return settings.openai_api_key.get_secret_value()
    return os.environ.get(env_name) or None


async def _providers(
    stack: AsyncExitStack, settings: Settings, catalog: ModelCatalog
) -> dict[str, OpenAICompatibleProvider]:
    providers: dict[str, OpenAICompatibleProvider] = {}
    for spec in catalog.providers.values():
        provider = OpenAICompatibleProvider(
            spec.base_url or settings.openai_base_url,
            _api_key(settings, spec.api_key_env),
            connect_timeout=settings.upstream_connect_timeout,
            idle_timeout=settings.upstream_idle_timeout,
            total_timeout=settings.upstream_total_timeout,
            name=spec.name,
        )
        stack.push_async_callback(provider.aclose)
        providers[spec.name] = provider
    return providers


def _relays(stack: AsyncExitStack, settings: Settings, catalog: ModelCatalog) -> dict[str, Relay]:
    """The /v1 pass-through to each provider, beside its ``OpenAICompatibleProvider``."""
    relays: dict[str, Relay] = {}
    for spec in catalog.providers.values():
        relay = Relay(
            spec.base_url or settings.openai_base_url,
            _api_key(settings, spec.api_key_env),
            connect_timeout=settings.upstream_connect_timeout,
            idle_timeout=settings.upstream_idle_timeout,
            total_timeout=settings.upstream_total_timeout,
            name=spec.name,
        )
        stack.push_async_callback(relay.aclose)
        relays[spec.name] = relay
    return relays


def jwt_codec(settings: Settings) -> JwtCodec | None:
    """None when no usable secret is set: then nobody signs in over HTTP, and the API
    adapter refuses to start (messengers do not need it)."""
    secret = settings.jwt_secret
    if secret is None or len(secret.get_secret_value().encode("utf-8")) < MIN_SECRET_BYTES:
        return None
    return JwtCodec(secret.get_secret_value())


def login_limiter(kv: KvServices, settings: Settings) -> LoginLimiter:
    return kv.login_limiter(f"{settings.redis_prefix}login:")


async def _replay_settlements(core: Core) -> None:
    """Write what an earlier run journaled during a database outage; what the database
    still refuses stays journaled and is retried in the background."""
    left = await core.billing.replay()
    if left:
        logger.warning("%d journaled settlement(s) wait for the database", left)


@asynccontextmanager
async def open_app(settings: Settings) -> AsyncIterator[App]:
    catalog = load_models_file(settings.models_file)
    # Personas may sit in the models file too; the personas file's win on a name clash.
    personas = merged(
        load_personas_file(settings.models_file, catalog),
        load_personas_file(settings.personas_file, catalog),
    )
    url = settings.effective_database_url
    async with AsyncExitStack() as stack:
        if settings.auto_migrate:
            await migrate(url)
        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        kv = await open_kv(settings.redis_url, prefix=settings.redis_prefix)
        stack.push_async_callback(kv.aclose)
        providers = await _providers(stack, settings, catalog)
        uow = sql_uow_factory(engine)
        worker_id = uuid.uuid4().hex
        messengers: dict[str, PrivateMessenger] = {}
        core = build_core(
            uow=uow,
            providers=providers,
            models=catalog,
            limiter=kv.rate_limiter,
            links=kv.link_codes,
            stops=kv.stop_signals,
            config=core_config(settings),
            health=StorageHealth(engine, kv),
            login_limiter=login_limiter(kv, settings),
            token_codec=jwt_codec(settings),
            personas=personas,
            hasher=ScryptHasher(n=settings.api_scrypt_n),
            auth_config=AuthConfig(
                access_ttl_s=settings.api_access_ttl_s, refresh_ttl_s=settings.api_refresh_ttl_s
            ),
            metrics=process_metrics(),
            worker_id=worker_id,
            journal=FileSettlementJournal(settings.settlement_journal),
            messengers=messengers,
            relays=_relays(stack, settings, catalog),
            clock=file_clock(settings.clock_file) if settings.clock_file else None,
        )
        stack.push_async_callback(core.billing.aclose)
        await _replay_settlements(core)
        # The tokenizer's tables take most of a second to load: never on a request's time.
        await asyncio.to_thread(tokenizer.warm)
        logger.info(
            "switchboard ready: database %s, redis %s, %d models",
            engine.url.get_backend_name(),
            "on" if settings.redis_url else "off",
            len(catalog.models),
        )
        yield App(
            settings=settings,
            core=core,
            kv=kv,
            uow=uow,
            worker_id=worker_id,
            messengers=messengers,
        )
