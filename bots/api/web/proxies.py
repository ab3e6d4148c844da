"""X-Forwarded-For / X-Forwarded-Proto, believed only from TRUSTED_PROXIES.

Behind nginx or Caddy every request comes from the proxy's address over plain HTTP; the
proxy says who the client was and whether it spoke HTTPS. From any other peer those
headers are the client's to forge, so they are ignored (not refused: a health check from
the same host must still work). aiohttp-remotes' XForwardedStrict refuses such requests
with a 400 instead, hence these few lines. The request is cloned with the client's
address and scheme, so the login limits (by address) and the Secure cookie flag follow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp import web

Network = IPv4Network | IPv6Network
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FORWARDED_AS = web.RequestKey("forwarded_as", web.Request)


def as_handled(request: web.Request) -> web.Request:
    """The request as the handlers saw it (with the client's address and scheme)."""
    forwarded = request.get(FORWARDED_AS)
    return forwarded if forwarded is not None else request


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: IPv4Address | IPv6Address | None, networks: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_of(peer: str | None, forwarded_for: str, networks: Sequence[Network]) -> str | None:
    """The client's address: walk X-Forwarded-For from the right (the hop nearest us),
    skipping trusted proxies; None when the peer is not trusted or the header says nothing
    usable."""
    if not _trusted(_address(peer or ""), networks):
        return None
    client = None
    for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
        address = _address(hop)
        if address is None:
            break  # garbage beyond this point was written by someone we do not trust
        client = str(address)
        if not _trusted(address, networks):
            break
    return client


def forwarded_middleware(
    networks: Sequence[Network],
) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def believe_trusted_proxies(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not networks or not _trusted(_address(request.remote or ""), networks):
            return await handler(request)
        client = client_of(request.remote, request.headers.get("X-Forwarded-For", ""), networks)
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        scheme = proto if proto in {"http", "https"} else request.scheme
        forwarded = request.clone(remote=client or request.remote or "", scheme=scheme)
        # aiohttp prepares the response with the original request: let response hooks
        # (the session cookies) find the one the handlers saw.
        request[FORWARDED_AS] = forwarded
        return await handler(forwarded)

    return believe_trusted_proxies
