"""Building the API's services from an opened ``App`` (the core, the engine, Redis)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bots.api.services import ApiServices
from bots.api.tokens import JwtCodec
from bots.bootstrap import App
from bots.settings import SettingsError
from core.ports_api import LoginLimiter
from core.services.api_account import ApiAccountService
from core.services.api_admin import ApiAdminService
from core.services.api_auth import ApiAuthService, ApiConfig
from core.services.passwords import ScryptHasher
from storage.db import is_unavailable
from storage.kv.login_limits import MemoryLoginLimiter, RedisLoginLimiter
from storage.repositories_api.uow import sql_api_uow_factory


def jwt_codec(app: App) -> JwtCodec:
    secret = app.settings.jwt_secret
    if secret is None or len(secret.get_secret_value().encode("utf-8")) < 32:
        raise SettingsError("bad setting JWT_SECRET: must be set and at least 32 bytes")
    return JwtCodec(secret.get_secret_value())


def build_services(app: App, engine: AsyncEngine) -> ApiServices:
    settings = app.settings
    codec = jwt_codec(app)
    limiter: LoginLimiter = (
        RedisLoginLimiter(app.kv.redis) if app.kv.redis is not None else MemoryLoginLimiter()
    )
    uow = sql_api_uow_factory(engine)
    hasher = ScryptHasher(n=settings.api_scrypt_n)
    config = ApiConfig(
        access_ttl_s=settings.api_access_ttl_s, refresh_ttl_s=settings.api_refresh_ttl_s
    )
    core = app.core

    async def health() -> tuple[str, str]:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            database = "ok"
        except Exception as exc:  # any failure here is the answer, not a crash
            if not is_unavailable(exc):
                raise
            database = "unavailable"
        redis = "off" if app.kv.redis is None else ("degraded" if app.kv.degraded else "ok")
        return database, redis

    return ApiServices(
        core=core,
        auth=ApiAuthService(uow, core.accounts, codec, limiter, hasher, config),
        account=ApiAccountService(uow, core.accounts, hasher),
        admin=ApiAdminService(uow, core.admin),
        health=health,
        max_json_bytes=settings.api_max_json_bytes,
    )
