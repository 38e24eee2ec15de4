"""A web tab that stops reading (its socket buffer full, the server's writes stuck) holds up
nobody else's results, and a send that takes longer than the send timeout drops that tab; the
result waits in the outbox and reaches the user when they come back. The real web chat, core
and worker on SQLite; the stuck tab is a raw TCP connection that does the websocket handshake,
sends its requests and never reads again."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from sqlalchemy import text
from yarl import URL

from bot.web.app import WebConfig, create_app
from bot.web.client import ChatClient, has_image, is_final
from bot.web.identity import COOKIE_NAME
from dreamface.app import open_app
from ground.config import Settings
from storage.db import create_engine
from web_served import POLL, acknowledge_notice, settings_for

FACES = 4            # the slow user's requests (under the per-user cap of 5)
SIZE = 1024          # px: a result frame is a few hundred KB, more than the socket buffers hold
HONEST_BOUND = 10.0  # seconds for the honest user's face while the slow tab is stuck


@contextlib.asynccontextmanager
async def served(settings: Settings, send_timeout: float) -> AsyncIterator[str]:
    """The web chat (real core, in-process worker) on a listening socket whose connections get a
    32 KiB send buffer: on loopback the kernel would otherwise take megabytes (as a long path to
    a slow client can) before a write blocks, and the test would need that many results."""
    config = WebConfig(secret=b"web chat test secret of 32 bytes", courier_poll_seconds=POLL,
                       progress_poll_seconds=0.1, send_timeout_seconds=send_timeout)
    app = create_app(config, lambda: open_app(settings, with_worker=True, size=SIZE))
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)   # accepted sockets inherit it
    listener.bind(("127.0.0.1", 0))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.SockSite(runner, listener).start()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        await runner.cleanup()


def masked_text(payload: bytes) -> bytes:
    """One client-to-server websocket text frame (clients must mask)."""
    mask = os.urandom(4)
    length = bytes([0x80 | len(payload)]) if len(payload) < 126 else bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    return bytes([0x81]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def stuck_tab(url: str, cookie: str, messages: list[str]) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A tab of the user with `cookie` that sends `messages` and never reads again."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # before connecting: a small window
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=raw)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nCookie: {COOKIE_NAME}={cookie}\r\n\r\n"
                 .encode())
    assert b" 101 " in (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0]
    writer.transport.pause_reading()
    for message in messages:
        writer.write(masked_text(json.dumps({"type": "text", "text": message}).encode()))
    await writer.drain()
    return reader, writer


async def states(engine, target: str) -> list[tuple[str, str | None]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT state, error FROM deliveries WHERE target = :target AND payload LIKE '%face_id%' ORDER BY id"),
            {"target": target})
        return [tuple(row) for row in rows]


async def until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return result


async def slow_user(url: str) -> tuple[str, str]:
    """A user past the first-use notice; returns their cookie and user key."""
    async with ChatClient(url) as client:
        await acknowledge_notice(client, "help")
        await client.receive()   # the help text
        cookie = next(c.value for c in client._session.cookie_jar if c.key == COOKIE_NAME)
        return cookie, client.user_key


async def test_a_tab_that_stops_reading_holds_up_no_one_elses_face(tmp_path, migrated_templates):
    settings = settings_for(tmp_path, migrated_templates["sqlite"])
    engine = create_engine(settings.database_url)
    async with served(settings, send_timeout=60.0) as url:
        cookie, slow_key = await slow_user(url)
        _, tab = await stuck_tab(url, cookie, ["new"] * FACES)
        try:
            # every face is done; the courier is stuck writing one of them into the full socket
            await until(lambda: _all_made_one_sending(engine, slow_key), 30, "the slow tab's results to be stuck")
            await asyncio.sleep(1.0)
            assert ("sending", None) in await states(engine, slow_key), "the slow tab's send should be stuck"
            async with ChatClient(url) as honest:
                started = time.monotonic()
                await acknowledge_notice(honest, "new")
                face = (await honest.until(is_final, timeout=HONEST_BOUND))[-1]
                took = time.monotonic() - started
            assert has_image(face) and took < HONEST_BOUND
            assert ("sending", None) in await states(engine, slow_key), "the slow tab's send should still be stuck"
            print(f"\nthe honest user's face took {took:.2f} s while the slow tab was stuck")
        finally:
            tab.transport.abort()
    await engine.dispose()


async def _all_made_one_sending(engine, target: str) -> bool:
    rows = await states(engine, target)
    return len(rows) == FACES and any(state == "sending" for state, _ in rows)


async def test_a_send_past_the_timeout_drops_the_tab_and_the_result_waits_for_the_user(tmp_path, migrated_templates):
    settings = settings_for(tmp_path, migrated_templates["sqlite"])
    engine = create_engine(settings.database_url)
    async with served(settings, send_timeout=1.0) as url:
        cookie, slow_key = await slow_user(url)
        reader, tab = await stuck_tab(url, cookie, ["new"] * FACES)
        started = time.monotonic()
        rows = await until(lambda: _timed_out(engine, slow_key), 15, "a send to time out")
        assert ("pending", "no answer within 1 s") in rows

        # the server dropped the tab: what it still held ends in a reset or an end of stream
        tab.transport.resume_reading()
        try:
            while await asyncio.wait_for(reader.read(1 << 16), 5):
                pass
        except ConnectionResetError:
            pass
        print(f"\nthe stuck send failed and its tab was dropped {time.monotonic() - started:.2f} s after the requests")

        # back with a working tab, the user gets every face the tab had not taken (retried after the
        # outbox's backoff); what the kernel had taken before the tab stopped reading went with it
        waiting = [row for row in await states(engine, slow_key) if row[0] != "sent"]
        assert waiting
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            session.cookie_jar.update_cookies({COOKIE_NAME: cookie}, URL(url))
            async with session.ws_connect(url + "ws", max_msg_size=0) as socket_:
                results = []
                while len(results) < len(waiting):
                    frame = await socket_.receive_json(timeout=15)
                    if frame.get("kind") == "result" and has_image(frame):
                        results.append(frame)
        await until(lambda: _all_sent(engine, slow_key), 5, "the retried results to be marked sent")
    await engine.dispose()


async def _timed_out(engine, target: str):
    rows = await states(engine, target)
    return rows if any(error and "no answer" in error for _, error in rows) else None


async def _all_sent(engine, target: str) -> bool:
    return all(state == "sent" for state, _ in await states(engine, target))
