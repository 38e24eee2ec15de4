"""The Discord adapter: discord.py on one side, the conversation core on the other.

    /face …  slash command   → defer at once → core → edit the original response
    button press (custom_id) → acknowledge   → core → a followup (errors only the presser sees)
    DM, or @mention in a guild channel       → core → a reply message
    job results (the outbox)                 → the job's progress message edited into the
                                               result (remembered in the database, so also after
                                               a restart), or a new message carrying the delivery's
                                               nonce (Discord drops a repeat after a crash)

Gateway intents: guilds, guild_messages, dm_messages, message_content (privileged: switch it
on in the developer portal). Permissions in guild channels: Send Messages, Attach Files, Embed
Links, Use Application Commands, Read Message History (replies quote the user's message).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable

import aiohttp
import discord
from discord import app_commands

from bot.adapters import ChatCore
from bot.conversation.replies import say
from bot.discord.endpoints import point_at
from bot.discord.outgoing import DEFAULT_FILE_LIMIT, Outgoing, PayloadButton, message_nonce, outgoing
from bot.discord.progress import INTERACTION_EDIT_SECONDS, Edit, Posted, ProgressBoard
from bot.discord.slash import face_commands
from bot.messages import Incoming, Reply
from bot.web.progress import job_progress
from ground.config import Settings
from facegen.handlers import PHOTO_MAX_BYTES
from storage.courier import Courier
from storage.outbox import DeliveryFailed, DeliveryRecord, Routes
from storage.progress_messages import ProgressMessageStore

log = logging.getLogger(__name__)

PLATFORM = "discord"
INTENTS = discord.Intents(guilds=True, guild_messages=True, dm_messages=True, message_content=True)
SOMETHING_WENT_WRONG = "문제가 생겼어요. 잠시 후 다시 해 주세요 · something went wrong; please try again"

# Posts a core reply somewhere; returns how to edit what it posted.
Post = Callable[[Reply, Outgoing], Awaitable[Posted]]


class DreamfaceClient(discord.Client):
    """discord.py's client with the /face commands and the payload buttons; events go to the adapter."""

    def __init__(self, adapter: "DiscordAdapter") -> None:
        super().__init__(intents=INTENTS)
        self.adapter = adapter
        self.tree = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        self.tree.add_command(face_commands(self.adapter.on_command, self.adapter.regions))
        self.add_dynamic_items(PayloadButton)   # buttons sent before a restart keep working
        await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_press(self, interaction: discord.Interaction, payload: str) -> None:
        await self.adapter.on_press(interaction, payload)


class DiscordAdapter:
    platform = PLATFORM

    def __init__(self, settings: Settings, app: ChatCore, *, poll_seconds: float = 0.5) -> None:
        self.settings = settings
        self.app = app
        self.conversation = app.conversation
        self.regions = app.conversation.styles.regions()
        self.poll_seconds = poll_seconds
        self.board = ProgressBoard(job_progress(app.engine, app.conversation.queue), ProgressMessageStore(app.engine, PLATFORM),
                                   self._channel_edit, poll_seconds=poll_seconds)
        self.client: DreamfaceClient | None = None

    async def run(self, stop: asyncio.Event) -> None:
        point_at(self.settings.discord_api_base, self.settings.discord_gateway_url)
        client = self.client = DreamfaceClient(self)
        courier = Courier(self.app.engine, Routes(platforms=(PLATFORM,)), self.send, poll_seconds=self.poll_seconds)
        async with client:
            await client.login(self.settings.discord_token)
            await self.board.restore()   # before any result can arrive
            tasks = [asyncio.create_task(client.connect(), name="discord gateway"),
                     asyncio.create_task(courier.run(stop), name="discord courier"),
                     asyncio.create_task(self.board.run(stop), name="discord progress")]
            stopping = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.set()
                await client.close()
                for task in (stopping, *tasks):
                    with contextlib.suppress(asyncio.CancelledError):
                        await task   # a loop that died raises here, after the others stopped

    def _channel_edit(self, chat_id: str, message_id: int) -> Edit:
        """Edit a message through its channel: works after a restart and after the interaction
        token that posted it ran out."""
        message = self.client.get_partial_messageable(int(chat_id)).get_partial_message(message_id)
        return lambda out: message.edit(**out.for_edit())

    # --- what users do ------------------------------------------------------------------------

    async def on_command(self, interaction: discord.Interaction, text: str | None,
                         attachment: discord.Attachment | None) -> None:
        """A /face command: acknowledged within Discord's 3 seconds, answered by editing that response."""
        await interaction.response.defer(thinking=True)
        locale = locale_hint(interaction.locale)
        photo = None
        if attachment is not None:
            photo = await self._photo(attachment, locale, lambda text: interaction.edit_original_response(content=text))
            if photo is None:
                return

        async def first(reply: Reply, out: Outgoing) -> Posted:
            message = await interaction.edit_original_response(**out.for_edit())
            return Posted(lambda later: interaction.edit_original_response(**later.for_edit()), message.id)

        async def more(reply: Reply, out: Outgoing) -> Posted:
            message = await interaction.followup.send(wait=True, **out.for_send())
            return Posted(lambda later: message.edit(**later.for_edit()), message.id)

        incoming = self._incoming(interaction.user, interaction.channel_id, interaction.guild_id, text=text,
                                  photo=photo, locale=locale)
        replies = await self._answer(incoming, [first], more, interaction.filesize_limit, INTERACTION_EDIT_SECONDS)
        if not replies:
            await interaction.delete_original_response()   # nothing to say: no "thinking…" left behind

    async def on_press(self, interaction: discord.Interaction, payload: str) -> None:
        """A button: acknowledged at once; results follow as new messages, refusals only the presser sees."""
        await interaction.response.defer()

        async def post(reply: Reply, out: Outgoing) -> Posted:
            message = await interaction.followup.send(wait=True, ephemeral=reply.private, **out.for_send())
            return Posted(lambda later: message.edit(**later.for_edit()), message.id)

        incoming = self._incoming(interaction.user, interaction.channel_id, interaction.guild_id, button=payload,
                                  locale=locale_hint(interaction.locale))
        await self._answer(incoming, [], post, interaction.filesize_limit, INTERACTION_EDIT_SECONDS)

    async def on_message(self, message: discord.Message) -> None:
        """Plain text (and photos) in DMs, and in guild channels when the bot is mentioned."""
        me = self.client.user if self.client else None
        if message.author.bot or me is None:
            return
        if message.guild is not None and not me.mentioned_in(message):
            return
        text = re.sub(rf"<@!?{me.id}>", "", message.content).strip() or None
        attachment = message.attachments[0] if message.attachments else None
        photo = None
        if attachment is not None:
            photo = await self._photo(attachment, None, lambda text: message.reply(text, mention_author=False))
            if photo is None:
                return
        if text is None and photo is None:
            return
        limit = message.guild.filesize_limit if message.guild is not None else DEFAULT_FILE_LIMIT

        async def post(reply: Reply, out: Outgoing) -> Posted:
            sent = await message.reply(mention_author=False, **out.for_send())
            return Posted(lambda later: sent.edit(**later.for_edit()), sent.id)

        incoming = self._incoming(message.author, message.channel.id, message.guild and message.guild.id,
                                  text=text, photo=photo)
        await self._answer(incoming, [], post, limit, None)

    def _incoming(self, user: discord.abc.User, channel_id: int | None, guild_id: int | None,
                  **fields: object) -> Incoming:
        roles = tuple(r for role in getattr(user, "roles", ()) for r in (str(role.id), role.name))   # guild members'
        return Incoming(platform=PLATFORM, user_id=str(user.id), chat_id=str(channel_id), roles=roles,
                        display_name=user.display_name, in_group=guild_id is not None, **fields)

    async def _photo(self, attachment: discord.Attachment, locale: str | None,
                     refuse: Callable[[str], Awaitable[object]]) -> bytes | None:
        """The attachment's bytes, or None after telling the user why not (too large, gone).
        Worded in the platform's language (plain messages carry none: the core's default),
        since the photo never reaches the core."""
        language = locale or self.conversation.default_locale
        if attachment.size > PHOTO_MAX_BYTES:
            await refuse(say(language, "error_too_large"))
            return None
        try:
            return await attachment.read()
        except (discord.HTTPException, aiohttp.ClientError) as exc:
            log.info("discord: downloading attachment %s failed: %s", attachment.id, exc)
            await refuse(say(language, "error_photo_gone"))
            return None

    async def _answer(self, incoming: Incoming, first: list[Post], more: Post, file_limit: int,
                      expires_in: float | None) -> list[Reply]:
        """Hand one message to the core and post its replies: the first through `first` when
        given, the rest through `more`; progress messages go on the board."""
        async with self.board.answering(incoming.chat_id):
            try:
                replies = await self.conversation.handle(incoming)
            except Exception:  # one failed message must not stop the bot: log, then say so
                log.exception("discord: handling a message from %s failed", incoming.user_id)
                replies = [Reply(SOMETHING_WENT_WRONG, kind="error")]
            posts = first + [more] * len(replies)
            for reply, post in zip(replies, posts):
                posting = post(reply, outgoing(reply, file_limit))
                if reply.kind == "progress":
                    await self.board.post(incoming.chat_id, reply, posting, expires_in=expires_in)
                else:
                    await posting
        return replies

    # --- results from the outbox ----------------------------------------------------------------

    async def send(self, delivery: DeliveryRecord) -> None:
        """The Courier's send: a job's result into its progress message, or as new messages."""
        await self.board.settled(delivery.chat_id)
        replies = await self.conversation.render_delivery(delivery)
        try:
            for index, reply in enumerate(replies):
                live = await self.board.take(reply.job_id)
                if live is None or not await _edit_live(live.lock, live.edit, outgoing(reply)):
                    channel = self.client.get_partial_messageable(int(delivery.chat_id))
                    # fresh files: a failed edit may have consumed the first ones
                    await channel.send(nonce=message_nonce(delivery.nonce, index), **outgoing(reply).for_send())
                await self.board.forget(reply.job_id)
        except discord.Forbidden as exc:
            raise DeliveryFailed(f"discord refused: {exc.text or exc}", permanent=True) from exc
        except discord.NotFound as exc:
            raise DeliveryFailed(f"unknown channel {delivery.chat_id}: {exc.text or exc}", permanent=True) from exc
        except discord.HTTPException as exc:
            retry_after = _retry_after(exc)
            if exc.status == 429 or exc.status >= 500:
                raise DeliveryFailed(f"discord {exc.status}: {exc.text or exc}", retry_after=retry_after) from exc
            raise DeliveryFailed(f"discord {exc.status}: {exc.text or exc}", permanent=True) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise DeliveryFailed(f"network: {exc}") from exc


async def _edit_live(lock: asyncio.Lock, edit: Edit, out: Outgoing) -> bool:
    """Replace a progress message with the result; False if it can no longer be edited."""
    async with lock:
        try:
            await edit(out)
        except discord.HTTPException as exc:   # deleted, or the interaction token ran out
            log.info("discord: progress message could not take its result (%s); sending a new one", exc)
            return False
    return True


def _retry_after(exc: discord.HTTPException) -> float | None:
    value = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def locale_hint(locale: discord.Locale) -> str:
    """Discord's locale as the core's language hint: Korean for ko, English for everything else
    (the core keeps a language the user chose over this hint)."""
    return "ko" if locale.value.lower().startswith("ko") else "en"
