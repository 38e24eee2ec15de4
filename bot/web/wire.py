"""The websocket's message format, both directions.

Browser → server: a JSON text frame `{"type": "text", "text": …}` or `{"type": "button",
"payload": …}`, or a binary frame holding a photo. Any other field (a "user_id", say) is
ignored: who is speaking comes from the cookie, never from a message.

Server → browser: `{"type": "reply", …}` (a core Reply: text, inline images, button rows (a
breeding array's toggles marked `toggle`), its `kind` ("update": the new words and buttons of the
message whose button was pressed), and the user's opaque token of the job whose progress message
it updates; a history's faces as
tiles, a picture and a button each, in place of its contact sheet), `{"type": "restore",
"replies": […]}` (where a reopened page left off: reply frames, sent first when the page asks
with /ws?restore=1) or `{"type": "notice", …}` (the transport's own remarks: a frame it could not
read, a photo too large).

A frame over MAX_FRAME_BYTES cannot be answered: aiohttp closes the socket with code 1009
(message too big) before the application sees it. The page checks a photo's size before it sends
it, and says why if the socket is closed with that code anyway.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.messages import Button, Picture, Reply
from ground.limits import MAX_TEXT_CHARS

MAX_PHOTO_BYTES = 10 * 1024 * 1024   # under ground.limits.PHOTO_MAX_BYTES: the socket's own limit
MAX_FRAME_BYTES = MAX_PHOTO_BYTES + 64 * 1024


class BadFrame(ValueError):
    """A frame that is not a message this chat understands; the text says why, in both languages."""


@dataclass(frozen=True)
class TextMessage:
    text: str


@dataclass(frozen=True)
class ButtonPress:
    payload: str


@dataclass(frozen=True)
class PhotoUpload:
    data: bytes


ClientMessage = TextMessage | ButtonPress | PhotoUpload


def parse_text_frame(raw: str) -> ClientMessage:
    try:
        message = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):   # RecursionError: e.g. 100,000 nested "["
        raise BadFrame("메시지를 읽을 수 없어요 · that message could not be read") from None
    if not isinstance(message, dict):
        raise BadFrame("메시지를 읽을 수 없어요 · that message could not be read")
    kind = message.get("type")
    if kind == "text":
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadFrame("빈 메시지예요 · the message is empty")
        if len(text) > MAX_TEXT_CHARS:
            raise BadFrame(f"메시지가 너무 길어요 · messages are limited to {MAX_TEXT_CHARS} characters")
        return TextMessage(text)
    if kind == "button":
        payload = message.get("payload")
        if not isinstance(payload, str) or not payload:
            raise BadFrame("버튼 정보가 없어요 · the button press carried no payload")
        return ButtonPress(payload)
    raise BadFrame("알 수 없는 메시지 종류예요 · unknown message type")


def parse_binary_frame(data: bytes) -> PhotoUpload:
    if not data:
        raise BadFrame("빈 사진이에요 · the photo is empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise BadFrame(f"사진이 너무 커요 (최대 {MAX_PHOTO_BYTES // (1024 * 1024)} MB) · "
                       f"photos are limited to {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    return PhotoUpload(data)


def reply_frame(reply: Reply, job_token: Callable[[int], str]) -> dict[str, Any]:
    """A Reply as the browser receives it; images travel inline, so no URL of a face exists.
    `job_id` is the user's own opaque token of the job (`job_token`, e.g.
    CookieSigner.job_token): the same for every frame of one job, so the page replaces its
    progress message in place, and never the global job id, which would tell how busy the
    service is."""
    toggles = 0 if reply.menu is None else reply.menu.rows   # the first rows tick a breeding array's faces
    return {
        "type": "reply",
        "kind": reply.kind,
        "job_id": None if reply.job_id is None else job_token(reply.job_id),
        "text": reply.text,
        "images": [] if reply.tiles else [_image(p) for p in reply.pictures],
        "buttons": [] if reply.tiles else [[_button(b, toggle=toggles > r) for b in row]
                                           for r, row in enumerate(reply.buttons)],
        "tiles": [{"caption": t.caption, "button": _button(t.button), "current": t.current,
                   "image": None if t.picture is None else _image(t.picture)} for t in reply.tiles],
    }


def restore_frame(replies: list[Reply], job_token: Callable[[int], str]) -> dict[str, Any]:
    return {"type": "restore", "replies": [reply_frame(r, job_token) for r in replies]}


def _image(picture: Picture) -> dict[str, Any]:
    return {"data": base64.b64encode(picture.data).decode("ascii"), "content_type": picture.content_type,
            "filename": picture.filename, "as_file": picture.as_file, "sheet": picture.sheet, "alt": picture.alt}


def _button(button: Button, toggle: bool = False) -> dict[str, Any]:
    """`toggle`: it ticks one face of a breeding array (the page sends it without echoing it)."""
    return {"label": button.label, "payload": button.payload, **({"toggle": True} if toggle else {})}


def notice_frame(text: str) -> dict[str, Any]:
    return {"type": "notice", "text": text}
