"""What the API's handlers reach (``request.app[DEPS]``): the one ``Core`` every adapter
shares, and the API's own limits."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from core.services import Core


@dataclass(frozen=True, slots=True)
class ApiDeps:
    core: Core
    max_json_bytes: int = 1024 * 1024
    # Multipart uploads (/v1 image edits, translations, files): API_MAX_BODY_BYTES.
    max_body_bytes: int = 25 * 1024 * 1024
    v1_max_json_bytes: int = 20 * 1024 * 1024  # the gateway's: whole conversations, images

    def json_limit(self, path: str) -> int:
        return self.v1_max_json_bytes if path.startswith("/v1/") else self.max_json_bytes


DEPS = web.AppKey("deps", ApiDeps)
