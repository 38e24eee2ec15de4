"""Workers as the operator endpoints see them: heartbeats that announce a style's description
(facegen.backend.BackendInfo) and claim its route, as `dreamface worker` does, with no model
behind them; one can be made stale (its process died an hour ago)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import text

from facegen.backend import BackendInfo
from storage.jobkinds import route_of, routes_served
from facegen.montage import MontageBackend
from storage.presence import Presence, ProcessInfo

DRAWN = replace(MontageBackend().describe(), label="drawn")
PHOTOREAL = BackendInfo(name="stylegan", model_id="stylegan2-0123456789abcdef", resolution=256,
                        regions=("eyes", "nose", "mouth"), layer_groups=("coarse", "middle", "fine"),
                        edits=("smile",), abilities=("photo", "own_variations"), label="photo")


def route(info: BackendInfo) -> str:
    return route_of(info.name, info.model_id)


async def announce(engine, info: BackendInfo, *, stale: bool = False) -> ProcessInfo:
    """A worker serving `info` beats once; `stale`: that beat was an hour ago."""
    process = ProcessInfo("worker", ("default",), routes=routes_served([(info.name, info.model_id)]),
                          models=(info.to_json(),))
    await Presence(engine).beat(process)
    if stale:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE workers SET last_seen = last_seen - 3600 WHERE id = :id"),
                                     {"id": process.id})
            await connection.execute(text("UPDATE served_models SET last_seen = last_seen - 3600 "
                                          "WHERE backend = :backend AND model_id = :model"),
                                     {"backend": info.name, "model": info.model_id})
    return process
