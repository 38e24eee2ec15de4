"""A scripted browser for the web chat: it visits the page (for its identity cookie), opens
the websocket and reads frames. The load test, the latency benchmark and smoke checks use it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp

from bot.web.identity import COOKIE_NAME

Frame = dict[str, Any]


class ChatClient:
    def __init__(self, base_url: str, *, accept_language: str = "en") -> None:
        self.base_url = base_url.rstrip("/")
        self.accept_language = accept_language
        self.frames: list[Frame] = []   # everything received, in order
        self._session: aiohttp.ClientSession | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> "ChatClient":
        # unsafe=True: keep cookies from a bare IP address such as 127.0.0.1
        self._session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                              headers={"Accept-Language": self.accept_language})
        async with self._session.get(self.base_url + "/") as page:
            page.raise_for_status()
        self._socket = await self._session.ws_connect(self.base_url + "/ws", max_msg_size=0)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._session is not None:
            await self._session.close()

    @property
    def user_key(self) -> str:
        assert self._session is not None
        for cookie in self._session.cookie_jar:
            if cookie.key == COOKIE_NAME:
                return cookie.value.split(".")[0]
        raise LookupError("no identity cookie")

    async def say(self, text: str) -> None:
        await self.send_json({"type": "text", "text": text})

    async def press(self, payload: str) -> None:
        await self.send_json({"type": "button", "payload": payload})

    async def send_photo(self, data: bytes) -> None:
        assert self._socket is not None
        await self._socket.send_bytes(data)

    async def send_json(self, message: Frame) -> None:
        """Any JSON frame, fields and all (tests send ones a real page never would)."""
        assert self._socket is not None
        await self._socket.send_json(message)

    async def receive(self, timeout: float = 30.0) -> Frame:
        assert self._socket is not None
        frame = await self._socket.receive_json(timeout=timeout)
        self.frames.append(frame)
        return frame

    async def until(self, done: Callable[[Frame], bool], timeout: float = 30.0) -> list[Frame]:
        """Frames received up to and including the first one `done` accepts."""
        received: list[Frame] = []
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.receive(timeout)
                received.append(frame)
                if done(frame):
                    return received


def has_image(frame: Frame) -> bool:
    return frame.get("type") == "reply" and bool(frame.get("images"))


def is_final(frame: Frame) -> bool:
    """A job's result or error: a reply that ends its progress message."""
    return frame.get("type") == "reply" and frame.get("job_id") is not None and frame.get("kind") != "progress"


def button_payloads(frame: Frame) -> list[str]:
    return [b["payload"] for row in frame.get("buttons", ()) for b in row]
