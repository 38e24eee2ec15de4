"""`dreamface run`: one command migrates the embedded database, starts the worker and the web
chat, says where to open it and stops cleanly on Ctrl-C; an out-of-date PostgreSQL is refused
with the command that fixes it."""

from __future__ import annotations

import asyncio
import io
import socket
import urllib.request

import aiohttp

from ground.config import Settings
from dreamface.run import RunOptions, page_url, serve
from storage.db import create_engine
from storage.migrate import schema_status
from web_process import dreamface_run, free_port


async def _serve_until_healthy(settings: Settings, options: RunOptions) -> tuple[dict, dict, str]:
    """Start `serve`, read /healthz once it answers and /readyz's checks, then stop it; returns
    the health, the readiness checks and the output."""
    stop, out = asyncio.Event(), io.StringIO()
    task = asyncio.create_task(serve(settings, options, stop=stop, out=out))
    url = f"http://127.0.0.1:{options.port}/healthz"
    async with aiohttp.ClientSession() as client:
        for _ in range(300):
            assert not task.done(), f"serve ended early: {out.getvalue()}"
            try:
                async with client.get(url) as response:
                    health = await response.json()
                async with client.get(url.replace("healthz", "readyz")) as response:
                    ready = {check["name"]: check["detail"] for check in (await response.json())["checks"]}
                break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("the web chat never answered /healthz")
    stop.set()
    assert await task == 0
    return health, ready, out.getvalue()


async def test_run_migrates_the_embedded_database_and_says_where_to_open_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    options = RunOptions(host="127.0.0.1", port=free_port(), secret_file=tmp_path / "web.key")
    health, ready, output = await _serve_until_healthy(Settings(database_url=url), options)
    assert health == {"ok": True, "connected_users": 0} and ready["workers"] == "1 live"
    assert f"Open http://127.0.0.1:{options.port}/ in a browser" in output
    assert output.rstrip().endswith("dreamface: stopped.")
    engine = create_engine(url)
    try:
        assert (await schema_status(engine)).up_to_date
    finally:
        await engine.dispose()
    assert (tmp_path / "web.key").stat().st_size == 32


async def test_no_worker_leaves_jobs_to_separate_workers(tmp_path):
    options = RunOptions(host="127.0.0.1", port=free_port(), with_worker=False, secret_file=tmp_path / "web.key")
    health, ready, output = await _serve_until_healthy(Settings(database_url=f"sqlite:///{tmp_path / 'd.db'}"), options)
    assert health["ok"] and ready["workers"].startswith("no worker heartbeat") and "dreamface worker" in output


async def test_run_refuses_an_out_of_date_postgresql_and_names_the_upgrade(scratch_postgres, tmp_path, capsys):
    empty = scratch_postgres.create()
    options = RunOptions(host="127.0.0.1", port=free_port(), secret_file=tmp_path / "web.key")
    assert await serve(Settings(database_url=empty), options) == 2
    error = capsys.readouterr().err
    assert "dreamface db upgrade" in error and "empty" in error


async def test_a_busy_port_is_reported_plainly(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = RunOptions(host="127.0.0.1", port=port, with_worker=False, secret_file=tmp_path / "web.key")
        assert await serve(Settings(database_url=f"sqlite:///{tmp_path / 'd.db'}"), options) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_ctrl_c_stops_the_command_cleanly(tmp_path):
    # dreamface_run sends SIGINT on leaving and asserts exit status 0 and "dreamface: stopped."
    with dreamface_run(tmp_path) as url:
        with urllib.request.urlopen(url + "healthz", timeout=10) as response:
            assert response.status == 200


def test_the_printed_address_opens_on_this_machine():
    assert page_url("0.0.0.0", 8080) == "http://127.0.0.1:8080/"
    assert page_url("::", 8080) == "http://[::1]:8080/"
    assert page_url("::1", 9000) == "http://[::1]:9000/"
    assert page_url("chat.example", 80) == "http://chat.example:80/"
