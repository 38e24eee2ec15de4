"""The Telegram bot: python-telegram-bot's Application around the conversation core.

    updates (long polling, or a webhook; the cursor in the database) ─► handlers ─► Incoming ─► core ─► replies
    outbox deliveries (Courier) ─────────────────────────────────► render ─► replace the progress message

Handlers only translate (bot/telegram/incoming.py in, bot/telegram/outgoing.py out); every
rule about faces, buttons and their owners lives in the core. AIORateLimiter (with a per-chat
bucket added, bot/telegram/ratelimit.py) keeps the bot within Telegram's flood limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from telegram import Bot, BotCommand, Message, Update
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import (Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes,
                          MessageHandler, filters)

from bot.adapters import ChatCore
from bot.delivery import Deliveries, MessageGone, Shown, Surface
from bot.conversation.replies import say
from bot.messages import Incoming, Reply
from bot.telegram.commands import COMMANDS, command_text
from bot.telegram.incoming import (DOWNLOAD_MAX_BYTES, addressed_text, attachment, in_group, incoming,
                                   locale_hint)
from bot.telegram.outgoing import delivery_failure, edit_pressed, placeholder_png, replace_progress, send_reply
from bot.telegram.polling import UpdatePoller
from bot.telegram.ratelimit import ChatRateLimiter
from bot.telegram.webhook import WebhookInbox, WebhookUpdates
from ground.config import Settings
from storage.outbox import DeliveryRecord
from storage.platform_cursors import PlatformCursors
from storage.platforms import TELEGRAM
from storage.progress_messages import ProgressMessageStore

log = logging.getLogger(__name__)

ANSWER_MAX = 200   # characters in a callback query's answer (a toast)


class TelegramAdapter:
    platform = TELEGRAM

    def __init__(self, settings: Settings, app: ChatCore, *, courier_poll_seconds: float = 0.5,
                 progress_poll_seconds: float = 0.5, poll_timeout: int | None = None,
                 webhook: WebhookInbox | None = None) -> None:
        if settings.telegram_webhook_url and webhook is None:
            raise ValueError("DREAMFACE_TELEGRAM_WEBHOOK_URL is set: the adapter needs the web route's WebhookInbox")
        self.settings = settings
        self.webhook = webhook
        self.core = app
        self.conversation = app.conversation
        self.application: Application = (
            ApplicationBuilder().token(settings.telegram_token)
            .base_url(settings.telegram_base_url).base_file_url(settings.telegram_base_file_url)
            .rate_limiter(ChatRateLimiter())
            .updater(None)   # polling and webhooks are ours: the cursor lives in the database
            .build())
        self.bot = self.application.bot
        self.surface = TelegramSurface(self.bot)
        self.deliveries = Deliveries(self.conversation, self.surface,
                                     store=ProgressMessageStore(app.engine, self.platform),
                                     poll_seconds=progress_poll_seconds, courier_poll_seconds=courier_poll_seconds)
        self.poll_timeout = poll_timeout
        # new messages only: an edit of one already answered, or a channel post, is not a request
        new = filters.UpdateType.MESSAGE
        self.application.add_handlers([
            MessageHandler(new & filters.COMMAND, self.on_command),
            MessageHandler(new & filters.TEXT & ~filters.COMMAND, self.on_text),
            MessageHandler(new & (filters.PHOTO | filters.Document.ALL), self.on_image),
            MessageHandler(new & filters.ChatType.PRIVATE, self.on_other),   # stickers, voice, places …
            CallbackQueryHandler(self.on_press),
        ])
        self.application.add_error_handler(self.on_error)

    # --- running ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Serve Telegram until `stop` is set: take updates, deliver results, follow progress."""
        async with self.application:   # initialize (getMe) … shutdown
            cursors, name = PlatformCursors(self.core.engine), f"telegram:{self.bot.id}"
            if self.webhook is None:
                await self.bot.delete_webhook()   # getUpdates is refused while a webhook is set
                updates = UpdatePoller(self.bot, cursors, name, self.application.process_update,
                                       **({} if self.poll_timeout is None else {"poll_timeout": self.poll_timeout}))
            else:
                updates = WebhookUpdates(self.bot, self.webhook, cursors, name, self.application.process_update,
                                         url=self.settings.telegram_webhook_url,
                                         secret=self.settings.telegram_webhook_secret)
            await self._set_commands()
            await self.deliveries.restore()   # before any update can be answered
            loops = [asyncio.create_task(updates.run(stop), name="telegram updates"),
                     asyncio.create_task(self.deliveries.run(stop), name="telegram deliveries")]
            log.info("telegram: %s as @%s", "polling" if self.webhook is None else "on a webhook", self.bot.username)
            try:
                done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    task.result()   # a loop that died takes the bot down loudly
            finally:
                stop.set()
                await asyncio.gather(*loops, return_exceptions=True)

    async def _set_commands(self) -> None:
        for language in ("ko", "en"):
            commands = [BotCommand(c.name, getattr(c, language)) for c in COMMANDS]
            await self.bot.set_my_commands(commands, language_code=None if language == "ko" else language)

    # --- updates in ----------------------------------------------------------------------------

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/new, /describe …, /eyes: the phrase the command stands for, with its arguments."""
        word, *args = update.message.text.split()
        name, _, addressee = word[1:].partition("@")
        if addressee and addressee.lower() != (self.bot.username or "").lower():
            return   # /new@another_bot in a group
        await self.converse(update, incoming(update, text=command_text(name, args), from_menu=True))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any text in a private chat; in groups, text that mentions or answers the bot."""
        text = addressed_text(update.message, self.bot.bot)
        if text is not None:
            await self.converse(update, incoming(update, text=text))

    async def on_image(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo (its largest size) or an image sent as a file: the user's own face."""
        message = update.message
        if in_group(update) and addressed_text(message, self.bot.bot) is None:
            return
        found = attachment(message)
        if found is None or not found.is_image:
            return await self._say(update, "error_unsupported_format")
        if found.file_size is not None and found.file_size > DOWNLOAD_MAX_BYTES:
            return await self._say(update, "error_too_large")
        try:
            data = await (await self.bot.get_file(found.file_id)).download_as_bytearray()
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                return await self._say(update, "error_too_large")
            raise
        await self.converse(update, incoming(update, photo=bytes(data)))

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Anything else sent in a private chat (a sticker, a voice message, a location): say
        what the bot reads rather than stay silent."""
        await self._say(update, "error_text_or_photo")

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button: answered at once; a refusal (stale, someone else's) is the answer itself."""
        query = update.callback_query
        if query.data is None:
            return await query.answer()
        chat_id = str(update.effective_chat.id)
        async with self.deliveries.turn(chat_id):
            try:
                replies = await self.conversation.handle(self.deliveries.answering(incoming(update, button=query.data)))
            except Exception:
                await query.answer(self._text(update, "something_went_wrong"))
                raise
            refusal = "\n".join(r.text for r in replies)
            if replies and all(r.private and not r.pictures for r in replies) and len(refusal) <= ANSWER_MAX:
                return await query.answer(refusal)
            await query.answer()
            pressed = query.message if isinstance(query.message, Message) else None   # None: too old to edit
            for reply in replies:
                if reply.kind == "update" and pressed is not None:   # a toggle ticked: that message's keyboard
                    await edit_pressed(self.bot, chat_id, pressed, reply)
            await self._send_all(chat_id, [r for r in replies if r.kind != "update" or pressed is None])

    async def converse(self, update: Update, message: Incoming) -> None:
        async with self.deliveries.turn(message.chat_id):
            await self._send_all(message.chat_id, await self.conversation.handle(self.deliveries.answering(message)))

    async def _send_all(self, chat_id: str, replies: list[Reply]) -> None:
        await self.deliveries.post_replies(chat_id, replies, lambda reply: self.surface.post(chat_id, reply))

    async def _say(self, update: Update, key: str) -> None:
        """A reply the adapter words itself (what never reaches the core), in the core's words."""
        await send_reply(self.bot, str(update.effective_chat.id), Reply(self._text(update, key), kind="error"))

    def _text(self, update: Update, key: str) -> str:
        """The core's text for `key`, in the language this user's client reports."""
        return say(locale_hint(update.effective_user) or self.conversation.default_locale, key)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log first, then tell the user something went wrong."""
        log.error("telegram: handling an update failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None and update.callback_query is None:
            with contextlib.suppress(TelegramError):
                await self.bot.send_message(update.effective_chat.id, self._text(update, "something_went_wrong"))


class TelegramSurface(Surface):
    """Telegram's side of delivery: a progress message is a placeholder photo whose caption
    follows the job; the result replaces it (or comes as new messages where it cannot)."""
    platform = TELEGRAM

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._placeholder: str | bytes = placeholder_png()   # bytes until Telegram gives a file_id

    async def post(self, chat_id: str, reply: Reply) -> Shown | None:
        if reply.kind != "progress":
            await send_reply(self.bot, chat_id, reply)
            return None
        message = await self.bot.send_photo(chat_id, self._placeholder, caption=reply.text,
                                            filename="dreamface-working.png")
        if isinstance(self._placeholder, bytes) and message.photo:
            self._placeholder = message.photo[-1].file_id
        return self.reopen(chat_id, str(message.message_id))

    def reopen(self, chat_id: str, message_id: str) -> Shown:
        async def edit(caption: str) -> bool:
            try:
                await self.bot.edit_message_caption(chat_id=chat_id, message_id=int(message_id), caption=caption)
            except RetryAfter:
                return False   # shown again next round
            except BadRequest as exc:
                if "not modified" not in exc.message.lower():
                    raise MessageGone(exc.message) from exc
            except TelegramError as exc:
                log.warning("telegram progress: editing message %s failed: %s", message_id, exc)
            return True
        return Shown(edit, target=int(message_id), message_id=message_id)

    async def deliver(self, delivery: DeliveryRecord, replies: Sequence[Reply], shown: Shown | None) -> None:
        """A job's result, in place of its progress message where there is one."""
        try:
            for index, reply in enumerate(replies):
                if index == 0 and shown is not None and await _replaced(self.bot, delivery.chat_id, shown.target, reply):
                    continue
                await send_reply(self.bot, delivery.chat_id, reply)
        except TelegramError as exc:
            raise delivery_failure(exc) from exc


async def _replaced(bot, chat_id: str, message_id: int, reply: Reply) -> bool:
    """Replace a progress message with the result; False if that message is gone (the user
    deleted it), so the result goes out as a new one."""
    try:
        await replace_progress(bot, chat_id, message_id, reply)
    except BadRequest as exc:
        if "not found" not in exc.message.lower() and "can't be edited" not in exc.message.lower():
            raise
        log.info("telegram: progress message %s is gone (%s); sending the result anew", message_id, exc.message)
        return False
    return True
