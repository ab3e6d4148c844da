"""What the handlers reach through ``request.app[SERVICES]``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from core.services import Core
from core.services.api_account import ApiAccountService
from core.services.api_admin import ApiAdminService
from core.services.api_auth import ApiAuthService


@dataclass(frozen=True, slots=True)
class ApiServices:
    core: Core
    auth: ApiAuthService
    account: ApiAccountService
    admin: ApiAdminService
    health: Callable[[], Awaitable[tuple[str, str]]]  # (database, redis) status
    max_json_bytes: int = 1024 * 1024


SERVICES = web.AppKey("services", ApiServices)
