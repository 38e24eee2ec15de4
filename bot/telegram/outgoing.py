"""The core's `Reply` → Bot API calls, within Telegram's limits.

A reply with a picture becomes one photo carrying the caption and the inline keyboard (an
album cannot carry buttons, so a grid is one contact sheet); a picture the core marks
`as_file` follows as a document, uncompressed. A progress message is a placeholder photo so
the result can later replace it in place (editMessageMedia): queued → working → the face.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFilter
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.messages import Button, Picture, Reply
from storage.outbox import DeliveryFailed

log = logging.getLogger(__name__)

TEXT_MAX = 4096                          # characters in a message
CAPTION_MAX = 1024                       # characters in a photo caption
PHOTO_UPLOAD_MAX = 10 * 1024 * 1024      # bigger pictures go as documents


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.payload) for b in row] for row in rows])


def chunks(text: str, size: int = TEXT_MAX) -> list[str]:
    """Text cut into messages Telegram accepts, at line breaks where possible."""
    parts: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = size if cut <= 0 else cut
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return parts + [text] if text else parts


async def send_reply(bot: Bot, chat_id: str, reply: Reply) -> None:
    markup = keyboard(reply.buttons)
    if not reply.pictures:
        texts = chunks(reply.text) or ["…"]
        for i, text in enumerate(texts):
            await bot.send_message(chat_id, text, reply_markup=markup if i == len(texts) - 1 else None)
        return
    first, *others = reply.pictures
    caption = with_words(reply.text, first)
    if len(caption) > CAPTION_MAX:
        await send_reply(bot, chat_id, Reply(caption))
        caption = ""
    await _send_picture(bot, chat_id, first, caption, markup)
    for picture in others:
        await _send_picture(bot, chat_id, picture, "", None)
    await send_files(bot, chat_id, reply.pictures)


def with_words(caption: str, picture: Picture) -> str:
    """The caption with the picture's words (a face's) on a new line, where they still fit."""
    longer = f"{caption}\n{picture.alt}" if caption else picture.alt
    return longer if picture.alt and len(longer) <= CAPTION_MAX else caption


async def _send_picture(bot: Bot, chat_id: str, picture: Picture, caption: str,
                        markup: InlineKeyboardMarkup | None) -> Message:
    if len(picture.data) > PHOTO_UPLOAD_MAX:
        return await bot.send_document(chat_id, picture.data, filename=picture.filename, caption=caption or None,
                                       reply_markup=markup)
    return await bot.send_photo(chat_id, picture.data, filename=picture.filename, caption=caption or None,
                                reply_markup=markup)


async def send_files(bot: Bot, chat_id: str, pictures: Sequence[Picture]) -> None:
    """The full-resolution files of pictures the core offers uncompressed."""
    for picture in pictures:
        if picture.as_file:
            await bot.send_document(chat_id, picture.data, filename=picture.filename)


async def replace_progress(bot: Bot, chat_id: str, message_id: int, reply: Reply) -> None:
    """Turn a progress message (a placeholder photo) into the reply; a reply that cannot be an
    edit (a long text, a huge picture, several pictures) replaces it with new messages."""
    markup = keyboard(reply.buttons)
    fits = len(reply.text) <= CAPTION_MAX and len(reply.pictures) <= 1 \
        and all(len(p.data) <= PHOTO_UPLOAD_MAX for p in reply.pictures)
    if not fits:
        await bot.delete_message(chat_id, message_id)
        await send_reply(bot, chat_id, reply)
        return
    if reply.pictures:
        picture = reply.pictures[0]
        media = InputMediaPhoto(picture.data, caption=with_words(reply.text, picture) or None, filename=picture.filename)
        await bot.edit_message_media(media, chat_id=chat_id, message_id=message_id, reply_markup=markup)
        await send_files(bot, chat_id, reply.pictures)
    else:
        await bot.edit_message_caption(chat_id=chat_id, message_id=message_id, caption=reply.text,
                                       reply_markup=markup)


async def edit_pressed(bot: Bot, chat_id: str, message: Message, reply: Reply) -> None:
    """An "update" reply: the words and keyboard of the message whose button was pressed (a
    picture's caption, or a text); unchanged is fine (a second press that changed nothing)."""
    markup = keyboard(reply.buttons)
    try:
        if message.text is not None:
            await bot.edit_message_text(reply.text[:TEXT_MAX], chat_id=chat_id, message_id=message.message_id,
                                        reply_markup=markup)
        else:
            await bot.edit_message_caption(chat_id=chat_id, message_id=message.message_id,
                                           caption=reply.text[:CAPTION_MAX], reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


def delivery_failure(exc: TelegramError) -> DeliveryFailed:
    """How the outbox should treat a refused send: blocked or gone ends it, the rest retries."""
    if isinstance(exc, RetryAfter):
        return DeliveryFailed(f"rate limited: {exc}", retry_after=exc._retry_after.total_seconds())
    if isinstance(exc, Forbidden):
        return DeliveryFailed(f"telegram refused: {exc.message}", permanent=True)
    if isinstance(exc, BadRequest):
        # the chat is gone, or the request itself is wrong: sending it again cannot help
        return DeliveryFailed(f"telegram rejected the reply: {exc.message}", permanent=True)
    if isinstance(exc, NetworkError):
        return DeliveryFailed(f"network: {exc}")
    return DeliveryFailed(f"{type(exc).__name__}: {exc}")


def placeholder_png(size: int = 256) -> bytes:
    """The picture a progress message shows until its face arrives: a soft outline of a head."""
    image = Image.new("RGB", (size, size), (236, 238, 242))
    draw = ImageDraw.Draw(image)
    s = size / 256
    draw.ellipse((78 * s, 48 * s, 178 * s, 188 * s), outline=(190, 195, 205), width=round(4 * s))
    for x in (108, 148):
        draw.ellipse(((x - 7) * s, 104 * s, (x + 7) * s, 114 * s), fill=(200, 204, 212))
    draw.arc((108 * s, 140 * s, 148 * s, 162 * s), 20, 160, fill=(200, 204, 212), width=round(3 * s))
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(1.2 * s)).save(buffer, format="PNG")
    return buffer.getvalue()
