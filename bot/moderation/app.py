"""The moderator dashboard: an aiohttp sub-application mounted under /mod on the web chat's
server (`dreamface run` serves both on one port; see `mount_dashboard`).

    GET  /mod/login                        the login form (public)
    POST /mod/login                        check name and password, start a session (public; CSRF;
                                           429 while too many failures of the name from this address,
                                           or from this address at all, make it wait — the client's
                                           address, behind a trusted proxy: bot/web/forwarded.py —
                                           and 429 at once while the password checks are all taken)
    POST /mod/logout                       end the session
    GET  /mod/                             the generation log: thumbnails, filters, keyset pages (/mod: here)
    GET  /mod/api/generations              the same as JSON
    GET  /mod/picture?id=…                 the face a picture's provenance id names (its public id, or
                                           the database id of a picture made before issue #23)
    GET  /mod/faces/{id}                   one face: picture, how it was made, actions, its audit rows
    GET  /mod/faces/{id}/image             the picture      (only with a session: not a public URL)
    GET  /mod/faces/{id}/thumb             a 96-pixel thumbnail
    POST /mod/faces/{id}/{hide|unhide|flag|unflag}
    GET  /mod/users/{id}                   a user: their history tree, ban and delete actions
    POST /mod/users/{id}/{ban|unban}       (a ban needs a reason)
    POST /mod/users/{id}/delete            delete their data (needs the confirm box and a reason)
    GET  /mod/audit                        the audit log: who, what, when, why
    GET  /mod/api/audit                    the same as JSON

`guard` runs before every handler: without a live session a page redirects to the login form
and everything else (pictures, JSON, every POST) answers 401; every POST must carry the
session's CSRF token (the login form: the token tied to its pre-login cookie). No route creates
or changes a moderator account: that is `dreamface mod add` on the server's command line.
"""

from __future__ import annotations

import asyncio
import hmac
import io
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.moderation.cookies import (LOGIN_COOKIE, LOGIN_COOKIE_SECONDS, SESSION_COOKIE, CookieKeys, clear_cookie,
                                    set_cookie, token_hash)
from bot.moderation.filters import BadQuery, kept, log_filter, page_cursor, parse_id
from bot.moderation.html import CONTENT_SECURITY_POLICY
from bot.moderation.pages import NETWORK_BLOCK_CHOICES, Links, Viewer, audit_page, face_page, log_page, login_page, message_page, user_page
from bot.moderation.passwords import ChecksBusy, PasswordChecks
from storage.blobs import BlobData
from storage.db import session_factory
from storage.moderation import (MAX_REASON_CHARS, SESSION_IDLE, SESSION_LIFETIME, AuditEntry, LogEntry, LoginFailures,
                                LoginLimits, ModerationActions, ModerationLog, ModeratorSessions, Moderators, SessionRecord,
                                UnknownTarget)
from storage.network_bans import NetworkBans
from storage.queue import JobControl

log = logging.getLogger(__name__)

DASHBOARD_PATH = "/mod"
PUBLIC_ROUTES = frozenset({"login", "login_post", "bare"})
PAGE_ROUTES = frozenset({"log", "face", "user", "audit", "picture"})    # a browser without a session is sent to log in
THUMBNAIL_PIXELS = 96
BUSY_RETRY_SECONDS = 5   # Retry-After while every password check is taken
DETAIL_AUDIT_ROWS = 50
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # not "no-referrer": under it browsers send "Origin: null" with the dashboard's own forms,
    # which the origin check must refuse (a page elsewhere can send that too)
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

EngineSource = Callable[[], AsyncEngine]


@dataclass(frozen=True)
class DashboardConfig:
    secret: bytes                 # signs the dashboard's cookies (`dreamface run` uses the web chat's key file)
    page_size: int = 50           # rows per page of the generation and audit logs
    tree_faces: int = 500         # most faces drawn in a user's history tree
    login_max_failures: int = 5            # failures of one name from one address before tries wait …
    login_address_max_failures: int = 20   # … or from one address, all names together
    login_delay_seconds: float = 30.0      # the first wait; it doubles with each further failure …
    login_lockout_seconds: float = 900.0   # … up to this, which is also how long a failure counts
    hash_threads: int = 1                  # threads checking passwords (not the default pool the worker renders in)
    hash_queue: int = 4                    # logins that may wait for one; the next is answered 429 at once

    @property
    def login_limits(self) -> LoginLimits:
        return LoginLimits(pair_failures=self.login_max_failures, address_failures=self.login_address_max_failures,
                           first_delay=timedelta(seconds=self.login_delay_seconds),
                           window=timedelta(seconds=self.login_lockout_seconds))


class BusyLog:
    """Logins refused because every password check was taken, logged at most once a period
    (a flood would otherwise write a line per request): the first at once, then a count."""

    def __init__(self, period: float = 10.0) -> None:
        self.period = period
        self._since: float | None = None
        self._count = 0

    def refused(self) -> None:
        now = time.monotonic()
        self._count += 1
        if self._since is None or now - self._since >= self.period:
            log.warning("moderation: %d login(s) refused%s: every password check was taken (%s)", self._count,
                        "" if self._since is None else f" in the last {now - self._since:.0f} s",
                        "DREAMFACE_MOD_LOGIN_HASH_THREADS / _QUEUE")
            self._since, self._count = now, 0


CONFIG = web.AppKey("mod_config", DashboardConfig)
KEYS = web.AppKey("mod_cookie_keys", CookieKeys)
ENGINE = web.AppKey("mod_engine", EngineSource)    # called per request: the parent app opens the engine at start-up
CHECKS = web.AppKey("mod_password_checks", PasswordChecks)
BUSY_LOG = web.AppKey("mod_busy_log", BusyLog)
SESSION = web.RequestKey("mod_session", SessionRecord)   # the logged-in moderator's session, or None


def create_dashboard(config: DashboardConfig, engine: EngineSource) -> web.Application:
    app = web.Application(middlewares=[guard])
    app[CONFIG], app[KEYS], app[ENGINE] = config, CookieKeys(config.secret), engine
    app[CHECKS] = PasswordChecks(config.hash_threads, config.hash_queue)
    app[BUSY_LOG] = BusyLog()
    app.on_cleanup.append(_close_checks)
    r = app.router
    r.add_get("/login", login_form, name="login")
    r.add_post("/login", login, name="login_post")
    r.add_post("/logout", logout, name="logout")
    r.add_get("/", generations, name="log")
    r.add_get("", to_log, name="bare")   # /mod, typed without its slash
    r.add_get("/api/generations", generations_json, name="api_generations")
    r.add_get("/picture", picture_lookup, name="picture")
    r.add_get(r"/faces/{face_id:\d+}", face_view, name="face")
    r.add_get(r"/faces/{face_id:\d+}/image", face_image, name="face_image")
    r.add_get(r"/faces/{face_id:\d+}/thumb", face_thumb, name="face_thumb")
    r.add_post(r"/faces/{face_id:\d+}/{action:hide|unhide|flag|unflag}", face_action, name="face_action")
    r.add_get(r"/users/{user_id:\d+}", user_view, name="user")
    r.add_post(r"/users/{user_id:\d+}/{action:ban|unban}", user_ban, name="user_ban")
    r.add_post(r"/users/{user_id:\d+}/delete", user_delete, name="user_delete")
    r.add_get("/audit", audit_view, name="audit")
    r.add_get("/api/audit", audit_json, name="api_audit")
    return app


async def _close_checks(app: web.Application) -> None:
    app[CHECKS].close()


def mount_dashboard(parent: web.Application, config: DashboardConfig, engine: EngineSource) -> web.Application:
    """Serve the dashboard under /mod of `parent` (the web chat)."""
    dashboard = create_dashboard(config, engine)
    parent.add_subapp(DASHBOARD_PATH, dashboard)
    return dashboard


# --- helpers ------------------------------------------------------------------------------------

def _sessions(request: web.Request) -> async_sessionmaker[AsyncSession]:
    return session_factory(request.app[ENGINE]())


def _links(request: web.Request) -> Links:
    return Links(request.app.router)


def _viewer(request: web.Request) -> Viewer:
    session: SessionRecord = request[SESSION]
    return Viewer(session.moderator.name, session.csrf_token, _links(request))


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html")


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _cookie_path(request: web.Request) -> str:
    return _links(request).log()


def _form_text(form, key: str, limit: int = MAX_REASON_CHARS) -> str:
    value = form.get(key, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:   # not a browser form (scripts, tests); the CSRF token still decides
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


def _safe_next(request: web.Request, wanted: str) -> str:
    """Only a dashboard path (no other site, no scheme-relative URL) after logging in."""
    home = _links(request).log()
    if wanted.startswith(home) and "//" not in wanted and "\\" not in wanted:
        return wanted
    return home


async def _live_session(request: web.Request) -> SessionRecord | None:
    token = request.app[KEYS].token(request.cookies.get(SESSION_COOKIE))
    if token is None:
        return None
    async with _sessions(request)() as session, session.begin():
        return await ModeratorSessions(session).find(token_hash(token), idle=SESSION_IDLE)


def _denied(request: web.Request, route: str | None) -> web.Response:
    if request.method == "GET" and route in PAGE_ROUTES:
        return _redirect(f"{_links(request).login()}?{urlencode({'next': request.path_qs})}")
    return web.json_response({"error": "log in to the moderation dashboard first"}, status=401)


def _csrf_expected(request: web.Request, route: str | None) -> str | None:
    if route == "login_post":
        login_token = request.app[KEYS].token(request.cookies.get(LOGIN_COOKIE))
        return None if login_token is None else request.app[KEYS].login_csrf(login_token)
    session = request.get(SESSION)
    return None if session is None else session.csrf_token


@web.middleware
async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                ) -> web.StreamResponse:
    """Sessions, CSRF and security headers for every dashboard request."""
    route = request.match_info.route.name
    if request.method not in ("GET", "HEAD") and not _same_origin(request):
        response: web.StreamResponse = web.json_response({"error": "cross-site request refused"}, status=403)
    else:
        request[SESSION] = await _live_session(request)
        if request[SESSION] is None and route not in PUBLIC_ROUTES:
            response = _denied(request, route)
        elif request.method == "POST" and not await _csrf_ok(request, route):
            response = _html(message_page(None, "Refused", "This form has expired or did not come from the "
                                                          "dashboard. Reload the page and try again."), 403)
        elif (unknown := _unusable_id(request)) is not None:
            response = _not_found(request, unknown)
        else:
            response = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _unusable_id(request: web.Request) -> str | None:
    """What a path names that no row can be (an id past 64 bits, a thousand digits), so the
    handlers' int() and the database never see it: answered 404 like an id nobody has."""
    for key, what in (("face_id", "such face"), ("user_id", "such user")):
        if key in request.match_info and parse_id(request.match_info[key]) is None:
            return what
    return None


async def _csrf_ok(request: web.Request, route: str | None) -> bool:
    expected = _csrf_expected(request, route)
    sent = (await request.post()).get("csrf")
    return expected is not None and isinstance(sent, str) and hmac.compare_digest(sent.encode(), expected.encode())


# --- logging in and out ---------------------------------------------------------------------------

async def login_form(request: web.Request) -> web.Response:
    if request[SESSION] is not None:
        return _redirect(_links(request).log())
    keys = request.app[KEYS]
    cookie = request.cookies.get(LOGIN_COOKIE)
    login_token = keys.token(cookie)
    if login_token is None:
        login_token, cookie = keys.new_token()
    next_url = _safe_next(request, request.query.get("next", ""))
    response = _html(login_page(_links(request).login(), keys.login_csrf(login_token), next_url=next_url))
    set_cookie(response, request, LOGIN_COOKIE, cookie, _cookie_path(request), LOGIN_COOKIE_SECONDS)
    return response


def _login_failures(request: web.Request, session: AsyncSession) -> LoginFailures:
    return LoginFailures(session, request.app[CONFIG].login_limits)


def _wait_words(wait: timedelta) -> str:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _refused_login(request: web.Request, name: str, next_url: str, error: str, wait: timedelta) -> web.Response:
    """429: the form again, saying why and for how long. No password was checked."""
    keys = request.app[KEYS]
    csrf = keys.login_csrf(keys.token(request.cookies.get(LOGIN_COOKIE)) or "")
    page = login_page(_links(request).login(), csrf, name=name, next_url=next_url, error=error)
    response = _html(page, 429)
    response.headers["Retry-After"] = str(max(1, int(wait.total_seconds() + 0.999)))
    return response


def _too_many_attempts(request: web.Request, name: str, wait: timedelta, next_url: str) -> web.Response:
    return _refused_login(request, name, next_url, wait=wait,
                          error=f"Too many failed logins from this address. Try again in {_wait_words(wait)}.")


def _checks_busy(request: web.Request, name: str, next_url: str) -> web.Response:
    return _refused_login(request, name, next_url, wait=timedelta(seconds=BUSY_RETRY_SECONDS),
                          error="Too many logins are being checked right now. Try again in a few seconds.")


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    name, password = _form_text(form, "name", 64), form.get("password", "")
    password = password if isinstance(password, str) else ""
    address = request.remote or "unknown"
    next_url = _safe_next(request, _form_text(form, "next", 2000))
    try:
        place = request.app[CHECKS].place()   # first: a flood is refused before it costs a database write
    except ChecksBusy:
        request.app[BUSY_LOG].refused()
        return _checks_busy(request, name, next_url)
    with place:
        async with _sessions(request)() as session, session.begin():
            wait = await _login_failures(request, session).begin(name, address)
        if wait is not None:
            log.warning("moderation: login for %r from %s refused for %.0f s: too many failures", name, address,
                        wait.total_seconds())
            return _too_many_attempts(request, name, wait, next_url)
        async with _sessions(request)() as session:
            found = await Moderators(session).credentials(name)
        accepted = await place.verify(password, None if found is None else found[1])
    keys = request.app[KEYS]
    if not accepted:
        log.info("moderation: failed login for %r from %s", name, address)
        csrf = keys.login_csrf(keys.token(request.cookies.get(LOGIN_COOKIE)) or "")
        return _html(login_page(_links(request).login(), csrf, error="Wrong name or password.", name=name,
                                next_url=next_url), 401)
    # a new token at every login: a session id planted or seen before login is worth nothing after it
    token, cookie = keys.new_token()
    async with _sessions(request)() as session, session.begin():
        sessions = ModeratorSessions(session)
        old = request[SESSION]
        if old is not None:
            await sessions.end(old.token_hash)
        await sessions.start(found[0], token_hash(token), secrets.token_urlsafe(32), lifetime=SESSION_LIFETIME)
        await _login_failures(request, session).succeeded(name, address)
    log.info("moderation: %s logged in from %s", found[0].name, address)
    response = _redirect(next_url)
    path = _cookie_path(request)
    set_cookie(response, request, SESSION_COOKIE, cookie, path, int(SESSION_LIFETIME.total_seconds()))
    clear_cookie(response, LOGIN_COOKIE, path)
    return response


async def logout(request: web.Request) -> web.Response:
    async with _sessions(request)() as session, session.begin():
        await ModeratorSessions(session).end(request[SESSION].token_hash)
    response = _redirect(_links(request).login())
    clear_cookie(response, SESSION_COOKIE, _cookie_path(request))
    return response


# --- the generation log -----------------------------------------------------------------------------

async def _log_page(request: web.Request):
    wanted, after = log_filter(request.query), page_cursor(request.query)
    async with _sessions(request)() as session:
        return await ModerationLog(session).generations(wanted, after=after, limit=request.app[CONFIG].page_size)


def _bad_query(request: web.Request, problem: BadQuery) -> web.Response:
    return _html(message_page(_viewer(request), "Bad filter", str(problem)), 400)


async def generations(request: web.Request) -> web.Response:
    try:
        page = await _log_page(request)
    except BadQuery as problem:
        return _bad_query(request, problem)
    return _html(log_page(_viewer(request), page, kept(request.query)))


def _entry_json(links: Links, e: LogEntry) -> dict:
    return {"face_id": e.face_id, "number": e.number, "user_id": e.user_id, "platform": e.platform,
            "platform_user_id": e.platform_user_id, "display_name": e.display_name, "user_banned": e.user_banned,
            "operation": e.operation, "params": e.params, "parent_id": e.parent_id,
            "other_parent_id": e.other_parent_id, "backend": e.backend, "checkpoint_id": e.checkpoint_id,
            "hidden": e.hidden, "flagged": e.flagged, "reports": e.reports, "created_at": e.created_at.isoformat(),
            "picture_id": e.public_id,
            "image": links.face_image(e.face_id) if e.has_image else None,
            "thumb": links.face_thumb(e.face_id) if e.has_image else None}


async def generations_json(request: web.Request) -> web.Response:
    try:
        page = await _log_page(request)
    except BadQuery as problem:
        return web.json_response({"error": str(problem)}, status=400)
    links = _links(request)
    return web.json_response({"generations": [_entry_json(links, e) for e in page.rows],
                              "next": None if page.next is None else page.next.encode()})


# --- faces ----------------------------------------------------------------------------------------------

async def _face_and_audit(request: web.Request, face_id: int) -> tuple[LogEntry | None, list[AuditEntry]]:
    async with _sessions(request)() as session:
        moderation = ModerationLog(session)
        entry = await moderation.face(face_id)
        audit = [] if entry is None else (await moderation.audit(face_id=face_id, limit=DETAIL_AUDIT_ROWS)).rows
    return entry, audit


def _not_found(request: web.Request, what: str) -> web.Response:
    return _html(message_page(_viewer(request), "Not found", f"There is no {what}."), 404)


async def picture_lookup(request: web.Request) -> web.Response:
    """The provenance id of a picture (`dreamface:face`) → that face's page."""
    wanted = request.query.get("id", "").strip()
    if not wanted:
        return _html(message_page(_viewer(request), "Find a picture", "Give the id a picture carries "
                                  "(dreamface:face in its metadata), e.g. /mod/picture?id=df-…"), 400)
    async with _sessions(request)() as session:
        entry = await ModerationLog(session).face_by_picture_id(wanted[:64])
    if entry is None:
        return _not_found(request, "face whose pictures carry this id")
    return _redirect(_links(request).face(entry.face_id))


async def face_view(request: web.Request) -> web.Response:
    entry, audit = await _face_and_audit(request, int(request.match_info["face_id"]))
    if entry is None:
        return _not_found(request, "such face (its user's data may have been deleted)")
    return _html(face_page(_viewer(request), entry, audit))


async def _picture(request: web.Request) -> BlobData | None:
    async with _sessions(request)() as session:
        return await ModerationLog(session).face_picture(int(request.match_info["face_id"]))


async def face_image(request: web.Request) -> web.Response:
    picture = await _picture(request)
    if picture is None:
        return web.json_response({"error": "no such picture"}, status=404)
    return web.Response(body=picture.data, content_type=picture.content_type)


def thumbnail(data: bytes, pixels: int = THUMBNAIL_PIXELS) -> bytes:
    """A small PNG of a stored face picture."""
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("RGB")
        small.thumbnail((pixels, pixels))
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


async def face_thumb(request: web.Request) -> web.Response:
    picture = await _picture(request)
    if picture is None:
        return web.json_response({"error": "no such picture"}, status=404)
    return web.Response(body=await asyncio.to_thread(thumbnail, picture.data), content_type="image/png")


async def face_action(request: web.Request) -> web.Response:
    face_id, action = int(request.match_info["face_id"]), request.match_info["action"]
    reason = _form_text(await request.post(), "reason")
    try:
        async with _sessions(request)() as session, session.begin():
            actions = ModerationActions(session, actor=request[SESSION].moderator.name)
            if action in ("hide", "unhide"):
                await actions.set_hidden(face_id, action == "hide", reason)
            else:
                await actions.set_flagged(face_id, action == "flag", reason)
    except UnknownTarget:
        return _not_found(request, "such face")
    return _redirect(_links(request).face(face_id))


# --- users -------------------------------------------------------------------------------------------------

async def _user_page(request: web.Request, user_id: int, *, error: str | None = None,
                     status: int = 200) -> web.Response:
    async with _sessions(request)() as session:
        moderation = ModerationLog(session)
        user = await moderation.user(user_id)
        if user is None:
            return _not_found(request, "such user")
        faces = await moderation.user_faces(user_id, limit=request.app[CONFIG].tree_faces)
        audit = (await moderation.audit(user_id=user_id, limit=DETAIL_AUDIT_ROWS)).rows
    return _html(user_page(_viewer(request), user, faces, audit, error=error), status)


async def user_view(request: web.Request) -> web.Response:
    return await _user_page(request, int(request.match_info["user_id"]))


async def _cancel_jobs(request: web.Request, user_id: int) -> int:
    """Stop the user's queued and running jobs (a running one stops at its next heartbeat)."""
    return await JobControl(request.app[ENGINE]()).cancel_user_jobs(user_id, "cancelled by a moderator")


async def to_log(request: web.Request) -> web.Response:
    raise web.HTTPFound(DASHBOARD_PATH + "/")


async def user_ban(request: web.Request) -> web.Response:
    user_id, action = int(request.match_info["user_id"]), request.match_info["action"]
    form = await request.post()
    reason = _form_text(form, "reason")
    if action == "ban" and not reason:
        return await _user_page(request, user_id, error="Say why this user is banned.", status=400)
    block_hours = _form_text(form, "block_hours") or "0"
    if not block_hours.isdigit() or int(block_hours) not in NETWORK_BLOCK_CHOICES:
        return await _user_page(request, user_id, error="Choose how long to block the network.", status=400)
    actor = request[SESSION].moderator.name
    try:
        async with _sessions(request)() as session, session.begin():
            await ModerationActions(session, actor=actor).set_banned(user_id, action == "ban", reason)
            if action == "ban" and int(block_hours):
                await NetworkBans(session, actor).block_user_network(user_id, timedelta(hours=int(block_hours)), reason)
    except UnknownTarget:
        return _not_found(request, "such user")
    if action == "ban":
        await _cancel_jobs(request, user_id)
    return _redirect(_links(request).user(user_id))


async def user_delete(request: web.Request) -> web.Response:
    user_id = int(request.match_info["user_id"])
    form = await request.post()
    reason = _form_text(form, "reason")
    if form.get("confirm") != "yes" or not reason:
        return await _user_page(request, user_id, status=400,
                                error="Tick the box and give a reason to delete this user's data.")
    await _cancel_jobs(request, user_id)
    try:
        async with _sessions(request)() as session, session.begin():
            await ModerationActions(session, actor=request[SESSION].moderator.name).delete_user_data(user_id, reason)
    except UnknownTarget:
        return _not_found(request, "such user")
    return _redirect(_links(request).audit())   # the user's page may be gone with them


# --- the audit log ------------------------------------------------------------------------------------------

async def _audit_page(request: web.Request):
    after = page_cursor(request.query)
    action = request.query.get("action", "").strip() or None
    async with _sessions(request)() as session:
        return await ModerationLog(session).audit(after=after, action=action, limit=request.app[CONFIG].page_size)


async def audit_view(request: web.Request) -> web.Response:
    try:
        page = await _audit_page(request)
    except BadQuery as problem:
        return _bad_query(request, problem)
    return _html(audit_page(_viewer(request), page, kept(request.query, ("action",))))


async def audit_json(request: web.Request) -> web.Response:
    try:
        page = await _audit_page(request)
    except BadQuery as problem:
        return web.json_response({"error": str(problem)}, status=400)
    rows = [{"id": e.id, "actor": e.actor, "action": e.action, "reason": e.reason,
             "created_at": e.created_at.isoformat(), "target_user_id": e.target_user_id,
             "target_user": e.target_user, "target_face_id": e.target_face_id,
             "target_face_number": e.target_face_number} for e in page.rows]
    return web.json_response({"audit": rows, "next": None if page.next is None else page.next.encode()})
