"""The moderator dashboard over HTTP, mounted under /mod as `dreamface run` mounts it: every route
needs a session, forms need the session's CSRF token, the session id changes at login, no route
makes a moderator, pictures are served only to a session, and the pages and actions work."""

from __future__ import annotations

import io
import json
import re

import pytest
from aiohttp.test_utils import TestServer
from PIL import Image
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update

from bot.moderation.app import PUBLIC_ROUTES
from bot.moderation.cookies import LOGIN_COOKIE, SESSION_COOKIE, CookieKeys
from storage.db import session_factory
from storage.network_bans import NetworkBans
from storage.models import Face, ModerationEvent, Moderator, ModeratorLoginFailure, ModeratorSession, User
from moderation_client import (PASSWORD, ModClient, add_moderator, dashboard_app, seed)
from web_fakes import SECRET

PAGE_SIZE = 4


@pytest.fixture
async def site(engine):
    """The served app with alice and bob as moderators, three users' faces, and a client factory."""
    seeded = await seed(engine)
    await add_moderator(engine, "alice")
    await add_moderator(engine, "bob")
    app, dashboard = dashboard_app(engine, page_size=PAGE_SIZE)
    server = TestServer(app)
    await server.start_server()
    clients: list[ModClient] = []

    def client() -> ModClient:
        clients.append(ModClient(server))
        return clients[-1]

    yield dashboard, seeded, client
    for c in clients:
        await c.close()
    await server.close()


def every_request(dashboard, seeded) -> list[tuple[str, str, str]]:
    """(method, path, route name) for every route of the dashboard's table, every alternative of
    a {param:a|b} segment included, with ids of real faces and users filled in."""
    face, user = seeded.faces["tg-ann"][0], seeded.users["tg-ann"]
    requests = []
    for route in dashboard.router.routes():
        info = route.resource.get_info()
        if "path" in info:
            requests.append((route.method, info["path"], route.name))
            continue
        alternatives = re.findall(r"\(\?P<action>([^)]*)\)", info["pattern"].pattern)
        for action in (alternatives[0].split("|") if alternatives else [None]):
            parts = {"face_id": face, "user_id": user} | ({"action": action} if action else {})
            requests.append((route.method, info["formatter"].format(**parts), route.name))
    return requests


async def _count(engine, model) -> int:
    async with session_factory(engine)() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar()


async def _face(engine, face_id: int) -> Face | None:
    async with session_factory(engine)() as session:
        return await session.get(Face, face_id)


async def _user(engine, user_id: int) -> User:
    async with session_factory(engine)() as session:
        return await session.get(User, user_id)


# --- no session, no dashboard ------------------------------------------------------------------------------

async def test_every_dashboard_route_answers_401_or_sends_to_login_without_a_session(site, engine):
    dashboard, seeded, client = site
    requests = every_request(dashboard, seeded)
    protected = [r for r in requests if r[2] not in PUBLIC_ROUTES]
    assert {r[2] for r in requests} - {r[2] for r in protected} == {"login", "login_post", "bare"}   # bare: /mod → /mod/
    assert len(protected) >= 20   # pages, pictures, JSON and every action, HEAD included

    forged = CookieKeys(b"some other key, 32 bytes long...").new_token()[1]
    unknown = CookieKeys(SECRET).new_token()[1]   # well signed, but no session row has it
    for cookie in (None, forged, unknown, "garbage"):
        browser = client()
        if cookie is not None:
            browser.plant(SESSION_COOKIE, cookie)
        for method, path, name in protected:
            async with browser.http.request(method, browser.url(path), allow_redirects=False,
                                            data={"csrf": "x", "reason": "r", "confirm": "yes"}) as response:
                body = await response.read()
                if response.status == 303:
                    assert response.headers["Location"].startswith("/mod/login?next="), (method, path)
                    assert method in ("GET", "HEAD") and name in ("log", "face", "user", "audit", "picture")
                else:
                    assert response.status == 401, (method, path, response.status, body[:200])
                assert b"face" not in body.lower() or response.status == 401 and b"log in" in body
    assert not (await _face(engine, seeded.faces["tg-ann"][0])).hidden
    assert not (await _user(engine, seeded.users["tg-ann"])).banned
    assert await _count(engine, ModerationEvent) == 0


async def test_logging_in_leads_back_to_the_page_asked_for(site):
    _, seeded, client = site
    browser = client()
    wanted = f"/mod/users/{seeded.users['web-bo']}"
    response, _ = await browser.get(wanted, allow_redirects=False)
    login_page, _ = await browser.get(response.headers["Location"])
    response, _ = await browser.post("/mod/login", {"name": "alice", "password": PASSWORD,
                                                    "next": wanted}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == wanted
    other = client()
    await other.get("/mod/login")
    response, _ = await other.post("/mod/login", {"name": "alice", "password": PASSWORD,
                                                  "next": "//evil.example/mod/"}, allow_redirects=False)
    assert response.headers["Location"] == "/mod/"   # never off the dashboard


# --- sessions ---------------------------------------------------------------------------------------------

async def test_the_session_id_changes_at_login(site, engine):
    _, _, client = site
    browser = client()
    await browser.get("/mod/login")
    before = browser.cookie(LOGIN_COOKIE)
    assert before and browser.cookie(SESSION_COOKIE) is None
    assert (await browser.login()).status == 303
    first = browser.cookie(SESSION_COOKIE)
    assert first and first != before and browser.cookie(LOGIN_COOKIE) is None

    # session fixation: an attacker plants a well-signed id in the victim's browser before login
    planted = CookieKeys(SECRET).new_token()[1]
    victim = client()
    victim.plant(SESSION_COOKIE, planted)
    assert (await victim.login()).status == 303
    issued = victim.cookie(SESSION_COOKIE)
    assert issued not in (planted, first)
    attacker = client()
    attacker.plant(SESSION_COOKIE, planted)
    assert (await attacker.get("/mod/api/generations"))[0].status == 401
    assert (await victim.get("/mod/api/generations"))[0].status == 200
    assert await _count(engine, ModeratorSession) == 2


async def test_logout_ends_the_session_on_every_copy_of_the_cookie(site, engine):
    _, _, client = site
    browser = client()
    await browser.login()
    copy = client()
    copy.plant(SESSION_COOKIE, browser.cookie())
    assert (await copy.get("/mod/api/generations"))[0].status == 200
    response, _ = await browser.post("/mod/logout", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/mod/login"
    assert (await copy.get("/mod/api/generations"))[0].status == 401
    assert await _count(engine, ModeratorSession) == 0


async def test_a_wrong_password_or_unknown_name_gets_the_same_answer(site, engine):
    _, _, client = site
    browser = client()
    for name, password in (("alice", "wrong password!"), ("nobody", PASSWORD), ("alice", "")):
        await browser.get("/mod/login")
        response, body = await browser.post("/mod/login", {"name": name, "password": password},
                                            allow_redirects=False)
        assert response.status == 401 and "Wrong name or password." in body
        assert browser.cookie(SESSION_COOKIE) is None
    assert await _count(engine, ModeratorSession) == 0


# --- login limiting ---------------------------------------------------------------------------------------

LIMIT = 3            # failures of one name from one address before tries wait
ADDRESS_LIMIT = 5    # failures from one address, all names together
DELAY = 20           # the first wait, in seconds; it doubles with each further failure
WINDOW = 70          # how long a failure counts, and the longest wait


@pytest.fixture
async def limited(engine):
    """Two dashboard servers on one database (two processes behind a load balancer), logins
    limited as above; clients may connect from another loopback address."""
    await add_moderator(engine, "alice")
    await add_moderator(engine, "bob")
    servers = []
    for _ in range(2):
        app, _ = dashboard_app(engine, login_max_failures=LIMIT, login_address_max_failures=ADDRESS_LIMIT,
                               login_delay_seconds=DELAY, login_lockout_seconds=WINDOW)
        servers.append(TestServer(app))
        await servers[-1].start_server()
    clients: list[ModClient] = []

    def client(server: int = 0, address: str = "127.0.0.1") -> ModClient:
        clients.append(ModClient(servers[server], address))
        return clients[-1]

    yield client
    for c in clients:
        await c.close()
    for server in servers:
        await server.close()


async def _try(browser: ModClient, name: str, password: str):
    await browser.get("/mod/login")
    response, body = await browser.post("/mod/login", {"name": name, "password": password}, allow_redirects=False)
    return response.status, response.headers.get("Retry-After"), body


async def _age_failures(engine, seconds: float) -> None:
    """Every failure so far happened `seconds` earlier (time passing, without waiting)."""
    async with session_factory(engine)() as session, session.begin():
        for failure in (await session.execute(select(ModeratorLoginFailure))).scalars():
            failure.failed_at -= timedelta(seconds=seconds)   # in Python: SQLite cannot subtract from its text times


async def test_failed_logins_make_that_name_wait_from_that_address_in_every_process_with_growing_delays(
        limited, engine):
    for _ in range(LIMIT):
        assert (await _try(limited(0), "alice", "guess"))[0] == 401
    # now even the right password is refused from this address, without being checked, on the other server too
    status, retry_after, body = await _try(limited(1), "alice", PASSWORD)
    assert status == 429 and DELAY - 2 <= int(retry_after) <= DELAY
    assert f"Too many failed logins from this address. Try again in {retry_after} seconds." in body
    assert await _count(engine, ModeratorSession) == 0
    assert (await _try(limited(0), "bob", PASSWORD))[0] == 303          # the same address, another name: fine

    # once the wait is over one more guess is allowed, and the next wait is twice as long
    await _age_failures(engine, DELAY)
    assert (await _try(limited(0), "alice", "guess"))[0] == 401
    status, retry_after, _ = await _try(limited(1), "alice", PASSWORD)
    assert status == 429 and 2 * DELAY - 2 <= int(retry_after) <= 2 * DELAY
    await _age_failures(engine, 2 * DELAY)
    assert (await _try(limited(0), "alice", "guess"))[0] == 401
    status, retry_after, _ = await _try(limited(0), "alice", PASSWORD)
    assert status == 429 and WINDOW - 2 <= int(retry_after) <= WINDOW   # 4 × DELAY, held to the window

    # failures older than the window are forgotten: alice may try again
    await _age_failures(engine, WINDOW)
    assert (await _try(limited(0), "alice", PASSWORD))[0] == 303


async def test_the_real_moderator_logs_in_from_another_address_during_an_attack_on_their_name(limited, engine):
    attackers = [f"127.0.0.{n}" for n in range(2, 6)]
    for address in attackers:
        for _ in range(LIMIT):
            assert (await _try(limited(0, address), "alice", "guess"))[0] == 401
        assert (await _try(limited(1, address), "alice", PASSWORD))[0] == 429   # each attacker waits
    status, _, _ = await _try(limited(1, "127.0.0.9"), "alice", PASSWORD)
    assert status == 303                                                           # the moderator does not
    assert (await limited(1, "127.0.0.9").get("/mod/api/generations"))[0].status == 401   # (another browser)
    # the attack's failures are kept: the moderator's login forgave only their own address's
    assert await _count(engine, ModeratorLoginFailure) == LIMIT * len(attackers)


async def test_an_address_guessing_many_names_waits_for_every_name_but_others_do_not(limited):
    for n in range(ADDRESS_LIMIT):
        assert (await _try(limited(0, "127.0.0.7"), f"name{n}", "guess"))[0] == 401
    status, retry_after, _ = await _try(limited(1, "127.0.0.7"), "bob", PASSWORD)
    assert status == 429 and 0 < int(retry_after) <= DELAY
    assert (await _try(limited(1, "127.0.0.8"), "bob", PASSWORD))[0] == 303


async def test_a_successful_login_forgets_its_own_failures_only(limited, engine):
    for name in ("alice", "carol"):
        assert (await _try(limited(), name, "guess"))[0] == 401
    assert (await _try(limited(), "alice", PASSWORD))[0] == 303   # forgets alice's failure here, not carol's
    async with session_factory(engine)() as session:
        rows = (await session.execute(select(ModeratorLoginFailure.name, ModeratorLoginFailure.address))).all()
    assert rows == [("carol", "127.0.0.1")]
    for _ in range(LIMIT - 1):
        assert (await _try(limited(), "alice", "guess"))[0] == 401
    assert (await _try(limited(), "alice", PASSWORD))[0] == 303   # alice's count started again at her login


async def test_ipv6_clients_are_counted_by_their_64():
    from storage.moderation import address_key
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.7") == address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("unknown") == "unknown"


# --- password checks: their own threads, a bounded queue ---------------------------------------------------

@pytest.fixture
async def gated(engine, monkeypatch):
    """A dashboard with one password-check thread and two waiting places, whose checks block
    until the test opens the gate: (client factory, the checks, the gate)."""
    import threading
    from bot.moderation import passwords
    from bot.moderation.app import CHECKS

    gate = threading.Event()
    real = passwords.verify_password

    def held(password: str, stored: str) -> bool:
        gate.wait(30)
        return real(password, stored)

    monkeypatch.setattr(passwords, "verify_password", held)
    monkeypatch.setattr(passwords, "burn_verification_time", lambda password: gate.wait(30))
    await add_moderator(engine, "alice")
    app, dashboard = dashboard_app(engine, hash_threads=1, hash_queue=2, login_max_failures=100,
                                   login_address_max_failures=100)
    server = TestServer(app)
    await server.start_server()
    clients: list[ModClient] = []

    def client(address: str = "127.0.0.1") -> ModClient:
        clients.append(ModClient(server, address))
        return clients[-1]

    yield client, dashboard[CHECKS], gate
    gate.set()
    for c in clients:
        await c.close()
    await server.close()


async def test_a_login_flood_past_the_check_queue_is_answered_429_at_once_and_rendering_goes_on(gated):
    import asyncio
    import time
    client, checks, gate = gated
    flood = [asyncio.create_task(_try(client(f"127.0.0.{n}"), "alice", "guess")) for n in range(2, 5)]
    for _ in range(200):
        if checks.in_flight == checks.limit:
            break
        await asyncio.sleep(0.05)
    assert checks.in_flight == checks.limit == 3   # one checking, two waiting

    started = time.monotonic()
    status, retry_after, body = await _try(client("127.0.0.9"), "alice", PASSWORD)
    assert status == 429 and int(retry_after) > 0 and "being checked right now" in body
    assert time.monotonic() - started < 5           # not queued behind the three held checks
    # the default thread pool (where the in-process worker renders) is not where checks wait
    assert await asyncio.wait_for(asyncio.to_thread(lambda: "rendered"), timeout=5) == "rendered"

    gate.set()
    assert [result[0] for result in await asyncio.gather(*flood)] == [401, 401, 401]
    assert checks.in_flight == 0
    assert (await _try(client("127.0.0.9"), "alice", PASSWORD))[0] == 303


# --- CSRF ---------------------------------------------------------------------------------------------------

async def test_forms_without_the_sessions_csrf_token_are_refused(site, engine):
    dashboard, seeded, client = site
    alice, bob = client(), client()
    await alice.login("alice")
    await bob.login("bob")
    posts = [(path, name) for method, path, name in every_request(dashboard, seeded) if method == "POST"]
    assert {name for _, name in posts} == {"login_post", "logout", "face_action", "user_ban", "user_delete"}
    fields = {"reason": "because", "confirm": "yes", "name": "alice", "password": PASSWORD}
    for path, name in posts:
        for token in (None, "", "x" * 43, bob.csrf):   # missing, empty, made up, another session's
            form = dict(fields) | ({} if token is None else {"csrf": token})
            response, body = await alice.post(path, form, csrf=False, allow_redirects=False)
            assert response.status == 403, (path, token, response.status)
    # a cross-site form is refused even with the right token
    response, _ = await alice.post(f"/mod/faces/{seeded.faces['tg-ann'][0]}/hide", {"reason": "x"},
                                   headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert response.status == 403
    assert not (await _face(engine, seeded.faces["tg-ann"][0])).hidden
    assert not (await _user(engine, seeded.users["tg-ann"])).banned
    assert await _count(engine, ModerationEvent) == 0
    assert await _count(engine, ModeratorSession) == 2   # neither was logged out
    # the same form with the right token does what it says
    response, _ = await alice.post(f"/mod/faces/{seeded.faces['tg-ann'][0]}/hide", {"reason": "x"},
                                   allow_redirects=False)
    assert response.status == 303 and (await _face(engine, seeded.faces["tg-ann"][0])).hidden


async def test_the_login_form_needs_the_token_tied_to_its_own_cookie(site, engine):
    _, _, client = site
    victim, attacker = client(), client()
    await attacker.get("/mod/login")   # the attacker's own valid login token…
    await victim.get("/mod/login")
    response, _ = await victim.post("/mod/login", {"name": "alice", "password": PASSWORD, "csrf": attacker.csrf},
                                    csrf=False, allow_redirects=False)
    assert response.status == 403      # …does not fit the victim's cookie
    fresh = client()
    response, _ = await fresh.post("/mod/login", {"name": "alice", "password": PASSWORD, "csrf": "x"},
                                   csrf=False, allow_redirects=False)
    assert response.status == 403      # no login cookie at all
    assert await _count(engine, ModeratorSession) == 0


# --- accounts are made on the command line only ----------------------------------------------------------------

async def test_no_web_route_creates_or_promotes_a_moderator(site, engine):
    dashboard, seeded, client = site
    async with session_factory(engine)() as session:
        before = sorted((await session.execute(select(Moderator.name, Moderator.password_hash))).all())
    browser = client()
    await browser.login("alice")
    form = {"name": "mallory", "password": "mallory's password", "moderator": "mallory", "role": "admin",
            "admin": "yes", "reason": "x", "confirm": "yes"}
    for method, path, name in every_request(dashboard, seeded):
        if name == "logout":
            continue
        await browser.get("/mod/audit")    # a fresh token for each request
        query = "?" + "&".join(f"{k}={v}" for k, v in form.items())
        async with browser.http.request(method, browser.url(path + query), data=form | {"csrf": browser.csrf},
                                        allow_redirects=False) as response:
            await response.read()
            assert response.status < 500, (method, path)
    fresh = client()
    assert (await fresh.login("mallory", "mallory's password")).status == 401
    async with session_factory(engine)() as session:
        after = sorted((await session.execute(select(Moderator.name, Moderator.password_hash))).all())
    assert after == before


# --- pictures --------------------------------------------------------------------------------------------------

async def test_ids_no_row_can_have_get_a_clear_404_or_400_never_a_500(site):
    from datetime import datetime, timezone
    from storage.moderation import Cursor
    _, _, client = site
    browser = client()
    await browser.login()
    for number in (str(2**63 - 1), str(2**63), "9" * 25, "9" * 5000):   # the largest id, one past it, far past
        for path in (f"/mod/faces/{number}", f"/mod/faces/{number}/image", f"/mod/faces/{number}/thumb",
                     f"/mod/users/{number}"):
            response, body = await browser.get(path)
            assert response.status == 404, (path[:40], response.status)
        for path in (f"/mod/faces/{number}/hide", f"/mod/users/{number}/ban", f"/mod/users/{number}/delete"):
            response, body = await browser.post(path, {"reason": "spam", "confirm": "yes"})
            assert response.status == 404 and "Not found" in body, (path[:40], response.status)
    far = Cursor(datetime(2026, 1, 1, tzinfo=timezone.utc), 2**70).encode()
    for query in (f"user={2**63}", "user=" + "9" * 5000, "user=²", f"after={far}"):
        assert (await browser.get(f"/mod/?{query}"))[0].status == 400, query[:40]
        assert (await browser.get(f"/mod/api/generations?{query}"))[0].status == 400, query[:40]
    assert (await browser.get(f"/mod/audit?after={far}"))[0].status == 400


async def test_a_pictures_provenance_id_leads_to_its_face(site, engine):
    _, seeded, client = site
    browser = client()
    await browser.login()
    face = seeded.faces["tg-ann"][1]
    async with session_factory(engine)() as session:
        public_id = (await session.get(Face, face)).public_id
    assert public_id.startswith("df-")
    for wanted in (public_id, str(face)):   # the id new pictures carry, and the database id older ones carry
        response, _ = await browser.get(f"/mod/picture?id={wanted}", allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == f"/mod/faces/{face}"
    _, page = await browser.get(f"/mod/faces/{face}")
    assert public_id in page
    assert (await browser.get("/mod/picture?id=df-aaaaaaaaaaaaaaaa"))[0].status == 404
    assert (await browser.get("/mod/picture?id="))[0].status == 400
    assert 'id="picture-id"' in (await browser.get("/mod/"))[1]


async def test_pictures_are_served_only_to_a_session_not_to_whoever_knows_the_id(site, engine):
    _, seeded, client = site
    face_id = seeded.faces["web-bo"][1]
    paths = (f"/mod/faces/{face_id}/image", f"/mod/faces/{face_id}/thumb")
    stranger = client()
    for path in paths:
        response, _ = await stranger.get(path, allow_redirects=False)
        assert response.status == 401
    browser = client()
    await browser.login()
    response, image = await browser.get(paths[0])
    assert response.status == 200 and response.content_type == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    async with session_factory(engine)() as session:
        stored = await session.get(Face, face_id)
        from storage.blobs import read_blob
        assert image == (await read_blob(session, stored.image_blob_id)).data
    response, thumb = await browser.get(paths[1])
    assert response.status == 200 and Image.open(io.BytesIO(thumb)).size == (96, 96)
    await browser.post("/mod/logout")
    for path in paths:
        assert (await browser.get(path, allow_redirects=False))[0].status == 401
    assert (await stranger.get("/mod/faces/999999/image", allow_redirects=False))[0].status == 401


# --- pages and actions -----------------------------------------------------------------------------------------

def _rows(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="generation" data-face="(\d+)"', html)]


async def test_the_log_filters_and_pages_like_its_links_say(site, engine):
    dashboard, seeded, client = site
    browser = client()
    await browser.login()
    everything = sorted((i for ids in seeded.faces.values() for i in ids), reverse=True)
    seen, path = [], "/mod/"
    while path:
        _, html = await browser.get(path)
        seen += _rows(html)
        older = re.search(r'id="older" href="([^"]+)"', html)
        path = older.group(1).replace("&amp;", "&") if older else None
    assert seen == everything and len(everything) > PAGE_SIZE
    _, html = await browser.get("/mod/?platform=telegram&operation=&flagged=")
    assert _rows(html) == sorted(seeded.faces["tg-ann"], reverse=True)
    assert 'value="telegram" selected' in html   # the form shows the filter in use
    _, html = await browser.get(f"/mod/?user={seeded.users['dc-cy']}")
    assert _rows(html) == seeded.faces["dc-cy"]
    shown = re.search(r'>(discord:[^<·]+?)(?: ·|<)', html).group(1).strip()   # the user as the log shows them
    _, html = await browser.get(f"/mod/?user={shown}")
    assert _rows(html) == seeded.faces["dc-cy"]
    for wrong in (f"/mod/?user={shown}&platform=web", "/mod/?user=myspace:1"):
        response, html = await browser.get(wrong)
        assert response.status == 400 and "user" in html
    response, _ = await browser.get("/mod", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/mod/"
    _, html = await browser.get("/mod/?since=2026-11-21")
    assert "No generations match" in html
    response, html = await browser.get("/mod/?since=yesterday")
    assert response.status == 400 and "since" in html
    response, data = await browser.get("/mod/api/generations?platform=web")
    assert [g["face_id"] for g in json.loads(data)["generations"]] == \
        sorted(seeded.faces["web-bo"], reverse=True)


async def test_actions_change_what_they_say_and_land_in_the_audit_log(site, engine):
    _, seeded, client = site
    browser = client()
    await browser.login()
    face, user = seeded.faces["tg-ann"][2], seeded.users["tg-ann"]
    await browser.get(f"/mod/faces/{face}")
    response, _ = await browser.post(f"/mod/faces/{face}/hide", {"reason": "shows a real person"})
    assert response.status == 200 and (await _face(engine, face)).hidden
    await browser.post(f"/mod/faces/{face}/flag", {"reason": ""})
    assert (await _face(engine, face)).flagged
    _, html = await browser.get("/mod/?hidden=yes")
    assert _rows(html) == [face]

    await browser.get(f"/mod/users/{user}")
    response, html = await browser.post(f"/mod/users/{user}/ban", {"reason": "  "})
    assert response.status == 400 and "Say why" in html and not (await _user(engine, user)).banned
    response, html = await browser.post(f"/mod/users/{user}/ban", {"reason": "spam"})
    assert response.status == 200 and 'id="user-status">banned' in html and (await _user(engine, user)).banned

    other = seeded.users["web-bo"]
    await browser.get(f"/mod/users/{other}")
    response, _ = await browser.post(f"/mod/users/{other}/delete", {"reason": "asked by email"})
    assert response.status == 400 and await _face(engine, seeded.faces["web-bo"][0]) is not None
    response, html = await browser.post(f"/mod/users/{other}/delete", {"reason": "asked by email", "confirm": "yes"})
    assert response.status == 200 and "Audit log" in html     # the user's page is gone with them
    assert [await _face(engine, f) for f in seeded.faces["web-bo"]] == [None, None]
    assert await _user(engine, other) is None

    _, audit = await browser.get("/mod/audit")
    rows = re.findall(r'<td class="actor">([^<]*)</td><td class="action">([^<]*)</td><td>.*?</td>'
                      r'<td class="reason">([^<]*)</td>', audit)
    assert rows == [("alice", "delete_data", "asked by email"), ("alice", "ban", "spam"), ("alice", "flag", ""),
                    ("alice", "hide", "shows a real person")]
    _, only_bans = await browser.get("/mod/audit?action=ban")
    assert only_bans.count('class="audit"') == 1


async def test_a_users_page_draws_their_history_tree(site, engine):
    _, seeded, client = site
    browser = client()
    await browser.login()
    _, html = await browser.get(f"/mod/users/{seeded.users['tg-ann']}")
    first, second, third = seeded.faces["tg-ann"]
    # each face nested in the list item of the face it was made from
    nested = re.search(rf'href="/mod/faces/{first}">#1</a>.*?<ul class="tree">.*?href="/mod/faces/{second}">#2</a>'
                       rf'.*?<ul class="tree">.*?href="/mod/faces/{third}">#3</a>', html, re.S)
    assert nested and "TG-ANN" in html


async def test_a_photo_face_shows_how_near_it_came_to_the_photo(site):
    """The number behind the level the user was told ("Likeness to your photo: medium")."""
    _, seeded, client = site
    browser = client()
    await browser.login()
    (photo_face,) = seeded.faces["dc-cy"]
    _, html = await browser.get(f"/mod/?user={seeded.users['dc-cy']}")
    assert "photo · likeness 0.65 (medium)" in html
    _, html = await browser.get(f"/mod/faces/{photo_face}")
    assert re.search(r'id="likeness">0\.65 \(medium\)', html)
    _, html = await browser.get(f"/mod/?user={seeded.users['tg-ann']}")
    assert "likeness" not in html   # faces not made from a photo have none


async def test_pages_escape_what_users_wrote(site, engine):
    _, seeded, client = site
    async with session_factory(engine)() as session, session.begin():
        user = await session.get(User, seeded.users["dc-cy"])
        user.display_name = '<script>alert(1)</script>'
    browser = client()
    await browser.login()
    response, html = await browser.get(f"/mod/users/{seeded.users['dc-cy']}")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "script-src" not in response.headers["Content-Security-Policy"]   # no script may run at all
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_banning_a_web_user_can_close_the_web_chat_to_their_network(site, engine):
    _, seeded, client = site
    browser = client()
    await browser.login()
    web_user, telegram_user = seeded.users["web-bo"], seeded.users["tg-ann"]
    async with session_factory(engine)() as session, session.begin():   # what the core keeps of their address
        await session.execute(update(User).where(User.id == web_user).values(address_key="k" * 32))
    _, html = await browser.get(f"/mod/users/{telegram_user}")
    assert 'name="block_hours"' not in html   # only a web user can shed an identity by dropping a cookie
    _, html = await browser.get(f"/mod/users/{web_user}")
    assert 'name="block_hours"' in html
    response, _ = await browser.post(f"/mod/users/{web_user}/ban", {"reason": "farm", "block_hours": "99"})
    assert response.status == 400 and not (await _user(engine, web_user)).banned
    response, _ = await browser.post(f"/mod/users/{web_user}/ban", {"reason": "farm", "block_hours": "168"})
    assert response.status == 200 and (await _user(engine, web_user)).banned
    async with session_factory(engine)() as session:
        (block,) = await NetworkBans(session).active()
    assert block.address_key == "k" * 32 and block.actor == "alice"
    assert timedelta(days=6, hours=23) < block.until - datetime.now(timezone.utc) <= timedelta(days=7)
    _, audit = await browser.get("/mod/audit?action=block")
    assert audit.count('class="audit"') == 1 and "the user&#x27;s network until" in audit
