"""/metrics as Prometheus scrapes it: after a worker runs jobs and a courier delivers their
replies, the counters, histograms and database gauges show exactly that work; each style shows
its live workers and the jobs waiting for them."""

from __future__ import annotations

import asyncio
import sys
import time
import types
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from dreamface.health import ReadinessRules, mount_ops_routes, worker_ops_app
from ground.metrics import process_metrics
from storage.jobkinds import JobKind, JobKinds
from storage.worker import Done, Fail, Worker
from storage.courier import Courier
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.moderation import ModerationActions
from storage.outbox import DeliveryFailed, Destination, Outbox, Routes
from storage.queue import Queue

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_workers import DRAWN, PHOTOREAL, announce, route  # noqa: E402

KINDS = JobKinds({"tally": JobKind("tally", dict, batch_key=lambda p: "tally")})


def samples(exposition: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(exposition) for s in family.samples}


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: TestClient) -> dict:
    response = await client.get("/metrics")
    assert response.status == 200 and response.content_type == "text/plain"
    return samples(await response.text())


def tally(outbox: Outbox):
    """Done with one reply per job; a job whose payload says so fails."""
    def handle(jobs):
        outcomes = []
        for job in jobs:
            if job.payload.get("fail"):
                outcomes.append(Fail("asked to fail"))
                continue

            async def write(session, job=job):
                await outbox.add(session, Destination(job.payload["platform"], "chat"), {"n": job.payload["n"]},
                                 job_id=job.id)
            outcomes.append(Done({}, write))
        return outcomes
    return handle


async def drain(worker: Worker, queue: Queue, ids: list[int]) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + 15
    while not all(state in ("done", "failed") for state in [(await queue.get(i)).state for i in ids]):
        assert time.monotonic() < deadline and not task.done(), "the worker did not finish the jobs"
        await asyncio.sleep(0.05)
    stop.set()
    await task


async def test_scraped_metrics_follow_jobs_deliveries_and_moderation(engine):
    queue, outbox = Queue(engine, KINDS), Outbox(engine)
    app = web.Application()
    mount_ops_routes(app, lambda _request: engine, ReadinessRules())
    async with TestClient(TestServer(app)) as client:
        before = await scrape(client)
        ids = [(await queue.enqueue("tally", {"n": n, "platform": "telegram" if n % 2 else "discord"})).id
               for n in range(6)]
        ids.append((await queue.enqueue("tally", {"fail": True})).id)
        queued = await scrape(client)
        assert value(queued, "dreamface_jobs", kind="tally", state="queued") == 7
        assert value(queued, "dreamface_queue_oldest_ready_seconds", queue="default") >= 0

        await drain(Worker(engine, {"tally": tally(outbox)}, batch_size=4, poll_seconds=0.05), queue, ids)
        ran = await scrape(client)
        assert value(ran, "dreamface_jobs", kind="tally", state="queued") == 0
        def moved(name: str, **labels: str) -> float:
            return value(ran, name, **labels) - value(before, name, **labels)
        assert moved("dreamface_jobs_finished_total", kind="tally", outcome="done") == 6
        assert moved("dreamface_jobs_finished_total", kind="tally", outcome="failed") == 1
        assert moved("dreamface_job_queue_wait_seconds_count", kind="tally") == 7
        assert moved("dreamface_job_run_seconds_count", kind="tally") == 7
        assert moved("dreamface_batch_size_count", kind="tally") == 2    # 4 + 3 with batches of 4
        assert moved("dreamface_batch_size_sum", kind="tally") == 7
        assert value(ran, "dreamface_deliveries_pending", platform="telegram") == 3

        async def send(delivery):
            if delivery.platform == "discord":
                raise DeliveryFailed("the user blocked the bot", permanent=True)
        courier = Courier(engine, Routes(platforms=("telegram", "discord")), send)
        while await courier.run_once():
            pass
        delivered = await scrape(client)
        assert value(delivered, "dreamface_deliveries_total", platform="telegram", outcome="sent") \
            - value(before, "dreamface_deliveries_total", platform="telegram", outcome="sent") == 3
        assert value(delivered, "dreamface_deliveries_total", platform="discord", outcome="refused") \
            - value(before, "dreamface_deliveries_total", platform="discord", outcome="refused") == 3
        assert value(delivered, "dreamface_deliveries_pending", platform="telegram") == 0

        async with session_factory(engine)() as session, session.begin():
            user = await FaceRepository(session).get_or_create_user("web", "someone")
            await ModerationActions(session, actor="alice").set_banned(user.id, True, "spam")
        moderated = await scrape(client)
        assert value(moderated, "dreamface_moderation_events_total", action="ban") == 1
        assert value(moderated, "dreamface_database_up") == 1


async def test_each_style_shows_its_live_workers_and_the_jobs_waiting_for_it(engine):
    """A live drawn-style worker, and a photoreal one that died an hour ago with two jobs left
    waiting for it: the gauges an operator alerts on (queued > 0 while workers == 0)."""
    await announce(engine, DRAWN)
    await announce(engine, PHOTOREAL, stale=True)
    queue = Queue(engine, JobKinds({"draw": JobKind("draw", dict, route=lambda payload: payload["route"])}))
    for _ in range(2):
        await queue.enqueue("draw", {"route": route(PHOTOREAL)})
    app = web.Application()
    mount_ops_routes(app, lambda _request: engine, ReadinessRules(default_backend="stylegan"))
    async with TestClient(TestServer(app)) as client:
        scraped = await scrape(client)
    photoreal = {"backend": "stylegan", "model": PHOTOREAL.model_id, "label": "photo"}
    drawn = {"backend": "montage", "model": DRAWN.model_id, "label": "drawn"}
    assert value(scraped, "dreamface_style_workers", **photoreal) == 0
    assert value(scraped, "dreamface_style_jobs_queued", **photoreal) == 2
    assert value(scraped, "dreamface_style_workers", **drawn) == 1
    assert value(scraped, "dreamface_style_jobs_queued", **drawn) == 0
    assert {labels for name, labels in scraped if name == "dreamface_style_workers"} == {
        frozenset(photoreal.items()), frozenset(drawn.items())}
    assert value(scraped, "dreamface_live_processes", kind="worker") == 1
    assert value(scraped, "dreamface_jobs", kind="draw", state="queued") == 2


async def test_gpu_memory_is_absent_without_cuda_and_reported_with_it(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert "dreamface_gpu_memory_bytes" not in process_metrics().decode()

    cuda = types.SimpleNamespace(is_available=lambda: True, is_initialized=lambda: True, device_count=lambda: 2,
                                 memory_allocated=lambda i: 1000 * (i + 1), memory_reserved=lambda i: 4096 * (i + 1))
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    scraped = samples(process_metrics().decode())
    assert value(scraped, "dreamface_gpu_memory_bytes", device="cuda:1", pool="allocated") == 2000
    assert value(scraped, "dreamface_gpu_memory_bytes", device="cuda:0", pool="reserved") == 4096


async def test_the_worker_server_answers_health_readiness_and_metrics(engine):
    stop = asyncio.Event()
    loop_task = asyncio.create_task(Worker(engine, {}, poll_seconds=0.05).run(stop))
    async with TestClient(TestServer(worker_ops_app(engine, loop_task))) as client:
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/readyz")).status == 200
        assert "dreamface_jobs_finished_total" in await (await client.get("/metrics")).text()
        stop.set()
        await loop_task
        assert (await client.get("/healthz")).status == 503   # the loop ended: restart this worker
