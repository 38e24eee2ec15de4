"""The platform-free conversation core: one Command (or button press) from one user in,
replies out. It enforces the rules, keeps per-user state in storage, and enqueues jobs;
results come back later as outbox deliveries that `render_delivery` turns into replies.

Every face reference (a typed "#12", a number in a button payload) is resolved among the
sender's own faces or the gallery, here and nowhere else; see bot/conversation/payloads.py
for how a button is tied to the user it was made for.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot import commands as c
from bot import login_links
from bot.conversation import payloads
from bot.conversation.moderators import Moderators
from bot.conversation.names import display_name, match_name
from bot.conversation.progress import ProgressWording
from bot.conversation.render import breed_reply, face_reply, face_words, gallery_reply, history_reply, sheet_reply
from bot.conversation.replies import (TEXTS, attribute_name, change_text, direction_values, listing, region_name,
                                      say, style_label, style_name)
from bot.grammar import parse
from bot.grammar.lexicon import EXAMPLES
from bot.grammar.script import locale_of_script
from bot.messages import Button, Incoming, Reply
from bot.conversation.styles import Styles, style_code
from facegen import breeding
from facegen.attributes import Edit
from facegen.backend import DEFAULT_SIZE, BackendInfo, text_language
from facegen.describe.intent import Identity, NewDescribedFace, Request, decide, identity_after, identity_of
from facegen.gallery import gallery_sheet
from facegen.sheet import picture_sheet, thumbnail
from facegen.latent import ratio_in_range
from ground.limits import MAX_TEXT_CHARS, PHOTO_MAX_BYTES, Limits, address_key
from ground.logging import pseudonym
from facegen.handlers import MAKE, PHOTO, SHEET, TEXT, job_kinds
from storage.jobkinds import route_of
from facegen.photo import PhotoError, load_photo
from facegen.recipes import MAX_EDITS, MAX_SEED, MAX_SET_SIZE, RANK_POOL, RecipeError, clean_set, ranked_set
from storage.blobs import BlobNotFound, add_blob, read_blob
from storage.chat_state import Breeding, ChatStateRecord, ChatStates, ShownSet
from storage.db import session_factory
from storage.faces import FaceRecord, FaceRepository, UserRecord
from storage.gallery import GalleryEntryRecord, GalleryRepository, log_real_person_morph
from storage.models import owner_key
from storage.platforms import DISCORD, TELEGRAM, WEB
from storage.moderation import ModerationActions, ModerationLog, UnknownTarget, file_report
from storage.outbox import DeliveryRecord
from storage.presence import Presence
from storage.privacy import attach_upload, drop_upload, erase_user, keep_upload
from storage.queue import (DEFAULT_EXPIRY_SECONDS, DEFAULT_USER_JOB_CAP, CrowdJobCapReached, JobRejected, Queue,
                           UserJobCapReached, UserRateLimited)

log = logging.getLogger(__name__)

DEFAULT_RATIO = 0.5
GRID_SIZE = 10
REMIX_SIZE = 4
VARIATION_STRENGTH = 0.35
HISTORY_FACES = 12       # faces a history shows (lines, pictures and buttons)
HISTORY_COLUMNS = 3      # of its contact sheet
RESTORED_FACES = 4       # the current face and its nearest ancestors, shown again when a web chat reopens
MAX_FACE_NUMBER = 2**31 - 1   # faces.number is a 32-bit integer
MAX_ID = 2**63 - 1            # database ids are 64-bit
REDRAWABLE = ("new", "describe")   # first faces that can be drawn again in another style from their recipe
MAX_LINEAGE = 50   # steps walked back to find what words said about the current face's person
SAME_PERSON = ("edit", "pick", "remix")   # steps that keep who the face is (a morph or a new face does not)
# faces in a breeding array, by where it is shown (the terminal: as Telegram)
ARRAY_SIZES = {TELEGRAM: breeding.TELEGRAM_ARRAY, DISCORD: breeding.DISCORD_ARRAY, WEB: breeding.WEB_ARRAY}


@dataclass(frozen=True)
class Turn:
    """One incoming message or press, with who sent it and what we know about them."""
    incoming: Incoming
    user: UserRecord
    state: ChatStateRecord
    locale: str
    key: str                   # storage.models.owner_key of the sender
    photo_blob_id: int | None = None
    held: bool = False         # a message that waited for the face being drawn (see _chain)

    @property
    def tag(self) -> str:
        """The sender's payloads.owner_tag."""
        return self.key[:payloads.TAG_CHARS]

    def reply(self, key: str, *, kind: str = "message", buttons=(), **values: Any) -> Reply:
        return Reply(say(self.locale, key, **values), buttons=buttons, kind=kind)

    def error(self, key: str, **values: Any) -> list[Reply]:
        return [self.reply(key, kind="error", **values)]


class Refused(Exception):
    """A rule said no; carries the reply that says why."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def _locale_of(hint: str | None) -> str | None:
    if not hint:
        return None
    base = hint.lower().split("-")[0].split("_")[0]
    return base if base in c.LOCALES else None


MAX_HELD = 10   # messages kept while the first-use notice waits to be acknowledged (the latest ones)


# what applies to the current face: sent while a new one is being drawn, it waits for it
ON_CURRENT_FACE = (c.ShowCandidates, c.Pick, c.Morph, c.Remix, c.FreeTextEdit, c.Undo, c.Save, c.Breed)


def _waits_for_face(parsed: c.Parsed) -> bool:
    """Whether the message applies to the face being drawn, so waits for it. Words about a face
    may refine it (facegen.describe.intent.decide), unless they ask for a new face."""
    if isinstance(parsed, c.Describe | c.EditAttribute):
        return not parsed.request.new_face
    return isinstance(parsed, ON_CURRENT_FACE)


def _skipped_note(locale: str, words: Sequence[str] | None) -> str | None:
    """"(I skipped words I don't know: …)", or None when every word was understood."""
    return say(locale, "describe_unknown", words=", ".join(words)) if words else None


def _chained(pending: dict[str, Any]) -> list[str]:
    return list(pending.get("held") or []) if pending.get("kind") == "chain" else []


def _held(pending: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages waiting for the notice (a state written before several were kept holds one)."""
    if pending.get("kind") != "notice":
        return []
    held = pending.get("held") or []
    return [held] if isinstance(held, dict) else list(held)


class Conversation:
    def __init__(self, engine: AsyncEngine, *, default_backend: str = "montage", size: int = DEFAULT_SIZE,
                 user_job_cap: int = DEFAULT_USER_JOB_CAP, job_expiry_seconds: float = DEFAULT_EXPIRY_SECONDS,
                 default_locale: str = "ko", rng: random.Random | None = None, limits: Limits = Limits(),
                 moderators: Moderators = Moderators(), owner_secret: bytes | None = None,
                 web_url: str = "", rank_pool: int = RANK_POOL) -> None:
        """`owner_secret`: the server secret owner keys are HMACs under (storage.models.owner_key;
        `dreamface run` passes the web chat's key file). None: a random one for this object's
        life, so buttons sent before a restart stop matching. It also signs the web chat's login
        links, sent to `web_url` (DREAMFACE_WEB_PUBLIC_URL; empty: no links). `rank_pool`: the
        candidates a description is chosen from where the style's model reads its sentence
        (DREAMFACE_RANK_POOL; 1: no ranking)."""
        self.engine = engine
        self._owner_secret = owner_secret or secrets.token_bytes(32)
        self.web_url = web_url
        self.rank_pool = rank_pool
        self.limits = limits
        self.moderators = moderators
        self.sessions = session_factory(engine)
        self.styles = Styles(engine, default_backend)   # what workers serve: described, never loaded
        self.size = size
        self.default_locale = default_locale
        self.queue = Queue(engine, job_kinds(self.styles.find), user_job_cap=user_job_cap, expiry_seconds=job_expiry_seconds,
                           user_rate_per_minute=limits.user_rate_per_minute)
        self.presence = Presence(engine)
        self.progress = ProgressWording(engine, self.queue)
        self._rng = rng or random.SystemRandom()
        self._turn_locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()
        self._commands = {
            c.NewFace: self._new, c.Describe: self._about_face, c.ShowCandidates: self._show, c.Pick: self._pick,
            c.Morph: self._morph, c.Remix: self._remix, c.EditAttribute: self._about_face, c.Me: self._me,
            c.FreeTextEdit: self._free_text,
            c.Undo: self._undo, c.Redo: self._redo, c.History: self._history, c.BackTo: self._back_to,
            c.Save: self._save, c.Load: self._load, c.Cancel: self._cancel, c.Gallery: self._gallery,
            c.ChooseStyle: self._choose_style,
            c.SetLanguage: self._language, c.DeleteMyData: self._delete_ask, c.Confirm: self._confirm,
            c.Decline: self._decline, c.Help: self._help, c.Status: self._status, c.WebLogin: self._web_login,
            c.DescribeFace: self._describe_face,
            c.SmallTalk: self._small_talk,
            c.HideFace: self._hide, c.BanUser: self._ban,
            c.Breed: self._breed, c.Select: self._select, c.NextRound: self._next_round, c.Done: self._done,
            c.Lock: self._lock, c.StopBreeding: self._stop_breeding,
        }

    def owner_key(self, platform: str, platform_user_id: str) -> str:
        """storage.models.owner_key under this core's secret."""
        return owner_key(self._owner_secret, platform, platform_user_id)

    # --- the three entry points -------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """The immediate replies to one message or button press. One user's turns run one at a
        time in this process (a turn reads and writes the user's chat state in several steps);
        each user's messages reach one process (their websocket's, or the platform's poller)."""
        photo_problem = None if incoming.photo is None else await _photo_problem(incoming.photo)
        await self.styles.refresh()
        lock = self._turn_locks.setdefault((incoming.platform, incoming.user_id), asyncio.Lock())
        async with lock:
            return await self._handle(incoming, photo_problem)

    async def _handle(self, incoming: Incoming, photo_problem: PhotoError | None) -> list[Reply]:
        turn = await self._begin(incoming, keep_photo=photo_problem is None)
        if turn.user.banned and not self._erasing(turn):   # deleting one's data is always possible
            return turn.error("banned")
        if photo_problem is not None:   # expected bad input: one line, no stack
            log.info("refused a photo from user %s: %s (%s)", pseudonym(turn.user.id), photo_problem.code,
                     photo_problem.message)
            return turn.error(f"error_{photo_problem.code}")   # the photo was not stored
        try:
            if incoming.button is not None:
                return await self._press(turn, incoming.button)
            if not turn.state.notice_acknowledged:
                return await self._notice(turn)
            return await self._message(turn)
        except Refused as refusal:
            return turn.error(refusal.key, **refusal.values)

    async def render_delivery(self, delivery: DeliveryRecord) -> list[Reply]:
        """A job's result (an outbox delivery) as the user's localized replies: read in one
        transaction from the job's owner and what the delivery names (the face, or the sheet's
        face number and picture). After a face (or a failure to make one), the first message
        that waited for it runs (see _chain) and its replies follow."""
        payload = delivery.payload
        await self.styles.refresh()   # (a face's buttons offer the styles served now)
        async with self.sessions() as session, session.begin():
            repo = FaceRepository(session)
            user = None if delivery.job_id is None else await repo.job_owner(delivery.job_id)
            if user is None:
                return []   # the user's data was deleted meanwhile
            locale, key = user.locale, self.owner_key(user.platform, user.platform_user_id)
            if payload.get("type") == "sheet":
                face = await repo.get_face_by_number(user, payload["face_number"])   # drawn around it
                if face is None:
                    return [Reply(say(locale, "error_face_gone"), kind="error", job_id=delivery.job_id)]
                try:
                    image = await read_blob(session, delivery.picture)
                except BlobNotFound:
                    return [Reply(say(locale, "error_face_gone"), kind="error", job_id=delivery.job_id)]
                states = ChatStates(session)
                await states.update(user.id, last_set=ShownSet(face.id, face.number, payload["set"]))
                if payload["set"]["kind"] == "breed":   # with what was selected in it already
                    bred = (await states.get(user.id)).breeding
                    chosen = bred.chosen if bred.params == payload["set"] else ()
                    return [breed_reply(locale, key, face.number, payload["set"], chosen, image=image,
                                        job_id=delivery.job_id)]
                return [sheet_reply(locale, key, face.number, payload["set"], image, delivery.job_id,
                                    payload.get("likeness"))]
            made = await self._made_reply(session, locale, key, user, delivery)
            waiting = _chained((await ChatStates(session).get(user.id)).pending or {})
        return [made] + (await self._after_drawing(user, delivery) if waiting else [])

    async def _made_reply(self, session: AsyncSession, locale: str, key: str, user: UserRecord,
                          delivery: DeliveryRecord) -> Reply:
        """A face job's result: the face, or why it could not be made."""
        payload = delivery.payload
        if payload.get("type") == "face":
            face = await FaceRepository(session).get_face_by_id(payload["face_id"])
            if face is None or face.user_id != user.id:
                return Reply(say(locale, "error_face_gone"), kind="error", job_id=delivery.job_id)
            lead = _skipped_note(locale, face.params.get("skipped"))   # with the face, not only on the progress
            return await self._face_reply(session, locale, key, face, lead=lead, job_id=delivery.job_id)
        code = payload.get("code", "other")
        if code == "no_direction" and payload.get("values"):
            text = say(locale, "no_direction", **direction_values(locale, **payload["values"]))
            return Reply(text, kind="error", job_id=delivery.job_id)
        key = f"error_{code}" if f"error_{code}" in TEXTS else "error_other"
        return Reply(say(locale, key), kind="error", job_id=delivery.job_id)

    async def pending_jobs(self, platform: str, platform_user_id: str) -> list[int]:
        """The user's queued or running job ids (empty for an unknown user)."""
        async with self.sessions() as session, session.begin():
            user = await FaceRepository(session).get_or_create_user(platform, platform_user_id, self.default_locale)
            return await ChatStates(session).unfinished_jobs(user.id)

    async def restore(self, platform: str, platform_user_id: str) -> list[Reply]:
        """Where a returning user left off, for a chat page opened again (the web chat keeps no
        log of its own): the current face's nearest ancestors, oldest first, then the current face,
        each with its buttons. Empty for a user with no face (nobody is created by asking)."""
        await self.styles.refresh()
        async with self.sessions() as session, session.begin():
            repo = FaceRepository(session)
            user = await repo.find_user(platform, platform_user_id)
            face = None if user is None or user.banned else await repo.current_face(user)
            if face is None:
                return []
            chain = [face]
            while len(chain) < RESTORED_FACES and chain[-1].parent_number is not None:
                parent = await repo.get_face_by_number(user, chain[-1].parent_number)
                if parent is None:   # expired
                    break
                chain.append(parent)
            key = self.owner_key(platform, platform_user_id)
            replies = [await self._face_reply(session, user.locale, key, f) for f in reversed(chain)]
        chosen = {"locale": user.locale} if user.locale_chosen else {}   # the page speaks the language chosen
        return [Reply(say(user.locale, "restored"), kind="notice", extra=chosen), *replies]

    # --- a turn -------------------------------------------------------------------------------

    def _guess_locale(self, incoming: Incoming) -> str:
        """A new user's language (as in _begin: the script they wrote in, else the platform's hint)."""
        script = None if incoming.from_menu else locale_of_script(incoming.text)
        return script or _locale_of(incoming.locale) or self.default_locale

    async def _begin(self, incoming: Incoming, *, keep_photo: bool) -> Turn:
        hint = _locale_of(incoming.locale)
        async with self.sessions() as session, session.begin():
            repo, states = FaceRepository(session), ChatStates(session)
            key = self.owner_key(incoming.platform, incoming.user_id)
            where = None if incoming.platform != WEB or incoming.address is None else \
                address_key(WEB, incoming.address, self._owner_secret)   # for a block of a banned user's network
            user = await repo.get_or_create_user(incoming.platform, incoming.user_id, self._guess_locale(incoming),
                                                 incoming.display_name, owner_key=key, address_key=where)
            # the reply language: the user's choice ("lang en"), else the script of what they
            # wrote, else the platform's hint, else what it was
            wanted = (None if incoming.from_menu else locale_of_script(incoming.text)) or hint
            if wanted and not user.locale_chosen and user.locale != wanted:
                await states.set_locale(user.id, wanted, chosen=False)
                user = replace(user, locale=wanted)
            state = await states.get(user.id)
            keep_photo = keep_photo and incoming.photo is not None and not user.banned   # nor a banned user's
            photo = await add_blob(session, incoming.photo, "image/jpeg") if keep_photo else None
            if photo is not None:
                await keep_upload(session, photo, user.id)   # deleted once its job is done
        return Turn(incoming, user, state, user.locale, key, photo)

    def _erasing(self, turn: Turn) -> bool:
        """The message asks to delete the user's data, or answers that question."""
        asked = (turn.state.pending or {}).get("kind") == "delete"
        if turn.incoming.button is not None:
            try:
                press = payloads.decode(turn.incoming.button)
            except payloads.BadPayload:
                return False
            return asked and press.owner == turn.tag and press.verb in ("yes", "no")
        if turn.incoming.text is None:
            return False
        parsed = parse(turn.incoming.text, turn.locale)
        return isinstance(parsed, c.DeleteMyData) or (asked and isinstance(parsed, c.Confirm | c.Decline))

    async def _notice(self, turn: Turn) -> list[Reply]:
        """First use: the notice, once, until the user acknowledges it; the message waits."""
        pending = turn.state.pending or {}
        if pending.get("kind") == "notice" and turn.incoming.text is not None \
                and isinstance(parse(turn.incoming.text, turn.locale), c.Confirm):
            return await self._acknowledge(turn)
        held = _held(pending) + [{"text": turn.incoming.text, "photo_blob_id": turn.photo_blob_id}]
        async with self.sessions() as session, session.begin():
            await ChatStates(session).update(turn.user.id, pending={"kind": "notice", "held": held[-MAX_HELD:]})
        button = Button(say(turn.locale, "notice_button"), payloads.encode(turn.tag, "ack"))
        return [turn.reply("notice", buttons=((button,),))]

    async def _acknowledge(self, turn: Turn) -> list[Reply]:
        """The thanks, then every message that waited for the notice, in the order sent."""
        held = _held(turn.state.pending or {})
        async with self.sessions() as session, session.begin():
            await ChatStates(session).update(turn.user.id, pending=None, notice_acknowledged=True)
        replies = [turn.reply("notice_thanks")]
        state = replace(turn.state, pending=None, notice_acknowledged=True)
        for message in held:
            if not (message.get("text") or message.get("photo_blob_id")):
                continue
            later = replace(turn, incoming=replace(turn.incoming, text=message.get("text"), photo=None, button=None),
                            state=state, photo_blob_id=message.get("photo_blob_id"))
            try:
                replies += await self._message(later)
            except Refused as refusal:   # the thanks still goes out, then why this message can't run
                replies += later.error(refusal.key, **refusal.values)
            async with self.sessions() as session:   # the next one sees what this one changed
                state = await ChatStates(session).get(turn.user.id)
        return replies

    async def _message(self, turn: Turn) -> list[Reply]:
        if turn.photo_blob_id is not None:
            return await self._me(turn, c.Me())
        parsed = parse(turn.incoming.text or "", turn.locale)
        if isinstance(parsed, c.InvalidArgument):
            if parsed.intent in c.MODERATOR_INTENTS:
                self._check_moderator(turn)
            return turn.error(f"invalid_{parsed.reason}", value=parsed.value)
        if isinstance(parsed, c.NotUnderstood):
            key = {"unknown": "not_understood", "empty": "empty", "too_long": "too_long"}[parsed.reason]
            if parsed.unknown_words:
                key = "not_understood_words"
            return turn.error(key, suggestions=listing(turn.locale, list(parsed.suggestions)),
                              words=", ".join(parsed.unknown_words))
        if _waits_for_face(parsed) and not turn.held and await self._drawing(turn.user.id):
            return await self._chain(turn)
        return await self._commands[type(parsed)](turn, parsed)

    # --- messages that race: a change sent while the face it changes is still being drawn ------

    async def _drawing(self, user_id: int) -> bool:
        """Whether a job that makes the user's next current face is queued or running."""
        async with self.sessions() as session:
            return bool(await ChatStates(session).unfinished_jobs(user_id, kinds=(MAKE, PHOTO, TEXT)))

    async def _chain(self, turn: Turn) -> list[Reply]:
        """Hold the message until the face being drawn is done, then apply it to that face (the
        one the user's previous command makes), not to the old one on a side branch."""
        held = _chained(turn.state.pending or {}) + [turn.incoming.text]
        if len(held) > MAX_HELD:
            return turn.error("chain_full", max=MAX_HELD)
        async with self.sessions() as session, session.begin():
            await ChatStates(session).update(turn.user.id, pending={"kind": "chain", "held": held})
        return [turn.reply("chained")]

    async def _after_drawing(self, user: UserRecord, delivery: DeliveryRecord) -> list[Reply]:
        """When a face is done (or failed), the first message that waited for it runs; the
        next waits for the face that one makes, so they apply in the order sent."""
        lock = self._turn_locks.setdefault((user.platform, user.platform_user_id), asyncio.Lock())
        async with lock:
            async with self.sessions() as session, session.begin():
                states = ChatStates(session)
                state = await states.get(user.id)
                held = _chained(state.pending or {})
                if not held:
                    return []
                await states.update(user.id, pending={"kind": "chain", "held": held[1:]} if held[1:] else None)
            incoming = Incoming(platform=user.platform, user_id=user.platform_user_id, chat_id=delivery.chat_id,
                                target=delivery.target, text=held[0])
            turn = replace(await self._begin(incoming, keep_photo=False), held=True)
            try:
                return await self._message(turn)
            except Refused as refusal:
                return turn.error(refusal.key, **refusal.values)

    # --- jobs ---------------------------------------------------------------------------------

    def _seed(self) -> int:
        return self._rng.randrange(1_000_000)

    async def _enqueue(self, turn: Turn, kind: str, style: BackendInfo, lead: str | None = None,
                       **fields: Any) -> list[Reply]:
        """Queue a job for the model `style` describes (only its workers take it)."""
        payload = {"user_id": turn.user.id, "backend": style.name, "model": style.model_id, "size": self.size,
                   "reply_to": {"platform": turn.incoming.platform, "chat_id": turn.incoming.chat_id,
                                "target": turn.incoming.target, "process": turn.incoming.process}, **fields}
        incoming = turn.incoming
        crowd = self.limits.crowd(incoming.platform, incoming.address, incoming.group_id, self._owner_secret)
        try:
            job = await self.queue.enqueue(kind, payload, user_id=turn.user.id, crowd=crowd)
        except UserJobCapReached as exc:
            return turn.error("cap", limit=exc.limit)
        except CrowdJobCapReached as exc:
            log.info("%s cap of %d reached for user %s", exc.crowd.kind, exc.limit, pseudonym(turn.user.id))
            return turn.error(f"cap_{exc.crowd.kind}", limit=exc.limit)
        except UserRateLimited as exc:
            return turn.error("rate", limit=exc.limit)
        except JobRejected as exc:
            log.warning("job refused for user %s: %s", pseudonym(turn.user.id), exc)
            return turn.error("rejected", reason=str(exc))
        if kind != SHEET and turn.state.redo:
            async with self.sessions() as session, session.begin():   # a new step forgets what was undone
                await ChatStates(session).update(turn.user.id, redo=())
        return [Reply("\n".join(filter(None, (await self._progress_text(turn.locale, job.id), lead))),
                      kind="progress", job_id=job.id)]

    async def _progress_text(self, locale: str, job_id: int) -> str:
        return await self.progress.in_line(await self.queue.get(job_id), locale)

    async def job_progress(self, job_ids: Sequence[int]) -> dict[int, Reply | None]:
        """The current progress reply of each job (None: finished), worded as the first one was."""
        return await self.progress.replies(job_ids)

    # --- resolving faces: the sender's own, or the gallery's --------------------------------

    def _style_of(self, face: FaceRecord) -> BackendInfo:
        """The model a face was made by: every later step of it runs there. A face a moderator
        hid has no later steps: building on it would make a visible near-copy."""
        if face.hidden:
            raise Refused("hidden_face", number=face.number)
        style = self.styles.find(face.backend, face.checkpoint_id)
        if style is None:
            raise Refused("style_gone", number=face.number, model=face.checkpoint_id)
        return style

    def _face_style_name(self, locale: str, face: FaceRecord, beside: FaceRecord | None = None) -> str:
        """What people call the style a face was drawn in; with its model's id where `beside`,
        a face of another model, would be called the same."""
        def named(f: FaceRecord) -> str:
            style = self.styles.find(f.backend, f.checkpoint_id)
            return style_label(locale, style) if style is not None else style_name(locale, f.backend)
        name = named(face)
        if beside is not None and named(beside) == name:
            return f"{name} ({face.checkpoint_id})"
        return name

    def _new_face_style(self, turn: Turn) -> BackendInfo:
        """The style the user chose for new faces, else the default."""
        style = self.styles.for_new_faces(turn.state.style)
        if style is None:
            raise Refused("style_unavailable", style=style_name(turn.locale, self.styles.default_backend))
        return style

    async def _own_face(self, turn: Turn, number: int) -> FaceRecord:
        if not 1 <= number <= MAX_FACE_NUMBER:   # beyond the column's range: no such face, and no query
            raise Refused("no_face_number", number=number)
        async with self.sessions() as session:
            face = await FaceRepository(session).get_face_by_number(turn.user, number)
        if face is None:
            raise Refused("no_face_number", number=number)
        return face

    async def _current(self, turn: Turn, missing: str = "need_face") -> FaceRecord:
        face = await self._current_or_none(turn)
        if face is None:
            raise Refused(missing)
        return face

    async def _current_or_none(self, turn: Turn) -> FaceRecord | None:
        async with self.sessions() as session:
            return await FaceRepository(session).current_face(turn.user)

    async def _new_face_params(self, turn: Turn, params: dict[str, Any]) -> dict[str, Any]:
        """A new face's recipe with the face current now, where undo goes back to."""
        face = await self._current_or_none(turn)
        return params if face is None else {**params, "previous": face.id}

    async def _known_person(self, turn: Turn, face: FaceRecord) -> Identity:
        """Who the face is, as far as words said (facegen.describe.intent.Identity): the
        description its history started from, changed by the edits since. A random face, a
        photo or a morph says nothing."""
        edits: list[list[Edit]] = []
        async with self.sessions() as session:
            repo = FaceRepository(session)
            for _ in range(MAX_LINEAGE):
                if face.operation == "describe":
                    known = identity_of(face.params.get("attributes") or {})
                    break
                if face.operation not in SAME_PERSON or face.parent_id is None:
                    known = Identity()
                    break
                if face.operation == "edit":
                    edits.append([Edit(e["field"], e.get("amount") or 0.0, e.get("value"))
                                  for e in face.params["edits"]])
                parent = await repo.get_face_by_id(face.parent_id)
                if parent is None or parent.user_id != turn.user.id:
                    known = Identity()
                    break
                face = parent
            else:
                known = Identity()
        for step in reversed(edits):
            known = identity_after(known, step)
        return known

    async def _gallery_entries(self) -> list[GalleryEntryRecord]:
        async with self.sessions() as session:
            return await GalleryRepository(session).entries()

    def _check_words(self, turn: Turn, text: str) -> None:
        """The blocklist, on the words as parsed and as typed (the grammar reads a zero-width
        space as a space; the blocklist ignores it)."""
        if self.limits.blocklist.blocks(text) or self.limits.blocklist.blocks(turn.incoming.text or ""):
            raise Refused("blocked")

    # --- making faces -------------------------------------------------------------------------

    async def _new(self, turn: Turn, cmd: c.NewFace) -> list[Reply]:
        if cmd.seed is not None and cmd.seed > MAX_SEED:
            raise Refused("seed_too_big", max=MAX_SEED, seed=cmd.seed)
        seed = self._seed() if cmd.seed is None else cmd.seed
        params = await self._new_face_params(turn, {"seed": seed})
        return await self._enqueue(turn, MAKE, self._new_face_style(turn), operation="new", params=params)

    async def _about_face(self, turn: Turn, cmd: c.Describe | c.EditAttribute) -> list[Reply]:
        """Words about a face: a new face, or a refinement of the current one, as
        facegen.describe.intent.decide says knowing who the current face is."""
        face = await self._current_or_none(turn)
        decision = decide(cmd.request, None if face is None else await self._known_person(turn, face))
        if face is None or isinstance(decision, NewDescribedFace):
            return await self._describe(turn, cmd.request)
        if self._array_in_front(turn):   # a whole-face scale ("older"): every face of the array
            return await self._adjust_array(turn, decision.edits, cmd.request)
        return await self._refine(turn, face, decision.edits, cmd.request)

    async def _describe(self, turn: Turn, request: Request) -> list[Reply]:
        lead = _skipped_note(turn.locale, request.skipped)
        style = self._new_face_style(turn)
        unapplied = style.unapplied(request.description.attributes)
        if unapplied:   # a model that cannot show some of the words (a checkpoint without those directions)
            names = listing(turn.locale, [attribute_name(turn.locale, a) for a in unapplied])
            lead = "\n".join(filter(None, [lead, say(turn.locale, "describe_unapplied", attributes=names)]))
        self._check_words(turn, request.text)
        params = {"text": request.text[:MAX_TEXT_CHARS], "attributes": request.description.attributes.specified(),
                  "seed": self._seed(), "skipped": request.skipped}
        if self.rank_pool > 1 and style.reads(request.text):   # the candidates nearest the whole sentence
            params["rank"] = self.rank_pool
        return await self._enqueue(turn, MAKE, style, lead, operation="describe",
                                   params=await self._new_face_params(turn, params))

    async def _show(self, turn: Turn, cmd: c.ShowCandidates) -> list[Reply]:
        return await self._sheet(turn, await self._current(turn), cmd.region)

    async def _sheet(self, turn: Turn, face: FaceRecord, region: str | None) -> list[Reply]:
        style = self._style_of(face)
        if region == payloads.RANKED_SHEET:   # a ranked description's runners-up (its button only)
            params = ranked_set(face.params)
            if params is None:
                raise Refused("bad_button")
        elif region is None:
            params = {"kind": "variations", "n": GRID_SIZE, "strength": VARIATION_STRENGTH, "seed": self._seed()}
        elif region in style.regions:
            params = {"kind": "region", "region": region, "n": GRID_SIZE, "seed": self._seed()}
        else:
            raise Refused("unknown_region", region=region,
                          regions=", ".join(region_name(turn.locale, r) for r in style.regions))
        return await self._enqueue(turn, SHEET, style, face_id=face.id, set=params)

    async def _pick(self, turn: Turn, cmd: c.Pick) -> list[Reply]:
        if cmd.region is None and self._array_in_front(turn):   # "3" in a breeding array selects it
            return await self._select(turn, c.Select((cmd.number,)))
        shown = turn.state.last_set
        if shown is None:
            raise Refused("no_set")
        params = shown.params
        if cmd.region is not None and params.get("region") != cmd.region:
            shown_what = region_name(turn.locale, params["region"]) if params["kind"] == "region" \
                else say(turn.locale, f"what_{params['kind']}")
            raise Refused("set_mismatch", shown=shown_what, asked=region_name(turn.locale, cmd.region))
        async with self.sessions() as session:
            face = await FaceRepository(session).get_face_by_id(shown.face_id)
        if face is None or face.user_id != turn.user.id:
            raise Refused("no_set")
        return await self._pick_from(turn, face, params, cmd.number)

    async def _pick_from(self, turn: Turn, face: FaceRecord, params: dict, number: int) -> list[Reply]:
        style = self._style_of(face)
        if number > params["n"]:
            raise Refused("pick_range", n=params["n"], number=number)
        return await self._enqueue(turn, MAKE, style, operation="pick", parent_id=face.id,
                                   params={"set": params, "number": number})

    async def _morph(self, turn: Turn, cmd: c.Morph) -> list[Reply]:
        if isinstance(cmd.target, c.GalleryName):
            self._check_words(turn, cmd.target.name)
        async with self.sessions() as session:
            me = await FaceRepository(session).morph_base(await self._current(turn, missing="need_photo"))
        entry = None
        if isinstance(cmd.target, c.FaceRef):
            other = await self._own_face(turn, cmd.target.number)
            if other.hidden:
                raise Refused("hidden_face", number=other.number)
            if (other.backend, other.checkpoint_id) != (me.backend, me.checkpoint_id):
                raise Refused("mixed_backends", number=other.number, backend=self._face_style_name(turn.locale, other, me),
                              current_number=me.number, current=self._face_style_name(turn.locale, me, other))
            other_id = other.id
        else:
            entries = await self._gallery_entries()
            found = match_name(cmd.target.name, entries)
            if found.entry is None:
                if found.suggestions:
                    raise Refused("gallery_maybe", name=cmd.target.name, names=", ".join(found.suggestions))
                raise Refused("gallery_unknown", name=cmd.target.name)
            entry = found.entry
            if not entry.available_for(me.backend, me.checkpoint_id):   # an old photo entry, its photo not kept
                style = self._style_of(me)
                raise Refused("gallery_other_backend", name=display_name(entry, turn.locale),
                              style=style_label(turn.locale, style))
            other_id = entry.face_for(me.backend, me.checkpoint_id)   # None: the worker fits the entry first
        ratio = DEFAULT_RATIO if cmd.ratio is None else cmd.ratio
        return await self._morph_faces(turn, me, other_id, ratio, cmd.mode, entry)

    async def _morph_faces(self, turn: Turn, me: FaceRecord, other_id: int | None, ratio: float, mode: str,
                           entry: GalleryEntryRecord | None) -> list[Reply]:
        """Morph `me` with the face `other_id`, or, where that is None, with the gallery `entry`
        once the worker has fitted it for me's model."""
        other = {"other_id": other_id} if other_id is not None else {"gallery_entry_id": entry.id}
        replies = await self._enqueue(turn, MAKE, self._style_of(me), operation="morph", parent_id=me.id, **other,
                                      params={"ratio": ratio, "mode": mode})
        if entry is not None and not entry.fictional and replies[0].kind == "progress":
            async with self.sessions() as session, session.begin():
                await log_real_person_morph(session, turn.user.id, entry, job_id=replies[0].job_id)
        return replies

    async def _remix(self, turn: Turn, cmd: c.Remix) -> list[Reply]:
        count = REMIX_SIZE if cmd.count is None else cmd.count
        if count > MAX_SET_SIZE:
            raise Refused("count_too_big", max=MAX_SET_SIZE, count=count)
        face = await self._current(turn)
        return await self._remix_set(turn, face, cmd.layers or "fine", count)

    async def _remix_set(self, turn: Turn, face: FaceRecord, layers: str, count: int) -> list[Reply]:
        params = {"kind": "remix", "layers": layers, "n": count, "seed": self._seed()}
        return await self._enqueue(turn, SHEET, self._style_of(face), face_id=face.id, set=params)

    async def _refine(self, turn: Turn, face: FaceRecord, edits: Sequence[Edit], request: Request) -> list[Reply]:
        """Every edit the message asks for, as one step on the current face (one undo goes back)."""
        style = self._edits_allowed(turn, face, edits, request)
        params = {"edits": [{"field": e.field, "amount": e.amount, "value": e.value} for e in edits],
                  "skipped": request.skipped}
        return await self._enqueue(turn, MAKE, style, _skipped_note(turn.locale, request.skipped), operation="edit",
                                   parent_id=face.id, params=params)

    def _edits_allowed(self, turn: Turn, face: FaceRecord, edits: Sequence[Edit], request: Request) -> BackendInfo:
        """The model that makes the edits, once it is clear it can; raises Refused saying why not."""
        if not edits:   # words about the face, but none this chat can draw yet ("handsome")
            note = _skipped_note(turn.locale, request.skipped)
            raise Refused("nothing_to_change", number=face.number, skipped=f"\n{note}" if note else "")
        if len(edits) > MAX_EDITS:
            raise Refused("too_many_edits", max=MAX_EDITS)
        style = self._style_of(face)
        missing = style.missing_edits(edits)
        if missing:   # said now, not after a job: this model cannot change it
            raise Refused("no_direction", **direction_values(turn.locale, missing[0], list(style.edits)))
        self._check_words(turn, request.text)
        return style

    # --- free-text edits (issue #17): a slow job, only where the face's model reads the words ----

    async def _free_text(self, turn: Turn, cmd: c.FreeTextEdit) -> list[Reply]:
        return await self._free_text_on(turn, await self._current(turn), cmd.text)

    async def _free_text_on(self, turn: Turn, face: FaceRecord, text: str) -> list[Reply]:
        """A free-text edit of `face` on the slow queue; its worker fills in the steps
        (DREAMFACE_TEXT_EDIT_STEPS) and reports progress like a photo's fit."""
        self._check_words(turn, text)
        style = self._style_of(face)
        if not style.text_edit_languages:   # a drawn style, or a photoreal one without a text model
            raise Refused("free_text_unavailable")
        if not style.reads(text):
            other = style.text_edit_languages[0]
            raise Refused("free_text_language", language=say(turn.locale, f"language_{text_language(text)}"),
                          other=say(turn.locale, f"language_{other}"), example=EXAMPLES["free_text"][other][0])
        return await self._enqueue(turn, TEXT, style, operation="text", parent_id=face.id,
                                   params={"text": text[:MAX_TEXT_CHARS]})

    def _free_text_offer(self, face: FaceRecord) -> str | None:
        """The words a described or edited face skipped, where its model could take them as a
        free-text edit (a button offers them; nothing slow starts for a typo until it is pressed)."""
        words = " ".join(face.params.get("skipped") or ())[:MAX_TEXT_CHARS]
        style = self.styles.find(face.backend, face.checkpoint_id)
        if not words or style is None or face.hidden or not style.reads(words) or self.limits.blocklist.blocks(words):
            return None
        return words

    async def _me(self, turn: Turn, cmd: c.Me) -> list[Reply]:
        if turn.photo_blob_id is None:
            raise Refused("need_photo")
        replies = await self._enqueue(turn, PHOTO, self._new_face_style(turn), operation="photo",
                                      photo_blob_id=turn.photo_blob_id,
                                      params=await self._new_face_params(turn, {"seed": self._seed()}))
        async with self.sessions() as session, session.begin():
            if replies[0].job_id is not None:
                await attach_upload(session, turn.photo_blob_id, replies[0].job_id)
            else:   # refused (cap, rate): the photo has no job to serve, so it is not kept
                await drop_upload(session, turn.photo_blob_id)
        return replies

    # --- breeding (issue #21): select several faces of an array, breed the next array ------------
    # The array is a candidate set of kind "breed" (facegen.breeding) drawn around the face
    # breeding started from (the anchor); the chat state keeps the round shown last, the faces
    # selected in it and the locks (storage.chat_state.Breeding). Nothing else is stored: "done"
    # is a pick from the round, whose parameters nest every round before it.

    def _array_in_front(self, turn: Turn) -> bool:
        """Whether the breeding array is the set the user sees last (no grid shown since), so a
        bare number selects in it, "undo" goes back a round and "older" changes every face."""
        shown = turn.state.last_set
        return turn.state.breeding.live and shown is not None and shown.params.get("kind") == "breed"

    def _breeding(self, turn: Turn) -> Breeding:
        if not turn.state.breeding.live:
            raise Refused("not_breeding")
        return turn.state.breeding

    async def _anchor(self, turn: Turn, bred: Breeding) -> FaceRecord:
        """The face the array is bred around."""
        async with self.sessions() as session:
            face = await FaceRepository(session).get_face_by_id(bred.face_id)
        if face is None or face.user_id != turn.user.id:
            raise Refused("error_face_gone")
        return face

    def _chosen(self, bred: Breeding, numbers: Sequence[int]) -> tuple[int, ...]:
        """Numbers selected in the array, checked against its size and the most that breed."""
        n = bred.params["n"]
        wrong = next((k for k in numbers if not 1 <= k <= n), None)
        if wrong is not None:
            raise Refused("pick_range", n=n, number=wrong)
        if len(numbers) > breeding.MAX_PARENTS:
            raise Refused("breed_too_many", max=breeding.MAX_PARENTS)
        return tuple(numbers)

    async def _show_array(self, turn: Turn, anchor: FaceRecord, params: dict[str, Any], chosen: Sequence[int] = (),
                          lead: str | None = None) -> list[Reply]:
        """Draw a round of the array (a sheet job) and make it the one the chat state follows; it is
        the set shown last at once, so a number typed before its picture arrives selects in it."""
        style = self._style_of(anchor)
        try:
            params = clean_set(params, style)   # as the job stores it, so its round token is the same
        except RecipeError as exc:
            log.info("a breeding round for user %s was refused: %s", pseudonym(turn.user.id), exc)
            return turn.error("rejected", reason=str(exc))
        replies = await self._enqueue(turn, SHEET, style, lead, face_id=anchor.id, set=params)
        if replies[0].kind == "progress":
            async with self.sessions() as session, session.begin():
                await ChatStates(session).update(
                    turn.user.id, last_set=ShownSet(anchor.id, anchor.number, params),
                    breeding=Breeding(anchor.id, anchor.number, params, tuple(chosen), tuple(params["locks"])))
        return replies

    async def _remember(self, turn: Turn, bred: Breeding) -> None:
        async with self.sessions() as session, session.begin():
            await ChatStates(session).update(turn.user.id, breeding=bred)

    def _array_reply(self, turn: Turn, bred: Breeding, kind: str = "message") -> Reply:
        """The array's words and buttons again (no picture): after a selection, or "update" for
        the message whose toggle was pressed."""
        return breed_reply(turn.locale, turn.key, bred.face_number, bred.params, bred.chosen, kind=kind)

    async def _breed(self, turn: Turn, cmd: c.Breed) -> list[Reply]:
        """An array around the current face, with the regions locked before. Breeding this face
        already: with faces selected, the next array; else the array's words again."""
        face = await self._current(turn)
        bred = turn.state.breeding
        if bred.live and bred.face_id == face.id:
            if bred.chosen:
                return await self._next_round(turn, c.NextRound())
            return [self._array_reply(turn, bred)]
        style = self._style_of(face)
        locks = tuple(r for r in bred.locks if r in style.regions)
        size = ARRAY_SIZES.get(turn.incoming.platform, breeding.TELEGRAM_ARRAY)
        lead = None if not locks else say(turn.locale, "breed_locks_kept", regions=self._regions_text(turn, locks))
        return await self._show_array(turn, face, breeding.first_round(size, self._seed(), locks=locks), lead=lead)

    async def _select(self, turn: Turn, cmd: c.Select) -> list[Reply]:
        bred = self._breeding(turn)
        bred = replace(bred, chosen=self._chosen(bred, cmd.numbers))
        await self._remember(turn, bred)
        return [self._array_reply(turn, bred)]

    async def _next_round(self, turn: Turn, cmd: c.NextRound) -> list[Reply]:
        bred = self._breeding(turn)
        chosen = self._chosen(bred, cmd.numbers) if cmd.numbers else bred.chosen
        if not chosen:
            raise Refused("breed_choose_first")
        if bred.params["round"] >= breeding.MAX_ROUNDS:
            raise Refused("breed_last_round", max=breeding.MAX_ROUNDS)
        params = breeding.next_round(bred.params, chosen, self._seed())
        return await self._show_array(turn, await self._anchor(turn, bred), params)

    async def _done(self, turn: Turn, cmd: c.Done) -> list[Reply]:
        """The face chosen becomes the current face: a pick from the round (its parent the anchor)."""
        bred = self._breeding(turn)
        number = cmd.number if cmd.number is not None else (bred.chosen[0] if bred.chosen else None)
        if number is None:
            raise Refused("breed_done_which")
        replies = await self._pick_from(turn, await self._anchor(turn, bred), bred.params, number)
        if replies[0].kind == "progress":
            await self._remember(turn, Breeding(locks=bred.locks))   # over; its locks stay for the next one
        return replies

    async def _lock(self, turn: Turn, cmd: c.Lock) -> list[Reply]:
        """Lock or unlock regions: the array shown is drawn again with every face taking the
        locked regions from face 1; not breeding, they are kept for the next array."""
        bred = turn.state.breeding
        face = await self._anchor(turn, bred) if bred.live else await self._current(turn)
        style = self._style_of(face)
        unknown = next((r for r in cmd.regions if r not in style.regions), None)
        if unknown is not None:
            raise Refused("unknown_region", region=region_name(turn.locale, unknown),
                          regions=", ".join(region_name(turn.locale, r) for r in style.regions))
        if cmd.locked:
            locks, key = tuple(dict.fromkeys((*bred.locks, *cmd.regions))), "breed_locked"
        else:
            locks = tuple(r for r in bred.locks if cmd.regions and r not in cmd.regions)
            key = "breed_unlocked" if cmd.regions else "breed_unlocked_all"
        said = say(turn.locale, key, regions=self._regions_text(turn, cmd.regions))
        if not bred.live:
            await self._remember(turn, replace(bred, locks=locks))
            return [Reply(say(turn.locale, "breed_lock_later", regions=self._regions_text(turn, locks))
                          if cmd.locked else said)]
        if locks == bred.locks:   # nothing changes: no new array
            return [Reply(said)]
        return await self._show_array(turn, face, breeding.adjust(bred.params, locks=locks), bred.chosen, said)

    def _regions_text(self, turn: Turn, regions: Sequence[str]) -> str:
        return ", ".join(region_name(turn.locale, r) for r in regions)

    async def _adjust_array(self, turn: Turn, edits: Sequence[Edit], request: Request) -> list[Reply]:
        """A whole-face scale ("older", "friendlier") on every face of the array shown."""
        bred = self._breeding(turn)
        anchor = await self._anchor(turn, bred)
        self._edits_allowed(turn, anchor, edits, request)
        params = breeding.adjust(bred.params, edits=edits)
        if len(params["edits"]) > MAX_EDITS:
            raise Refused("too_many_edits", max=MAX_EDITS)
        changes = ", ".join(change_text(turn.locale, e) for e in params["edits"][len(bred.params["edits"]):])
        return await self._show_array(turn, anchor, params, bred.chosen,
                                      say(turn.locale, "breed_adjusted", changes=changes))

    async def _previous_array(self, turn: Turn) -> list[Reply]:
        """Undo while breeding: the round before, with what was selected in it; before round 1,
        breeding stops."""
        bred = self._breeding(turn)
        previous = bred.params["previous"]
        if previous is None:
            return await self._stop_breeding(turn, c.StopBreeding())
        return await self._show_array(turn, await self._anchor(turn, bred), previous, bred.params["chosen"],
                                      say(turn.locale, "breed_back", round=previous["round"]))

    async def _stop_breeding(self, turn: Turn, cmd: c.StopBreeding) -> list[Reply]:
        bred = self._breeding(turn)
        await self._remember(turn, Breeding(locks=bred.locks))
        face = await self._current_or_none(turn)
        return [turn.reply("breed_stopped", number=bred.face_number if face is None else face.number)]

    async def _array_pressed(self, turn: Turn, face: FaceRecord, press: payloads.Press) -> list[Reply]:
        """A breeding array's button: only the array shown last answers (its round token); a
        toggle or a menu's choice changes the selection on the message pressed."""
        bred = turn.state.breeding
        if not bred.live or bred.face_id != face.id or payloads.round_token(bred.params) != press.token:
            raise Refused("breed_stale")
        if press.verb in ("bt", "bm"):
            if press.verb == "bt":
                chosen = tuple(k for k in bred.chosen if k != press.value)
                chosen = chosen if len(chosen) < len(bred.chosen) else (*bred.chosen, press.value)
            else:
                chosen = press.numbers
            bred = replace(bred, chosen=self._chosen(bred, chosen))
            await self._remember(turn, bred)
            return [self._array_reply(turn, bred, kind="update")]
        if press.verb == "bn":
            return await self._next_round(turn, c.NextRound())
        if press.verb == "bd":
            return await self._done(turn, c.Done())
        return await self._stop_breeding(turn, c.StopBreeding())

    # --- history --------------------------------------------------------------------------------

    async def _go_to(self, turn: Turn, face: FaceRecord, lead_key: str, redo: tuple[int, ...]) -> list[Reply]:
        async with self.sessions() as session, session.begin():
            await FaceRepository(session).set_current_face(turn.user, face)
            await ChatStates(session).update(turn.user.id, redo=redo)
            return [await self._face_reply(session, turn.locale, turn.key, face,
                                           lead=say(turn.locale, lead_key, number=face.number))]

    async def _undo_from(self, turn: Turn, face: FaceRecord) -> list[Reply]:
        """Back to the face before: the parent of a step, or the face that was current when a
        new face was asked for."""
        before = face.parent_id if face.parent_id is not None else face.params.get("previous")
        async with self.sessions() as session:
            found = None if before is None else await FaceRepository(session).get_face_by_id(before)
        if found is None or found.user_id != turn.user.id:
            raise Refused("nothing_to_undo", number=face.number)
        return await self._go_to(turn, found, "undone", (*turn.state.redo, face.id))

    async def _undo(self, turn: Turn, cmd: c.Undo) -> list[Reply]:
        if self._array_in_front(turn):
            return await self._previous_array(turn)
        return await self._undo_from(turn, await self._current(turn))

    async def _redo(self, turn: Turn, cmd: c.Redo) -> list[Reply]:
        stack = list(turn.state.redo)
        face = None
        async with self.sessions() as session:
            repo = FaceRepository(session)
            while stack and face is None:
                found = await repo.get_face_by_id(stack.pop())
                face = found if found is not None and found.user_id == turn.user.id else None
        if face is None:
            raise Refused("nothing_to_redo")
        return await self._go_to(turn, face, "redone", tuple(stack))

    async def _back_to(self, turn: Turn, cmd: c.BackTo) -> list[Reply]:
        return await self._go_to(turn, await self._own_face(turn, cmd.number), "now_on", ())

    async def _history(self, turn: Turn, cmd: c.History) -> list[Reply]:
        """The recent faces as lines, a contact sheet and a button each (render.history_reply)."""
        async with self.sessions() as session:
            repo, gallery = FaceRepository(session), GalleryRepository(session)
            faces = await repo.history(turn.user, limit=HISTORY_FACES)
            current = await repo.current_face(turn.user)
            names = await ChatStates(session).saved_names(turn.user.id)
            entries = {f.id: entry for f in faces if f.operation == "morph" and f.other_parent_id is not None
                       and (entry := await gallery.entry_for_face(f.other_parent_id)) is not None}
            pictures = [None if image is None else image.data for image in [await repo.face_image(f) for f in faces]]
        if not faces:
            return [turn.reply("history_empty")]
        sheet, thumbnails = await asyncio.to_thread(_history_pictures, pictures, [f"#{f.number}" for f in faces])
        return [history_reply(turn.locale, turn.key, faces, None if current is None else current.id, entries, names,
                              sheet, thumbnails)]

    async def _save(self, turn: Turn, cmd: c.Save) -> list[Reply]:
        self._check_words(turn, cmd.name)
        face = await self._current(turn)
        async with self.sessions() as session, session.begin():
            await ChatStates(session).save_name(turn.user.id, cmd.name, face.id)
        return [turn.reply("saved", number=face.number, name=cmd.name)]

    async def _load(self, turn: Turn, cmd: c.Load) -> list[Reply]:
        async with self.sessions() as session:
            face_id = await ChatStates(session).saved_face_id(turn.user.id, cmd.name)
            face = None if face_id is None else await FaceRepository(session).get_face_by_id(face_id)
        if face is None or face.user_id != turn.user.id:
            raise Refused("no_saved", name=cmd.name)
        replies = await self._go_to(turn, face, "now_on", ())
        return [replace(replies[0], text=say(turn.locale, "loaded", name=cmd.name, number=face.number)
                        + "\n" + replies[0].text.split("\n", 1)[-1])]

    # --- everything else --------------------------------------------------------------------------

    async def _cancel(self, turn: Turn, cmd: c.Cancel) -> list[Reply]:
        count = await self._cancel_all(turn.user.id)
        return [turn.reply("cancelled", count=count) if count else turn.reply("nothing_waiting")]

    async def _cancel_all(self, user_id: int, why: str = "cancelled by the user") -> int:
        return await self.queue.cancel_user_jobs(user_id, why)

    async def _gallery(self, turn: Turn, cmd: c.Gallery) -> list[Reply]:
        async with self.sessions() as session:
            face = await FaceRepository(session).current_face(turn.user)
        style = self.styles.for_new_faces() if face is None else self.styles.find(face.backend, face.checkpoint_id)
        entries = [e for e in await self._gallery_entries()
                   if style is not None and e.available_for(style.name, style.model_id)]
        if not entries:
            return [turn.reply("gallery_empty")]
        pictures: list[bytes | None] = []
        async with self.sessions() as session:   # each entry's face in this style, else in any other
            repo = FaceRepository(session)
            for e in entries:
                face_id = e.face_for(style.name, style.model_id) or next(iter(e.faces.values()), None)
                face = None if face_id is None else await repo.get_face_by_id(face_id)
                image = None if face is None else await repo.face_image(face)
                pictures.append(None if image is None else image.data)
        return [gallery_reply(turn.locale, turn.key, entries, await asyncio.to_thread(gallery_sheet, pictures))]

    async def _language(self, turn: Turn, cmd: c.SetLanguage) -> list[Reply]:
        async with self.sessions() as session, session.begin():
            await ChatStates(session).set_locale(turn.user.id, cmd.locale, chosen=True)
        return [Reply(say(cmd.locale, "language_set"), extra={"locale": cmd.locale})]   # the web page follows

    async def _delete_ask(self, turn: Turn, cmd: c.DeleteMyData) -> list[Reply]:
        async with self.sessions() as session, session.begin():
            await ChatStates(session).update(turn.user.id, pending={"kind": "delete"})
        buttons = ((Button(say(turn.locale, "yes"), payloads.encode(turn.tag, "yes")),
                    Button(say(turn.locale, "no"), payloads.encode(turn.tag, "no"))),)
        return [turn.reply("delete_ask", buttons=buttons)]

    async def _confirm(self, turn: Turn, cmd: c.Confirm) -> list[Reply]:
        if (turn.state.pending or {}).get("kind") != "delete":
            return []   # a bare "yes" with nothing asked
        await self._cancel_all(turn.user.id)
        async with self.sessions() as session, session.begin():
            deleted = await erase_user(session, turn.user, reason="the user deleted their data from the chat")
        return [turn.reply("delete_done", faces=deleted.faces, images=deleted.images)]

    async def _decline(self, turn: Turn, cmd: c.Decline) -> list[Reply]:
        if (turn.state.pending or {}).get("kind") != "delete":
            return []
        async with self.sessions() as session, session.begin():
            await ChatStates(session).update(turn.user.id, pending=None)
        return [turn.reply("delete_kept")]

    async def _help(self, turn: Turn, cmd: c.Help) -> list[Reply]:
        choices = self.styles.choices()
        if len(choices) < 2:
            return [turn.reply("help")]
        names = [style_label(turn.locale, style) for style in choices]
        text = "\n".join((say(turn.locale, "help"),
                          say(turn.locale, "help_styles", choices=", ".join(names), example=names[-1])))
        return [Reply(text, buttons=self._style_buttons(turn, choices))]

    # --- styles -------------------------------------------------------------------------------

    def _style_buttons(self, turn: Turn, choices: list[BackendInfo]) -> tuple[tuple[Button, ...], ...]:
        """One button per style; the one new faces get now is ticked."""
        now = self.styles.for_new_faces(turn.state.style)
        return (tuple(Button(("✓ " if style == now else "") + style_label(turn.locale, style),
                             payloads.encode(turn.tag, "st", 0, style_code(style))) for style in choices),)

    async def _choose_style(self, turn: Turn, cmd: c.ChooseStyle) -> list[Reply]:
        choices = self.styles.choices()
        now = self.styles.for_new_faces(turn.state.style)
        if cmd.name is None:
            if len(choices) < 2:
                return [turn.reply("style_only", style=style_label(turn.locale, now) if now else
                                   style_name(turn.locale, self.styles.default_backend))]
            return [turn.reply("style_list", current=style_label(turn.locale, now) if now else "-",
                               buttons=self._style_buttons(turn, choices))]
        style = _style_named(turn.locale, choices, cmd)
        if style is None:
            raise Refused("style_unknown", name=cmd.name,
                          choices=listing(turn.locale, [style_label(turn.locale, s) for s in choices]))
        await self._remember_style(turn, style)
        return [turn.reply("style_set", style=style_label(turn.locale, style))]

    async def _remember_style(self, turn: Turn, style: BackendInfo) -> None:
        async with self.sessions() as session, session.begin():
            await ChatStates(session).update(turn.user.id, style=route_of(style.name, style.model_id))

    async def _style_pressed(self, turn: Turn, press: payloads.Press) -> list[Reply]:
        """A style button: from the list, choose it; on a face, also draw that face again in it."""
        style = self.styles.by_code(press.style)
        if style is None:
            raise Refused("style_button_gone", choices=listing(
                turn.locale, [style_label(turn.locale, s) for s in self.styles.choices()]))
        await self._remember_style(turn, style)
        if press.face == 0:
            return [turn.reply("style_set", style=style_label(turn.locale, style))]
        face = await self._own_face(turn, press.face)
        if face.parent_id is not None or face.operation not in REDRAWABLE:
            return turn.error("bad_button")
        lead = say(turn.locale, "style_redraw", style=style_label(turn.locale, style))
        recipe = {k: v for k, v in face.params.items() if k not in ("skipped", "previous")}
        return await self._enqueue(turn, MAKE, style, lead, operation=face.operation,
                                   params=await self._new_face_params(turn, recipe))

    def _redraw_in(self, locale: str, face: FaceRecord) -> list[tuple[str, str]]:
        """The other styles a first face (a new or described one) can be drawn in again."""
        if face.parent_id is not None or face.operation not in REDRAWABLE:
            return []
        choices = self.styles.choices()
        if len(choices) < 2:
            return []
        return [(style_label(locale, s), style_code(s)) for s in choices
                if (s.name, s.model_id) != (face.backend, face.checkpoint_id)]

    async def _describe_face(self, turn: Turn, cmd: c.DescribeFace) -> list[Reply]:
        """The current face in the words the worker wrote when it made it."""
        face = await self._current(turn)
        return [turn.reply("face_words", number=face.number, words=face_words(turn.locale, face))]

    async def _status(self, turn: Turn, cmd: c.Status) -> list[Reply]:
        async with self.sessions() as session:
            jobs = await ChatStates(session).unfinished_jobs(turn.user.id)
        live = await self.presence.live("worker")
        lines = []
        for i, job_id in enumerate(jobs, 1):
            position = await self.queue.position(job_id, live_workers=max(1, len(live)))
            if position is not None and position.place is not None:
                lines.append(say(turn.locale, "status_job_queued", i=i, place=position.place))
            elif position is not None and position.state == "running":
                lines.append(say(turn.locale, "status_job_running", i=i))
        lines = lines or [say(turn.locale, "status_idle")]
        return [Reply("\n".join(lines + await self._generators(turn.locale)))]

    async def _small_talk(self, turn: Turn, cmd: c.SmallTalk) -> list[Reply]:
        return [turn.reply(f"small_talk_{cmd.kind}")]

    async def _web_login(self, turn: Turn, cmd: c.WebLogin) -> list[Reply]:
        """A login link for the web chat, only in a private chat: it signs in as this account."""
        if turn.incoming.platform == WEB:
            return [turn.reply("web_link_here")]
        if not self.web_url:
            return [turn.reply("web_link_off")]
        if turn.incoming.group_id is not None:
            return [turn.reply("web_link_private")]
        token = login_links.make_token(self._owner_secret, turn.incoming.platform, turn.incoming.user_id, time.time())
        return [turn.reply("web_link", link=login_links.link(self.web_url, token))]

    async def _generators(self, locale: str) -> list[str]:
        """Which styles have a worker up: the default style, and any other a worker serves now."""
        styles = [(style, await self.presence.live("worker", route=route_of(style.name, style.model_id)))
                  for style in self.styles.known()]
        default = self.styles.default_backend
        shown = sorted(((style, live) for style, live in styles if live or style.name == default),
                       key=lambda shown: shown[0].name != default)   # the default style first
        if not shown:   # the default style was never announced and nothing else is up
            return [say(locale, "status_offline")]
        if len(shown) == 1:
            live = shown[0][1]
            return [say(locale, "status_online", count=len(live)) if live else say(locale, "status_offline")]
        return [say(locale, "status_style_online", style=style_name(locale, style.name, style.label), count=len(live))
                if live else say(locale, "status_style_offline", style=style_name(locale, style.name, style.label))
                for style, live in shown]

    # --- buttons ----------------------------------------------------------------------------------

    async def _press(self, turn: Turn, payload: str) -> list[Reply]:
        try:
            press = payloads.decode(payload)
        except payloads.BadPayload as exc:
            log.info("user %s pressed an unreadable button: %s", pseudonym(turn.user.id), exc)
            return turn.error("bad_button")
        if press.verb == "rp":   # the one button anyone who sees the face may press
            return await self._report(turn, press)
        if press.owner != turn.tag:
            return turn.error("not_your_button")
        if press.verb == "ack":
            return await self._acknowledge(turn)
        if press.verb == "yes":
            return await self._confirm(turn, c.Confirm())
        if press.verb == "no":
            return await self._decline(turn, c.Decline())
        if press.verb == "st":
            return await self._style_pressed(turn, press)
        if press.verb == "gm":   # a name on the gallery's sheet
            entry = next((e for e in await self._gallery_entries() if e.id == press.value), None)
            if entry is None:
                raise Refused("error_face_gone")
            return await self._morph(turn, c.Morph(c.GalleryName(entry.name)))
        face = await self._own_face(turn, press.face)
        if press.verb in payloads.BREEDING_VERBS:
            return await self._array_pressed(turn, face, press)
        if press.verb == "pk":
            wanted = press.set
            if wanted["kind"] == "ranked":   # the seeds are the face's own, not the button's
                wanted = ranked_set(face.params)
                if wanted is None or wanted["n"] != press.set["n"]:
                    return turn.error("bad_button")
            try:
                params = clean_set(wanted, self._style_of(face))
            except RecipeError:
                return turn.error("bad_button")
            return await self._pick_from(turn, face, params, press.value)
        if press.verb == "sh":
            return await self._sheet(turn, face, press.region)
        if press.verb == "rx":
            return await self._remix_set(turn, face, "fine", REMIX_SIZE)
        if press.verb == "un":
            return await self._undo_from(turn, face)
        if press.verb == "bk":
            return await self._go_to(turn, face, "now_on", ())
        if press.verb == "ft":   # the words the face skipped (the rules are checked again: the model may have changed)
            words = " ".join(face.params.get("skipped") or ())[:MAX_TEXT_CHARS]
            return await self._free_text_on(turn, face, words) if words else turn.error("bad_button")
        return await self._morph_again(turn, face, press.value)

    async def _report(self, turn: Turn, press: payloads.Press) -> list[Reply]:
        """Anyone shown a face may report it. The face is looked up among its owner's faces by
        the owner's key; every report is thanked the same — the first, a second press, a face
        that does not exist — so the button tells nothing about faces (not even which ones the
        presser already reported). A moderator's press reports nothing: it answers with the ids
        their commands take. Every answer is for the presser alone."""
        async with self.sessions() as session, session.begin():
            moderation = ModerationLog(session)
            face = await moderation.face_by_owner(press.key, press.face) if press.face <= MAX_FACE_NUMBER else None
            if self.moderators.allows(turn.incoming):
                if face is None:
                    return turn.error("error_face_gone")
                return [turn.reply("report_mod", kind="notice", face_id=face.face_id, user_id=face.user_id,
                                   number=face.number, reports=face.reports)]
            if face is not None:
                await file_report(session, turn.user.id, face.face_id)   # once per reporter and face
        return [turn.reply("report_thanks", kind="notice")]

    # --- moderators ---------------------------------------------------------------------------------

    def _check_moderator(self, turn: Turn) -> None:
        """Decided before anything is looked up, so a refusal never hints that a face exists."""
        if not self.moderators.allows(turn.incoming):
            raise Refused("only_moderators")

    async def _hide(self, turn: Turn, cmd: c.HideFace) -> list[Reply]:
        self._check_moderator(turn)
        if cmd.face_id > MAX_ID:
            raise Refused("mod_no_face", face_id=cmd.face_id)
        try:
            async with self.sessions() as session, session.begin():
                done = await ModerationActions(session, self.moderators.actor(turn.incoming)).set_hidden(
                    cmd.face_id, cmd.hidden, cmd.reason)
                face = await ModerationLog(session).face(cmd.face_id)
        except UnknownTarget:
            raise Refused("mod_no_face", face_id=cmd.face_id) from None
        key = ("mod_hidden" if cmd.hidden else "mod_unhidden") if done.changed \
            else ("mod_already_hidden" if cmd.hidden else "mod_already_unhidden")
        return [turn.reply(key, face_id=face.face_id, user_id=face.user_id, number=face.number)]

    async def _ban(self, turn: Turn, cmd: c.BanUser) -> list[Reply]:
        self._check_moderator(turn)
        ref = cmd.user
        named = str(ref.user_id) if ref.user_id is not None else f"{ref.platform}:{ref.platform_user_id}"
        if ref.user_id is not None and ref.user_id > MAX_ID:
            raise Refused("mod_no_user", who=named)
        try:
            async with self.sessions() as session, session.begin():
                moderation = ModerationLog(session)
                user = await (moderation.user(ref.user_id) if ref.user_id is not None
                              else moderation.user_by_identity(ref.platform, ref.platform_user_id))
                if user is None:
                    raise UnknownTarget(named)
                done = await ModerationActions(session, self.moderators.actor(turn.incoming)).set_banned(
                    user.id, cmd.banned, cmd.reason)
        except UnknownTarget:
            raise Refused("mod_no_user", who=named) from None
        who = f"{user.platform}:{user.platform_user_id}" + (f", {user.display_name}" if user.display_name else "")
        if not done.changed:
            return [turn.reply("mod_already_banned" if cmd.banned else "mod_already_unbanned", user_id=user.id, who=who)]
        if not cmd.banned:
            return [turn.reply("mod_unbanned", user_id=user.id, who=who)]
        cancelled = await self._cancel_all(user.id, "cancelled by a moderator")
        return [turn.reply("mod_banned", user_id=user.id, who=who, cancelled=cancelled)]

    async def _morph_again(self, turn: Turn, face: FaceRecord, percent: int) -> list[Reply]:
        """A morph's ± and flip buttons: the same two faces at another ratio."""
        if face.operation != "morph" or not ratio_in_range(percent / 100):
            return turn.error("bad_button")
        async with self.sessions() as session:
            repo = FaceRepository(session)
            parents = await repo.parents(face)
            me = next((p for p in parents if p.id == face.parent_id), None)
            other = next((p for p in parents if p.id == face.other_parent_id), None)
            me = None if me is None else await repo.morph_base(me)   # a morph made before the rule
            entry = None if other is None else await GalleryRepository(session).entry_for_face(other.id)
        if me is None or other is None or me.user_id != turn.user.id:
            raise Refused("error_face_gone")
        if other.user_id != turn.user.id and entry is None:
            return turn.error("bad_button")   # only the sender's own faces or the gallery's
        return await self._morph_faces(turn, me, other.id, percent / 100, face.params.get("mode", "linear"), entry)

    async def _face_reply(self, session, locale: str, key: str, face: FaceRecord, *, lead: str | None = None,
                          job_id: int | None = None) -> Reply:
        repo = FaceRepository(session)
        image = await repo.face_image(face)
        entry = None
        if face.operation == "morph" and face.other_parent_id is not None:
            entry = await GalleryRepository(session).entry_for_face(face.other_parent_id)
        style = self.styles.find(face.backend, face.checkpoint_id)   # unknown now: no region buttons
        return face_reply(locale, key, face, image, style.regions if style else (),
                          entry=entry, lead=lead, job_id=job_id,
                          redraw_in=self._redraw_in(locale, face), free_text=self._free_text_offer(face))


def _style_named(locale: str, choices: list[BackendInfo], cmd: c.ChooseStyle) -> BackendInfo | None:
    """The choice a typed style name means: an operator's label (either language), the
    backend's usual name, or a built-in word for a kind of style ("photo" → stylegan)."""
    def squash(text: str) -> str:
        return "".join(text.split()).casefold()
    wanted = squash(cmd.name or "")
    for style in choices:
        names = {style.label, style.label_ko, style.name, style_name("ko", style.name), style_name("en", style.name)}
        if wanted in {squash(n) for n in names if n}:
            return style
    return next((style for style in choices if style.name == cmd.style), None)


def _history_pictures(pictures: list[bytes | None], labels: list[str]) -> tuple[bytes, list[bytes | None]]:
    """A history's contact sheet and each face's thumbnail, from the stored pictures (a thread's work)."""
    return (picture_sheet(pictures, labels, columns=HISTORY_COLUMNS),
            [None if p is None else thumbnail(p) for p in pictures])


async def _photo_problem(data: bytes) -> PhotoError | None:
    """Why an upload cannot be used (code "not_an_image", "unsupported_format" or "too_large"),
    or None. Decoded in full (off the event loop), so a damaged file is refused before it is stored."""
    try:
        await asyncio.to_thread(load_photo, data, max_bytes=PHOTO_MAX_BYTES)
    except PhotoError as exc:
        return exc
    return None
