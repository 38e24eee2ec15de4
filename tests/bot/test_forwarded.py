"""Behind a trusted reverse proxy (DREAMFACE_TRUSTED_PROXIES), over real HTTP: 127.0.0.1 plays the
proxy, 127.0.0.2 a client reaching dreamface directly. The proxy's X-Forwarded-For gives each
client behind it its own login limit and X-Forwarded-Proto https gives Secure cookies; the
same headers from anyone else change nothing."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from ipaddress import ip_network

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.moderation.app import DashboardConfig, mount_dashboard
from bot.moderation.cookies import LOGIN_COOKIE, SESSION_COOKIE
from bot.web.app import CORE
from bot.web.forwarded import forwarded_middleware
from bot.web.identity import COOKIE_NAME
from ground.config import ConfigError, Settings
from storage.db import session_factory
from storage.models import ModeratorLoginFailure
from moderation_client import PASSWORD, ModClient, add_moderator
from web_fakes import SECRET, fake_app

PROXY, DIRECT = "127.0.0.1", "127.0.0.2"
LOOPBACK = (ip_network("127.0.0.1"),)
LIMIT = 3
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def test_the_setting_takes_addresses_and_networks_and_names_a_bad_one():
    settings = Settings.from_env({"DREAMFACE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1"})
    assert [str(n) for n in settings.trusted_proxy_networks] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert Settings.from_env({}).trusted_proxy_networks == ()
    for bad in ("nginx", "10.0.0.1/8", "127.0.0.1:8080"):
        with pytest.raises(ConfigError, match="DREAMFACE_TRUSTED_PROXIES"):
            Settings.from_env({"DREAMFACE_TRUSTED_PROXIES": bad})


# --- the rule, over HTTP -----------------------------------------------------------------------------------

async def whoami(request: web.Request) -> web.Response:
    return web.json_response({"remote": request.remote, "scheme": request.scheme, "secure": request.secure})


@pytest.fixture
async def echo_server():
    """An app with only the middleware and a route saying what the request looks like."""
    app = web.Application(middlewares=[forwarded_middleware(LOOPBACK + (ip_network("10.0.0.0/8"),))])
    app.router.add_get("/", whoami)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def _ask(server: TestServer, source: str, headers: dict[str, str]) -> dict:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0))) as http:
        async with http.get(server.make_url("/"), headers=headers) as response:
            return await response.json()


@pytest.mark.parametrize("source, headers, remote, scheme", [
    (PROXY, {}, PROXY, "http"),                                                       # the proxy itself
    (PROXY, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}, "203.0.113.7", "https"),
    # the client's own claim (left) is never read: the proxy appended the address it saw
    (PROXY, {"X-Forwarded-For": "1.1.1.1, 203.0.113.7"}, "203.0.113.7", "http"),
    # two trusted proxies (an edge at 10.0.0.5 in front of the local one) are walked past
    (PROXY, {"X-Forwarded-For": "1.1.1.1, 203.0.113.7, 10.0.0.5"}, "203.0.113.7", "http"),
    (PROXY, {"X-Forwarded-For": "10.0.0.9, 10.0.0.5"}, "10.0.0.9", "http"),          # only proxies: the farthest
    (PROXY, {"X-Forwarded-For": "2001:db8::1"}, "2001:db8::1", "http"),
    (PROXY, {"X-Forwarded-For": "garbage, 10.0.0.5"}, "10.0.0.5", "http"),           # a non-address stops the walk
    (PROXY, {"X-Forwarded-Proto": "https, http"}, PROXY, "http"),                    # the nearest proxy's value
    (PROXY, {"X-Forwarded-Proto": "gopher"}, PROXY, "http"),
    # anyone else's forwarded headers are ignored
    (DIRECT, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}, DIRECT, "http"),
], ids=["proxy-alone", "proxy-https", "client-claim-ignored", "two-proxies", "only-proxies", "ipv6",
        "not-an-address", "nearest-proto", "unknown-proto", "untrusted-peer"])
async def test_the_client_is_the_rightmost_address_no_trusted_proxy_vouches_for(echo_server, source, headers,
                                                                                 remote, scheme):
    seen = await _ask(echo_server, source, headers)
    assert (seen["remote"], seen["scheme"], seen["secure"]) == (remote, scheme, scheme == "https")


# --- the dashboard's login limit ---------------------------------------------------------------------------

@pytest.fixture
async def dashboard(engine):
    """`start(trusted)`: the web chat with the dashboard, as `dreamface run` serves it, trusting
    `trusted`; alice and bob are moderators; logins limited to LIMIT failures a minute."""
    await add_moderator(engine, "alice")
    await add_moderator(engine, "bob")
    servers: list[TestServer] = []

    async def start(trusted=LOOPBACK) -> TestServer:
        app, _ = fake_app(engine, trusted_proxies=trusted)
        mount_dashboard(app, DashboardConfig(secret=SECRET, login_max_failures=LIMIT,
                                             login_address_max_failures=LIMIT, login_lockout_seconds=60),
                        lambda: app[CORE].engine)
        servers.append(TestServer(app, host="127.0.0.1"))
        await servers[-1].start_server()
        return servers[-1]

    yield start
    for server in servers:
        await server.close()


class Browser(ModClient):
    """A browser reaching dreamface from `source`, every request carrying `headers` (as a proxy
    in front of it would add them, or as it forged them itself)."""

    def __init__(self, server: TestServer, source: str, headers: dict[str, str]) -> None:
        super().__init__(server, source)
        self.headers = headers

    async def get(self, path: str, **kw):
        return await super().get(path, headers=self.headers, **kw)

    async def post(self, path: str, data: dict | None = None, **kw):
        return await super().post(path, data, headers=self.headers, **kw)


async def _try(browser: Browser, name: str, password: str) -> int:
    try:
        await browser.get("/mod/login")
        response, _ = await browser.post("/mod/login", {"name": name, "password": password}, allow_redirects=False)
        return response.status
    finally:
        await browser.close()


async def _failure_addresses(engine) -> set[str]:
    async with session_factory(engine)() as session:
        return set((await session.execute(select(ModeratorLoginFailure.address))).scalars())


async def test_clients_behind_a_trusted_proxy_are_limited_each_on_their_own(dashboard, engine):
    server = await dashboard()

    def behind_proxy(client: str) -> Browser:
        return Browser(server, PROXY, {"X-Forwarded-For": client})

    for name in ("carol", "dave", "erin"):   # names nobody has: only the address limit can trip
        assert await _try(behind_proxy("203.0.113.7"), name, "guess") == 401
    assert await _try(behind_proxy("203.0.113.7"), "bob", PASSWORD) == 429
    # what the client itself put in front of the proxy's entry does not get it out
    assert await _try(behind_proxy("198.51.100.9, 203.0.113.7"), "bob", PASSWORD) == 429
    # another client behind the same proxy is not locked out with it
    assert await _try(behind_proxy("198.51.100.9"), "bob", PASSWORD) == 303
    assert await _failure_addresses(engine) == {"203.0.113.7"}


@pytest.mark.parametrize("trusted, source", [(LOOPBACK, DIRECT), ((), PROXY)],
                         ids=["peer-not-trusted", "nothing-trusted"])
async def test_a_forged_forwarded_for_does_not_change_an_untrusted_clients_address(dashboard, engine,
                                                                                    trusted, source):
    server = await dashboard(trusted)
    for n, name in enumerate(("carol", "dave", "erin")):
        assert await _try(Browser(server, source, {"X-Forwarded-For": f"203.0.113.{n}"}), name, "guess") == 401
    assert await _try(Browser(server, source, {"X-Forwarded-For": "198.51.100.9"}), "bob", PASSWORD) == 429
    assert await _failure_addresses(engine) == {source}


# --- Secure cookies ---------------------------------------------------------------------------------------

def _set_cookies(response: aiohttp.ClientResponse) -> dict[str, tuple[str, bool]]:
    """name → (value, Secure?) for every cookie a response sets (not those it deletes)."""
    found = {}
    for header in response.headers.getall("Set-Cookie", ()):
        for name, morsel in SimpleCookie(header).items():
            if morsel.value:
                found[name] = (morsel.value, bool(morsel["secure"]))
    return found


class Manual:
    """A client from `source` that keeps no cookie jar (a jar would not send Secure cookies back
    over the test's plain http): it sends exactly the cookies and headers it is given."""

    def __init__(self, server: TestServer, source: str, headers: dict[str, str]) -> None:
        self.server, self.headers = server, headers
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0)),
                                          cookie_jar=aiohttp.DummyCookieJar())

    def _headers(self, cookies: dict[str, str]) -> dict[str, str]:
        jar = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return self.headers | ({"Cookie": jar} if jar else {})

    async def request(self, method: str, path: str, cookies: dict[str, str] | None = None, **kw):
        async with self.http.request(method, self.server.make_url(path), headers=self._headers(cookies or {}),
                                     allow_redirects=False, **kw) as response:
            return response, await response.text()


async def _log_in(client: Manual) -> tuple[dict[str, bool], int]:
    """Log alice in as a browser does, then open the chat page: (Secure? per cookie set on the
    way, the status of a dashboard request with the new session)."""
    response, page = await client.request("GET", "/mod/login")
    cookies = _set_cookies(response)
    response, _ = await client.request("POST", "/mod/login", {LOGIN_COOKIE: cookies[LOGIN_COOKIE][0]},
                                       data={"name": "alice", "password": PASSWORD,
                                             "csrf": CSRF_FIELD.findall(page)[0]})
    assert response.status == 303
    cookies |= _set_cookies(response)
    response, _ = await client.request("GET", "/mod/api/generations", {SESSION_COOKIE: cookies[SESSION_COOKIE][0]})
    chat, _ = await client.request("GET", "/")
    cookies |= _set_cookies(chat)
    return {name: secure for name, (_, secure) in cookies.items()}, response.status


# a browser at https://dreamface.example: the proxy keeps its Host; its forms carry that Origin
SITE = {"Host": "dreamface.example", "Origin": "https://dreamface.example"}


@pytest.mark.parametrize("source, headers, secure", [
    (PROXY, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}, True),
    (PROXY, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "http"}, False),
    (PROXY, {"X-Forwarded-For": "203.0.113.7"}, False),
    (DIRECT, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}, False),
], ids=["proxy-https", "proxy-http", "proxy-no-proto", "untrusted-claims-https"])
async def test_cookies_are_secure_when_a_trusted_proxy_says_https(dashboard, source, headers, secure):
    client = Manual(await dashboard(), source, SITE | headers)
    try:
        cookies, status = await _log_in(client)
    finally:
        await client.http.close()
    assert status == 200
    assert cookies == {LOGIN_COOKIE: secure, SESSION_COOKIE: secure, COOKIE_NAME: secure}


async def test_the_web_chat_works_through_a_trusted_proxy(dashboard):
    """The chat page and its websocket through the proxy: the cloned request still upgrades."""
    client = Manual(await dashboard(), PROXY, SITE | {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    try:
        response, _ = await client.request("GET", "/")
        identity = _set_cookies(response)[COOKIE_NAME][0]
        socket = await client.http.ws_connect(client.server.make_url("/ws"),
                                              headers=client._headers({COOKIE_NAME: identity}))
        await socket.send_json({"type": "text", "text": "hello"})
        reply = await socket.receive_json(timeout=5)
        assert reply["text"].endswith("said hello")
        await socket.close()
    finally:
        await client.http.close()
