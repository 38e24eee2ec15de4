"""A local Telegram Bot API server for tests, and simulated users who talk to the bot through it.

It speaks the subset of the Bot API the bot uses, over HTTP, the way python-telegram-bot
(unmodified, pointed here with base_url / base_file_url) expects: getMe, setMyCommands,
getUpdates long polling with offsets (a second concurrent poller gets 409; none while a webhook
is set), setWebhook / deleteWebhook (a set webhook gets every update POSTed to its URL with
the secret header, in order, each again until it is answered 200, as Telegram does; unlike
Telegram, a plain-HTTP local URL is accepted),
sendMessage, sendPhoto and sendDocument (multipart), editMessageText / editMessageCaption /
editMessageMedia, deleteMessage, answerCallbackQuery, getFile and the file download.

It refuses what Telegram refuses: callback data over 64 bytes, captions over 1024 characters,
texts over 4096, photo uploads over 10 MB, bot downloads over 20 MB, edits that change
nothing, sends to a user who blocked the bot (403). Flood limits are token buckets (our model
of Telegram's published limits, which allow short bursts): 30 messages/s overall, 20/min per
group, about 1/s per private chat with a burst of 10; beyond them it answers 429 with
retry_after, and it records every request so tests can check the rates.

    async with FakeTelegram() as fake:
        alice = fake.user("Alice", language_code="ko")
        await alice.send("새 얼굴")
        result = await alice.wait_for(lambda m: m.photo is not None)
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image

TOKEN = "4242:dreamface-test-token"
BOT_USERNAME = "dreamface_test_bot"
CALLBACK_DATA_MAX = 64
CAPTION_MAX = 1024
TEXT_MAX = 4096
PHOTO_UPLOAD_MAX = 10 * 1024 * 1024
BOT_DOWNLOAD_MAX = 20 * 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_RETRY_SECONDS = 0.2   # Telegram waits longer before posting a refused update again
SAME_SECRET = object()        # post_update: the secret the bot registered
CHAT_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageCaption",
                "editMessageMedia", "editMessageReplyMarkup"}   # what the flood limits count


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass(frozen=True)
class Limits:
    overall_per_second: float = 30.0
    group_per_minute: float = 20.0
    chat_per_second: float = 1.0
    chat_burst: float = 10.0


class Bucket:
    """A token bucket: `capacity` requests at once, refilled at `rate` per second."""

    def __init__(self, capacity: float, rate: float) -> None:
        self.capacity, self.rate = capacity, rate
        self.tokens, self.at = capacity, time.monotonic()

    def take(self) -> float:
        """0 if a request may go now, else the seconds until it may."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Shown:
    """A message as the chat shows it."""
    message_id: int
    chat_id: int
    sender_id: int
    text: str | None = None
    caption: str | None = None
    photo: bytes | None = None
    document: bytes | None = None
    document_name: str | None = None
    keyboard: list[list[dict[str, str]]] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)      # methods that changed it, in order
    deleted: bool = False

    @property
    def words(self) -> str:
        return self.text if self.text is not None else (self.caption or "")

    @property
    def labels(self) -> list[str]:
        return [b["text"] for row in self.keyboard for b in row]

    def button(self, label: str) -> str:
        """The callback data of the button labelled `label` (or, failing that, starting with it)."""
        buttons = [b for row in self.keyboard for b in row]
        for b in [b for b in buttons if b["text"] == label] + [b for b in buttons if b["text"].startswith(label)]:
            return b["callback_data"]
        raise KeyError(f"no button {label!r} among {self.labels}")


@dataclass
class Request:
    at: float
    method: str
    chat_id: int | None
    status: int


class FakeTelegram:
    def __init__(self, *, limits: Limits = Limits(), token: str = TOKEN) -> None:
        self.token = token
        self.bot_id = int(token.split(":")[0])
        self.limits = limits
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, list[Shown]] = defaultdict(list)
        self.requests: list[Request] = []
        self.rejected: list[tuple[str, str]] = []     # (method, description) of every 400
        self.blocked: set[int] = set()
        self.commands: dict[str | None, list[dict]] = {}
        self.downloads: list[str] = []                 # file ids the bot downloaded
        self.answers: dict[str, str | None] = {}       # callback query id → the answer's text
        self._files: dict[str, bytes] = {}
        self._updates: list[dict] = []
        self._new_update = asyncio.Condition()
        self._polls = 0                                # getUpdates calls so far (the latest one wins)
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1000)
        self._buckets: dict[Any, Bucket] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.webhook: dict[str, Any] | None = None     # what setWebhook registered
        self.webhook_posts: list[tuple[int, int]] = []  # (update_id, HTTP status) of every POST to it
        self.updates: dict[int, dict] = {}               # every update ever made, by id
        self._http: aiohttp.ClientSession | None = None
        self._webhook_loop: asyncio.Task | None = None

    # --- serving ---------------------------------------------------------------------------

    async def __aenter__(self) -> "FakeTelegram":
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._http = aiohttp.ClientSession()
        self._webhook_loop = asyncio.create_task(self._post_to_webhook())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._webhook_loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._webhook_loop
        await self._http.close()
        await self._runner.cleanup()

    @property
    def env(self) -> dict[str, str]:
        """The variables that point dreamface at this server."""
        return {"DREAMFACE_TELEGRAM_TOKEN": self.token,
                "DREAMFACE_TELEGRAM_BASE_URL": f"http://127.0.0.1:{self.port}/bot",
                "DREAMFACE_TELEGRAM_BASE_FILE_URL": f"http://127.0.0.1:{self.port}/file/bot"}

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params, files = await _read_params(request)
        chat_id = _int_or_none(params.get("chat_id"))
        try:
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            if method in CHAT_METHODS:
                self._check_flood(chat_id)
            result = await handler(params, files)
        except ApiError as exc:
            self.requests.append(Request(time.monotonic(), method, chat_id, exc.code))
            if exc.code == 400:
                self.rejected.append((method, exc.description))
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return web.json_response(body, status=exc.code)
        self.requests.append(Request(time.monotonic(), method, chat_id, 200))
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if request.match_info["token"] != self.token or file_id not in self._files:
            raise web.HTTPNotFound()
        self.downloads.append(file_id)
        return web.Response(body=self._files[file_id])

    def _check_flood(self, chat_id: int | None) -> None:
        limits = self.limits
        buckets = [("all", limits.overall_per_second, limits.overall_per_second)]
        if chat_id is not None and chat_id < 0:
            buckets.append((chat_id, limits.group_per_minute, limits.group_per_minute / 60))
        elif chat_id is not None:
            buckets.append((chat_id, limits.chat_burst, limits.chat_per_second))
        for key, capacity, rate in buckets:
            bucket = self._buckets.setdefault(key, Bucket(capacity, rate))
            wait = bucket.take()
            if wait:
                seconds = max(1, round(wait + 0.49))
                raise ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)

    # --- what the bot calls --------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "dreamface", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _m_getMe(self, params, files):
        return self.bot_user()

    async def _m_deleteWebhook(self, params, files):
        self.webhook = None
        if _flag(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    async def _m_setWebhook(self, params, files):
        url, secret = params.get("url", ""), params.get("secret_token")
        if not url.startswith(("https://", "http://127.0.0.1:")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if _flag(params.get("drop_pending_updates")):
            self._updates.clear()
        self.webhook = {"url": url, "secret_token": secret,
                        "allowed_updates": json.loads(params["allowed_updates"]) if params.get("allowed_updates") else None,
                        "drop_pending_updates": _flag(params.get("drop_pending_updates"))}
        async with self._new_update:
            self._new_update.notify_all()
        return True

    async def post_update(self, update: dict, *, secret: Any = SAME_SECRET, url: str | None = None) -> int:
        """POST one update to the webhook as Telegram does (with `secret` in the header, or
        none; to `url`, default the registered one); returns the HTTP status (0: no answer)."""
        secret = self.webhook["secret_token"] if secret is SAME_SECRET else secret
        headers = {} if secret is None else {SECRET_HEADER: secret}
        try:
            async with self._http.post(url or self.webhook["url"], json=update, headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=10)) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        self.webhook_posts.append((update["update_id"], status))
        return status

    async def _post_to_webhook(self) -> None:
        """Telegram's side of a webhook: the oldest pending update, again until it gets a 200."""
        while True:
            async with self._new_update:
                await self._new_update.wait_for(lambda: self.webhook is not None and self._updates)
                update = self._updates[0]
            if await self.post_update(update) == 200:
                self._updates = [u for u in self._updates if u is not update]
            else:
                await asyncio.sleep(WEBHOOK_RETRY_SECONDS)

    async def _m_setMyCommands(self, params, files):
        commands = json.loads(params["commands"])
        if not 0 < len(commands) <= 100 or any(not re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]) for c in commands):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands[params.get("language_code")] = commands
        return True

    async def _m_getUpdates(self, params, files):
        offset = _int_or_none(params.get("offset"))
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                                "to delete the webhook first")
        self._polls += 1
        mine = self._polls
        if offset is not None:   # asking from `offset` confirms every update before it
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        async with self._new_update:
            self._new_update.notify_all()   # a poller still waiting finds itself replaced
            while not self._updates and mine == self._polls and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
        if mine != self._polls:
            raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one "
                                "bot instance is running")
        return self._updates[:100]

    async def _m_sendMessage(self, params, files):
        chat_id = self._writable_chat(params)
        text = params.get("text", "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > TEXT_MAX:
            raise ApiError(400, "Bad Request: message is too long")
        return self._post(Shown(next(self._ids), chat_id, self.bot_id, text=text, keyboard=_keyboard(params)))

    async def _m_sendPhoto(self, params, files):
        chat_id = self._writable_chat(params)
        data = self._upload(params, files, "photo", PHOTO_UPLOAD_MAX)
        _image_size(data)
        return self._post(Shown(next(self._ids), chat_id, self.bot_id, caption=_caption(params), photo=data,
                                keyboard=_keyboard(params)))

    async def _m_sendDocument(self, params, files):
        chat_id = self._writable_chat(params)
        data = self._upload(params, files, "document", 50 * 1024 * 1024)
        name = files["document"][0] if "document" in files else None
        return self._post(Shown(next(self._ids), chat_id, self.bot_id, caption=_caption(params), document=data,
                                document_name=name, keyboard=_keyboard(params)))

    async def _m_editMessageText(self, params, files):
        shown = self._editable(params)
        if shown.text is None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        return self._edit(shown, "editMessageText", text=params.get("text", ""), keyboard=_keyboard(params))

    async def _m_editMessageCaption(self, params, files):
        shown = self._editable(params)
        if shown.text is not None:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        return self._edit(shown, "editMessageCaption", caption=_caption(params), keyboard=_keyboard(params))

    async def _m_editMessageMedia(self, params, files):
        shown = self._editable(params)
        if shown.text is not None:
            raise ApiError(400, "Bad Request: there is no media in the message to edit")
        media = json.loads(params["media"])
        if media.get("type") != "photo":
            raise ApiError(400, "Bad Request: only photos are expected here")
        data = self._upload({"photo": media["media"]}, files, "photo", PHOTO_UPLOAD_MAX)
        _image_size(data)
        caption = media.get("caption")
        if caption is not None and len(caption) > CAPTION_MAX:
            raise ApiError(400, "Bad Request: message caption is too long")
        return self._edit(shown, "editMessageMedia", photo=data, caption=caption, keyboard=_keyboard(params))

    async def _m_deleteMessage(self, params, files):
        shown = self._editable(params)
        shown.deleted = True
        return True

    async def _m_answerCallbackQuery(self, params, files):
        query_id = params["callback_query_id"]
        if query_id not in self.answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if self.answers[query_id] is not None:
            raise ApiError(400, "Bad Request: query is already answered")
        text = params.get("text") or ""
        if len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.answers[query_id] = text
        return True

    async def _m_getFile(self, params, files):
        file_id = params["file_id"]
        if file_id not in self._files:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(self._files[file_id]) > BOT_DOWNLOAD_MAX:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": len(self._files[file_id]),
                "file_path": f"files/{file_id}"}

    # --- helpers for the methods ---------------------------------------------------------------------

    def _writable_chat(self, params: dict) -> int:
        chat_id = _int_or_none(params.get("chat_id"))
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _editable(self, params: dict) -> Shown:
        chat_id = self._writable_chat(params)
        message_id = _int_or_none(params.get("message_id"))
        for shown in self.messages[chat_id]:
            if shown.message_id == message_id and not shown.deleted:
                if shown.sender_id != self.bot_id:
                    raise ApiError(400, "Bad Request: message can't be edited")
                return shown
        raise ApiError(400, "Bad Request: message to edit not found")

    def _upload(self, params: dict, files: dict, name: str, limit: int) -> bytes:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
        if name in files:
            data = files[name][1]
        elif isinstance(value, str) and value in self._files:
            data = self._files[value]   # a file_id sent before
        else:
            raise ApiError(400, f"Bad Request: there is no {name} in the request")
        if len(data) > limit:
            raise ApiError(400, "Bad Request: file is too big")
        return data

    def _post(self, shown: Shown) -> dict:
        self.messages[shown.chat_id].append(shown)
        return self.message_json(shown)

    def _edit(self, shown: Shown, method: str, **changes: Any) -> dict:
        if all(getattr(shown, k) == v for k, v in changes.items()):
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        for key, value in changes.items():
            setattr(shown, key, value)
        shown.edits.append(method)
        return self.message_json(shown)

    def _file_id(self, data: bytes) -> str:
        file_id = f"F{len(self._files) + 1}x{abs(hash(data)) % 10**8}"
        self._files[file_id] = data
        return file_id

    def message_json(self, shown: Shown) -> dict[str, Any]:
        chat = self.chats[shown.chat_id]
        sender = self.bot_user() if shown.sender_id == self.bot_id else self.chats[shown.sender_id]["user"]
        body: dict[str, Any] = {"message_id": shown.message_id, "date": int(time.time()), "chat": chat["chat"],
                                "from": sender}
        if shown.text is not None:
            body["text"] = shown.text
        if shown.caption is not None:
            body["caption"] = shown.caption
        if shown.photo is not None:
            width, height = _image_size(shown.photo)
            body["photo"] = [{"file_id": self._file_id(shown.photo), "file_unique_id": f"p{shown.message_id}",
                              "width": width, "height": height, "file_size": len(shown.photo)}]
        if shown.document is not None:
            body["document"] = {"file_id": self._file_id(shown.document), "file_unique_id": f"d{shown.message_id}",
                                "file_name": shown.document_name or "file", "file_size": len(shown.document)}
        if shown.keyboard:
            body["reply_markup"] = {"inline_keyboard": shown.keyboard}
        return body

    # --- the people on the other side ------------------------------------------------------------------

    def user(self, first_name: str, *, language_code: str | None = "ko") -> "SimUser":
        user_id = 10_000 + len([c for c in self.chats if c > 0])
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        self.chats[user_id] = {"chat": {"id": user_id, "type": "private", "first_name": first_name}, "user": user}
        return SimUser(self, user)

    def group(self, title: str) -> int:
        chat_id = -1_000_000_000_000 - len([c for c in self.chats if c < 0])
        self.chats[chat_id] = {"chat": {"id": chat_id, "type": "supergroup", "title": title}}
        return chat_id

    async def push(self, kind: str, body: dict, *, deliver: bool = True) -> int:
        """A new update; with deliver=False it is only made (see `post_update`), never sent."""
        update_id = next(self._update_ids)
        self.updates[update_id] = {"update_id": update_id, kind: body}
        if deliver:
            async with self._new_update:
                self._updates.append(self.updates[update_id])
                self._new_update.notify_all()
        return update_id

    @property
    def pending_updates(self) -> list[int]:
        """Updates not yet confirmed by a later getUpdates offset."""
        return [u["update_id"] for u in self._updates]

    def bot_messages(self, chat_id: int) -> list[Shown]:
        return [m for m in self.messages[chat_id] if m.sender_id == self.bot_id and not m.deleted]

    def throttled(self) -> list[Request]:
        return [r for r in self.requests if r.status == 429]

    def peak_rate(self, window: float, chat_id: int | None = None) -> int:
        """The most accepted chat requests in any `window` seconds (one chat, or all)."""
        times = sorted(r.at for r in self.requests if r.status == 200 and r.method in CHAT_METHODS
                       and (chat_id is None or r.chat_id == chat_id))
        peak, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            peak = max(peak, end - start + 1)
        return peak


class SimUser:
    """Someone using Telegram: sends messages, photos and files, presses buttons, reads replies."""

    def __init__(self, fake: FakeTelegram, user: dict[str, Any]) -> None:
        self.fake = fake
        self.user = user
        self.id: int = user["id"]

    def _message(self, chat_id: int | None, **content: Any) -> dict[str, Any]:
        chat_id = self.id if chat_id is None else chat_id
        shown = Shown(next(self.fake._ids), chat_id, self.id, text=content.get("text"), caption=content.get("caption"))
        self.fake.messages[chat_id].append(shown)
        body = {"message_id": shown.message_id, "date": int(time.time()), "chat": self.fake.chats[chat_id]["chat"],
                "from": self.user, **content}
        text = content.get("text") if "text" in content else content.get("caption")
        entities = _entities(text or "")
        if entities:
            body["entities" if "text" in content else "caption_entities"] = entities
        return body

    async def send(self, text: str, *, chat: int | None = None, deliver: bool = True) -> int:
        return await self.fake.push("message", self._message(chat, text=text), deliver=deliver)

    async def send_photo(self, data: bytes, *, caption: str | None = None, chat: int | None = None) -> int:
        """A photo as Telegram delivers it: a thumbnail and the full size (the largest last)."""
        width, height = _image_size(data)
        thumb = _thumbnail(data)
        sizes = []
        for blob, (w, h) in ((thumb, _image_size(thumb)), (data, (width, height))):
            sizes.append({"file_id": self.fake._file_id(blob), "file_unique_id": f"s{len(sizes)}",
                          "width": w, "height": h, "file_size": len(blob)})
        content = {"photo": sizes} | ({"caption": caption} if caption else {})
        return await self.fake.push("message", self._message(chat, **content))

    async def edit(self, message_id: int, text: str, *, chat: int | None = None) -> int:
        """The user edits a message they sent: Telegram sends an `edited_message` update."""
        chat_id = self.id if chat is None else chat
        body = {"message_id": message_id, "date": int(time.time()) - 5, "edit_date": int(time.time()),
                "chat": self.fake.chats[chat_id]["chat"], "from": self.user, "text": text}
        return await self.fake.push("edited_message", body)

    async def send_sticker(self, *, chat: int | None = None) -> int:
        sticker = {"file_id": "sticker1", "file_unique_id": "st1", "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False, "emoji": "😀"}
        return await self.fake.push("message", self._message(chat, sticker=sticker))

    async def send_voice(self, *, chat: int | None = None) -> int:
        voice = {"file_id": "voice1", "file_unique_id": "vo1", "duration": 3, "mime_type": "audio/ogg"}
        return await self.fake.push("message", self._message(chat, voice=voice))

    async def send_document(self, data: bytes, filename: str, mime_type: str, *, chat: int | None = None) -> int:
        document = {"file_id": self.fake._file_id(data), "file_unique_id": f"doc{len(data)}",
                    "file_name": filename, "mime_type": mime_type, "file_size": len(data)}
        return await self.fake.push("message", self._message(chat, document=document))

    async def press(self, message: Shown, label: str) -> str:
        """Press a button of a message; returns the callback query id (see `answer`)."""
        query_id = f"q{next(self.fake._ids)}"
        self.fake.answers[query_id] = None
        await self.fake.push("callback_query", {
            "id": query_id, "from": self.user, "message": self.fake.message_json(message),
            "chat_instance": str(message.chat_id), "data": message.button(label)})
        return query_id

    async def answer(self, query_id: str, timeout: float = 15.0) -> str:
        """The text the bot answered a button press with ('' for a silent answer)."""
        await wait_until(lambda: self.fake.answers.get(query_id) is not None, timeout)
        return self.fake.answers[query_id]

    def block(self) -> None:
        self.fake.blocked.add(self.id)

    def inbox(self, chat: int | None = None) -> list[Shown]:
        return self.fake.bot_messages(self.id if chat is None else chat)

    async def wait_for(self, condition: Callable[[Shown], bool], *, after: int = 0, timeout: float = 30.0,
                       chat: int | None = None) -> Shown:
        """The first bot message from index `after` of the inbox that meets `condition`."""
        found: list[Shown] = []

        def check() -> bool:
            found[:] = [m for m in self.inbox(chat)[after:] if condition(m)]
            return bool(found)

        await wait_until(check, timeout, lambda: f"{self.user['first_name']} saw: "
                         + repr([(m.words, m.edits) for m in self.inbox(chat)]))
        return found[0]


async def wait_until(condition: Callable[[], bool], timeout: float = 30.0,
                     describe: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s. {describe()}")
        await asyncio.sleep(0.02)


# --- parsing what python-telegram-bot sends --------------------------------------------------------------

async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Form fields (JSON-encoded where complex) and uploaded files, as (filename, bytes)."""
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "application/json":
        body = await request.json()
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = (value.filename, value.file.read())
        else:
            params[key] = value
    return params, files


def _flag(value: Any) -> bool:
    return value in (True, "true", "True", "1")


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _keyboard(params: dict) -> list[list[dict[str, str]]]:
    markup = params.get("reply_markup")
    if not markup:
        return []
    rows = json.loads(markup).get("inline_keyboard", [])
    for row in rows:
        for button in row:
            data = button.get("callback_data", "")
            if not 1 <= len(data.encode()) <= CALLBACK_DATA_MAX:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return rows


def _caption(params: dict) -> str | None:
    caption = params.get("caption")
    if caption is not None and len(caption) > CAPTION_MAX:
        raise ApiError(400, "Bad Request: message caption is too long")
    return caption


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception as exc:  # any decoding failure is Telegram's IMAGE_PROCESS_FAILED
        raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from exc


def _thumbnail(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        image.thumbnail((90, 90))
        out = io.BytesIO()
        image.save(out, format="JPEG")
        return out.getvalue()


def _entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram marks: a leading /command and @mentions (offsets in UTF-16 units)."""
    found = []
    command = re.match(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": command.end()})
    for mention in re.finditer(r"@[A-Za-z0-9_]{5,32}", text):
        if command and mention.start() < command.end():
            continue
        offset = len(text[:mention.start()].encode("utf-16-le")) // 2
        found.append({"type": "mention", "offset": offset, "length": len(mention.group())})
    return found
