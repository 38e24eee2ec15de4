"""/readyz as an operator's load balancer sees it: ready only with a reachable database at the
current schema, a live worker and a queue that moves; unready while the database is cut off
(through a TCP proxy to a scratch database, never the shared server) and ready again after.
Each style is listed with its live workers; a style nobody serves is reported, not unready."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.error
import urllib.request
from ipaddress import ip_network
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.web.forwarded import forwarded_middleware
from dreamface.health import ReadinessRules, mount_ops_routes
from storage.jobkinds import JobKind, JobKinds
from storage.db import create_engine
from storage.migrate import upgrade_database
from storage.presence import Presence, ProcessInfo
from storage.queue import Queue

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "storage"))
from test_outage import CuttableProxy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bot"))
from web_process import dreamface_run, free_port  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_workers import DRAWN, PHOTOREAL, announce, route  # noqa: E402

KINDS = JobKinds({"echo": JobKind("echo", dict)})
ROUTED = JobKinds({"draw": JobKind("draw", dict, route=lambda payload: payload["route"])})


def ops_client(engine, rules: ReadinessRules) -> TestClient:
    app = web.Application()
    mount_ops_routes(app, lambda _request: engine, rules)
    return TestClient(TestServer(app))


async def readyz(client: TestClient) -> tuple[int, dict[str, bool]]:
    response = await client.get("/readyz")
    body = await response.json()
    return response.status, {check["name"]: check["ok"] for check in body["checks"]}


async def test_ready_needs_a_live_worker_and_a_moving_queue(engine):
    async with ops_client(engine, ReadinessRules(max_queue_age=0.3)) as client:
        status, checks = await readyz(client)
        assert (status, checks) == (503, {"database": True, "schema": True, "workers": False, "queue": True})

        await Presence(engine).beat(ProcessInfo("worker", ("default",)))
        status, checks = await readyz(client)
        assert status == 200 and all(checks.values())

        await Queue(engine, KINDS).enqueue("echo", {})
        await asyncio.sleep(0.5)   # nobody claims it: the live worker is stuck
        status, checks = await readyz(client)
        assert (status, checks["queue"]) == (503, False)


async def test_a_worker_is_ready_without_other_workers(engine):
    async with ops_client(engine, ReadinessRules(need_workers=False)) as client:
        status, checks = await readyz(client)
    assert (status, checks) == (200, {"database": True, "schema": True})


async def test_an_old_schema_is_not_ready(engine):
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    async with ops_client(engine, ReadinessRules(need_workers=False)) as client:
        status, checks = await readyz(client)
        body = await (await client.get("/readyz")).json()
    assert (status, checks["schema"]) == (503, False)
    assert "dreamface db upgrade" in body["checks"][1]["detail"]


async def test_each_style_is_listed_with_its_live_workers_and_a_dead_default_style_is_not_unready(engine):
    """Photoreal is the default style and its only worker died an hour ago; a drawn-style worker
    lives. The chat still takes and queues photoreal requests (they wait for a worker), so it
    stays ready, and the body says which style has nobody; a stuck live worker still counts."""
    await announce(engine, DRAWN)
    await announce(engine, PHOTOREAL, stale=True)
    queue = Queue(engine, ROUTED)
    await queue.enqueue("draw", {"route": route(PHOTOREAL)})
    await asyncio.sleep(0.5)   # longer than max_queue_age below: it waits for a photoreal worker
    styles = [
        {"backend": "stylegan", "model": PHOTOREAL.model_id, "label": "photo", "default": True,
         "workers": 0, "ready": False, "queued": 1},
        {"backend": "montage", "model": DRAWN.model_id, "label": "drawn", "default": False,
         "workers": 1, "ready": True, "queued": 0}]
    chat = ReadinessRules(max_queue_age=0.3, default_backend="stylegan")
    async with ops_client(engine, chat) as client:
        response = await client.get("/readyz")
        body = await response.json()
        assert response.status == 200 and body["ok"] and body["styles"] == styles

        await queue.enqueue("draw", {"route": route(DRAWN)})
        await asyncio.sleep(0.5)   # the live drawn-style worker never takes it: that queue is stuck
        status, checks = await readyz(client)
        assert (status, checks["queue"]) == (503, False)

    worker = ReadinessRules(need_workers=False, default_backend="stylegan")
    async with ops_client(engine, worker) as client:
        response = await client.get("/readyz")
        body = await response.json()
    assert response.status == 200 and [style["ready"] for style in body["styles"]] == [False, True]


async def test_a_default_style_no_worker_ever_announced_is_listed_without_a_model(engine):
    await announce(engine, DRAWN)
    async with ops_client(engine, ReadinessRules(default_backend="stylegan")) as client:
        response = await client.get("/readyz")
        body = await response.json()
    assert response.status == 200
    assert [(s["backend"], s["model"], s["default"], s["workers"], s["ready"]) for s in body["styles"]] == [
        ("stylegan", None, True, 0, False), ("montage", DRAWN.model_id, False, 1, True)]


@pytest.mark.postgres
async def test_unready_while_the_database_is_cut_off_and_ready_when_it_returns(scratch_postgres):
    url = scratch_postgres.create()
    direct = create_engine(url)
    await upgrade_database(direct)
    await Presence(direct).beat(ProcessInfo("worker", ("default",)))
    parsed = make_url(url)
    proxy = CuttableProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    engine = create_engine(parsed.set(port=await proxy.start()).render_as_string(hide_password=False))
    try:
        async with ops_client(engine, ReadinessRules(timeout=2.0)) as client:
            assert (await readyz(client))[0] == 200

            proxy.cut()
            status, checks = await readyz(client)
            assert (status, checks["database"]) == (503, False)
            metrics = await (await client.get("/metrics")).text()
            assert "dreamface_database_up 0.0" in metrics

            proxy.restore()
            deadline = time.monotonic() + 10
            while (await readyz(client))[0] != 200:   # the pool drops its dead connections first
                assert time.monotonic() < deadline, "still unready after the database came back"
                await asyncio.sleep(0.2)
            assert "dreamface_database_up 1.0" in await (await client.get("/metrics")).text()
    finally:
        await proxy.close()
        await engine.dispose()
        await direct.dispose()


def test_dreamface_run_serves_readyz_and_metrics_beside_the_chat(tmp_path):
    with dreamface_run(tmp_path) as url:
        with urllib.request.urlopen(url + "readyz", timeout=10) as response:
            ready = (response.status, response.read().decode())
        with urllib.request.urlopen(url + "metrics", timeout=10) as response:
            metrics = response.read().decode()
    assert ready[0] == 200 and '"ok": true' in ready[1]   # the in-process worker counts as live
    [style] = json.loads(ready[1])["styles"]   # the in-process worker serves the default, montage
    assert (style["backend"], style["default"], style["workers"], style["ready"]) == ("montage", True, 1, True)
    assert 'dreamface_live_processes{kind="worker"} 1.0' in metrics
    assert f'dreamface_style_workers{{backend="montage",label="",model="{style["model"]}"}} 1.0' in metrics


TOKEN = "0123456789abcdef-operator"


async def test_the_web_port_answers_readyz_and_metrics_only_to_this_host_or_the_operator_token(engine):
    # the test client is on loopback; 127.0.0.1 as a trusted proxy lets a request name another client
    app = web.Application(middlewares=[forwarded_middleware((ip_network("127.0.0.1/32"),))])
    mount_ops_routes(app, lambda _request: engine, ReadinessRules(need_workers=False), TOKEN)
    async with TestClient(TestServer(app)) as client:
        for path in ("/readyz", "/metrics"):
            assert (await client.get(path)).status == 200                      # this host: probes, a local scrape
            internet = {"X-Forwarded-For": "203.0.113.7"}
            assert (await client.get(path, headers=internet)).status == 403    # a client through the proxy
            wrong = {**internet, "Authorization": "Bearer " + TOKEN[:-1] + "X"}
            assert (await client.get(path, headers=wrong)).status == 403
            right = {**internet, "Authorization": "Bearer " + TOKEN}
            assert (await client.get(path, headers=right)).status == 200       # a remote load balancer, Prometheus
    # a proxy on this host that is not trusted: its peer is loopback, but it relays someone else
    app = web.Application(middlewares=[forwarded_middleware(())])
    mount_ops_routes(app, lambda _request: engine, ReadinessRules(need_workers=False))
    async with TestClient(TestServer(app)) as client:
        for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
            assert (await client.get("/metrics", headers={header: "for=203.0.113.7"})).status == 403
        assert (await client.get("/metrics")).status == 200


def test_dreamface_run_serves_the_operator_port_and_refuses_strangers_on_the_web_port(tmp_path):
    ops = free_port()
    with dreamface_run(tmp_path, env={"DREAMFACE_OPS_PORT": str(ops),
                                      "DREAMFACE_TRUSTED_PROXIES": "127.0.0.1"}) as url:
        for path in ("healthz", "readyz", "metrics"):
            with urllib.request.urlopen(f"http://127.0.0.1:{ops}/{path}", timeout=10) as response:
                assert response.status == 200, path
        stranger = urllib.request.Request(url + "metrics", headers={"X-Forwarded-For": "203.0.113.7"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(stranger, timeout=10)
        assert refused.value.code == 403 and b"DREAMFACE_OPS_TOKEN" in refused.value.read()
        with urllib.request.urlopen(url + "healthz", timeout=10) as response:   # liveness stays public
            assert response.status == 200
