"""The websocket's message format, both directions.

Browser → server: a JSON text frame `{"type": "text", "text": …}` or `{"type": "button",
"payload": …}`, or a binary frame holding a photo. Any other field (a "user_id", say) is
ignored: who is speaking comes from the cookie, never from a message.

Server → browser: `{"type": "reply", …}` (a core Reply: text, inline images, button rows, and
the user's opaque token of the job whose progress message it updates) or `{"type": "notice", …}` (the transport's own
remarks: a frame it could not read, a photo too large).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.messages import Reply

MAX_TEXT_CHARS = 4000
MAX_PHOTO_BYTES = 10 * 1024 * 1024
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
    return {
        "type": "reply",
        "kind": reply.kind,
        "job_id": None if reply.job_id is None else job_token(reply.job_id),
        "text": reply.text,
        "images": [{"data": base64.b64encode(p.data).decode("ascii"), "content_type": p.content_type,
                    "filename": p.filename, "as_file": p.as_file, "sheet": p.sheet}
                   for p in reply.pictures],
        "buttons": [[{"label": b.label, "payload": b.payload} for b in row] for row in reply.buttons],
    }


def notice_frame(text: str) -> dict[str, Any]:
    return {"type": "notice", "text": text}
