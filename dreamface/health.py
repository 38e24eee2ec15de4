"""Readiness: can this process do its work right now? And the operator endpoints that say so.

    GET /healthz   200 while the process runs (the worker: while its loop runs)
    GET /readyz    200 when every check passes, else 503; JSON lists each check
    GET /metrics   Prometheus text (dreamface/metrics.py)

Checks, in order (a failed database check fails the rest unchecked):
    database  a read answered within `timeout`
    schema    the database is at the migration head this code needs
    workers   (chat side) a worker heartbeat within `worker_within` seconds
    queue     (chat side) no ready job has waited longer than `max_queue_age` while workers live

The web chat mounts /readyz and /metrics beside its own /healthz (bot/web/app.py); a
`dreamface worker` serves all three on DREAMFACE_WORKER_METRICS_PORT (`worker_ops_app`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from dreamface.metrics import CONTENT_TYPE, installation_metrics, process_metrics
from storage.migrate import SchemaStatus, schema_status
from storage.outage import is_unavailable
from storage.stats import InstallationStats, read_stats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadinessRules:
    need_workers: bool = True       # chat side: jobs go nowhere without a live worker
    worker_within: float = 60.0     # seconds a heartbeat stays fresh
    max_queue_age: float = 120.0    # seconds a ready job may wait while workers live
    timeout: float = 3.0            # seconds the database gets to answer


WORKER_RULES = ReadinessRules(need_workers=False)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_json(self) -> dict:
        return {"ok": self.ok, "checks": [asdict(check) for check in self.checks]}


async def check_readiness(engine: AsyncEngine, rules: ReadinessRules) -> Readiness:
    names = ("database", "schema") + (("workers", "queue") if rules.need_workers else ())
    try:
        stats, status = await asyncio.wait_for(_read(engine, rules), rules.timeout)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        reason = "no answer within %.1f s" % rules.timeout if isinstance(exc, TimeoutError) else type(exc).__name__
        return Readiness((Check("database", False, f"unavailable: {reason}"),)
                         + tuple(Check(name, False, "not checked") for name in names[1:]))
    checks = [Check("database", True, "reachable"),
              Check("schema", status.up_to_date,
                    f"at {status.current}" if status.up_to_date
                    else f"at {status.current}, needs {status.head}: run `dreamface db upgrade`")]
    if rules.need_workers:
        workers = stats.live_processes.get("worker", 0)
        checks.append(Check("workers", workers > 0, f"{workers} live" if workers
                            else f"no worker heartbeat in {rules.worker_within:g} s"))
        oldest = max(stats.oldest_ready_age.values(), default=0.0)
        stalled = workers > 0 and oldest > rules.max_queue_age
        checks.append(Check("queue", not stalled, f"oldest ready job waited {oldest:.0f} s"
                            + (f" (limit {rules.max_queue_age:g} s)" if stalled else "")))
    return Readiness(tuple(checks))


async def _read(engine: AsyncEngine, rules: ReadinessRules) -> tuple[InstallationStats, SchemaStatus]:
    stats = await read_stats(engine, live_within=rules.worker_within)
    return stats, await schema_status(engine)


# --- views ---------------------------------------------------------------------------------

EngineOf = Callable[[web.Request], AsyncEngine]


def readyz_view(engine_of: EngineOf, rules: ReadinessRules) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def readyz(request: web.Request) -> web.Response:
        readiness = await check_readiness(engine_of(request), rules)
        if not readiness.ok:
            log.info("readyz: not ready: %s", "; ".join(f"{c.name}: {c.detail}" for c in readiness.checks if not c.ok))
        return web.json_response(readiness.as_json(), status=200 if readiness.ok else 503)
    return readyz


def installation_metrics_view(engine_of: EngineOf) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def metrics(request: web.Request) -> web.Response:
        return _metrics_response(await installation_metrics(engine_of(request)))
    return metrics


async def process_metrics_view(request: web.Request) -> web.Response:
    return _metrics_response(process_metrics())


def _metrics_response(body: bytes) -> web.Response:
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


def mount_ops_routes(app: web.Application, engine_of: EngineOf, rules: ReadinessRules) -> None:
    """/readyz and /metrics on the chat side's web server (it has its own /healthz)."""
    app.router.add_get("/readyz", readyz_view(engine_of, rules))
    app.router.add_get("/metrics", installation_metrics_view(engine_of))


def worker_ops_app(engine: AsyncEngine, loop_task: asyncio.Task,
                   rules: ReadinessRules = WORKER_RULES) -> web.Application:
    """The worker's small server; /healthz turns 503 once `loop_task` (the worker loop) has ended."""
    async def healthz(request: web.Request) -> web.Response:
        alive = not loop_task.done()
        return web.json_response({"ok": alive}, status=200 if alive else 503)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz_view(lambda _request: engine, rules))
    app.router.add_get("/metrics", process_metrics_view)
    return app
