"""Who is really asking, behind a reverse proxy (DREAMFACE_TRUSTED_PROXIES).

A TLS-terminating proxy (nginx, Caddy) talks plain http to dreamface from its own address. When
the direct peer is one of the trusted proxies, `client_of` believes what it forwarded:

- the address: walking X-Forwarded-For from the right (the entry the nearest proxy appended)
  past every trusted proxy, the first address that is not one is the client. Entries to its
  left were written by the client itself, so they are never read;
- the scheme: the right-most X-Forwarded-Proto value (set by the nearest proxy), http or https.

Any other peer's forwarded headers are ignored: its own address and scheme are the answer. The
standard `Forwarded` header is not read: nginx passes a client's copy of it through untouched,
so trusting it as well would let anyone behind such a proxy name their own address.

`forwarded_middleware` puts the answer on the request (`request.remote`, `request.secure`), so
everything downstream — the dashboard's per-address login limit, the web chat's per-address
job cap, Secure cookies — just reads the request. A tiny middleware here rather than the aiohttp-remotes package: the rule is twenty
lines, and one dependency fewer is one fewer to keep up to date.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp import web

Network = IPv4Network | IPv6Network
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address(text.strip())
    except ValueError:
        return None
    # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    return mapped or address


def _trusted(address: IPv4Address | IPv6Address | None, trusted: Iterable[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)


def _header_items(request: web.BaseRequest, name: str) -> list[str]:
    """Every comma-separated item of every copy of a header, in order."""
    return [item.strip() for value in request.headers.getall(name, ()) for item in value.split(",") if item.strip()]


def client_of(request: web.BaseRequest, trusted: tuple[Network, ...]) -> tuple[str | None, str]:
    """(the client's address, the scheme the client used) for `request`."""
    peer = _address(request.remote or "")
    if not _trusted(peer, trusted):
        return request.remote, request.scheme
    client = str(peer)
    for item in reversed(_header_items(request, "X-Forwarded-For")):
        hop = _address(item)
        if hop is None:   # a proxy wrote something that is not an address: stop at the last proxy we know
            break
        client = str(hop)
        if not _trusted(hop, trusted):
            break
    protos = _header_items(request, "X-Forwarded-Proto")
    scheme = protos[-1].lower() if protos and protos[-1].lower() in ("http", "https") else request.scheme
    return client, scheme


# headers a proxy adds; their presence means the peer is relaying someone else's request
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def from_this_host(request: web.BaseRequest) -> bool:
    """Whether the client (after `forwarded_middleware`) is this host itself, asking directly: a
    loopback address and no proxy header, since a proxy on this host that is not trusted
    arrives from loopback too, relaying someone else."""
    client = _address(request.remote or "")
    return client is not None and client.is_loopback and not any(name in request.headers for name in PROXY_HEADERS)


def forwarded_middleware(trusted: tuple[Network, ...]) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """A middleware giving every request its client's address and scheme (see `client_of`)."""

    @web.middleware
    async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        remote, scheme = client_of(request, trusted)
        if (remote, scheme) != (request.remote, request.scheme):
            request = request.clone(remote=remote, scheme=scheme)
        return await handler(request)

    return forwarded
