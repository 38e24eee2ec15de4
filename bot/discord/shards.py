"""The Discord client's shards as operators see them: per shard, connected or not, heartbeat
latency and guild count, on /readyz (a check that fails once a shard has been disconnected
longer than `DOWN_SECONDS`: it is not coming back by itself) and on /metrics:

    dreamface_discord_shard_connected{shard}         1 while the shard's gateway session is up
    dreamface_discord_shard_latency_seconds{shard}   its last heartbeat's round trip
    dreamface_discord_shard_guilds{shard}            guilds this process sees through it

Sharding itself is discord.py's (AutoShardedClient); a guild's events arrive on shard
(guild_id >> 22) % shard_count, direct messages on shard 0.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass
import discord
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ground import probes
from ground.metrics import REGISTRY

DOWN_SECONDS = 30.0   # a shard disconnected this long turns readiness off (a resume takes far less)


@dataclass(frozen=True)
class ShardState:
    id: int
    connected: bool
    latency: float | None   # seconds; None before the first heartbeat was answered
    guilds: int


class ShardWatch:
    """When each shard this process holds was last seen going down (from discord.py's events)."""

    def __init__(self) -> None:
        self.count: int | None = None
        self.held: tuple[int, ...] = ()
        self.down_since: dict[int, float] = {}

    def start(self, count: int, held: tuple[int, ...]) -> None:
        self.count, self.held = count, held
        now = time.monotonic()
        self.down_since = {shard: now for shard in held}   # connecting

    def up(self, shard: int) -> None:
        self.down_since.pop(shard, None)

    def down(self, shard: int) -> None:
        self.down_since.setdefault(shard, time.monotonic())

    def stuck(self, within: float) -> list[int]:
        """Shards disconnected for longer than `within` seconds."""
        now = time.monotonic()
        return sorted(shard for shard, since in self.down_since.items() if now - since > within)


def shard_states(client: discord.AutoShardedClient, watch: ShardWatch) -> list[ShardState]:
    states = []
    for shard in watch.held:
        info = client.get_shard(shard)
        connected = shard not in watch.down_since
        latency = info.latency if info is not None and connected else math.nan
        states.append(ShardState(shard, connected, latency if math.isfinite(latency) else None,
                                 sum(1 for guild in client.guilds if guild.shard_id == shard)))
    return states


# the clients running in this process, with their watches (one, except in tests that run several)
_clients: list[tuple[discord.AutoShardedClient, ShardWatch]] = []


def _report() -> probes.ProbeReport | None:
    stuck, shown, count = [], [], None
    for client, watch in list(_clients):
        if watch.count is None:
            continue
        count = watch.count
        stuck += watch.stuck(DOWN_SECONDS)
        shown += [asdict(state) for state in shard_states(client, watch)]
    if count is None:
        return None   # no client, or none has asked Discord for its shard count yet
    detail = (f"shard {', '.join(map(str, stuck))} of {count} disconnected for over {DOWN_SECONDS:g} s" if stuck
              else f"{sum(s['connected'] for s in shown)} of {len(shown)} shards connected ({count} in all)")
    return probes.ProbeReport("discord", not stuck, detail, {"shard_count": count, "shards": shown})


class _ShardCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        connected = GaugeMetricFamily("dreamface_discord_shard_connected",
                                      "1 while a Discord shard's gateway session is up", labels=["shard"])
        latency = GaugeMetricFamily("dreamface_discord_shard_latency_seconds",
                                    "Round trip of a Discord shard's last heartbeat", labels=["shard"])
        guilds = GaugeMetricFamily("dreamface_discord_shard_guilds", "Guilds seen through a Discord shard",
                                   labels=["shard"])
        for client, watch in list(_clients):
            for state in shard_states(client, watch):
                label = [str(state.id)]
                connected.add_metric(label, int(state.connected))
                if state.latency is not None:
                    latency.add_metric(label, state.latency)
                guilds.add_metric(label, state.guilds)
        yield from (connected, latency, guilds)


REGISTRY.register(_ShardCollector())
probes.add(_report)


@contextlib.asynccontextmanager
async def reported(client: discord.AutoShardedClient, watch: ShardWatch) -> AsyncIterator[None]:
    """The client's shards on /readyz and /metrics while inside this block."""
    _clients.append((client, watch))
    try:
        yield
    finally:
        _clients.remove((client, watch))
