"""The pages' files: HTML shells filled with the person's words, and versioned assets.

Every asset lives under ``/web/static/<version>/``, where the version is a hash of all of
them: relative ``import``s between the JavaScript modules stay inside one version, so a
browser never mixes files of two releases, and each can be cached for a year
(``immutable``). HTML is ``no-cache``: it names the current version. Headers on both
forbid inline scripts, framing and any request to another origin."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from core.i18n import Translator

STATIC_DIR = Path(__file__).parent.with_name("static") / "web"
ASSET_PREFIX = "/web/static/"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
IMMUTABLE = "public, max-age=31536000, immutable"
_WORD = re.compile(r"\{\{t:([a-z_.]+)\}\}")


@dataclass(frozen=True, slots=True)
class Assets:
    version: str
    files: dict[str, bytes]  # name → content (JS, CSS, SVG)
    pages: dict[str, str]  # name → HTML template

    @classmethod
    def load(cls, folder: Path = STATIC_DIR) -> Assets:
        files, pages = {}, {}
        for path in sorted(folder.iterdir()):
            if path.suffix == ".html":
                pages[path.name] = path.read_text(encoding="utf-8")
            elif path.suffix in TYPES:
                files[path.name] = path.read_bytes()
        hasher = hashlib.sha256()
        for name, content in [*files.items(), *((n, p.encode()) for n, p in pages.items())]:
            hasher.update(name.encode() + b"\0" + content + b"\0")
        return cls(hasher.hexdigest()[:12], files, pages)

    @property
    def base(self) -> str:
        return f"{ASSET_PREFIX}{self.version}/"

    def page(self, name: str, t: Translator) -> web.Response:
        """An HTML shell: ``{{base}}`` → the assets' folder, ``{{t:key}}`` → ``t(key)``
        escaped, ``{{lang}}`` → the language."""
        text = self.pages[name].replace("{{base}}", self.base).replace("{{lang}}", t.language)
        text = _WORD.sub(lambda m: html.escape(t(m.group(1))), text)
        response = web.Response(text=text, content_type="text/html", charset="utf-8")
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-cache"
        return response

    def asset(self, version: str, name: str) -> web.Response:
        content = self.files.get(name)
        if content is None:
            raise web.HTTPNotFound()
        response = web.Response(body=content, headers={"Content-Type": TYPES[Path(name).suffix]})
        response.headers.update(SECURITY_HEADERS)
        # An older page asking for its own version gets today's file, not cached for long.
        response.headers["Cache-Control"] = IMMUTABLE if version == self.version else "no-cache"
        response.enable_compression()
        return response


ASSETS = web.AppKey("web_assets", Assets)
