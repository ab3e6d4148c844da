"""What the API's handlers reach, built once per web application: the core and the API's
use cases (``services``) and the OpenAPI document written from the registered routes.
Stored on the application under ``DEPS``; no module-level state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bots.api.services import ApiServices


@dataclass(frozen=True, slots=True)
class ApiDeps:
    services: ApiServices
    document: Mapping[str, Any]  # /openapi.json


DEPS = web.AppKey("deps", ApiDeps)
