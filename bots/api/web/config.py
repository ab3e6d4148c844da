"""What the web pages need beside the API's deps: settings read once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

from aiohttp import web


@dataclass(frozen=True, slots=True)
class WebConfig:
    registration: bool = True  # WEB_REGISTRATION: "Create account" shown and accepted
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    access_ttl_s: int = 900  # cookie lifetimes follow the tokens they carry
    refresh_ttl_s: int = 30 * 24 * 3600


WEB = web.AppKey("web_config", WebConfig)
