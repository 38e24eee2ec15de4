"""What a web identity costs: the limits that keep one client from being many users.

- `MintLimit`: new identities (cookies) per client address, a token bucket per address (an
  IPv6 /64 counts as one address, as for the job cap). A cookie is free to make; without this,
  one client mints thousands a second and each gets its own job cap.
- `Blocks`: the networks moderators blocked (storage/network_bans.py), read from the database
  at most every `refresh_seconds`, so a block reaches every web process within seconds and
  checking one costs no query. A blocked address gets no new identity, no websocket, and an
  open socket is closed at its next message.

Both count in this process: behind a load balancer with N web processes a client may mint up
to N times the limit, which still bounds it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from sqlalchemy.ext.asyncio import AsyncEngine

from ground.limits import address_key, address_name
from storage.db import session_factory
from storage.network_bans import BlockRecord, NetworkBans
from storage.outage import is_unavailable
from storage.platforms import WEB as PLATFORM

log = logging.getLogger(__name__)

MAX_TRACKED_ADDRESSES = 100_000   # beyond this, addresses whose bucket is full again are forgotten


@dataclass
class _Bucket:
    tokens: float
    at: float


class MintLimit:
    """At most `per_hour` new identities per address in any hour, in bursts of up to `per_hour`."""

    def __init__(self, per_hour: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_hour = per_hour   # 0: no limit
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, address: str | None) -> float:
        """0 when `address` may have one more identity now (and counts it), else the seconds until it may."""
        if not self.per_hour:
            return 0.0
        name = address_name(address or "") or "unknown"
        now, rate = self._clock(), self.per_hour / 3600.0
        bucket = self._buckets.get(name)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_ADDRESSES:
                self._forget_full(now, rate)
            bucket = self._buckets[name] = _Bucket(float(self.per_hour), now)
        bucket.tokens = min(float(self.per_hour), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1.0:
            return math.ceil((1.0 - bucket.tokens) / rate)
        bucket.tokens -= 1.0
        return 0.0

    def _forget_full(self, now: float, rate: float) -> None:
        self._buckets = {name: b for name, b in self._buckets.items()
                         if b.tokens + (now - b.at) * rate < self.per_hour}


class Blocks:
    """The active network blocks, as this process last read them."""

    def __init__(self, engine: AsyncEngine, secret: bytes, *, refresh_seconds: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions = session_factory(engine)
        self._secret = secret   # the address keys are HMACs under the server's secret
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._blocks: list[tuple[BlockRecord, IPv4Network | IPv6Network | None]] = []
        self._read_at = -math.inf
        self._lock = asyncio.Lock()

    async def until(self, address: str | None) -> datetime | None:
        """When the block on `address` ends, or None when it is not blocked."""
        await self._refresh()
        if not self._blocks or not address:
            return None
        key = address_key(PLATFORM, address, self._secret)
        if key is None:   # not an address (a unix socket): nothing to match
            return None
        parsed = ip_address(address.strip())
        parsed = getattr(parsed, "ipv4_mapped", None) or parsed   # a dual-stack socket's ::ffff:a.b.c.d
        ends = [block.until for block, network in self._blocks
                if block.address_key == key or (network is not None and parsed in network)]
        return max(ends, default=None)

    async def _refresh(self) -> None:
        if self._clock() - self._read_at < self.refresh_seconds:
            return
        async with self._lock:
            if self._clock() - self._read_at < self.refresh_seconds:
                return
            self._read_at = self._clock()
            try:
                async with self._sessions() as session:
                    blocks = await NetworkBans(session).active()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                # the page and the socket ride out a database outage: the blocks last read still hold
                log.warning("web: cannot read network blocks (%s); keeping the %d last read", exc, len(self._blocks))
                return
            self._blocks = [(b, None if b.network is None else ip_network(b.network)) for b in blocks]
