"""The moderator dashboard served the way `dreamface run` serves it (mounted under /mod of the
web chat's app), a seeded database, and a client that logs in and fills forms like a browser."""

from __future__ import annotations

import io
import re
from http.cookies import SimpleCookie
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image
from sqlalchemy import update

from bot.moderation.app import DashboardConfig, mount_dashboard
from bot.moderation.cookies import SESSION_COOKIE
from bot.moderation.passwords import ScryptCost, hash_password
from bot.web.app import CORE
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.models import Face
from storage.moderation import Moderators
from web_fakes import SECRET, fake_app

PASSWORD = "correct horse battery"
CHEAP = ScryptCost(log2_n=12)   # real scrypt at a test-sized cost; the default cost is tested in test_moderation_cli
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def png(shade: int, size: int = 256) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (shade, 90, 140)).save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class Seeded:
    faces: dict[str, list[int]]     # user key → face ids, oldest first
    users: dict[str, int]           # user key → user id


PHOTO_LIKENESS = 0.647   # the seeded photo face's distance to its photo, as a worker keeps it


async def seed(engine) -> Seeded:
    """Three users on three platforms; each face the child of the user's previous one, a minute apart."""
    plan = [("telegram", "tg-ann", ["new", "pick", "morph"]), ("web", "web-bo", ["describe", "edit"]),
            ("discord", "dc-cy", ["photo"])]
    faces: dict[str, list[int]] = {}
    users: dict[str, int] = {}
    minute = 0
    async with session_factory(engine)() as session, session.begin():
        repo = FaceRepository(session)
        for platform, key, operations in plan:
            user = await repo.get_or_create_user(platform, key, "en", display_name=key.upper())
            users[key] = user.id
            parent = None
            for operation in operations:
                params = {"seed": minute} | ({"likeness": PHOTO_LIKENESS} if operation == "photo" else {})
                parent = await repo.add_face(user, parent=parent, operation=operation, params=params,
                                             backend="montage", checkpoint_id="montage-2", code=b"code",
                                             image=png(20 * minute))
                await session.execute(update(Face).where(Face.id == parent.id)
                                      .values(created_at=T0 + timedelta(minutes=minute)))
                faces.setdefault(key, []).append(parent.id)
                minute += 1
    return Seeded(faces, users)


async def add_moderator(engine, name: str, password: str = PASSWORD) -> None:
    async with session_factory(engine)() as session, session.begin():
        await Moderators(session).add(name, hash_password(password, CHEAP))


def dashboard_app(engine, **config) -> tuple[web.Application, web.Application]:
    """(the served app, the dashboard sub-app whose route table the tests walk)."""
    app, _ = fake_app(engine)
    dashboard = mount_dashboard(app, DashboardConfig(secret=SECRET, **config), lambda: app[CORE].engine)
    return app, dashboard


class ModClient:
    """One browser: its own cookie jar; remembers the CSRF token of the last page it read."""

    def __init__(self, server: TestServer, address: str | None = None) -> None:
        """`address`: the loopback address to connect from (127.0.0.2, …), another client address."""
        self.server = server
        connector = aiohttp.TCPConnector(local_addr=(address, 0)) if address else None
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),   # cookies for 127.0.0.1
                                          connector=connector)
        self.csrf: str | None = None

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def get(self, path: str, **kw) -> tuple[aiohttp.ClientResponse, str | bytes]:
        async with self.http.get(self.url(path), allow_redirects=kw.pop("allow_redirects", True), **kw) as response:
            body = await response.read()
            if response.content_type == "text/html":
                body = body.decode()
                found = CSRF_FIELD.findall(body)
                if found:
                    self.csrf = found[0]
            return response, body

    async def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kw):
        form = dict(data or {})
        if csrf and "csrf" not in form:
            form["csrf"] = self.csrf
        async with self.http.post(self.url(path), data=form, allow_redirects=kw.pop("allow_redirects", True),
                                  **kw) as response:
            body = await response.read()
            return response, body.decode(errors="replace")

    async def login(self, name: str = "alice", password: str = PASSWORD) -> aiohttp.ClientResponse:
        await self.get("/mod/login")
        response, _ = await self.post("/mod/login", {"name": name, "password": password}, allow_redirects=False)
        if response.status == 303:
            await self.get(response.headers["Location"])   # lands on a page; picks up the session's CSRF token
        return response

    def plant(self, name: str, value: str) -> None:
        """Put a cookie in this browser as the dashboard would have set it (same host and path)."""
        cookie = SimpleCookie()
        cookie[name] = value
        cookie[name]["path"] = "/mod/"
        self.http.cookie_jar.update_cookies(cookie, response_url=self.server.make_url("/mod/"))

    def cookie(self, name: str = SESSION_COOKIE) -> str | None:
        found = [c for c in self.http.cookie_jar if c.key == name]
        return found[0].value if found else None

    async def close(self) -> None:
        await self.http.close()
