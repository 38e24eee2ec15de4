"""The web chat: an aiohttp application serving one chat page, its websocket and `/healthz`.

    GET /          the chat page; issues the identity cookie on the first visit (at most
                   `identities_per_hour` per client address; with login "link", never: see /login)
    GET /login     a bot's login link (bot/login_links.py): the cookie of that account's identity
    GET /ws        the websocket (needs the cookie; same-origin only; at most `tabs_per_user` each);
                   /ws?restore=1 first sends where the user left off (a page opened again)
    GET /static/*  chat.js and chat.css
    GET /healthz   200 while this process can serve (connected users); 503 once a delivery loop
                   has stopped. It never touches the database: that is /readyz's question

Messages go to the conversation core and its immediate replies come straight back; results of
jobs arrive through the delivery outbox, claimed by a courier for the users connected to this
process. Images travel inline over the socket, so no face has a URL anyone could guess.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import login_links
from bot.login_links import is_login_key
from bot.delivery import SEND_TIMEOUT_SECONDS, Deliveries, Shown, Surface
from bot.conversation.replies import say_both
from bot.messages import Incoming, Reply
from bot.web.forwarded import Network, forwarded_middleware
from bot.web.hub import Hub
from bot.web.identity import COOKIE_MAX_AGE, COOKIE_NAME, CookieSigner, Identity
from bot.web.guard import Blocks, MintLimit
from bot.web.page import TEXTS as PAGE_TEXTS
from bot.web.page import chrome, preferred_locale, render_notice, render_page
from bot.web.wire import (MAX_FRAME_BYTES, BadFrame, ButtonPress, PhotoUpload, TextMessage, notice_frame,
                          parse_binary_frame, parse_text_frame, reply_frame, restore_frame)
from storage.outbox import DeliveryRecord
from storage.platforms import WEB as PLATFORM

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = {
    # everything the page uses comes from this server; images are blob: URLs made by chat.js
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; connect-src 'self'; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Conversation(Protocol):
    engine: AsyncEngine
    async def handle(self, incoming: Incoming) -> list[Reply]: ...
    async def render_delivery(self, delivery: DeliveryRecord) -> list[Reply]: ...
    async def job_progress(self, job_ids: Sequence[int]) -> dict[int, Reply | None]: ...
    async def restore(self, platform: str, platform_user_id: str) -> list[Reply]: ...


class Core(Protocol):
    """What the web chat needs from the running application (dreamface.app.open_app)."""
    engine: AsyncEngine
    conversation: Conversation


CoreFactory = Callable[[], AbstractAsyncContextManager[Core]]


@dataclass(frozen=True)
class WebConfig:
    secret: bytes                            # signs identity cookies; keep it across restarts
    courier_poll_seconds: float = 0.5        # idle look for results (PostgreSQL also wakes on NOTIFY)
    progress_poll_seconds: float = 0.5       # how often queued/working jobs are checked for a new state
    heartbeat_seconds: float = 25.0          # websocket ping interval (keeps proxies from closing it)
    trusted_proxies: tuple[Network, ...] = ()   # peers whose X-Forwarded-For/-Proto are believed (bot/web/forwarded.py)
    identities_per_hour: int = 30            # new identities per client address (bot/web/guard.py); 0: no limit
    tabs_per_user: int = 8                   # websockets one identity may hold open at once
    login: str = "open"                      # "open": any browser gets an identity; "link": only a bot's login link
    blocks_refresh_seconds: float = 5.0      # how soon a moderator's network block reaches this process
    send_timeout_seconds: float = SEND_TIMEOUT_SECONDS   # a tab that takes no result in this time is dropped


CONFIG = web.AppKey("config", WebConfig)
SIGNER = web.AppKey("signer", CookieSigner)
CORE = web.AppKey("core", Core)
HUB = web.AppKey("hub", Hub)
DELIVERIES = web.AppKey("deliveries", Deliveries)
LOOPS = web.AppKey("loops", list)   # the courier and progress tasks, for /healthz
MINTS = web.AppKey("mints", MintLimit)
BLOCKS = web.AppKey("blocks", Blocks)
# websocket close codes that tell chat.js not to reconnect (the notice before them says why)
CLOSE_TOO_MANY_TABS = 4008
CLOSE_BLOCKED = 4003


def create_app(config: WebConfig, core: CoreFactory) -> web.Application:
    """The web chat. `core` opens the conversation core (and its worker) when the app starts
    and closes it when the app stops."""
    app = web.Application(middlewares=[forwarded_middleware(config.trusted_proxies), error_middleware],
                          client_max_size=MAX_FRAME_BYTES)
    app[CONFIG] = config
    app[SIGNER] = CookieSigner(config.secret)
    app[HUB] = Hub()
    app[MINTS] = MintLimit(config.identities_per_hour)
    app.cleanup_ctx.append(_core_ctx(core))
    app.cleanup_ctx.append(_delivery_ctx)
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/", chat_page)
    app.router.add_get("/login", login_page)
    app.router.add_get("/ws", chat_socket)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static", STATIC_DIR, append_version=True)
    return app


# --- resources ----------------------------------------------------------------------------

def _core_ctx(factory: CoreFactory) -> Callable[[web.Application], AsyncIterator[None]]:
    async def core_ctx(app: web.Application) -> AsyncIterator[None]:
        async with factory() as core:
            app[CORE] = core
            config = app[CONFIG]
            app[BLOCKS] = Blocks(core.engine, config.secret, refresh_seconds=config.blocks_refresh_seconds)
            yield
    return core_ctx


class WebSurface(Surface):
    """The web chat's side of delivery: results and re-worded progress go to the user's open
    tabs, which replace a job's message in place by its token; nothing needs reopening."""
    platform = PLATFORM

    def __init__(self, hub: Hub, signer: CookieSigner) -> None:
        self.hub = hub
        self.signer = signer   # turns job ids into the user's own opaque tokens (no global id reaches a user)

    def _frame(self, user_key: str, reply: Reply) -> dict:
        return with_chrome(reply_frame(reply, lambda job_id: self.signer.job_token(user_key, job_id)), [reply])

    def following(self, chat_id: str) -> bool:
        return self.hub.connected(chat_id)   # a reconnecting tab gets the result from the outbox

    async def accept(self, delivery: DeliveryRecord) -> None:
        self.hub.require(delivery.target)   # before rendering: a user who left gets it on return

    async def deliver(self, delivery: DeliveryRecord, replies: Sequence[Reply], shown: Shown | None) -> None:
        await self.hub.send_or_fail(delivery.target, [self._frame(delivery.target or "", r) for r in replies])

    async def post(self, user_key: str, reply: Reply) -> Shown | None:
        await self.hub.send(user_key, self._frame(user_key, reply))

        async def edit(text: str) -> bool:
            await self.hub.send(user_key, self._frame(user_key, replace(reply, text=text)))
            return True
        return Shown(edit) if reply.kind == "progress" else None


async def _delivery_ctx(app: web.Application) -> AsyncIterator[None]:
    """Results for the users connected to this process, and their jobs' progress."""
    core, hub, config = app[CORE], app[HUB], app[CONFIG]
    deliveries = app[DELIVERIES] = Deliveries(core.conversation, WebSurface(hub, app[SIGNER]), routes=hub.routes,
                                              poll_seconds=config.progress_poll_seconds,
                                              courier_poll_seconds=config.courier_poll_seconds,
                                              send_timeout=config.send_timeout_seconds)
    hub.on_change = lambda routes: setattr(deliveries.courier, "routes", routes)
    stop = asyncio.Event()
    app[LOOPS] = deliveries.start(stop)   # nothing to restore: a tab that reconnects gets results from the outbox
    for task in app[LOOPS]:
        task.add_done_callback(_report_early_end)
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*app[LOOPS], return_exceptions=True)


def _report_early_end(task: asyncio.Task) -> None:
    """A delivery loop that dies says so at once (and /healthz turns 503), not at shutdown."""
    if not task.cancelled() and task.exception() is not None:
        log.error("web: %s stopped", task.get_name(), exc_info=task.exception())


async def _close_sockets(app: web.Application) -> None:
    await app[HUB].close_all("server shutting down")


# --- errors -------------------------------------------------------------------------------

@web.middleware
async def error_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    """HTTP errors as short JSON; anything unexpected is logged and answered with a plain 500."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response({"error": exc.reason}, status=exc.status)
    except Exception:
        log.exception("web: %s %s failed", request.method, request.path)
        return web.json_response({"error": "internal server error"}, status=500)


# --- views --------------------------------------------------------------------------------

def identity_of(request: web.Request) -> Identity | None:
    """The cookie's identity; with login "link", only one a login link made."""
    identity = request.app[SIGNER].verify(request.cookies.get(COOKIE_NAME))
    if identity is not None and request.app[CONFIG].login == "link" and not is_login_key(identity.user_key):
        return None
    return identity


def _html(text: str, status: int = 200, **headers: str) -> web.Response:
    response = web.Response(text=text, status=status, content_type="text/html", headers=SECURITY_HEADERS)
    response.headers.update({"Cache-Control": "no-store", **headers})
    return response


def _give_cookie(response: web.Response, request: web.Request, identity: Identity) -> None:
    response.set_cookie(COOKIE_NAME, request.app[SIGNER].cookie_value(identity), max_age=COOKIE_MAX_AGE, path="/",
                        httponly=True, samesite="Strict", secure=request.secure)


async def _blocked_page(request: web.Request, locale: str) -> web.Response | None:
    """The refusal a blocked network gets, or None."""
    until = await request.app[BLOCKS].until(request.remote)
    if until is None:
        return None
    log.info("web: refused a blocked network (%s until %s)", request.path, f"{until:%Y-%m-%d %H:%M}")
    return _html(render_notice(locale, "blocked", until=f"{until:%Y-%m-%d %H:%M}"), 403)


async def chat_page(request: web.Request) -> web.Response:
    locale = preferred_locale(request.headers.get("Accept-Language"))
    refusal = await _blocked_page(request, locale)
    if refusal is not None:
        return refusal
    if identity_of(request) is not None:
        return _html(render_page(locale))
    if request.app[CONFIG].login == "link":
        return _html(render_notice(locale, "link_needed"), 401)
    wait = request.app[MINTS].take(request.remote)
    if wait:
        log.info("web: too many new identities from one address; the next in %.0f s", wait)
        return _html(render_notice(locale, "too_many_new", minutes=max(1, round(wait / 60))), 429,
                     **{"Retry-After": str(int(wait))})
    response = _html(render_page(locale))
    identity, _ = request.app[SIGNER].new_identity()
    _give_cookie(response, request, identity)
    return response


async def login_page(request: web.Request) -> web.Response:
    """A bot's login link: the cookie of that account's web identity, then on to the chat. The
    chat is reached by a refresh from this page, not a redirect: a SameSite=Strict cookie is
    not sent on a redirect that began on another site (the link was tapped in Telegram)."""
    locale = preferred_locale(request.headers.get("Accept-Language"))
    refusal = await _blocked_page(request, locale)
    if refusal is not None:
        return refusal
    key = login_links.identity_key(request.app[CONFIG].secret, request.query.get("t"), time.time())
    if key is None:
        return _html(render_notice(locale, "link_bad"), 403)
    response = _html(render_notice(locale, "signed_in", refresh_to="/"))
    _give_cookie(response, request, Identity(key))
    return response


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:   # not a browser (scripts, tests); the cookie still decides who it is
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


async def chat_socket(request: web.Request) -> web.WebSocketResponse:
    identity = identity_of(request)
    if identity is None:
        raise web.HTTPUnauthorized(reason="open the chat page first: it gives this browser its identity")
    if not _same_origin(request):
        raise web.HTTPForbidden(reason="the chat socket only accepts pages from this server")
    app = request.app
    socket = web.WebSocketResponse(heartbeat=app[CONFIG].heartbeat_seconds, max_msg_size=MAX_FRAME_BYTES)
    await socket.prepare(request)
    hub, conversation = app[HUB], app[CORE].conversation
    page_locale = preferred_locale(request.headers.get("Accept-Language"))
    locale = preferred_locale(request.headers.get("Accept-Language"), default="")
    user = identity.user_key
    if await app[BLOCKS].until(request.remote) is not None:
        return await _refuse(socket, page_locale, "blocked_socket", CLOSE_BLOCKED)
    if hub.tabs(user) >= app[CONFIG].tabs_per_user:
        log.info("web: refused a websocket over the %d tabs of one identity", app[CONFIG].tabs_per_user)
        return await _refuse(socket, page_locale, "too_many_tabs", CLOSE_TOO_MANY_TABS)
    if request.query.get("restore") == "1":   # a page opened again: where the user left off, before any result
        restored = await conversation.restore(PLATFORM, user)
        if restored:
            await socket.send_json(with_chrome(restore_frame(restored, lambda job_id: app[SIGNER].job_token(user, job_id)),
                                               restored))
    hub.add(user, socket, request.transport)
    try:
        async for frame in socket:
            if await app[BLOCKS].until(request.remote) is not None:   # blocked while connected
                return await _refuse(socket, page_locale, "blocked_socket", CLOSE_BLOCKED)
            if frame.type == WSMsgType.TEXT:
                parse = parse_text_frame
            elif frame.type == WSMsgType.BINARY:
                parse = parse_binary_frame
            elif frame.type == WSMsgType.ERROR:   # aiohttp has closed the socket already (1009 for a frame too big)
                log.info("web: closed a websocket: %s", frame.data)
                continue
            else:
                continue
            try:
                message = parse(frame.data)
            except BadFrame as exc:
                await socket.send_json(notice_frame(str(exc)))
                continue
            incoming = _incoming(user, message, locale or None, request.remote)
            deliveries = app[DELIVERIES]
            async with deliveries.turn(user):
                try:
                    replies = await conversation.handle(incoming)
                except Exception:  # one failed message must not end the conversation: log, then say so
                    log.exception("web: handling a message failed")
                    await socket.send_json(notice_frame(say_both("something_went_wrong")))
                    continue
                await deliveries.post_replies(user, replies, lambda reply: deliveries.surface.post(user, reply))
    finally:
        hub.remove(user, socket)
    return socket


async def _refuse(socket: web.WebSocketResponse, locale: str, key: str, code: int) -> web.WebSocketResponse:
    """Say why in a notice, then close with a code chat.js does not reconnect after."""
    await socket.send_json(notice_frame(PAGE_TEXTS[locale][key]))
    await socket.close(code=code, message=key.encode())
    return socket


def with_chrome(frame: dict, replies: Sequence[Reply]) -> dict:
    """The frame, with the page's texts in a language one of its replies switched to ("lang en")."""
    locale = next((r.extra["locale"] for r in replies if r.extra.get("locale") in PAGE_TEXTS), None)
    return frame if locale is None else {**frame, "chrome": chrome(locale)}


def _incoming(user_key: str, message: TextMessage | ButtonPress | PhotoUpload, locale: str | None,
              address: str | None) -> Incoming:
    """The one place a websocket message becomes an Incoming: the user is always the cookie's,
    the address the client's (bot/web/forwarded.py), which the per-address job cap counts by."""
    common = dict(platform=PLATFORM, user_id=user_key, chat_id=user_key, target=user_key, locale=locale,
                  address=address)
    if isinstance(message, TextMessage):
        return Incoming(text=message.text, **common)
    if isinstance(message, ButtonPress):
        return Incoming(button=message.payload, **common)
    return Incoming(photo=message.data, **common)


async def healthz(request: web.Request) -> web.Response:
    return liveness(request.app)


def liveness(app: web.Application) -> web.Response:
    """Liveness: restart me or not. A database outage is not a reason to restart a chat process
    (it rides it out), so the database is left to /readyz (dreamface/health.py)."""
    stopped = [task.get_name() for task in app.get(LOOPS, ()) if task.done()]
    if stopped:
        return web.json_response({"ok": False, "error": f"stopped: {', '.join(stopped)}"}, status=503)
    return web.json_response({"ok": True, "connected_users": len(app[HUB].users)})
