"""Moderation storage: moderator accounts, their dashboard sessions, the generation log, the
actions moderators take and the audit log those actions write.

Like FaceRepository, every class here works inside the caller's session and transaction, so
an action and its audit row commit together:

    async with sessions() as session, session.begin():
        await ModerationActions(session, actor="alice").set_hidden(face_id, True, "spam")

The generation log and the audit log page newest first by (created_at, id) with keyset
pagination: a page starts after the last row of the one before, so page 1000 costs what page 1
costs. storage/models.py holds the indexes that make each filter an index range.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from ipaddress import IPv6Address, ip_address, ip_network
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, delete, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.blobs import BlobData, BlobNotFound, read_blob
from storage.faces import DeletedData, FaceRepository, UserRecord
from storage.models import (Face, Moderator, ModeratorLoginFailure, ModeratorSession, ModerationEvent, User,
                            MAX_ID, PUBLIC_ID_PREFIX, legacy_owner_key, utcnow)
from storage.privacy import erase_user

MODERATOR_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{1,31}")   # no ":" — actors "user:<id>" stay distinct
MAX_REASON_CHARS = 500
REPORT = "report"   # the action a user's report writes (the in-chat report button)
SEEN_RESOLUTION = timedelta(minutes=1)   # how finely a session's idle clock is kept
SESSION_LIFETIME = timedelta(hours=12)   # a moderator session, absolute: log in again after this
SESSION_IDLE = timedelta(hours=2)        # a session unused this long ends
ACTIONS = ("hide", "unhide", "flag", "unflag", "ban", "unban", "delete_data",   # what ModerationActions writes
           "block", "unblock")                                                   # and storage/network_bans.py


class ModeratorNameTaken(ValueError):
    """Another moderator already has this name."""


class BadModeratorName(ValueError):
    """Names are 2–32 characters: lowercase letters, digits, '_', '.', '-'."""


class UnknownTarget(LookupError):
    """No face or user with that id."""


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


# --- moderators and sessions -----------------------------------------------------------------------

@dataclass(frozen=True)
class ModeratorRecord:
    id: int
    name: str
    created_at: datetime
    last_login_at: datetime | None


def _moderator_record(row: Moderator) -> ModeratorRecord:
    return ModeratorRecord(row.id, row.name, aware(row.created_at),
                           None if row.last_login_at is None else aware(row.last_login_at))


def check_moderator_name(name: str) -> str:
    if not MODERATOR_NAME.fullmatch(name):
        raise BadModeratorName(f"{name!r}: use 2–32 lowercase letters, digits, '_', '.' or '-', starting with "
                               "a letter or digit")
    return name


class Moderators:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, name: str, password_hash: str) -> ModeratorRecord:
        """A new account; the caller hashes the password (bot/moderation/passwords.py)."""
        check_moderator_name(name)
        row = Moderator(name=name, password_hash=password_hash)
        try:
            async with self._session.begin_nested():
                self._session.add(row)
                await self._session.flush()
        except IntegrityError:
            raise ModeratorNameTaken(f"a moderator named {name!r} already exists") from None
        return _moderator_record(row)

    async def credentials(self, name: str) -> tuple[ModeratorRecord, str] | None:
        """The account and its stored password hash, for checking a login."""
        row = (await self._session.execute(select(Moderator).where(Moderator.name == name))).scalar_one_or_none()
        return None if row is None else (_moderator_record(row), row.password_hash)

    async def all(self) -> list[ModeratorRecord]:
        rows = (await self._session.execute(select(Moderator).order_by(Moderator.name))).scalars()
        return [_moderator_record(r) for r in rows]


@dataclass(frozen=True)
class SessionRecord:
    token_hash: str
    moderator: ModeratorRecord
    csrf_token: str
    expires_at: datetime


class ModeratorSessions:
    """Server-side session rows: a cookie is only as good as its row, so logout and expiry
    end a session everywhere."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def start(self, moderator: ModeratorRecord, token_hash: str, csrf_token: str, *,
                    lifetime: timedelta, now: datetime | None = None) -> SessionRecord:
        now = now or utcnow()
        self._session.add(ModeratorSession(token_hash=token_hash, moderator_id=moderator.id, csrf_token=csrf_token,
                                           created_at=now, expires_at=now + lifetime, last_seen_at=now))
        await self._session.execute(update(Moderator).where(Moderator.id == moderator.id).values(last_login_at=now))
        await self._session.flush()
        return SessionRecord(token_hash, moderator, csrf_token, now + lifetime)

    async def find(self, token_hash: str, *, idle: timedelta, now: datetime | None = None) -> SessionRecord | None:
        """The live session for a token, its idle clock restarted; None when unknown, past its
        lifetime or idle too long (such a row is deleted)."""
        now = now or utcnow()
        row = (await self._session.execute(
            select(ModeratorSession, Moderator).join(Moderator, Moderator.id == ModeratorSession.moderator_id)
            .where(ModeratorSession.token_hash == token_hash))).one_or_none()
        if row is None:
            return None
        stored, moderator = row
        if aware(stored.expires_at) <= now or aware(stored.last_seen_at) + idle <= now:
            await self.end(token_hash)
            return None
        if now - aware(stored.last_seen_at) >= SEEN_RESOLUTION:   # not a write per page view
            stored.last_seen_at = now
            await self._session.flush()
        return SessionRecord(token_hash, _moderator_record(moderator), stored.csrf_token, aware(stored.expires_at))

    async def end(self, token_hash: str) -> bool:
        result = await self._session.execute(delete(ModeratorSession).where(ModeratorSession.token_hash == token_hash))
        return result.rowcount > 0

    async def end_expired(self, *, idle: timedelta, now: datetime | None = None) -> int:
        """Delete sessions past their lifetime or idle too long (for periodic clean-up)."""
        now = now or utcnow()
        result = await self._session.execute(delete(ModeratorSession).where(
            (ModeratorSession.expires_at <= now) | (ModeratorSession.last_seen_at <= now - idle)))
        return result.rowcount


@dataclass(frozen=True)
class LoginLimits:
    """How failed dashboard logins slow the next try. Failures count per (name, address) and
    per address, never per name alone: an attacker guessing a moderator's password from their
    own addresses never locks the real moderator out. Past `pair_failures` failures of one name
    from one address (or `address_failures` from one address, all names together) each further
    try from there waits `first_delay` after the latest failure, twice that after the next
    failure, and so on, at most `window`; failures older than `window` are forgotten."""
    pair_failures: int = 5
    address_failures: int = 20
    first_delay: timedelta = timedelta(seconds=30)
    window: timedelta = timedelta(minutes=15)

    def wait(self, failures: int, free: int, latest: datetime, now: datetime) -> timedelta | None:
        """How long a scope with `failures` recent failures (the latest at `latest`) still waits."""
        if failures < free:
            return None
        delay = min(self.window, self.first_delay * 2 ** min(failures - free, 32))
        left = latest + delay - now
        return left if left > timedelta(0) else None


def address_key(address: str) -> str:
    """What failures are counted against: the IP address, or an IPv6 client's /64 (one
    subscriber usually holds a whole /64, so its single addresses cost nothing to change)."""
    try:
        ip = ip_address(address.strip())
    except ValueError:
        return address.strip()[:64]
    if isinstance(ip, IPv6Address):
        return str(ip.ipv4_mapped) if ip.ipv4_mapped else str(ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LoginFailures:
    """Failed dashboard logins (LoginLimits says how they count). Rows live in the database,
    so every process behind a load balancer counts the same ones.

    An attempt is written as a failure *before* its password is checked (`begin`) and taken
    back only when it succeeds (`succeeded`), so a burst of parallel guesses is counted too."""

    def __init__(self, session: AsyncSession, limits: LoginLimits) -> None:
        self._session = session
        self._limits = limits

    @staticmethod
    def _name(name: str) -> str:
        return name.strip().lower()[:64]

    async def _recent(self, *where) -> tuple[int, datetime | None]:
        count, latest = (await self._session.execute(
            select(func.count(), func.max(ModeratorLoginFailure.failed_at)).where(*where))).one()
        return count, None if latest is None else aware(latest)

    async def begin(self, name: str, address: str, *, now: datetime | None = None) -> timedelta | None:
        """Count an attempt; or, while the (name, address) pair or the address must still wait,
        count nothing and return how long."""
        now, limits = now or utcnow(), self._limits
        name, address = self._name(name), address_key(address)
        await self._session.execute(delete(ModeratorLoginFailure).where(
            ModeratorLoginFailure.failed_at <= now - limits.window))
        waits = []
        for where, free in (((ModeratorLoginFailure.name == name, ModeratorLoginFailure.address == address),
                             limits.pair_failures),
                            ((ModeratorLoginFailure.address == address,), limits.address_failures)):
            failures, latest = await self._recent(*where)
            wait = None if latest is None else limits.wait(failures, free, latest, now)
            if wait is not None:
                waits.append(wait)
        if waits:
            return max(waits)
        self._session.add(ModeratorLoginFailure(name=name, address=address, failed_at=now))
        await self._session.flush()
        return None

    async def succeeded(self, name: str, address: str) -> None:
        """The right password: the failures of this name from this address are forgotten; the
        name's failures from other addresses (someone else guessing) and the address's failures
        with other names stay."""
        await self._session.execute(delete(ModeratorLoginFailure).where(
            ModeratorLoginFailure.name == self._name(name), ModeratorLoginFailure.address == address_key(address)))


# --- pages of the logs ---------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Cursor:
    """Where a page ends: the (created_at, id) of its last row. Opaque text in URLs."""
    created_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{aware(self.created_at).isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        """Raises ValueError for anything encode() did not write."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            moment, _, ident = raw.partition("|")
            return cls(aware(datetime.fromisoformat(moment)), int(ident))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a page cursor: {text[:40]!r}") from exc


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    next: Cursor | None      # None on the last page


def _after(columns: tuple, cursor: Cursor | None):
    """Rows strictly older than the cursor, as one row comparison the index can seek to."""
    if cursor is None:
        return True
    return tuple_(*columns) < tuple_(aware(cursor.created_at), cursor.id)


@dataclass(frozen=True)
class LogFilter:
    """What the generation log shows. None means "any"."""
    platform: str | None = None
    user_id: int | None = None
    platform_user_id: str | None = None   # with `platform`: the user as the log shows them ("telegram:42")
    operation: str | None = None
    since: datetime | None = None      # inclusive
    until: datetime | None = None      # exclusive
    flagged: bool | None = None
    reported: bool | None = None
    hidden: bool | None = None


@dataclass(frozen=True)
class LogEntry:
    """One generation as moderators see it."""
    face_id: int
    number: int
    user_id: int
    platform: str
    platform_user_id: str
    display_name: str | None
    user_banned: bool
    operation: str
    params: dict[str, Any]
    parent_id: int | None
    other_parent_id: int | None
    backend: str
    checkpoint_id: str
    has_image: bool
    hidden: bool
    flagged: bool
    reports: int
    created_at: datetime
    public_id: str | None = None       # what its pictures carry (None: made before issue #23)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.created_at, self.face_id)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor: str
    action: str
    reason: str
    created_at: datetime
    target_user_id: int | None
    target_user: str | None            # "platform:platform_user_id" while the user row exists
    target_face_id: int | None
    target_face_number: int | None

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.created_at, self.id)


_REPORTED_FACES = select(ModerationEvent.target_face_id).where(ModerationEvent.action == REPORT)


def _report_count():
    return (select(func.count()).select_from(ModerationEvent)
            .where(ModerationEvent.action == REPORT, ModerationEvent.target_face_id == Face.id)
            .correlate(Face).scalar_subquery())


def _select_entries():
    return (select(Face.id, Face.number, Face.user_id, User.platform, User.platform_user_id, User.display_name,
                   User.banned, Face.operation, Face.params, Face.parent_id, Face.other_parent_id, Face.backend,
                   Face.checkpoint_id, Face.image_blob_id.is_not(None), Face.hidden, Face.flagged,
                   _report_count(), Face.created_at, Face.public_id)
            .join(User, User.id == Face.user_id))


def _entry(row) -> LogEntry:
    values = list(row)
    values[8] = dict(values[8] or {})
    values[17] = aware(values[17])   # created_at
    return LogEntry(*values)


def _where(wanted: LogFilter) -> list:
    conditions = []
    if wanted.platform is not None:
        conditions.append(User.platform == wanted.platform)
    if wanted.user_id is not None:
        conditions.append(Face.user_id == wanted.user_id)
    if wanted.platform_user_id is not None:
        conditions.append(User.platform_user_id == wanted.platform_user_id)
    if wanted.operation is not None:
        conditions.append(Face.operation == wanted.operation)
    if wanted.since is not None:
        conditions.append(Face.created_at >= aware(wanted.since))
    if wanted.until is not None:
        conditions.append(Face.created_at < aware(wanted.until))
    for column, value in ((Face.flagged, wanted.flagged), (Face.hidden, wanted.hidden)):
        if value is not None:
            conditions.append(column.is_(value))
    if wanted.reported is True:
        conditions.append(Face.id.in_(_REPORTED_FACES))
    elif wanted.reported is False:
        conditions.append(Face.id.not_in(_REPORTED_FACES.where(ModerationEvent.target_face_id.is_not(None))))
    return conditions


class ModerationLog:
    """Read side: the generation log, one user's faces, one face, and the audit log."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def generations(self, wanted: LogFilter = LogFilter(), *, after: Cursor | None = None,
                          limit: int = 50) -> Page[LogEntry]:
        """Newest first; `after` is the previous page's `next`."""
        query = (_select_entries().where(*_where(wanted), _after((Face.created_at, Face.id), after))
                 .order_by(Face.created_at.desc(), Face.id.desc()).limit(limit + 1))
        entries = [_entry(r) for r in (await self._session.execute(query)).all()]
        more = len(entries) > limit
        entries = entries[:limit]
        return Page(entries, entries[-1].cursor if more else None)

    async def face(self, face_id: int) -> LogEntry | None:
        row = (await self._session.execute(_select_entries().where(Face.id == face_id))).one_or_none()
        return None if row is None else _entry(row)

    async def face_picture(self, face_id: int) -> BlobData | None:
        blob_id = (await self._session.execute(select(Face.image_blob_id).where(Face.id == face_id))).scalar()
        if blob_id is None:
            return None
        try:
            return await read_blob(self._session, blob_id)
        except BlobNotFound:
            return None

    async def user_faces(self, user_id: int, limit: int = 500) -> list[LogEntry]:
        """The user's most recent faces (hidden ones included), oldest first, for the history tree."""
        query = (_select_entries().where(Face.user_id == user_id)
                 .order_by(Face.created_at.desc(), Face.id.desc()).limit(limit))
        return [_entry(r) for r in reversed((await self._session.execute(query)).all())]

    async def user(self, user_id: int) -> UserRecord | None:
        return await FaceRepository(self._session).get_user(user_id)

    async def user_by_identity(self, platform: str, platform_user_id: str) -> UserRecord | None:
        """A user by platform identity ("telegram", "123456"), without creating one."""
        user_id = (await self._session.execute(select(User.id).where(
            User.platform == platform, User.platform_user_id == platform_user_id))).scalar()
        return None if user_id is None else await self.user(user_id)

    async def face_by_picture_id(self, picture_id: str) -> LogEntry | None:
        """The face whose pictures carry `picture_id` in their provenance chunk: its public id
        (storage.models.new_public_id), or for a picture made before issue #23 its database id."""
        picture_id = picture_id.strip()
        if picture_id.startswith(PUBLIC_ID_PREFIX) and len(picture_id) <= 24:
            row = (await self._session.execute(_select_entries().where(Face.public_id == picture_id))).first()
            return None if row is None else _entry(row)
        if picture_id.isascii() and picture_id.isdigit() and len(picture_id) <= 19 and int(picture_id) <= MAX_ID:
            return await self.face(int(picture_id))
        return None

    async def face_by_owner(self, owner_key: str, number: int) -> LogEntry | None:
        """Face #number of the user whose storage.models.owner_key is `owner_key` (a report
        button). A user still holding the guessable key of before issue #23 (not seen since the
        upgrade) is found by nobody's button."""
        row = (await self._session.execute(_select_entries().where(
            User.owner_key == owner_key, Face.number == number))).first()
        if row is None:
            return None
        entry = _entry(row)
        return None if owner_key == legacy_owner_key(entry.platform, entry.platform_user_id) else entry

    async def audit(self, *, after: Cursor | None = None, limit: int = 50, action: str | None = None,
                    actor: str | None = None, user_id: int | None = None,
                    face_id: int | None = None) -> Page[AuditEntry]:
        target_face, made = aliased(Face), aliased(Face)
        query = (select(ModerationEvent.id, ModerationEvent.actor, ModerationEvent.action, ModerationEvent.reason,
                        ModerationEvent.created_at, ModerationEvent.target_user_id,
                        User.platform + ":" + User.platform_user_id,
                        func.coalesce(ModerationEvent.target_face_id, made.id),
                        func.coalesce(target_face.number, made.number))
                 .outerjoin(User, User.id == ModerationEvent.target_user_id)
                 .outerjoin(target_face, target_face.id == ModerationEvent.target_face_id)
                 # a logged request (a real-person morph) names the face it made once that exists
                 .outerjoin(made, and_(ModerationEvent.target_face_id.is_(None), made.job_id == ModerationEvent.job_id))
                 .where(_after((ModerationEvent.created_at, ModerationEvent.id), after))
                 .order_by(ModerationEvent.created_at.desc(), ModerationEvent.id.desc()).limit(limit + 1))
        for column, value in ((ModerationEvent.action, action), (ModerationEvent.actor, actor),
                              (ModerationEvent.target_user_id, user_id), (ModerationEvent.target_face_id, face_id)):
            if value is not None:
                query = query.where(column == value)
        rows = (await self._session.execute(query)).all()
        entries = [AuditEntry(r[0], r[1], r[2], r[3], aware(r[4]), r[5], r[6], r[7], r[8]) for r in rows[:limit]]
        return Page(entries, entries[-1].cursor if len(rows) > limit else None)


# --- reports ---------------------------------------------------------------------------------------

async def file_report(session: AsyncSession, reporter_id: int, face_id: int) -> bool:
    """A user's report of a face: one `report` event per reporter and face, and the face flagged
    for review (so the dashboard's reported and flagged filters show it). False when this user
    had reported it already. The reporter is "user:<id>" in the log, which their own
    delete-my-data turns anonymous (storage.privacy)."""
    actor = f"user:{reporter_id}"
    owner = (await session.execute(select(Face.user_id).where(Face.id == face_id))).scalar()
    if owner is None:
        raise UnknownTarget(f"no face {face_id}")
    before = (await session.execute(select(func.count()).select_from(ModerationEvent).where(
        ModerationEvent.action == REPORT, ModerationEvent.target_face_id == face_id,
        ModerationEvent.actor == actor))).scalar()
    if before:
        return False
    session.add(ModerationEvent(actor=actor, action=REPORT, target_user_id=owner, target_face_id=face_id,
                                reason="reported from the chat"))
    await session.execute(update(Face).where(Face.id == face_id).values(flagged=True)
                          .execution_options(synchronize_session=False))
    await session.flush()
    return True


# --- actions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ActionResult:
    changed: bool                      # False when the target was already in that state
    deleted: DeletedData | None = field(default=None)


class ModerationActions:
    """Write side: every method changes one face or user and writes its audit row, in the
    caller's transaction. `actor` is the moderator's dashboard name, or "telegram:<id>" /
    "discord:<id>" for a moderator acting from the chat."""

    def __init__(self, session: AsyncSession, actor: str) -> None:
        self._session = session
        self._actor = actor

    async def set_hidden(self, face_id: int, hidden: bool, reason: str = "") -> ActionResult:
        return await self._face_flag(face_id, Face.hidden, hidden, "hide" if hidden else "unhide", reason)

    async def set_flagged(self, face_id: int, flagged: bool, reason: str = "") -> ActionResult:
        return await self._face_flag(face_id, Face.flagged, flagged, "flag" if flagged else "unflag", reason)

    async def set_banned(self, user_id: int, banned: bool, reason: str) -> ActionResult:
        changed = (await self._session.execute(
            update(User).where(User.id == user_id, User.banned.is_not(banned)).values(banned=banned)
            .execution_options(synchronize_session=False))).rowcount > 0
        if not changed:
            await self._require_user(user_id)
        await self._audit("ban" if banned else "unban", reason, user_id=user_id)
        return ActionResult(changed)

    async def delete_user_data(self, user_id: int, reason: str) -> ActionResult:
        """Everything of the user, exactly as their own "delete my data" does (storage.privacy.
        erase_user), with this moderator named in the one audit record it leaves. A banned
        user's row stays, so the ban holds; anyone else's goes."""
        user = await self._require_user(user_id)
        deleted = await erase_user(self._session, user, reason=reason[:MAX_REASON_CHARS], actor=self._actor)
        return ActionResult(True, deleted)

    async def _face_flag(self, face_id: int, column, value: bool, action: str, reason: str) -> ActionResult:
        user_id = (await self._session.execute(select(Face.user_id).where(Face.id == face_id))).scalar()
        if user_id is None:
            raise UnknownTarget(f"no face {face_id}")
        changed = (await self._session.execute(
            update(Face).where(Face.id == face_id, column.is_not(value)).values({column.key: value})
            .execution_options(synchronize_session=False))).rowcount > 0
        await self._audit(action, reason, user_id=user_id, face_id=face_id)
        return ActionResult(changed)

    async def _require_user(self, user_id: int):
        user = await FaceRepository(self._session).get_user(user_id)
        if user is None:
            raise UnknownTarget(f"no user {user_id}")
        return user

    async def _audit(self, action: str, reason: str, *, user_id: int | None = None, face_id: int | None = None) -> None:
        self._session.add(ModerationEvent(actor=self._actor, action=action, target_user_id=user_id,
                                          target_face_id=face_id, reason=reason[:MAX_REASON_CHARS]))
        await self._session.flush()

