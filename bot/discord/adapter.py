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

Sharded by discord.py (AutoShardedClient): one process runs all shards, or several processes
each run some (DREAMFACE_DISCORD_SHARD_COUNT / _SHARD_IDS). A guild's events reach the process
holding its shard, which has that guild's roles; direct messages reach shard 0. What needs no
gateway works in any of them: results are sent over REST, by the process that answered the
command while it lives, else by whichever process's courier claims them, into progress
messages remembered in the database (bot/delivery.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp
import discord
from discord import app_commands

from bot.adapters import ChatCore
from bot.delivery import Deliveries, MessageGone, Shown, Surface
from bot.conversation.replies import say, say_both
from bot.discord.endpoints import point_at
from bot.discord.shards import ShardWatch, reported
from bot.discord.outgoing import DEFAULT_FILE_LIMIT, Outgoing, PayloadButton, PayloadMenu, message_nonce, outgoing
from bot.discord.slash import face_commands
from bot.messages import Incoming, Reply
from ground.config import Settings
from facegen.handlers import PHOTO_MAX_BYTES
from storage.outbox import DeliveryFailed, DeliveryRecord
from storage.platforms import DISCORD as PLATFORM
from storage.progress_messages import ProgressMessageStore

log = logging.getLogger(__name__)

INTENTS = discord.Intents(guilds=True, guild_messages=True, dm_messages=True, message_content=True)

# Discord accepts edits through an interaction's token for 15 minutes; stop a little earlier.
INTERACTION_EDIT_SECONDS = 14 * 60
# Discord's identify limit: max_concurrency buckets, one IDENTIFY each per 5 s (and a margin for
# the time an IDENTIFY takes to arrive)
IDENTIFY_SECONDS = 5.0 + 0.5

Edit = Callable[[Outgoing], Awaitable[object]]


@dataclass(frozen=True)
class Posted:
    """A message the adapter posted: how to edit it now, and its id (None: unknown)."""
    edit: Edit
    message_id: int | None


# Posts a core reply somewhere; returns how to edit what it posted.
Post = Callable[[Reply, Outgoing], Awaitable[Posted]]


class DreamfaceClient(discord.AutoShardedClient):
    """discord.py's sharded client with the /face commands and the payload buttons; events go
    to the adapter. It runs `shard_ids` of `shard_count` shards (None: Discord's recommended
    count, all of them here); only the process holding shard 0 syncs the slash commands."""

    def __init__(self, adapter: "DiscordAdapter", *, shard_count: int | None = None,
                 shard_ids: Sequence[int] | None = None) -> None:
        super().__init__(intents=INTENTS, shard_count=shard_count,
                         shard_ids=None if shard_ids is None else list(shard_ids))
        self.adapter = adapter
        self.tree = app_commands.CommandTree(self)
        self.max_concurrency = 1                  # IDENTIFYs Discord allows per bucket in 5 s
        self._next_identify: dict[int, float] = {}
        self.watch = ShardWatch()

    @property
    def syncs_commands(self) -> bool:
        return self.shard_ids is None or 0 in self.shard_ids

    async def setup_hook(self) -> None:
        # GET /gateway/bot: the recommended shard count (when none is configured) and max_concurrency
        recommended, _, limits = await self.http.get_bot_gateway()
        if self.shard_count is None:
            self.shard_count = recommended
        self.max_concurrency = max(1, int(limits.get("max_concurrency", 1)))
        self.watch.start(self.shard_count, tuple(self.shard_ids or range(self.shard_count)))
        self.tree.add_command(face_commands(self.adapter.on_command, self.adapter.regions))
        self.add_dynamic_items(PayloadButton, PayloadMenu)   # buttons sent before a restart keep working
        if self.syncs_commands:   # once for the whole bot, not once per process
            await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Discord's identify limit: shards share a bucket by shard_id % max_concurrency, and a
        bucket takes one IDENTIFY per 5 seconds (discord.py's own hook waits 5 s before each)."""
        bucket = (shard_id or 0) % self.max_concurrency
        now = time.monotonic()
        slot = max(now, self._next_identify.get(bucket, now))
        self._next_identify[bucket] = slot + IDENTIFY_SECONDS
        await asyncio.sleep(slot - now)

    async def on_shard_connect(self, shard_id: int) -> None:
        self.watch.up(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.watch.up(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.watch.down(shard_id)

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
        self.surface = DiscordSurface(self)
        self.deliveries = Deliveries(self.conversation, self.surface, store=ProgressMessageStore(app.engine, PLATFORM),
                                     poll_seconds=poll_seconds, courier_poll_seconds=poll_seconds)
        self.client: DreamfaceClient | None = None

    async def run(self, stop: asyncio.Event) -> None:
        point_at(self.settings.discord_api_base, self.settings.discord_gateway_url)
        client = self.client = DreamfaceClient(self, shard_count=self.settings.discord_shard_count or None,
                                               shard_ids=self.settings.discord_shards)
        async with client, reported(client, client.watch):
            await client.login(self.settings.discord_token)
            await self.deliveries.restore()   # before any interaction can be answered
            tasks = [asyncio.create_task(client.connect(), name="discord gateway"),
                     asyncio.create_task(self.deliveries.run(stop), name="discord deliveries")]
            stopping = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.set()
                await client.close()
                for task in (stopping, *tasks):
                    with contextlib.suppress(asyncio.CancelledError):
                        await task   # a loop that died raises here, after the others stopped

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
                                  photo=photo, locale=locale, from_menu=True)
        replies = await self._answer(incoming, [first], more, interaction.filesize_limit, INTERACTION_EDIT_SECONDS)
        if not replies:
            await interaction.delete_original_response()   # nothing to say: no "thinking…" left behind

    async def on_press(self, interaction: discord.Interaction, payload: str) -> None:
        """A button: acknowledged at once; results follow as new messages, refusals only the presser sees."""
        await interaction.response.defer()

        async def post(reply: Reply, out: Outgoing) -> Posted:
            if reply.kind == "update" and interaction.message is not None:   # the pressed message's words and menu
                await interaction.edit_original_response(content=out.content, view=out.view)
                return Posted(lambda later: interaction.edit_original_response(**later.for_edit()), interaction.message.id)
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
        if text is None and photo is None:   # a sticker alone, or a bare mention: say what it reads
            await message.reply(say_both("error_text_or_photo"), mention_author=False)
            return
        limit = message.guild.filesize_limit if message.guild is not None else DEFAULT_FILE_LIMIT

        async def post(reply: Reply, out: Outgoing) -> Posted:
            sent = await message.reply(mention_author=False, **out.for_send())
            return Posted(lambda later: sent.edit(**later.for_edit()), sent.id)

        incoming = self._incoming(message.author, message.channel.id, message.guild and message.guild.id,
                                  text=text, photo=photo)
        await self._answer(incoming, [], post, limit, None)

    async def send(self, delivery: DeliveryRecord) -> None:
        """The courier's send (bot/delivery.py): a job's result, into its progress message."""
        await self.deliveries.send(delivery)

    def _incoming(self, user: discord.abc.User, channel_id: int | None, guild_id: int | None,
                  **fields: object) -> Incoming:
        roles = tuple(r for role in getattr(user, "roles", ()) for r in (str(role.id), role.name))   # guild members'
        return Incoming(platform=PLATFORM, user_id=str(user.id), chat_id=str(channel_id), roles=roles,
                        display_name=user.display_name, in_group=guild_id is not None,
                        group_id=None if guild_id is None else str(guild_id), **fields)

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
        given, the rest through `more`; progress messages are followed until their results."""
        async with self.deliveries.turn(incoming.chat_id):
            try:
                replies = await self.conversation.handle(self.deliveries.answering(incoming))
            except Exception:  # one failed message must not stop the bot: log, then say so
                log.exception("discord: handling a message from %s failed", incoming.user_id)
                replies = [Reply(say_both("something_went_wrong"), kind="error")]
            posts = first + [more] * len(replies)
            for reply, post in zip(replies, posts):
                out = outgoing(reply, file_limit)
                if reply.kind == "progress":   # posted even if its result went out first: an interaction must be answered
                    await self.deliveries.show(incoming.chat_id, reply,
                                               lambda post=post, reply=reply, out=out: _shown(post(reply, out), expires_in),
                                               always=True)
                else:
                    await post(reply, out)
        return replies


class DiscordSurface(Surface):
    """Discord's side of delivery: a progress message is edited in place, through the
    interaction that posted it for 15 minutes and through its channel after that (or after a
    restart); the result replaces it, or comes as new messages."""
    platform = PLATFORM

    def __init__(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter

    def reopen(self, chat_id: str, message_id: str) -> Shown:
        message = self.adapter.client.get_partial_messageable(int(chat_id)).get_partial_message(int(message_id))
        return _as_shown(lambda out: message.edit(**out.for_edit()), message_id, None)

    async def deliver(self, delivery: DeliveryRecord, replies: Sequence[Reply], shown: Shown | None) -> None:
        """A job's result into its progress message, or as new messages."""
        try:
            for index, reply in enumerate(replies):
                if index == 0 and shown is not None and await _edit_live(shown.target, outgoing(reply)):
                    continue
                channel = self.adapter.client.get_partial_messageable(int(delivery.chat_id))
                # fresh files: a failed edit may have consumed the first ones
                await channel.send(nonce=message_nonce(delivery.nonce, index), **outgoing(reply).for_send())
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


async def _shown(posting: Awaitable[Posted], expires_in: float | None) -> Shown:
    posted = await posting
    return _as_shown(posted.edit, None if posted.message_id is None else str(posted.message_id), expires_in)


def _as_shown(edit: Edit, message_id: str | None, expires_in: float | None) -> Shown:
    async def reword(text: str) -> bool:
        try:
            await edit(Outgoing(text))
        except discord.HTTPException as exc:   # deleted, or its token ran out
            raise MessageGone(str(exc)) from exc
        return True
    return Shown(reword, target=edit, message_id=message_id,
                 expires_at=None if expires_in is None else time.monotonic() + expires_in)


async def _edit_live(edit: Edit, out: Outgoing) -> bool:
    """Replace a progress message with the result; False if it can no longer be edited."""
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
