"""A stand-in for Discord on one local port: the REST API subset discord.py and the bot use,
the gateway websocket, an attachment CDN, and simulated users who type, run slash commands,
press buttons and look at what Discord would show them.

    async with FakeDiscord() as discord_:
        ann = discord_.add_user("ann", locale="ko")
        settings = Settings(discord_token=discord_.token, discord_api_base=discord_.api_base,
                            discord_gateway_url=discord_.gateway_url, …)
        … run the bot …
        interaction = await ann.slash("describe", text="눈이 큰 둥근 얼굴")
        message = await discord_.until(lambda: interaction.response_message() …)

Sharding as Discord does it: `/gateway/bot` recommends `shards` and sends `max_concurrency`; a
session IDENTIFYs as shard [id, count] and gets the guilds with (guild_id >> 22) % count == id
and their events (direct messages go to shard 0). Every IDENTIFY is recorded (`identified`); with
`strict_identify`, one within 5 s of the last accepted one of its bucket (id % max_concurrency)
is answered with an invalid session (op 9), as Discord does.
`add_guild(shard=…)` makes a guild on a chosen shard; `cut_shard` keeps a shard off the gateway.

It refuses what Discord refuses (and what the bot must therefore never send): custom_id over
100 characters, more than 5 buttons in a row or 5 rows, a select menu that is not alone in its
row or offers more than 25 options, content over 2000 characters, a
nonce over 25, files over the attachment limit, an interaction answered twice or after 3
seconds, options the synced commands do not declare. It rate-limits like Discord (per-route
buckets with X-RateLimit-* headers, a global 50 requests/s for bot-token calls; interaction
endpoints are exempt from the global limit) and answers 429 with retry_after beyond them,
counting every request per second so tests can check the bot kept within the limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import re
import secrets
import time
import zlib
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

API = "/api/v10"
INTERACTION_DEADLINE = 3.0           # seconds to acknowledge an interaction
IDENTIFY_WINDOW = 5.0                # one IDENTIFY per bucket (shard_id % max_concurrency) per 5 s
MAX_CONTENT = 2000
MAX_CUSTOM_ID = 100
MAX_ROWS = 5
MAX_PER_ROW = 5
MAX_NONCE = 25
MAX_FILES = 10
MAX_ATTACHMENT_DESCRIPTION = 1024
MAX_OPTIONS = 25                     # in a select menu
SELECT = 3                           # the component type of a string select menu
DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024
GLOBAL_PER_SECOND = 50
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# per-route limits (requests, window in seconds), keyed by the route's major parameter
ROUTE_LIMITS = {
    "channel-messages": (5, 5.0),     # POST /channels/{id}/messages
    "channel-edits": (5, 5.0),        # PATCH /channels/{id}/messages/{id}
    "interaction-webhook": (5, 2.0),  # followups and edits through an interaction token
}

# interaction callback types
CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 4, 5, 6, 7
OPTION_TYPES = {"string": 3, "integer": 4, "boolean": 5, "number": 10, "attachment": 11}


class DiscordError(Exception):
    """An error answer: status, Discord's error code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def invalid(message: str) -> DiscordError:
    return DiscordError(400, 50035, f"Invalid Form Body: {message}")


_ids = itertools.count(1_300_000_000_000_000_000)
# guild ids step through the snowflake's timestamp part (bits 22 and up), which picks the shard
_guild_ticks = itertools.count((1_300_000_000_000_000_000 >> 22) + 1_000_000)


def snowflake() -> int:
    return next(_ids)


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's rule: the shard that carries a guild's events."""
    return (guild_id >> 22) % shard_count


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


@dataclass
class FakeFile:
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"
    id: int = field(default_factory=snowflake)
    description: str | None = None      # the attachment's alt text (payload_json's attachments[n])

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class FakeMessage:
    """A message as Discord stores it; `states` is every content it has shown, in order."""
    id: int
    channel_id: int
    author_id: int
    content: str = ""
    files: list[FakeFile] = field(default_factory=list)
    components: list[dict] = field(default_factory=list)
    ephemeral_for: int | None = None   # only this user sees it
    loading: bool = False              # "… is thinking"
    nonce: str | None = None
    interaction_id: int | None = None
    states: list[str] = field(default_factory=list)
    edits: int = 0

    @property
    def button_rows(self) -> list[list[str]]:
        return [[b.get("label", "") for b in row["components"]] for row in self.components]

    @property
    def custom_ids(self) -> list[str]:
        return [b["custom_id"] for row in self.components for b in row["components"] if "custom_id" in b]

    def button(self, label: str) -> dict:
        for row in self.components:
            for b in row["components"]:
                if b.get("label") == label:
                    return b
        raise LookupError(f"no button {label!r} on message {self.id}: {self.button_rows}")

    @property
    def menu(self) -> dict | None:
        """The message's select menu (a component of type 3), if it has one."""
        return next((c for row in self.components for c in row["components"] if c.get("type") == SELECT), None)

    @property
    def images(self) -> list[FakeFile]:
        return [f for f in self.files if f.data[:8] == b"\x89PNG\r\n\x1a\n" or f.data[:3] == b"\xff\xd8\xff"]


@dataclass
class FakeChannel:
    id: int
    type: int                           # 0 guild text, 1 DM
    guild_id: int | None = None
    recipient: "FakeUser | None" = None
    name: str = ""


@dataclass
class FakeGuild:
    id: int
    name: str
    channel: FakeChannel                # its one text channel
    roles: dict[int, str] = field(default_factory=dict)   # besides @everyone: id → name


@dataclass
class FakeInteraction:
    id: int
    token: str
    type: int                           # 2 slash command, 3 button
    user: "FakeUser"
    channel_id: int
    created: float
    message_id: int | None = None       # the pressed button's message
    acknowledged_after: float | None = None
    callback_type: int | None = None
    original_id: int | None = None      # the response message
    followup_ids: list[int] = field(default_factory=list)
    shards: list[int] = field(default_factory=list)   # the shards whose sessions got it


class FakeUser:
    """A person on Discord: has a DM channel with the bot, can use the guild channel."""

    def __init__(self, fake: "FakeDiscord", name: str, locale: str) -> None:
        self.fake, self.name, self.locale = fake, name, locale
        self.id = snowflake()
        self.roles: list[int] = []           # guild role ids (FakeDiscord.add_role)
        self.blocked_bot = False
        self.dm = fake._add_channel(FakeChannel(snowflake(), 1, recipient=self))

    def json(self) -> dict:
        return {"id": str(self.id), "username": self.name, "discriminator": "0", "global_name": self.name,
                "avatar": None, "bot": False, "public_flags": 0}

    # --- doing things -----------------------------------------------------------------------

    async def slash(self, subcommand: str, *, channel: int | None = None, **options: Any) -> FakeInteraction:
        """Run /face <subcommand> as Discord's client would: options checked against the synced
        command; a FakeFile option is uploaded as an attachment."""
        return await self.fake._slash(self, channel or self.dm.id, subcommand, options)

    async def say(self, text: str, *, channel: int | None = None, mention: bool = False,
                  files: list[FakeFile] = (), sticker: bool = False) -> FakeMessage:
        """Type a message (mentioning the bot first when `mention`; with a sticker when `sticker`)."""
        return await self.fake._user_message(self, channel or self.dm.id, text, mention, list(files), sticker)

    async def press(self, message: FakeMessage, label: str) -> FakeInteraction:
        """Press the button with this label (on a message this user can see)."""
        return await self.fake._press(self, message, message.button(label)["custom_id"])

    async def choose(self, message: FakeMessage, values: list[str]) -> FakeInteraction:
        """Close the message's select menu with these options chosen (Discord sends them all)."""
        return await self.fake._choose(self, message, values)

    # --- what they see ---------------------------------------------------------------------

    def sees(self, channel: int | None = None) -> list[FakeMessage]:
        channel_id = channel or self.dm.id
        return [m for m in self.fake.messages[channel_id] if m.ephemeral_for in (None, self.id)]

    def bot_messages(self, channel: int | None = None) -> list[FakeMessage]:
        return [m for m in self.sees(channel) if m.author_id == self.fake.bot_id]


class RateLimiter:
    """Sliding-window buckets like Discord's; every accepted request is kept for the tests."""

    def __init__(self) -> None:
        self._windows: dict[str, deque[float]] = defaultdict(deque)
        self.accepted: dict[str, list[float]] = defaultdict(list)   # bucket → times
        self.refused: Counter[str] = Counter()                       # rule → 429 answers

    def take(self, bucket: str, limit: int, window: float) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until a slot frees)."""
        now = time.monotonic()
        times = self._windows[bucket]
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= limit:
            self.refused[bucket.split(":")[0]] += 1
            return False, 0, times[0] + window - now
        times.append(now)
        self.accepted[bucket].append(now)
        return True, limit - len(times), times[0] + window - now

    def busiest(self, rule: str, window: float) -> int:
        """The most requests of `rule` one bucket accepted within any `window` seconds."""
        most = 0
        for bucket, times in self.accepted.items():
            if bucket.split(":")[0] != rule:
                continue
            start = 0
            for end, t in enumerate(times):
                while times[start] <= t - window:
                    start += 1
                most = max(most, end - start + 1)
        return most


class FakeDiscord:
    def __init__(self, *, attachment_limit: int = DEFAULT_ATTACHMENT_LIMIT, token: str | None = None,
                 shards: int = 1, max_concurrency: int = 1, required_shards: int = 1,
                 strict_identify: bool = False) -> None:
        self.token = token or f"fake-{secrets.token_hex(12)}"
        self.bot_id = snowflake()
        self.application_id = self.bot_id
        self.attachment_limit = attachment_limit
        self.recommended_shards = shards          # what /gateway/bot recommends
        self.max_concurrency = max_concurrency    # IDENTIFYs per 5 s, one per bucket
        self.required_shards = required_shards    # fewer: the gateway closes with 4011 (sharding required)
        self.strict_identify = strict_identify    # refuse IDENTIFYs over the limit, as Discord does
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, list[FakeMessage]] = defaultdict(list)
        self.interactions: dict[int, FakeInteraction] = {}
        self.users: list[FakeUser] = []
        self.commands: list[dict] = []                  # as synced by the bot
        self.limits = RateLimiter()
        self.requests: list[tuple[float, str, str, int]] = []   # (time, method, path, status)
        self.refusals: list[tuple[str, str, str]] = []          # (method, path, message) of 4xx answers
        self.unmodelled: list[str] = []                         # routes the bot called that this fake lacks
        self.cdn_downloads: Counter[int] = Counter()           # attachment id → downloads
        self._uploads: list[FakeFile] = []                      # files attached to slash commands
        self.identifies = 0                             # IDENTIFYs answered with READY
        self.identified: list[tuple[float, int, int]] = []   # (monotonic time, shard id, shard count) of each
        self.identify_refusals = 0                      # IDENTIFYs over the limit (answered with op 9)
        self.cut_shards: set[int] = set()               # shards kept off the gateway (cut_shard)
        self.guilds: dict[int, FakeGuild] = {}
        self.guild = self.add_guild("dreamface test guild", guild_id=snowflake())
        self.guild_id, self.guild_channel, self.roles = self.guild.id, self.guild.channel, self.guild.roles
        self._sessions: list["_GatewaySession"] = []
        self._changed = asyncio.Condition()
        self._holding = False                           # see hold_next_post
        self.held: FakeMessage | None = None
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- serving ----------------------------------------------------------------------------

    async def __aenter__(self) -> "FakeDiscord":
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._middleware])
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel}/{id}/{filename}", self._cdn)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._released.set()
        for session in list(self._sessions):
            await session.ws.close()
        await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def add_role(self, name: str, guild: FakeGuild | None = None) -> int:
        """A role in `guild` (default: the first one); give it to a user with `user.roles.append(id)`
        before the bot connects."""
        role_id = snowflake()
        (guild or self.guild).roles[role_id] = name
        return role_id

    def add_guild(self, name: str, *, shard: int | None = None, of: int | None = None,
                  guild_id: int | None = None) -> FakeGuild:
        """A guild with one text channel ("faces"); every user is a member. `shard` and `of`: an
        id that puts it on shard `shard` of `of` shards."""
        if guild_id is None:
            guild_id = next(_guild_ticks) << 22
            while shard is not None and shard_of(guild_id, of) != shard:
                guild_id = next(_guild_ticks) << 22
        channel = self._add_channel(FakeChannel(snowflake(), 0, guild_id, name="faces"))
        guild = self.guilds[guild_id] = FakeGuild(guild_id, name, channel)
        return guild

    def cut_shard(self, shard_id: int, cut: bool = True) -> None:
        """Drop this shard's sessions and refuse it until `cut_shard(id, False)`: it cannot reconnect."""
        if cut:
            self.cut_shards.add(shard_id)
            for session in self._sessions:
                if session.shard[0] == shard_id:
                    asyncio.get_running_loop().create_task(session.ws.close(code=4000))
        else:
            self.cut_shards.discard(shard_id)

    def connected_shards(self) -> list[int]:
        """Shard ids with an identified session, one entry per session."""
        return sorted(s.shard[0] for s in self._sessions if s.identified)

    def add_user(self, name: str, locale: str = "en-US") -> FakeUser:
        user = FakeUser(self, name, locale)
        self.users.append(user)
        return user

    def _add_channel(self, channel: FakeChannel) -> FakeChannel:
        self.channels[channel.id] = channel
        return channel

    async def until(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Wait until `predicate()` returns something truthy (checked on every change); return it."""
        async with self._changed:
            try:
                return await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                raise AssertionError(f"timed out after {timeout} s waiting for {predicate}") from None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def hold_next_post(self) -> None:
        """Store the next message the bot posts (a followup or a channel message) but keep its
        HTTP answer back until the fake closes (or `release_held`): Discord shows the message, the
        bot does not learn yet that it was posted. `held` is that message once stored: kill the bot
        then to crash it in that window."""
        self._holding = True

    def release_held(self) -> None:
        """Answer the held post now (a slow answer from Discord, rather than none)."""
        self._released.set()

    async def _hold(self, message: FakeMessage) -> None:
        if self._holding:
            self._holding, self.held = False, message
            await self._notify()
            await self._released.wait()

    async def wait_connected(self, timeout: float = 30.0) -> None:
        await self.until(lambda: any(s.identified for s in self._sessions), timeout)

    # --- what the tests look at ---------------------------------------------------------------

    def interaction_acks(self) -> list[float]:
        return [i.acknowledged_after for i in self.interactions.values() if i.acknowledged_after is not None]

    def message(self, message_id: int) -> FakeMessage:
        for messages in self.messages.values():
            for m in messages:
                if m.id == message_id:
                    return m
        raise LookupError(message_id)

    # --- HTTP plumbing ---------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        try:
            response = await handler(request)
        except DiscordError as exc:
            self.refusals.append((request.method, request.path, exc.message))
            response = _json({"code": exc.code, "message": exc.message}, status=exc.status)
        self.requests.append((time.monotonic(), request.method, request.path, response.status))
        await self._notify()
        return response

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path, method = "/" + request.match_info["tail"], request.method
        for pattern, route_method, handler, auth, rule in self._routes():
            match = re.fullmatch(pattern, path)
            if match is None or route_method != method:
                continue
            if auth and request.headers.get("Authorization") != f"Bot {self.token}":
                raise DiscordError(401, 0, "401: Unauthorized")
            headers: dict[str, str] = {}
            if auth:
                allowed, _, reset_after = self.limits.take("global:bot", GLOBAL_PER_SECOND, 1.0)
                if not allowed:
                    return _rate_limited(reset_after, is_global=True)
            if rule is not None:
                limit, window = ROUTE_LIMITS[rule]
                allowed, remaining, reset_after = self.limits.take(f"{rule}:{match.group(1)}", limit, window)
                if not allowed:
                    return _rate_limited(reset_after, bucket=rule, limit=limit)
                headers = _limit_headers(rule, limit, remaining, reset_after)
            response = await handler(request, *match.groups())
            response.headers.update(headers)
            return response
        self.unmodelled.append(f"{method} {path}")
        raise DiscordError(404, 0, f"404: Not Found ({method} {path} is not modelled)")

    def _routes(self) -> list[tuple[str, str, Callable, bool, str | None]]:
        app = str(self.application_id)
        return [
            (r"/users/@me", "GET", self._me, True, None),
            (r"/gateway/bot", "GET", self._gateway_bot, True, None),
            (r"/oauth2/applications/@me", "GET", self._application, True, None),
            (rf"/applications/{app}/commands", "PUT", self._sync_commands, True, None),
            (rf"/applications/{app}/commands", "GET", self._list_commands, True, None),
            (r"/users/@me/channels", "POST", self._open_dm, True, None),
            (r"/channels/(\d+)/messages", "POST", self._channel_send, True, "channel-messages"),
            (r"/channels/(\d+)/messages/(\d+)", "PATCH", self._channel_edit, True, "channel-edits"),
            (r"/interactions/(\d+)/([^/]+)/callback", "POST", self._callback, False, None),
            (rf"/webhooks/{app}/([^/]+)", "POST", self._followup, False, "interaction-webhook"),
            (rf"/webhooks/{app}/([^/]+)/messages/(@original|\d+)", "GET", self._webhook_get, False, None),
            (rf"/webhooks/{app}/([^/]+)/messages/(@original|\d+)", "PATCH", self._webhook_edit, False,
             "interaction-webhook"),
            (rf"/webhooks/{app}/([^/]+)/messages/(@original|\d+)", "DELETE", self._webhook_delete, False,
             "interaction-webhook"),
        ]

    # --- identity and commands -------------------------------------------------------------

    def bot_json(self) -> dict:
        return {"id": str(self.bot_id), "username": "dreamface", "discriminator": "0", "global_name": None,
                "avatar": None, "bot": True, "verified": True, "mfa_enabled": False, "flags": 0, "public_flags": 0}

    async def _me(self, request: web.Request) -> web.Response:
        return _json(self.bot_json())

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url, "shards": self.recommended_shards,
                      "session_start_limit": {"total": 1000, "remaining": 1000 - self.identifies,
                                              "reset_after": 86_400_000, "max_concurrency": self.max_concurrency}})

    async def _application(self, request: web.Request) -> web.Response:
        return _json({"id": str(self.application_id), "name": "dreamface", "icon": None, "description": "",
                      "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False,
                      "owner": {**self.bot_json(), "id": str(snowflake()), "bot": False}, "summary": "",
                      "verify_key": "0" * 64, "flags": 0, "team": None})

    async def _sync_commands(self, request: web.Request) -> web.Response:
        commands = await request.json()
        for command in commands:
            _check_command(command)
        self.commands = [{**c, "id": str(snowflake()), "application_id": str(self.application_id), "version": "1"}
                         for c in commands]
        return _json(self.commands)

    async def _list_commands(self, request: web.Request) -> web.Response:
        return _json(self.commands)

    async def _open_dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        user = next((u for u in self.users if str(u.id) == str(body.get("recipient_id"))), None)
        if user is None:
            raise DiscordError(400, 50007, "Cannot send messages to this user")
        return _json(self._channel_json(user.dm))

    # --- messages ----------------------------------------------------------------------------

    async def _channel_send(self, request: web.Request, channel_id: str) -> web.Response:
        channel = self.channels.get(int(channel_id))
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        if channel.recipient is not None and channel.recipient.blocked_bot:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        body, files = await self._read_body(request)
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > MAX_NONCE:
            raise invalid(f"nonce must be {MAX_NONCE} or fewer in length")
        if nonce is not None and body.get("enforce_nonce"):
            for earlier in self.messages[channel.id]:
                if earlier.nonce == str(nonce) and earlier.author_id == self.bot_id:
                    return _json(self._message_json(earlier))   # Discord answers with the first one
        message = self._new_message(channel.id, self.bot_id, body, files, nonce=None if nonce is None else str(nonce))
        await self._hold(message)
        return _json(self._message_json(message))

    async def _channel_edit(self, request: web.Request, channel_id: str, message_id: str) -> web.Response:
        message = self._find(int(channel_id), int(message_id))
        if message.author_id != self.bot_id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        body, files = await self._read_body(request)
        self._apply_edit(message, body, files)
        return _json(self._message_json(message))

    def post_as_bot(self, channel_id: int, content: str, rows: list[list[tuple[str, str]]]) -> FakeMessage:
        """A message the bot posted earlier (an older version, say), with (label, custom_id) buttons."""
        components = [{"type": 1, "components": [{"type": 2, "style": 2, "label": label, "custom_id": custom_id}
                                                 for label, custom_id in row]} for row in rows]
        _check_components(components)
        return self._new_message(channel_id, self.bot_id, {"content": content, "components": components}, [])

    def _find(self, channel_id: int, message_id: int) -> FakeMessage:
        for message in self.messages.get(channel_id, ()):
            if message.id == message_id:
                return message
        raise DiscordError(404, 10008, "Unknown Message")

    async def _read_body(self, request: web.Request) -> tuple[dict, list[FakeFile]]:
        """JSON, or multipart with payload_json and files[n]; checked as Discord checks them."""
        files: list[FakeFile] = []
        if request.content_type == "multipart/form-data":
            form = await request.post()
            body = json.loads(form.get("payload_json", "{}"))
            for key, value in form.items():
                index = re.fullmatch(r"files\[(\d+)\]", key)
                if index is not None:
                    data = value.file.read()
                    said = next((a for a in body.get("attachments", ()) if str(a.get("id")) == index[1]), {})
                    if len(said.get("description") or "") > MAX_ATTACHMENT_DESCRIPTION:
                        raise invalid(f"attachments[{index[1]}].description: at most 1024 characters")
                    files.append(FakeFile(value.filename, data, value.content_type,
                                          description=said.get("description")))
        elif request.can_read_body:
            body = await request.json()
        else:
            body = {}
        if len(files) > MAX_FILES:
            raise invalid(f"at most {MAX_FILES} files")
        for f in files:
            if f.size > self.attachment_limit:
                raise DiscordError(413, 40005, "Request entity too large")
        if len(body.get("content") or "") > MAX_CONTENT:
            raise invalid(f"content must be {MAX_CONTENT} or fewer in length")
        if "components" in body:
            _check_components(body["components"] or [])
        return body, files

    def _new_message(self, channel_id: int, author_id: int, body: dict, files: list[FakeFile], *,
                     nonce: str | None = None, ephemeral_for: int | None = None, loading: bool = False,
                     interaction_id: int | None = None) -> FakeMessage:
        message = FakeMessage(snowflake(), channel_id, author_id, body.get("content") or "",
                              self._attachments(body, files, []), body.get("components") or [],
                              ephemeral_for, loading, nonce, interaction_id)
        message.states.append(message.content)
        self.messages[channel_id].append(message)
        return message

    def _attachments(self, body: dict, files: list[FakeFile], kept: list[FakeFile]) -> list[FakeFile]:
        if "attachments" not in body:
            return list(files)
        by_id = {str(f.id): f for f in kept}
        result = []
        for entry in body["attachments"] or []:
            key = str(entry.get("id"))
            if key in by_id:
                result.append(by_id[key])
            elif key.isdigit() and int(key) < len(files):
                result.append(files[int(key)])
        return result

    def _apply_edit(self, message: FakeMessage, body: dict, files: list[FakeFile]) -> None:
        if "content" in body:
            message.content = body["content"] or ""
        if "components" in body:
            message.components = body["components"] or []
        if "attachments" in body or files:
            message.files = self._attachments(body, files, message.files) if "attachments" in body else files
        message.loading = False
        message.edits += 1
        message.states.append(message.content)

    # --- interactions ------------------------------------------------------------------------

    def _interaction(self, interaction_id: str, token: str) -> FakeInteraction:
        interaction = self.interactions.get(int(interaction_id))
        if interaction is None or interaction.token != token:
            raise DiscordError(404, 10062, "Unknown interaction")
        return interaction

    def _by_token(self, token: str) -> FakeInteraction:
        for interaction in self.interactions.values():
            if interaction.token == token:
                return interaction
        raise DiscordError(401, 50027, "Invalid Webhook Token")

    async def _callback(self, request: web.Request, interaction_id: str, token: str) -> web.Response:
        interaction = self._interaction(interaction_id, token)
        elapsed = time.monotonic() - interaction.created
        if interaction.callback_type is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if elapsed > INTERACTION_DEADLINE:
            raise DiscordError(404, 10062, "Unknown interaction")   # Discord forgets it after 3 s
        body, files = await self._read_body(request)
        kind, data = body["type"], body.get("data") or {}
        if "components" in data:
            _check_components(data["components"])
        interaction.acknowledged_after, interaction.callback_type = elapsed, kind
        ephemeral_for = interaction.user.id if (data.get("flags") or 0) & EPHEMERAL else None
        resource: dict[str, Any] = {"type": kind}
        if kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            message = self._new_message(interaction.channel_id, self.bot_id, data, files, ephemeral_for=ephemeral_for,
                                        loading=kind == DEFERRED_CHANNEL_MESSAGE, interaction_id=interaction.id)
            interaction.original_id = message.id
            resource["message"] = self._message_json(message)
        elif kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            interaction.original_id = interaction.message_id
            if kind == UPDATE_MESSAGE:
                message = self._find(interaction.channel_id, interaction.message_id)
                self._apply_edit(message, data, files)
                resource["message"] = self._message_json(message)
        else:
            raise invalid(f"interaction callback type {kind} is not modelled")
        return _json({"interaction": {"id": str(interaction.id), "type": interaction.type,
                                      "response_message_id": str(interaction.original_id),
                                      "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                                      "response_message_ephemeral": ephemeral_for is not None},
                      "resource": resource})

    def _webhook_message(self, token: str, which: str) -> tuple[FakeInteraction, FakeMessage]:
        interaction = self._by_token(token)
        if interaction.callback_type is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        message_id = interaction.original_id if which == "@original" else int(which)
        if which != "@original" and message_id not in interaction.followup_ids:
            raise DiscordError(404, 10008, "Unknown Message")
        return interaction, self._find(interaction.channel_id, message_id)

    async def _followup(self, request: web.Request, token: str) -> web.Response:
        interaction = self._by_token(token)
        if interaction.callback_type is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        body, files = await self._read_body(request)
        ephemeral_for = interaction.user.id if (body.get("flags") or 0) & EPHEMERAL else None
        message = self._new_message(interaction.channel_id, self.bot_id, body, files, ephemeral_for=ephemeral_for,
                                    interaction_id=interaction.id)
        interaction.followup_ids.append(message.id)
        await self._hold(message)
        return _json(self._message_json(message))

    async def _webhook_get(self, request: web.Request, token: str, which: str) -> web.Response:
        return _json(self._message_json(self._webhook_message(token, which)[1]))

    async def _webhook_edit(self, request: web.Request, token: str, which: str) -> web.Response:
        _, message = self._webhook_message(token, which)
        body, files = await self._read_body(request)
        self._apply_edit(message, body, files)
        return _json(self._message_json(message))

    async def _webhook_delete(self, request: web.Request, token: str, which: str) -> web.Response:
        _, message = self._webhook_message(token, which)
        self.messages[message.channel_id].remove(message)
        return web.Response(status=204)

    # --- users acting -----------------------------------------------------------------------

    def _upload(self, channel_id: int, f: FakeFile) -> dict:
        return {"id": str(f.id), "filename": f.filename, "size": f.size, "content_type": f.content_type,
                "url": f"{self.base_url}/attachments/{channel_id}/{f.id}/{f.filename}",
                "proxy_url": f"{self.base_url}/attachments/{channel_id}/{f.id}/{f.filename}"}

    async def _cdn(self, request: web.Request) -> web.Response:
        file_id = int(request.match_info["id"])
        for messages in list(self.messages.values()):
            for f in (f for m in messages for f in m.files):
                if f.id == file_id:
                    self.cdn_downloads[file_id] += 1
                    return web.Response(body=f.data, content_type=f.content_type)
        for f in self._uploads:
            if f.id == file_id:
                self.cdn_downloads[file_id] += 1
                return web.Response(body=f.data, content_type=f.content_type)
        raise DiscordError(404, 0, "404: Not Found")

    async def _user_message(self, user: FakeUser, channel_id: int, text: str, mention: bool,
                            files: list[FakeFile], sticker: bool = False) -> FakeMessage:
        content = f"<@{self.bot_id}> {text}" if mention else text
        message = self._new_message(channel_id, user.id, {"content": content}, files)
        data = self._message_json(message, author=user.json())
        if sticker:
            data["sticker_items"] = [{"id": "749054660769218631", "name": "Wave", "format_type": 1}]
        if self.channels[channel_id].guild_id:   # guild messages carry the author's member data
            data["member"] = {"roles": self._roles_in(self.channels[channel_id].guild_id, user),
                              "joined_at": _now_iso(), "deaf": False,
                              "mute": False, "flags": 0}
        if mention:
            data["mentions"] = [self.bot_json()]
        await self.dispatch("MESSAGE_CREATE", data)
        return message

    async def _slash(self, user: FakeUser, channel_id: int, subcommand: str, options: dict) -> FakeInteraction:
        command = next((c for c in self.commands if c["name"] == "face"), None)
        if command is None:
            raise AssertionError("the bot has not synced a /face command")
        sub = next((o for o in command.get("options", []) if o["name"] == subcommand and o["type"] == 1), None)
        if sub is None:
            raise AssertionError(f"/face has no subcommand {subcommand!r}")
        values, resolved = [], {}
        declared = {o["name"]: o for o in sub.get("options", [])}
        for name, value in options.items():
            if name not in declared:
                raise AssertionError(f"/face {subcommand} has no option {name!r}")
            _check_option(declared[name], value)
            if isinstance(value, FakeFile):
                self._uploads.append(value)
                resolved[str(value.id)] = self._upload(channel_id, value)
                value = str(value.id)
            values.append({"name": name, "type": declared[name]["type"], "value": value})
        missing = [n for n, o in declared.items() if o.get("required") and n not in options]
        if missing:
            raise AssertionError(f"/face {subcommand} needs {missing}")
        data = {"id": command["id"], "name": "face", "type": 1,
                "options": [{"name": subcommand, "type": 1, "options": values}]}
        if resolved:
            data["resolved"] = {"attachments": resolved}
        return await self._interact(user, channel_id, 2, data)

    async def _press(self, user: FakeUser, message: FakeMessage, custom_id: str) -> FakeInteraction:
        channel = self.channels[message.channel_id]
        if message.ephemeral_for not in (None, user.id) or channel.recipient not in (None, user):
            raise AssertionError(f"{user.name} cannot see message {message.id}")
        if custom_id not in message.custom_ids:   # Discord validates presses against the message
            raise AssertionError(f"message {message.id} has no button {custom_id!r}")
        return await self._interact(user, message.channel_id, 3, {"custom_id": custom_id, "component_type": 2},
                                    message=message)

    async def _choose(self, user: FakeUser, message: FakeMessage, values: list[str]) -> FakeInteraction:
        menu = message.menu
        if menu is None:
            raise AssertionError(f"message {message.id} has no select menu")
        offered = [o["value"] for o in menu["options"]]
        if not set(values) <= set(offered) or not menu.get("min_values", 1) <= len(values) <= menu.get("max_values", 1):
            raise AssertionError(f"Discord's client would not send {values} from {offered} "
                                 f"({menu.get('min_values', 1)} to {menu.get('max_values', 1)})")
        return await self._interact(user, message.channel_id, 3, {"custom_id": menu["custom_id"], "component_type": SELECT,
                                                                  "values": values}, message=message)

    async def _interact(self, user: FakeUser, channel_id: int, kind: int, data: dict,
                        message: FakeMessage | None = None) -> FakeInteraction:
        interaction = FakeInteraction(snowflake(), secrets.token_urlsafe(32), kind, user, channel_id,
                                      time.monotonic(), None if message is None else message.id)
        self.interactions[interaction.id] = interaction
        channel = self.channels[channel_id]
        payload = {"id": str(interaction.id), "application_id": str(self.application_id), "type": kind,
                   "token": interaction.token, "version": 1, "data": data, "locale": user.locale,
                   "attachment_size_limit": self.attachment_limit, "app_permissions": "2248473465835073",
                   "entitlements": [], "authorizing_integration_owners": {"0": str(channel.guild_id or self.guild_id)},
                   "channel_id": str(channel_id), "channel": self._channel_json(channel),
                   "context": 0 if channel.guild_id else 1}
        if channel.guild_id:
            payload.update(guild_id=str(channel.guild_id), guild_locale="en-US",
                           guild={"id": str(channel.guild_id), "locale": "en-US", "features": []},
                           member={"user": user.json(), "roles": self._roles_in(channel.guild_id, user),
                                   "joined_at": _now_iso(), "deaf": False,
                                   "mute": False, "flags": 0, "permissions": "2248473465835073"})
        else:
            payload["user"] = user.json()
        if message is not None:
            payload["message"] = self._message_json(message)
        interaction.shards = await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    def response_of(self, interaction: FakeInteraction) -> FakeMessage | None:
        """The message an interaction's answer lives in, once there is one."""
        if interaction.callback_type in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            return self.message(interaction.original_id)
        return None

    def followups_of(self, interaction: FakeInteraction) -> list[FakeMessage]:
        return [self.message(i) for i in interaction.followup_ids]

    # --- JSON shapes -----------------------------------------------------------------------

    def _channel_json(self, channel: FakeChannel) -> dict:
        if channel.type == 1:
            return {"id": str(channel.id), "type": 1, "last_message_id": None,
                    "recipients": [channel.recipient.json()] if channel.recipient else []}
        return {"id": str(channel.id), "type": 0, "guild_id": str(channel.guild_id), "name": channel.name,
                "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None,
                "rate_limit_per_user": 0, "topic": None, "last_message_id": None}

    def _message_json(self, message: FakeMessage, author: dict | None = None) -> dict:
        if author is None:
            user = next((u for u in self.users if u.id == message.author_id), None)
            author = user.json() if user is not None else self.bot_json()
        channel = self.channels[message.channel_id]
        flags = (EPHEMERAL if message.ephemeral_for else 0) | (LOADING if message.loading else 0)
        data = {"id": str(message.id), "channel_id": str(message.channel_id), "author": author,
                "content": message.content, "timestamp": _now_iso(), "edited_timestamp": None, "tts": False,
                "mention_everyone": False, "mentions": [], "mention_roles": [], "embeds": [], "pinned": False,
                "type": 0, "flags": flags, "components": message.components,
                "attachments": [self._upload(message.channel_id, f) for f in message.files]}
        if message.nonce is not None:
            data["nonce"] = message.nonce
        if channel.guild_id:
            data["guild_id"] = str(channel.guild_id)
        if message.interaction_id is not None:
            data["webhook_id"] = str(self.application_id)
        return data

    def _roles_in(self, guild_id: int, user: FakeUser) -> list[str]:
        return [str(r) for r in user.roles if r in self.guilds[guild_id].roles]

    def _guild_json(self, guild: FakeGuild) -> dict:
        members = [{"user": u.json(), "roles": self._roles_in(guild.id, u), "joined_at": _now_iso(), "deaf": False,
                    "mute": False, "flags": 0} for u in self.users]
        members.append({"user": self.bot_json(), "roles": [], "joined_at": _now_iso(), "deaf": False, "mute": False,
                        "flags": 0})
        return {"id": str(guild.id), "name": guild.name, "icon": None, "owner_id": str(self.users[0].id)
                if self.users else str(self.bot_id), "region": "", "afk_timeout": 300, "verification_level": 0,
                "default_message_notifications": 0, "explicit_content_filter": 0, "roles": [
                    {"id": str(guild.id), "name": "@everyone", "permissions": "2248473465835073", "position": 0,
                     "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}] + [
                    {"id": str(i), "name": n, "permissions": "0", "position": 1, "color": 0, "hoist": False,
                     "managed": False, "mentionable": True, "flags": 0} for i, n in guild.roles.items()],
                "emojis": [], "stickers": [], "features": [], "mfa_level": 0, "system_channel_id": None,
                "premium_tier": 0, "preferred_locale": "en-US", "nsfw_level": 0, "large": False,
                "member_count": len(members), "members": members, "voice_states": [], "presences": [],
                "channels": [self._channel_json(c) for c in self.channels.values() if c.guild_id == guild.id],
                "threads": [], "stage_instances": [], "guild_scheduled_events": [], "unavailable": False,
                "joined_at": _now_iso()}

    # --- the gateway ------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict) -> list[int]:
        """Send an event to the sessions of its guild's shard (shard 0 for direct messages);
        returns the shard ids it went to."""
        guild_id = int(data["guild_id"]) if data.get("guild_id") else None
        sessions = [s for s in self._sessions if s.identified and s.carries(guild_id)]
        if not sessions:
            raise AssertionError(f"no bot is connected to the gateway to receive {event} "
                                 f"(guild {guild_id}; shards connected: {self.connected_shards()})")
        for session in sessions:
            await session.dispatch(event, data)
        return [session.shard[0] for session in sessions]

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        if request.query.get("compress") not in (None, "zlib-stream"):
            raise DiscordError(400, 0, f"unsupported compression {request.query['compress']}")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = _GatewaySession(ws, zlib.compressobj() if request.query.get("compress") else None)
        self._sessions.append(session)
        try:
            await session.send({"op": 10, "d": {"heartbeat_interval": 41250}})
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(frame.data)
                if payload["op"] == 1:
                    session.heartbeats += 1
                    await session.send({"op": 11})
                elif payload["op"] == 2:
                    await self._identify(session, payload["d"])
                elif payload["op"] == 6:   # resume: sessions are not kept, so start a fresh one
                    await session.send({"op": 9, "d": False})
        finally:
            self._sessions.remove(session)
            await self._notify()
        return ws

    async def _identify(self, session: "_GatewaySession", data: dict) -> None:
        if data.get("token") != self.token:
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard_id, count = data.get("shard") or (0, 1)
        if not 0 <= shard_id < count:
            await session.ws.close(code=4010, message=b"Invalid shard.")
            return
        if count < self.required_shards:
            await session.ws.close(code=4011, message=b"Sharding required.")
            return
        if shard_id in self.cut_shards:
            await session.ws.close(code=4000, message=b"Unknown error.")
            return
        now, bucket = time.monotonic(), shard_id % self.max_concurrency
        if self.strict_identify and any(now - t < IDENTIFY_WINDOW and i % self.max_concurrency == bucket
                                        for t, i, _ in self.identified):
            self.identify_refusals += 1
            await session.send({"op": 9, "d": False})   # over the identify limit: invalid session
            return
        session.intents, session.shard = data.get("intents", 0), (shard_id, count)
        self.identifies += 1
        self.identified.append((now, shard_id, count))
        guilds = [g for g in self.guilds.values() if session.carries(g.id)]
        await session.dispatch("READY", {
            "v": 10, "user": self.bot_json(), "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": secrets.token_hex(16), "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0}, "private_channels": [],
            "relationships": [], "presences": [], "shard": [shard_id, count]})
        for guild in guilds:
            await session.dispatch("GUILD_CREATE", self._guild_json(guild))
        session.identified = True
        await self._notify()


class _GatewaySession:
    def __init__(self, ws: web.WebSocketResponse, compressor: "zlib._Compress | None") -> None:
        self.ws = ws
        self.compressor = compressor
        self.sequence = 0
        self.identified = False
        self.heartbeats = 0
        self.intents = 0
        self.shard: tuple[int, int] = (0, 1)   # [id, count] as identified

    def carries(self, guild_id: int | None) -> bool:
        """Whether this session gets a guild's events (None: a direct message, shard 0's)."""
        return self.shard[0] == (0 if guild_id is None else shard_of(guild_id, self.shard[1]))

    async def send(self, payload: dict) -> None:
        text = json.dumps(payload)
        if self.compressor is None:
            await self.ws.send_str(text)
        else:   # zlib-stream: one shared deflate stream, each frame ending in 00 00 ff ff
            await self.ws.send_bytes(self.compressor.compress(text.encode()) + self.compressor.flush(zlib.Z_SYNC_FLUSH))

    async def dispatch(self, event: str, data: dict) -> None:
        self.sequence += 1
        await self.send({"op": 0, "t": event, "s": self.sequence, "d": data})


# --- validation, shared by every endpoint ------------------------------------------------------

def _check_components(rows: list[dict]) -> None:
    if len(rows) > MAX_ROWS:
        raise invalid(f"components: at most {MAX_ROWS} action rows, got {len(rows)}")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        buttons = row.get("components", [])
        if row.get("type") != 1 or not 1 <= len(buttons) <= MAX_PER_ROW:
            raise invalid(f"components[{r}]: an action row holds 1 to {MAX_PER_ROW} buttons, got {len(buttons)}")
        if any(b.get("type") == SELECT for b in buttons):
            _check_select(buttons, r)
        for b, button in enumerate(buttons):
            custom_id = button.get("custom_id")
            if custom_id is not None and not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
                raise invalid(f"components[{r}].components[{b}].custom_id: must be 1 to {MAX_CUSTOM_ID} characters")
            if custom_id in seen:
                raise invalid(f"components[{r}].components[{b}].custom_id: duplicate {custom_id!r}")
            seen.add(custom_id)
            if len(button.get("label") or "") > 80:
                raise invalid(f"components[{r}].components[{b}].label: must be 80 or fewer in length")


def _check_select(components: list[dict], r: int) -> None:
    """A select menu fills its action row alone: 1 to 25 options, distinct values, 0 ≤ min ≤ max ≤ options."""
    if len(components) != 1:
        raise invalid(f"components[{r}]: a select menu must be alone in its action row")
    options = components[0].get("options") or []
    if not 1 <= len(options) <= MAX_OPTIONS:
        raise invalid(f"components[{r}].components[0].options: must be 1 to {MAX_OPTIONS}, got {len(options)}")
    if len({o["value"] for o in options}) != len(options):
        raise invalid(f"components[{r}].components[0].options: values must be unique")
    low, high = components[0].get("min_values", 1), components[0].get("max_values", 1)
    if not 0 <= low <= high <= len(options):
        raise invalid(f"components[{r}].components[0]: min_values {low} and max_values {high} for {len(options)} options")


def _check_command(command: dict) -> None:
    def check(item: dict, where: str) -> None:
        if not re.fullmatch(r"[-_\w]{1,32}", item["name"]) or item["name"] != item["name"].lower():
            raise invalid(f"{where}.name: {item['name']!r} is not a valid command name")
        if not 1 <= len(item.get("description", "")) <= 100:
            raise invalid(f"{where}.description: must be 1 to 100 characters")
        if len(item.get("options", [])) > 25 or len(item.get("choices") or []) > 25:
            raise invalid(f"{where}: at most 25 options and 25 choices")
        for i, option in enumerate(item.get("options", [])):
            check(option, f"{where}.options[{i}]")
    check(command, command.get("name", "?"))


def _check_option(option: dict, value: Any) -> None:
    kind, name = option["type"], option["name"]
    expected = {3: str, 4: int, 5: bool, 10: (int, float), 11: FakeFile}[kind]
    if not isinstance(value, expected):
        raise AssertionError(f"option {name} takes {expected}, got {value!r}")
    choices = option.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise AssertionError(f"option {name}: {value!r} is not one of the choices")
    if kind in (4, 10) and not option.get("min_value", -math.inf) <= value <= option.get("max_value", math.inf):
        raise AssertionError(f"option {name}: {value} is out of range")
    if kind == 3 and not option.get("min_length", 0) <= len(value) <= option.get("max_length", 6000):
        raise AssertionError(f"option {name}: length {len(value)} is out of range")


# --- responses --------------------------------------------------------------------------------

def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py parses JSON only when Content-Type is exactly application/json (no charset)
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def _limit_headers(bucket: str, limit: int, remaining: int, reset_after: float) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}", "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket}


def _rate_limited(retry_after: float, *, is_global: bool = False, bucket: str = "global",
                  limit: int = GLOBAL_PER_SECOND) -> web.Response:
    response = _json({"message": "You are being rate limited.", "retry_after": round(retry_after, 3),
                      "global": is_global}, status=429)
    # discord.py treats a 429 without Via as a Cloudflare ban
    response.headers.update({"Retry-After": f"{math.ceil(retry_after)}", "Via": "1.1 google",
                             "X-RateLimit-Scope": "global" if is_global else "user"})
    if not is_global:
        response.headers.update(_limit_headers(bucket, limit, 0, retry_after))
    return response


# --- the bot against this fake ------------------------------------------------------------------

def settings_for(fake: FakeDiscord, database_url: str, **overrides: Any):
    """Settings that point the Discord bot at `fake`, with short polls and quick photo fits."""
    from conftest import QUICK_PHOTO_FIT_EVALUATIONS
    from ground.config import Settings
    return Settings(database_url=database_url, discord_token=fake.token, discord_api_base=fake.api_base,
                    discord_gateway_url=fake.gateway_url, worker_poll_seconds=0.05,
                    photo_fit_evaluations=QUICK_PHOTO_FIT_EVALUATIONS, **overrides)


@contextlib.asynccontextmanager
async def running_bot(fake: FakeDiscord, settings, *, size: int = 128, with_worker: bool = True,
                      poll_seconds: float = 0.05, secret: bytes | None = None) -> AsyncIterator[Any]:
    """The real adapter (and an in-process worker) in this process, connected to `fake`.
    `secret`: the key file's secret, the same for bots that stand for processes of one deployment."""
    from bot.discord.adapter import DiscordAdapter
    from dreamface.app import open_app

    async with open_app(settings, with_worker=with_worker, size=size, secret=secret) as app:
        adapter = DiscordAdapter(settings, app, poll_seconds=poll_seconds)
        stop = asyncio.Event()
        task = asyncio.create_task(adapter.run(stop))
        try:
            await asyncio.wait_for(fake.wait_connected(), 30)
            yield adapter
        finally:
            stop.set()
            await task
