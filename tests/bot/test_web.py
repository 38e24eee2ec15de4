"""The web chat's transport, against a stand-in core (tests/bot/web_fakes.py): identity comes
only from the signed cookie, replies reach only their user's tabs, job results arrive through
the outbox, progress messages update, bad frames get a notice."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import stat

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.messages import Reply
from bot.web.app import DELIVERIES, LOOPS
from bot.web.identity import COOKIE_NAME, CookieSigner, Identity, load_or_create_secret
from bot.web.page import preferred_locale
from bot.web.wire import MAX_FRAME_BYTES, MAX_PHOTO_BYTES
from ground.limits import MAX_TEXT_CHARS
from storage.db import create_engine
from storage.outbox import Destination, Outbox
from web_fakes import SECRET, browser, fake_app

TIMEOUT = 5


@pytest.fixture
async def sqlite_engine(tmp_path, migrated_templates):
    """The transport does not depend on the database kind; the outbox test runs on both."""
    path = tmp_path / "dreamface.db"
    shutil.copyfile(migrated_templates["sqlite"], path)
    engine = create_engine(f"sqlite:///{path}")
    yield engine
    await engine.dispose()


@pytest.fixture
async def served(sqlite_engine):
    app, core = fake_app(sqlite_engine)
    server = TestServer(app)
    await server.start_server()
    clients = []

    async def new_browser():
        client, key = await browser(server)
        clients.append(client)
        return client, key

    yield server, core, new_browser
    for client in clients:
        await client.close()
    await server.close()


async def receive(socket, kind: str = "reply") -> dict:
    while True:
        frame = await socket.receive_json(timeout=TIMEOUT)
        if frame["type"] == kind:
            return frame


async def nothing_arrives(socket, seconds: float = 0.3) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await socket.receive_json(timeout=seconds)


# --- identity ------------------------------------------------------------------------------

async def test_first_visit_gets_a_signed_httponly_strict_cookie_and_keeps_it(served):
    server, _, new_browser = served
    client, key = await new_browser()
    first = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE_NAME]
    assert CookieSigner(SECRET).verify(first.value) == Identity(key)
    response = await client.get("/")
    assert COOKIE_NAME not in response.cookies          # a known browser keeps its identity

    async with aiohttp.ClientSession() as bare, bare.get(client.make_url("/")) as answer:
        raw = answer.headers["Set-Cookie"]
    assert "HttpOnly" in raw and "SameSite=Strict" in raw and "Path=/" in raw


def test_cookie_signature_refuses_forged_and_edited_identities():
    signer = CookieSigner(SECRET)
    identity, value = signer.new_identity()
    assert signer.verify(value) == identity
    key, signature = value.split(".")
    other_key = ("A" if key[0] != "A" else "B") + key[1:]
    assert signer.verify(f"{other_key}.{signature}") is None        # someone else's key, my signature
    assert signer.verify(f"{key}.{signature[:-1]}x") is None
    assert signer.verify(key) is None and signer.verify("") is None and signer.verify(None) is None
    assert CookieSigner(b"another secret of 32 bytes......").verify(value) is None


async def test_socket_needs_a_valid_cookie_and_this_origin(served):
    server, _, new_browser = served
    client, key = await new_browser()
    async with aiohttp.ClientSession() as stranger:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await stranger.ws_connect(client.make_url("/ws"))
        assert refused.value.status == 401
    forged = f"{key[::-1]}.{'A' * 43}"
    async with aiohttp.ClientSession(cookies={COOKIE_NAME: forged}) as forger:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await forger.ws_connect(client.make_url("/ws"))
        assert refused.value.status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", origin="http://evil.example")
    assert refused.value.status == 403
    socket = await client.ws_connect("/ws", origin=str(client.make_url("/")).rstrip("/"))
    await socket.close()


async def test_a_message_claiming_another_identity_is_still_the_senders(served):
    _, core, new_browser = served
    alice, alice_key = await new_browser()
    bob, bob_key = await new_browser()
    alice_socket = await alice.ws_connect("/ws")
    bob_socket = await bob.ws_connect("/ws")
    await bob_socket.send_json({"type": "text", "text": "hello", "user_id": alice_key, "user": alice_key,
                                "chat_id": alice_key, "target": alice_key})
    reply = await receive(bob_socket)
    assert reply["text"] == f"{bob_key} said hello"
    assert core.conversation.seen[-1].user_id == bob_key
    assert core.conversation.seen[-1].chat_id == bob_key and core.conversation.seen[-1].target == bob_key
    await nothing_arrives(alice_socket)


# --- messages, buttons, photos --------------------------------------------------------------

async def test_replies_reach_every_tab_of_the_sender_and_no_one_else(served):
    _, _, new_browser = served
    alice, alice_key = await new_browser()
    bob, _ = await new_browser()
    tab1, tab2 = await alice.ws_connect("/ws"), await alice.ws_connect("/ws")
    bob_socket = await bob.ws_connect("/ws")
    await tab1.send_json({"type": "button", "payload": "again"})
    for tab in (tab1, tab2):
        reply = await receive(tab)
        assert reply["text"] == f"{alice_key} said button again"
        assert reply["buttons"] == [[{"label": "again", "payload": "again"}]]
    await nothing_arrives(bob_socket)


async def test_a_photo_frame_reaches_the_core_and_comes_back_inline(served):
    _, core, new_browser = served
    client, _ = await new_browser()
    socket = await client.ws_connect("/ws")
    photo = os.urandom(2048)
    await socket.send_bytes(photo)
    reply = await receive(socket)
    assert core.conversation.seen[-1].photo == photo
    assert reply["text"] == "photo of 2048 bytes"
    image = reply["images"][0]
    assert base64.b64decode(image["data"]) == photo and image["as_file"] and image["filename"] == "you.png"


async def test_bad_frames_get_a_notice_and_the_socket_stays_usable(served):
    _, core, new_browser = served
    client, key = await new_browser()
    socket = await client.ws_connect("/ws")
    deep = "[" * 100_000   # json.loads would raise RecursionError: still only a notice, the socket kept
    for bad in ("not json", '{"type": "shout", "text": "hi"}', '{"type": "text", "text": "   "}', "[1, 2]", deep,
                '{"type": "text", "text": ' + "[" * 100_000 + "]" * 100_000 + "}"):
        await socket.send_str(bad)
        notice = await receive(socket, "notice")
        assert "·" in notice["text"]          # said in Korean and English
    await socket.send_bytes(b"\0" * (MAX_PHOTO_BYTES + 1))
    assert "10 MB" in (await receive(socket, "notice"))["text"]
    await socket.send_json({"type": "text", "text": "boom"})
    assert "something went wrong" in (await receive(socket, "notice"))["text"]
    assert all(i.photo is None for i in core.conversation.seen)
    await socket.send_json({"type": "text", "text": "still here"})
    assert (await receive(socket))["text"] == f"{key} said still here"


async def test_text_over_the_chats_limit_gets_a_notice_naming_it(served):
    _, core, new_browser = served
    client, _ = await new_browser()
    socket = await client.ws_connect("/ws")
    await socket.send_json({"type": "text", "text": "x" * (MAX_TEXT_CHARS + 1)})
    assert f"{MAX_TEXT_CHARS} characters" in (await receive(socket, "notice"))["text"]
    assert core.conversation.seen == []


async def test_a_frame_over_the_sockets_limit_is_logged_and_closed_with_a_code_the_page_explains(served, caplog):
    _, core, new_browser = served
    client, _ = await new_browser()
    socket = await client.ws_connect("/ws")
    with caplog.at_level("INFO", logger="bot.web.app"):
        with contextlib.suppress(ConnectionError):   # the server may close before the last bytes are written
            await socket.send_bytes(b"\0" * (MAX_FRAME_BYTES + 1))
        closed = await socket.receive(timeout=TIMEOUT)
    assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG   # chat.js says why
    (line,) = [r for r in caplog.records if r.name == "bot.web.app"]
    assert line.levelname == "INFO" and "exceeds limit" in line.getMessage()
    assert core.conversation.seen == []


async def test_a_reopened_page_gets_where_it_left_off_first(served):
    _, _, new_browser = served
    client, key = await new_browser()
    socket = await client.ws_connect("/ws?restore=1")
    restored = await socket.receive_json(timeout=TIMEOUT)
    assert restored["type"] == "restore" and [r["text"] for r in restored["replies"]] == [f"welcome back, {key}"]
    again = await client.ws_connect("/ws")   # a reconnect keeps its page: nothing is sent again
    await nothing_arrives(again)


# --- results through the outbox, live progress ----------------------------------------------

async def test_results_reach_the_connected_user_and_wait_for_one_who_is_not(engine):
    app, core = fake_app(engine)
    server = TestServer(app)
    await server.start_server()
    try:
        alice, alice_key = await browser(server)
        bob, bob_key = await browser(server)
        socket = await alice.ws_connect("/ws")
        await socket.send_json({"type": "text", "text": "later"})
        progress = await receive(socket)
        assert progress["kind"] == "progress"
        result = await receive(socket)
        assert result["text"] == f"result for {alice_key}" and result["job_id"] == progress["job_id"]

        # a result for bob, who has no tab open: it waits in the outbox, then arrives on connect
        await Outbox(engine).send_later(Destination("web", bob_key, bob_key), {"text": "while you were away"})
        await asyncio.sleep(0.3)
        await nothing_arrives(socket, 0.1)
        bob_socket = await bob.ws_connect("/ws")
        assert (await receive(bob_socket))["text"] == "while you were away"
        await alice.close()
        await bob.close()
    finally:
        await server.close()


async def test_progress_messages_follow_the_job_until_its_result(served):
    server, core, new_browser = served
    client, key = await new_browser()
    socket = await client.ws_connect("/ws")
    await socket.send_json({"type": "text", "text": "slow"})
    queued = await receive(socket)
    job, token = core.conversation.next_job, queued["job_id"]   # the page sees its own token, not the id
    assert queued["kind"] == "progress" and queued["text"] == "#2 in line"
    assert token == CookieSigner(SECRET).job_token(key, job) and str(job) not in token
    for state in ("#1 in line", "working…"):
        core.conversation.progress[job] = Reply(state, kind="progress", job_id=job)
        update = await receive(socket)
        assert (update["kind"], update["job_id"], update["text"]) == ("progress", token, state)
    await core.conversation.finish(job, key, "your face")
    result = await receive(socket)
    assert (result["kind"], result["job_id"], result["text"]) == ("result", token, "your face")
    assert job not in server.app[DELIVERIES].following_jobs


def test_job_tokens_are_per_user_and_tell_nothing_of_the_global_id():
    signer, other = CookieSigner(SECRET), CookieSigner(b"another secret of 32 bytes......")
    tokens = [signer.job_token("alice", job) for job in range(1, 200)]
    assert len(set(tokens)) == len(tokens) and all(len(t) == 16 for t in tokens)
    assert signer.job_token("alice", 7) == signer.job_token("alice", 7)          # one job, one token
    assert signer.job_token("bob", 7) != signer.job_token("alice", 7)            # per user
    assert other.job_token("alice", 7) != signer.job_token("alice", 7)           # under the server's secret
    assert not any(str(job) == token for job, token in enumerate(tokens, 1))


# --- health, pages, secrets -----------------------------------------------------------------

async def test_healthz_reports_connected_users(served):
    server, _, new_browser = served
    client, _ = await new_browser()
    socket = await client.ws_connect("/ws")
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"ok": True, "connected_users": 1}
    await socket.close()


async def test_healthz_is_503_when_results_can_no_longer_be_delivered(served):
    server, _, new_browser = served
    client, _ = await new_browser()
    courier = next(task for task in server.app[LOOPS] if task.get_name() == "web courier")
    courier.cancel()
    await asyncio.sleep(0.05)
    response = await client.get("/healthz")
    assert response.status == 503 and "web courier" in (await response.json())["error"]


async def test_healthz_stays_200_while_the_database_is_unreachable():
    """Liveness is not readiness: restarting a chat process would not bring its database back."""
    engine = create_engine("postgresql://postgres@127.0.0.1:1/nowhere")   # nothing listens on port 1
    app, _ = fake_app(engine)
    server = TestServer(app)
    await server.start_server()
    try:
        client, _ = await browser(server)
        await asyncio.sleep(0.2)   # the delivery loops meet the dead database (and keep trying)
        response = await client.get("/healthz")
        assert response.status == 200 and (await response.json())["ok"] is True
        await client.close()
    finally:
        await server.close()
        await engine.dispose()


async def test_page_speaks_the_browsers_language_and_loads_nothing_from_elsewhere(served):
    _, _, new_browser = served
    client, _ = await new_browser()
    korean = await (await client.get("/", headers={"Accept-Language": "ko-KR,ko;q=0.9"})).text()
    english = await (await client.get("/", headers={"Accept-Language": "en-US,en;q=0.8"})).text()
    assert '<html lang="ko">' in korean and "보내기" in korean
    assert '<html lang="en">' in english and "Send" in english
    assert "http://" not in korean and "https://" not in korean
    response = await client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert (await client.get("/static/chat.js")).status == 200
    missing = await client.get("/nothing-here")
    assert missing.status == 404 and (await missing.json())["error"] == "Not Found"


async def test_an_unexpected_error_is_logged_and_answered_with_a_plain_500(sqlite_engine, caplog):
    app, _ = fake_app(sqlite_engine)

    async def broken(request):
        raise KeyError("a bug")

    app.router.add_get("/broken", broken)
    server = TestServer(app)
    await server.start_server()
    try:
        client, _ = await browser(server)
        response = await client.get("/broken")
        assert response.status == 500 and await response.json() == {"error": "internal server error"}
        assert "a bug" not in await response.text()
        assert any("GET /broken failed" in r.getMessage() for r in caplog.records)
        await client.close()
    finally:
        await server.close()


def test_preferred_locale_follows_quality_order():
    assert preferred_locale("fr-FR, en;q=0.5, ko;q=0.8") == "ko"
    assert preferred_locale("en-GB,en;q=0.9") == "en"
    assert preferred_locale("fr, de") == "ko"
    assert preferred_locale(None, default="en") == "en"


def test_the_cookie_secret_is_created_private_and_kept(tmp_path):
    path = tmp_path / "web.key"
    secret = load_or_create_secret(path)
    assert len(secret) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == secret
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="at least 16"):
        load_or_create_secret(path)
