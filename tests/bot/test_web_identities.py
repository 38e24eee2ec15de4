"""Web identities that cost something (issue #23): new identities per address are limited,
one identity holds a bounded number of websockets, a moderator can close the web chat to a
network (named, or a banned user's own), and an operator can require a bot's login link."""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from ipaddress import ip_network

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from bot import login_links
from bot.conversation.core import Conversation
from bot.messages import Incoming
from bot.web.app import CLOSE_BLOCKED, CLOSE_TOO_MANY_TABS
from bot.web.guard import Blocks, MintLimit
from bot.web.identity import COOKIE_NAME, CookieSigner
from storage.db import create_engine, session_factory
from storage.faces import FaceRepository
from storage.models import ModerationEvent
from storage.network_bans import BadNetwork, NetworkBans
from web_fakes import SECRET, fake_app

from sqlalchemy import select

TIMEOUT = 5
PROXY = (ip_network("127.0.0.1/32"),)   # the test client is the "proxy": X-Forwarded-For names the client


@pytest.fixture
async def sqlite_engine(tmp_path, migrated_templates):
    path = tmp_path / "dreamface.db"
    shutil.copyfile(migrated_templates["sqlite"], path)
    engine = create_engine(f"sqlite:///{path}")
    yield engine
    await engine.dispose()


@pytest.fixture
async def serve(sqlite_engine):
    """serve(**config) → a started test server of the web chat with that configuration."""
    started: list[TestServer] = []
    clients: list[TestClient] = []

    async def start(**config):
        app, _ = fake_app(sqlite_engine, trusted_proxies=PROXY, blocks_refresh_seconds=0.0, **config)
        server = TestServer(app)
        await server.start_server()
        started.append(server)
        return server

    async def client_of(server: TestServer) -> TestClient:
        client = TestClient(server)
        await client.start_server()
        clients.append(client)
        return client

    start.client = client_of
    yield start
    for client in clients:
        await client.close()
    for server in started:
        await server.close()


def _from(address: str, language: str = "en") -> dict[str, str]:
    return {"X-Forwarded-For": address, "Accept-Language": language}


def _cookie(client: TestClient) -> str | None:
    found = client.session.cookie_jar.filter_cookies(client.make_url("/")).get(COOKIE_NAME)
    return None if found is None else found.value


async def test_new_identities_per_address_are_limited(serve):
    server = await serve(identities_per_hour=3)
    kept = []
    for _ in range(3):
        client = await serve.client(server)
        assert (await client.get("/", headers=_from("198.51.100.7"))).status == 200
        kept.append(client)
        assert _cookie(client)
    farmer = await serve.client(server)
    refused = await farmer.get("/", headers=_from("198.51.100.7", "ko"))
    assert refused.status == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "새 방문이 너무 많아요" in await refused.text()
    assert _cookie(farmer) is None
    # those who already have an identity keep using it; another address is not affected
    assert (await kept[0].get("/", headers=_from("198.51.100.7"))).status == 200
    other = await serve.client(server)
    assert (await other.get("/", headers=_from("203.0.113.50"))).status == 200 and _cookie(other)


async def test_an_ipv6_subscriber_network_is_one_address():
    clock = [0.0]
    limit = MintLimit(2, clock=lambda: clock[0])
    assert limit.take("2001:db8:1:2::1") == 0 and limit.take("2001:db8:1:2:ffff::9") == 0
    wait = limit.take("2001:db8:1:2:abcd::1")   # the same /64
    assert wait == 1800   # one identity back every half hour at 2 an hour
    assert limit.take("2001:db8:1:3::1") == 0   # the next /64
    clock[0] += wait
    assert limit.take("2001:db8:1:2::5") == 0


async def test_one_identity_holds_a_bounded_number_of_tabs(serve):
    server = await serve(tabs_per_user=2)
    client = await serve.client(server)
    await client.get("/", headers=_from("198.51.100.8"))
    tabs = [await client.ws_connect("/ws", headers=_from("198.51.100.8")) for _ in range(2)]
    extra = await client.ws_connect("/ws", headers=_from("198.51.100.8", "ko"))
    notice = await extra.receive_json(timeout=TIMEOUT)
    assert notice["type"] == "notice" and "탭이 너무 많아요" in notice["text"]
    closed = await extra.receive(timeout=TIMEOUT)
    assert closed.type == WSMsgType.CLOSE and closed.data == CLOSE_TOO_MANY_TABS
    # the open tabs still work, and a closed one frees its place
    await tabs[0].send_json({"type": "text", "text": "hello"})
    assert (await tabs[0].receive_json(timeout=TIMEOUT))["type"] == "reply"
    await tabs[1].close()
    again = await client.ws_connect("/ws", headers=_from("198.51.100.8"))
    await again.send_json({"type": "text", "text": "hello"})
    assert (await again.receive_json(timeout=TIMEOUT))["type"] == "reply"


async def test_a_blocked_network_gets_no_identity_no_socket_and_loses_an_open_one(serve, sqlite_engine):
    server = await serve()
    inside, outside = await serve.client(server), await serve.client(server)
    await inside.get("/", headers=_from("203.0.113.9"))
    socket = await inside.ws_connect("/ws", headers=_from("203.0.113.9"))
    async with session_factory(sqlite_engine)() as session, session.begin():
        await NetworkBans(session, "alice").block_network("203.0.113.0/24", timedelta(hours=2), "identity farm")
    # the open socket is closed at its next message, with a notice saying why
    await socket.send_json({"type": "text", "text": "hello"})
    assert (await socket.receive_json(timeout=TIMEOUT))["type"] == "notice"
    closed = await socket.receive(timeout=TIMEOUT)
    assert closed.type == WSMsgType.CLOSE and closed.data == CLOSE_BLOCKED
    # a new visitor from the network gets a page that says until when; its cookie opens nothing
    newcomer = await serve.client(server)
    page = await newcomer.get("/", headers=_from("203.0.113.200"))
    assert page.status == 403 and "closed to your network until" in await page.text()
    assert _cookie(newcomer) is None
    refused = await inside.ws_connect("/ws", headers=_from("203.0.113.9"))
    assert (await refused.receive_json(timeout=TIMEOUT))["type"] == "notice"
    # another network is untouched
    assert (await outside.get("/", headers=_from("198.51.100.1"))).status == 200
    # lifting the block opens it again
    async with session_factory(sqlite_engine)() as session, session.begin():
        block = (await NetworkBans(session).active())[0]
        assert await NetworkBans(session, "alice").unblock(block.id)
        actions = (await session.execute(select(ModerationEvent.action).order_by(ModerationEvent.id))).scalars().all()
    assert actions == ["block", "unblock"]
    assert (await newcomer.get("/", headers=_from("203.0.113.200"))).status == 200


async def test_a_banned_web_users_network_is_blocked_by_its_key_without_storing_the_address(sqlite_engine):
    conversation = Conversation(sqlite_engine, owner_secret=SECRET)
    await conversation.handle(Incoming(platform="web", user_id="farmer", chat_id="farmer", target="farmer",
                                       text="help", address="2001:db8:5:6::77"))
    async with session_factory(sqlite_engine)() as session, session.begin():
        user = await FaceRepository(session).get_or_create_user("web", "farmer")
        block = await NetworkBans(session, "alice").block_user_network(user.id, timedelta(days=7), "farm")
        stranger = await FaceRepository(session).get_or_create_user("telegram", "42")
        assert await NetworkBans(session, "alice").block_user_network(stranger.id, timedelta(days=1)) is None
    assert block is not None and block.network is None and "2001" not in block.address_key
    blocks = Blocks(sqlite_engine, SECRET, refresh_seconds=0)
    assert await blocks.until("2001:db8:5:6:ffff::1") == block.until   # the same /64: a new cookie does not help
    assert await blocks.until("2001:db8:5:7::1") is None
    assert await Blocks(sqlite_engine, b"another secret, 32 bytes long...", refresh_seconds=0).until(
        "2001:db8:5:6::77") is None   # the key means nothing without the server's secret


async def test_blocks_are_bounded_and_named_correctly(sqlite_engine):
    async with session_factory(sqlite_engine)() as session, session.begin():
        bans = NetworkBans(session, "alice")
        for bad, duration in (("not-a-network", timedelta(hours=1)), ("0.0.0.0/0", timedelta(hours=1)),
                              ("10.0.0.0/8", timedelta(0)), ("10.0.0.0/8", timedelta(days=400))):
            with pytest.raises(BadNetwork):
                await bans.block_network(bad, duration)
        block = await bans.block_network("10.1.2.3/16", timedelta(hours=1))
    assert block.network == "10.1.0.0/16"   # host bits are allowed and dropped


async def test_login_links_open_the_web_chat_as_the_platform_account(serve, sqlite_engine):
    server = await serve(login="link")
    conversation = Conversation(sqlite_engine, owner_secret=SECRET, web_url=str(server.make_url("/")))

    async def say(text: str, **where) -> str:
        incoming = Incoming(platform="telegram", user_id="4242", chat_id=where.pop("chat", "4242"), text=text,
                            locale="en", **where)
        return "\n".join(reply.text for reply in await conversation.handle(incoming))

    await say("help")
    await say("yes")   # the first-use notice, acknowledged
    # a browser without a login gets no identity, and a cookie minted the open way opens nothing
    client = await serve.client(server)
    page = await client.get("/", headers=_from("198.51.100.9"))
    assert page.status == 401 and "private chat" in await page.text() and _cookie(client) is None
    client.session.cookie_jar.update_cookies({COOKIE_NAME: CookieSigner(SECRET).new_identity()[1]})
    assert (await client.get("/", headers=_from("198.51.100.9"))).status == 401
    # in a group the bot does not post a link everyone could use
    assert "private chat" in await say("web", chat="-100", group_id="-100")
    reply = await say("web")
    url = next(word for word in reply.split() if word.startswith("http"))
    opened = await client.session.get(url, headers=_from("198.51.100.9"))
    assert opened.status == 200 and 'http-equiv="refresh"' in await opened.text()
    key = _cookie(client).split(".")[0]
    assert key.startswith("telegram~") and "4242" not in key
    assert (await client.get("/", headers=_from("198.51.100.9"))).status == 200
    socket = await client.ws_connect("/ws", headers=_from("198.51.100.9"))
    await socket.send_json({"type": "text", "text": "hello"})
    assert (await socket.receive_json(timeout=TIMEOUT))["text"].startswith(f"{key} said hello")
    # the same account always gets the same identity (a web ban holds), and an old or edited link opens nothing
    second = await serve.client(server)
    await second.session.get(next(w for w in (await say("웹")).split() if w.startswith("http")),
                             headers=_from("192.0.2.1"))
    assert _cookie(second).split(".")[0] == key
    old = login_links.make_token(SECRET, "telegram", "4242", time.time() - login_links.LINK_SECONDS - 1)
    forged = login_links.make_token(b"not the server's secret, 32 b...", "telegram", "4242", time.time())
    for token in (old, forged, "garbage", ""):
        stranger = await serve.client(server)
        refused = await stranger.get("/login", params={"t": token}, headers=_from("192.0.2.2"))
        assert refused.status == 403 and _cookie(stranger) is None


async def test_the_web_link_command_explains_itself_where_it_cannot_help(sqlite_engine):
    conversation = Conversation(sqlite_engine, owner_secret=SECRET)   # no DREAMFACE_WEB_PUBLIC_URL

    async def say(platform: str, text: str) -> str:
        replies = await conversation.handle(Incoming(platform=platform, user_id="u1", chat_id="u1", target="u1",
                                                     text=text, locale="ko"))
        return replies[0].text

    await say("telegram", "도움말")
    await say("telegram", "네")
    assert "설정되지 않았어요" in await say("telegram", "웹")
    await say("web", "도움말")
    await say("web", "네")
    assert "이미 웹 채팅에 있어요" in await say("web", "웹")
