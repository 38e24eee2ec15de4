"""Telegram updates → the core's `Incoming`: who, where, which language, and what they said.

In groups the bot only listens when spoken to: a command, a message that mentions it, or a
reply to one of its messages. Everything here is a pure function of the update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Chat, Document, Message, MessageEntity, PhotoSize, Update, User

from bot.commands import LOCALES
from bot.messages import Incoming
from storage.platforms import TELEGRAM as PLATFORM

DOWNLOAD_MAX_BYTES = 20 * 1024 * 1024   # the Bot API will not hand a bot a bigger file
GROUP_CHATS = (Chat.GROUP, Chat.SUPERGROUP)


def locale_hint(user: User | None) -> str | None:
    """The two-letter language Telegram reports for the user, if it is one we speak."""
    code = (user.language_code or "") if user else ""
    base = code.lower().split("-")[0]
    return base if base in LOCALES else None


def incoming(update: Update, **what: Any) -> Incoming:
    """An Incoming from this update's sender and chat, plus `what` (text, photo or button)."""
    user, chat = update.effective_user, update.effective_chat
    group = chat.type in GROUP_CHATS
    return Incoming(platform=PLATFORM, user_id=str(user.id), chat_id=str(chat.id),
                    locale=user.language_code, display_name=user.full_name,
                    in_group=group, group_id=str(chat.id) if group else None, **what)


def in_group(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type in GROUP_CHATS


def addressed_text(message: Message, bot: User) -> str | None:
    """The text (or caption) meant for the bot, without the @mention; None when a group
    message is not addressed to it. Private messages are always addressed to the bot."""
    text = message.text if message.text is not None else (message.caption or "")
    if message.chat.type not in GROUP_CHATS:
        return text
    mention = f"@{bot.username}".lower() if bot.username else None
    parse = message.parse_entities if message.text is not None else message.parse_caption_entities
    spoken_to = False
    for entity, value in parse([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if (entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id) \
                or (mention is not None and value.lower() == mention):
            spoken_to = True
            text = text.replace(value, " ")
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        spoken_to = True
    return " ".join(text.split()) if spoken_to else None


@dataclass(frozen=True)
class Attachment:
    """An image a user sent: a photo's largest size, or a document."""
    file_id: str
    file_size: int | None
    is_image: bool


def attachment(message: Message) -> Attachment | None:
    if message.photo:
        largest: PhotoSize = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return Attachment(largest.file_id, largest.file_size, True)
    document: Document | None = message.document
    if document is not None:
        return Attachment(document.file_id, document.file_size, (document.mime_type or "").startswith("image/"))
    return None
