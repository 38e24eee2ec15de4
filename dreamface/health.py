"""Readiness: can this process do its work right now? And the operator endpoints that say so.

    GET /healthz   200 while the process runs (the worker: while its loop runs)
    GET /readyz    200 when every check passes, else 503; JSON lists each check, and each style
    GET /metrics   Prometheus text: what this process counted (ground/metrics.py), and on the
                   chat side the installation's figures read from the database (below)

Checks, in order (a failed database check fails the rest unchecked):
    database  a read answered within `timeout`
    schema    the database is at the migration head this code needs
    workers   (chat side) a worker heartbeat within `worker_within` seconds
    queue     (chat side) no ready job that a live worker may claim has waited longer than
              `max_queue_age` (jobs of a style no live worker serves wait for one, not on a stuck queue)
    discord   (a process running the Discord bot) no shard of its own has been disconnected too
              long; its shards are listed under "discord" (bot/discord/shards.py, through ground/probes.py)

Styles are reported, never checked: a chat process whose default style has no live worker
still takes and queues requests (they wait within DREAMFACE_JOB_EXPIRY_SECONDS and the chat
says the generator is offline), so turning it unready would only take every chat box out of
the load balancer at once. Each style (those users may choose, and the default) is listed with
its live workers and queued jobs; `ready` is "at least one live worker serves it".

Where they answer (the figures are the operator's, not the public's):
    the web port       /healthz to anyone; /readyz and /metrics only to this host itself or a caller
                       with DREAMFACE_OPS_TOKEN (`mount_ops_routes`)
    DREAMFACE_OPS_PORT all three, to whoever reaches DREAMFACE_OPS_HOST (`ops_app`; `dreamface run`
                       and `dreamface bot`)
    a worker           all three on DREAMFACE_WORKER_METRICS_PORT (`worker_ops_app`)
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.web.forwarded import from_this_host
from dreamface.serving import listening
from ground.config import Settings
from storage.jobkinds import route_of
from ground import probes
from ground.metrics import CONTENT_TYPE, process_metrics
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
    default_backend: str = "montage"   # the style new faces get (DREAMFACE_DEFAULT_BACKEND), marked in `styles`


WORKER_RULES = ReadinessRules(need_workers=False)


def chat_rules(settings: Settings) -> ReadinessRules:
    return ReadinessRules(max_queue_age=settings.ready_max_queue_age_seconds, default_backend=settings.default_backend)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class StyleReadiness:
    """One style as operators see it: who serves it now and what waits for it."""
    backend: str
    model_id: str | None     # None: the default backend, never announced by any worker
    label: str               # the operator's name for it (DREAMFACE_STYLE_LABEL), or ""
    default: bool            # new faces get this style unless a user chose another
    workers: int             # live workers that serve its route
    queued: int              # jobs queued for its route

    @property
    def ready(self) -> bool:
        return self.workers > 0

    def as_json(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model_id, "label": self.label, "default": self.default,
                "workers": self.workers, "ready": self.ready, "queued": self.queued}


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]
    styles: tuple[StyleReadiness, ...] = ()
    details: tuple[tuple[str, Any], ...] = ()   # what running parts report about themselves (ground/probes.py)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_json(self) -> dict:
        return {"ok": self.ok, "checks": [asdict(check) for check in self.checks],
                "styles": [style.as_json() for style in self.styles], **dict(self.details)}


def with_probes(readiness: Readiness) -> Readiness:
    """`readiness` with the checks of this process's running parts (a Discord client's shards)."""
    reports = probes.reports()
    return Readiness(readiness.checks + tuple(Check(r.name, r.ok, r.detail) for r in reports), readiness.styles,
                     readiness.details + tuple((r.name, r.details) for r in reports if r.details is not None))


async def read_styles(engine: AsyncEngine, stats: InstallationStats,
                      default_backend: str) -> tuple[StyleReadiness, ...]:
    """Each style users may choose, and the default style, with its live workers and queued
    jobs (one small read: the descriptions workers announced), the default first."""
    # the chat's own catalogue, so "which styles exist" has one definition (imported here, not
    # at the top: a worker pays for the chat's modules only when its /readyz is asked)
    from bot.conversation.styles import Styles
    styles = Styles(engine, default_backend)
    await styles.refresh(force=True)
    default = styles.for_new_faces()
    listed = {(info.name, info.model_id): info for info in styles.choices()}
    if default is not None:
        listed[(default.name, default.model_id)] = default
    shown = [StyleReadiness(info.name, info.model_id, info.label, info == default,
                            stats.workers_serving(route_of(info.name, info.model_id)),
                            stats.queued_by_route.get(route_of(info.name, info.model_id), 0))
             for info in listed.values()]
    if default is None:   # no worker of the default backend ever announced a model
        shown.append(StyleReadiness(default_backend, None, "", True, 0,
                                    stats.queued_by_route.get(route_of(default_backend, None), 0)))
    return tuple(sorted(shown, key=lambda style: (not style.default, style.backend, style.model_id or "")))


async def check_readiness(engine: AsyncEngine, rules: ReadinessRules) -> Readiness:
    names = ("database", "schema") + (("workers", "queue") if rules.need_workers else ())
    try:
        stats, status, styles = await asyncio.wait_for(_read(engine, rules), rules.timeout)
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
        oldest = stats.oldest_claimable_age()
        stalled = workers > 0 and oldest > rules.max_queue_age
        checks.append(Check("queue", not stalled, f"oldest ready job a live worker serves waited {oldest:.0f} s"
                            + (f" (limit {rules.max_queue_age:g} s)" if stalled else "")))
    return Readiness(tuple(checks), styles)


async def _read(engine: AsyncEngine,
                rules: ReadinessRules) -> tuple[InstallationStats, SchemaStatus, Sequence[StyleReadiness]]:
    stats = await read_stats(engine, live_within=rules.worker_within)
    status = await schema_status(engine)
    # an older schema may lack what the styles are read from; its check already says what to do
    styles = await read_styles(engine, stats, rules.default_backend) if status.up_to_date else ()
    return stats, status, tuple(styles)


# --- views ---------------------------------------------------------------------------------

EngineOf = Callable[[web.Request], AsyncEngine]


def readyz_view(engine_of: EngineOf, rules: ReadinessRules) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def readyz(request: web.Request) -> web.Response:
        readiness = with_probes(await check_readiness(engine_of(request), rules))
        if not readiness.ok:
            log.info("readyz: not ready: %s", "; ".join(f"{c.name}: {c.detail}" for c in readiness.checks if not c.ok))
        return web.json_response(readiness.as_json(), status=200 if readiness.ok else 503)
    return readyz


# --- the installation's figures, read from the database ---------------------------------------

class _StatsCollector(Collector):
    """One InstallationStats (None: the database could not be read) and the styles' figures as
    metric families (listed in ground/metrics.py's docstring)."""

    def __init__(self, stats: InstallationStats | None, styles: Sequence[StyleReadiness] = ()) -> None:
        self.stats = stats
        self.styles = styles

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("dreamface_database_up", "1 when this scrape could read the database",
                                value=0 if self.stats is None else 1)
        if self.stats is None:
            return
        jobs = GaugeMetricFamily("dreamface_jobs", "Queued and running jobs in the database", labels=["kind", "state"])
        for (kind, state), count in sorted(self.stats.unfinished_jobs.items()):
            jobs.add_metric([kind, state], count)
        yield jobs
        oldest = GaugeMetricFamily("dreamface_queue_oldest_ready_seconds",
                                   "Seconds the oldest ready job of a queue has waited", labels=["queue"])
        for queue, age in sorted(self.stats.oldest_ready_age.items()):
            oldest.add_metric([queue], age)
        yield oldest
        pending = GaugeMetricFamily("dreamface_deliveries_pending", "Replies waiting for a chat process",
                                    labels=["platform"])
        for platform, count in sorted(self.stats.pending_deliveries.items()):
            pending.add_metric([platform], count)
        yield pending
        live = GaugeMetricFamily("dreamface_live_processes", "Processes with a fresh heartbeat", labels=["kind"])
        for kind in ("worker", "chat"):
            live.add_metric([kind], self.stats.live_processes.get(kind, 0))
        yield live
        labels = ["backend", "model", "label"]
        workers = GaugeMetricFamily("dreamface_style_workers", "Live workers serving a style", labels=labels)
        queued = GaugeMetricFamily("dreamface_style_jobs_queued", "Jobs waiting for a style's workers", labels=labels)
        for style in self.styles:
            names = [style.backend, style.model_id or "", style.label]
            workers.add_metric(names, style.workers)
            queued.add_metric(names, style.queued)
        yield workers
        yield queued
        moderation = CounterMetricFamily("dreamface_moderation_events", "Rows in the moderation audit log",
                                         labels=["action"])
        for action, count in sorted(self.stats.moderation_events.items()):
            moderation.add_metric([action], count)
        yield moderation


async def installation_metrics(engine: AsyncEngine, default_backend: str = "montage") -> bytes:
    """This process's metrics followed by the database-wide ones (the chat side's /metrics)."""
    styles: Sequence[StyleReadiness] = ()
    try:
        stats: InstallationStats | None = await read_stats(engine)
        styles = await read_styles(engine, stats, default_backend)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        log.warning("metrics: database unavailable (%s)", type(exc).__name__)
        stats = None   # reported as dreamface_database_up 0
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StatsCollector(stats, styles))
    return process_metrics() + generate_latest(registry)


def installation_metrics_view(engine_of: EngineOf,
                              rules: ReadinessRules) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def metrics(request: web.Request) -> web.Response:
        return _metrics_response(await installation_metrics(engine_of(request), rules.default_backend))
    return metrics


async def process_metrics_view(request: web.Request) -> web.Response:
    return _metrics_response(process_metrics())


def _metrics_response(body: bytes) -> web.Response:
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


View = Callable[[web.Request], Awaitable[web.StreamResponse]]


def operator_only(view: View, token: str) -> View:
    """`view` for this host itself (container and systemd probes, a local Prometheus) and for
    callers sending `Authorization: Bearer <token>` (when a token is set); 403 for the rest.
    The default suits every probe that runs beside the process, and exposes nothing to the
    internet through the web port, even through a proxy that is not in DREAMFACE_TRUSTED_PROXIES."""
    expected = f"Bearer {token}".encode()

    async def guarded(request: web.Request) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode(errors="replace")
        if from_this_host(request) or (token and hmac.compare_digest(given, expected)):
            return await view(request)
        raise web.HTTPForbidden(reason=f"{request.path} answers only this host, DREAMFACE_OPS_TOKEN "
                                       "and DREAMFACE_OPS_PORT")
    return guarded


def mount_ops_routes(app: web.Application, engine_of: EngineOf, rules: ReadinessRules, token: str = "") -> None:
    """/readyz and /metrics on the chat side's web server (it has its own /healthz), for the operator only."""
    app.router.add_get("/readyz", operator_only(readyz_view(engine_of, rules), token))
    app.router.add_get("/metrics", operator_only(installation_metrics_view(engine_of, rules), token))


def ops_app(healthz: View, readyz: View, metrics: View) -> web.Application:
    """The operator listener: /healthz, /readyz and /metrics to whoever reaches its address."""
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


def chat_ops_app(engine_of: EngineOf, rules: ReadinessRules, healthz: View) -> web.Application:
    """DREAMFACE_OPS_PORT of a chat process; `healthz` is its own liveness."""
    return ops_app(healthz, readyz_view(engine_of, rules), installation_metrics_view(engine_of, rules))


@contextlib.asynccontextmanager
async def ops_listener(settings: Settings, engine_of: EngineOf, healthz: View) -> AsyncIterator[None]:
    """A chat process's operator listener on DREAMFACE_OPS_HOST:DREAMFACE_OPS_PORT (nothing when
    the port is 0); OSError when it cannot listen there."""
    if not settings.ops_port:
        yield
        return
    async with listening(chat_ops_app(engine_of, chat_rules(settings), healthz), settings.ops_host, settings.ops_port):
        log.info("operator endpoints on %s:%d", settings.ops_host, settings.ops_port)
        yield


def worker_ops_app(engine: AsyncEngine, loop_task: asyncio.Task,
                   rules: ReadinessRules = WORKER_RULES) -> web.Application:
    """The worker's small server; /healthz turns 503 once `loop_task` (the worker loop) has ended."""
    async def healthz(request: web.Request) -> web.Response:
        alive = not loop_task.done()
        return web.json_response({"ok": alive}, status=200 if alive else 503)

    return ops_app(healthz, readyz_view(lambda _request: engine, rules), process_metrics_view)
