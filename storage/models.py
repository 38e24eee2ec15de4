"""Tables for users, their face history tree, image blobs and moderation events.
Queue tables (jobs, deliveries, worker heartbeats) live in the same metadata below."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, DateTime, Double, ForeignKey, Index,
                        Integer, LargeBinary, String, Text, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
Id = BigInteger().with_variant(Integer(), "sqlite")
MAX_ID = 2**63 - 1   # the largest id either database holds: a bigger number names no row


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


OWNER_KEY_CHARS = 12   # 60 bits: no two users share one in practice
OWNER_KEY_CONTEXT = b"dreamface owner key v1:"   # keeps these HMACs apart from any other use of the secret


def _key_text(digest: bytes) -> str:
    return base64.b32encode(digest).decode().lower()[:OWNER_KEY_CHARS]


def owner_key(secret: bytes, platform: str, platform_user_id: str) -> str:
    """A short, stable key of a platform identity: an HMAC under the server's secret (the web
    chat's key file), so nobody without it can work out anyone's key from their public
    Telegram or Discord id. Its first characters are the owner tag of the user's buttons
    (bot/conversation/payloads.py); the whole key, stored with the user, finds them again when
    someone else reports one of their faces."""
    digest = hmac.new(secret, OWNER_KEY_CONTEXT + f"{platform}\0{platform_user_id}".encode(), hashlib.sha256).digest()
    return _key_text(digest)


def legacy_owner_key(platform: str, platform_user_id: str) -> str:
    """The unsalted SHA-256 key of releases before issue #23, which anyone could compute: still
    stored for users not seen since the upgrade, and never accepted from a button."""
    return _key_text(hashlib.sha256(f"{platform}\0{platform_user_id}".encode()).digest())


def _owner_key_default(context) -> str:
    """A random key for a user stored without one (the gallery's owner, users made by tools): it
    names them for nobody until the conversation core gives them their HMAC key."""
    return _key_text(secrets.token_bytes(32))


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))            # one of storage/platforms.py PLATFORMS
    platform_user_id: Mapped[str] = mapped_column(String(64))
    owner_key: Mapped[str] = mapped_column(String(16), default=_owner_key_default, index=True)  # owner_key() of the two
    display_name: Mapped[str | None] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(8), default="ko")
    locale_chosen: Mapped[bool] = mapped_column(Boolean, default=False)  # set by "lang en"; else follow the platform
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    # web users only: the key of the address they last wrote from (ground/limits.address_key, an
    # HMAC, never the address), so a moderator can block that network along with the user
    address_key: Mapped[str | None] = mapped_column(String(32))
    current_face_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("faces.id", use_alter=True, ondelete="SET NULL"))
    face_count: Mapped[int] = mapped_column(Integer, default=0)  # last per-user face number handed out
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Blob(Base):
    """An image: its bytes in `data`, or in the file at `location` under DREAMFACE_BLOB_ROOT
    (storage/blobs.py). One row per file: no two rows name the same location."""
    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)         # NULL when the bytes are a file
    location: Mapped[str | None] = mapped_column(String(128))       # ab/cd/<sha256>-<random>; NULL: in `data`
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


PUBLIC_ID_PREFIX = "df-"   # so a moderator can tell a picture's id from a database id at a glance


def new_public_id() -> str:
    """A face's opaque public id (80 random bits): what its pictures carry (the provenance
    chunk), resolved only by moderators (the dashboard, `dreamface mod picture`). It tells
    nothing of how many faces there are or whose this is."""
    return PUBLIC_ID_PREFIX + base64.b32encode(secrets.token_bytes(10)).decode().lower()


class Face(Base):
    """A node of a user's history tree: how it was made, its latent code and its picture."""
    __tablename__ = "faces"
    __table_args__ = (
        UniqueConstraint("user_id", "number"),
        Index("ix_faces_created_at_id", "created_at", "id"),
        Index("uq_faces_public_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)                  # the user's own #1, #2, …
    parent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("faces.id", ondelete="SET NULL"))
    other_parent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("faces.id", ondelete="SET NULL"))
    operation: Mapped[str] = mapped_column(String(32))            # new, describe, pick, morph, remix, edit, photo
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    backend: Mapped[str] = mapped_column(String(16))
    checkpoint_id: Mapped[str] = mapped_column(String(80))
    worker_id: Mapped[str | None] = mapped_column(String(64))           # the process that rendered it
    code: Mapped[bytes] = mapped_column(LargeBinary)               # FaceCode.to_bytes()
    image_blob_id: Mapped[int | None] = mapped_column(Id, ForeignKey("blobs.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(Id, index=True)   # the job that made it
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # new_public_id(); NULL for faces made before issue #23 (their pictures carry the database id)
    public_id: Mapped[str | None] = mapped_column(String(24), default=new_public_id)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ModerationEvent(Base):
    """Audit log of moderation actions and user reports."""
    __tablename__ = "moderation_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    actor: Mapped[str] = mapped_column(String(128))               # moderator name, "user:<id>", "system"
    action: Mapped[str] = mapped_column(String(32))                # hide, flag, ban, report, delete_data, …
    target_user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    target_face_id: Mapped[int | None] = mapped_column(Id, ForeignKey("faces.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    job_id: Mapped[int | None] = mapped_column(Id)   # the request it logged (a real-person morph): finds the face made


class NetworkBan(Base):
    """A web chat network block until a time (storage/network_bans.py): either a network an
    operator typed (CIDR), or the address key of a banned web user's last address."""
    __tablename__ = "network_bans"
    __table_args__ = (CheckConstraint("(network IS NULL) <> (address_key IS NULL)", name="ck_network_bans_one_target"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    network: Mapped[str | None] = mapped_column(String(64))       # e.g. 203.0.113.0/24, 2001:db8::/48
    address_key: Mapped[str | None] = mapped_column(String(32))   # a banned user's users.address_key
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- queue tables (jobs, deliveries, workers): see storage/queue.py ---------------------------

# Times in the queue tables are seconds since the Unix epoch read from the DATABASE clock
# (storage/queries.py: {now}), stored as doubles: every process on every machine agrees on
# them, and they compare and add the same way on SQLite and PostgreSQL.
Epoch = Double()

# A job is unfinished while queued or running (it holds its dedupe key and counts against its
# user's cap) and finished in one of the other three: the one spelling of both sets, for SQL
# built in Python, the query texts (storage/queries.py) and these indexes.
UNFINISHED_STATES = ("queued", "running")
FINISHED_STATES = ("done", "failed", "cancelled")
JOB_STATES = UNFINISHED_STATES + FINISHED_STATES
UNFINISHED_JOB = f"state IN {UNFINISHED_STATES!r}"   # SQL: state IN ('queued', 'running')


class Job(Base):
    """One unit of work for a worker. queued → running → done | failed | cancelled;
    a retry or a rescued lease goes back to queued."""
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"state IN {JOB_STATES!r}", name="state"),
        # the claim: best ready job first, per queue (storage/queries.py JOB_ORDER)
        Index("ix_jobs_claim", "queue", "priority", "turn", "run_at", "id",
              sqlite_where=text("state = 'queued'"), postgresql_where=text("state = 'queued'")),
        # lease rescue
        Index("ix_jobs_lease", "lease_expires_at",
              sqlite_where=text("state = 'running'"), postgresql_where=text("state = 'running'")),
        # the per-user cap counts these
        Index("ix_jobs_user_unfinished", "user_id",
              sqlite_where=text(UNFINISHED_JOB), postgresql_where=text(UNFINISHED_JOB)),
        # the per-address and per-chat caps count these
        Index("ix_jobs_crowd_unfinished", "crowd",
              sqlite_where=text(UNFINISHED_JOB), postgresql_where=text(UNFINISHED_JOB)),
        # a dedupe key is unique while its job is queued or running
        Index("uq_jobs_dedupe_key", "dedupe_key", unique=True,
              sqlite_where=text(UNFINISHED_JOB), postgresql_where=text(UNFINISHED_JOB)),
        # position estimates read recent finished jobs
        Index("ix_jobs_finished_at", "finished_at",
              sqlite_where=text("state = 'done'"), postgresql_where=text("state = 'done'")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))                  # registered in storage/jobkinds.py
    queue: Mapped[str] = mapped_column(String(32), default="default")
    # the backend/model a worker must serve to claim it ("stylegan/stylegan2-ab12…", or a bare
    # backend for jobs queued before routing); NULL: any worker (e.g. the clean-up)
    route: Mapped[str | None] = mapped_column(String(160))
    batch_key: Mapped[str] = mapped_column(String(96))             # jobs with the same key run in one batch
    priority: Mapped[int] = mapped_column(Integer, default=0)      # lower runs first
    # fair turns: the user's 1st, 2nd, … waiting job in this queue's rounds, stamped at enqueue
    # (storage/queries.py INSERT_JOB); within a priority, a lower turn runs first
    turn: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    # who shares a waiting-jobs cap with the user: an HMAC of the web client's address or of the
    # group chat (ground/limits.py Crowd); NULL: nobody
    crowd: Mapped[str | None] = mapped_column(String(32))
    dedupe_key: Mapped[str | None] = mapped_column(String(128))
    attempt: Mapped[int] = mapped_column(Integer, default=0)       # claims so far, this one included
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    run_at: Mapped[float] = mapped_column(Epoch)                   # not claimed before this
    expires_at: Mapped[float | None] = mapped_column(Epoch)        # queued past this → failed
    worker_id: Mapped[str | None] = mapped_column(String(64))      # owner while running
    lease_expires_at: Mapped[float | None] = mapped_column(Epoch)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    progress: Mapped[float | None] = mapped_column(Double)         # fraction done of a running job, if it reports one
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)                # last failure reason
    created_at: Mapped[float] = mapped_column(Epoch)
    started_at: Mapped[float | None] = mapped_column(Epoch)        # latest claim
    finished_at: Mapped[float | None] = mapped_column(Epoch)


DELIVERY_STATES = ("pending", "sending", "sent", "failed")


class Delivery(Base):
    """A reply waiting for a chat process (the outbox). pending → sending → sent | failed;
    a transient failure or an expired lease goes back to pending."""
    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(f"state IN {DELIVERY_STATES!r}", name="state"),
        Index("ix_deliveries_claim", "platform", "run_at", "id",
              sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")),
        Index("ix_deliveries_lease", "lease_expires_at",
              sqlite_where=text("state = 'sending'"), postgresql_where=text("state = 'sending'")),
        Index("ix_deliveries_job_id", "job_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)     # stable across retries (idempotency)
    job_id: Mapped[int | None] = mapped_column(Id, ForeignKey("jobs.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16))               # one of storage/platforms.py CHAT_PLATFORMS
    chat_id: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(128))         # e.g. web user or connection; NULL: any process
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)           # the reply: text, blob ids, buttons
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=10)
    run_at: Mapped[float] = mapped_column(Epoch)
    owner: Mapped[str | None] = mapped_column(String(64))            # chat process while sending
    lease_expires_at: Mapped[float | None] = mapped_column(Epoch)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Epoch)
    sent_at: Mapped[float | None] = mapped_column(Epoch)


class Heartbeat(Base):
    """Heartbeats of worker and chat processes, so the chat can tell "the generator is offline"."""
    __tablename__ = "workers"
    __table_args__ = (CheckConstraint("kind IN ('worker', 'chat')", name="kind"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    host: Mapped[str] = mapped_column(String(128))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[str] = mapped_column(String(256), default="")     # comma-separated; platforms for chat
    routes: Mapped[str] = mapped_column(Text, default="")             # comma-separated job routes served; "" any
    started_at: Mapped[float] = mapped_column(Epoch)
    last_seen: Mapped[float] = mapped_column(Epoch, index=True)


class ServedModel(Base):
    """A model some worker served, as it last described itself (facegen.backend.BackendInfo as
    JSON): the chat validates and queues against these, also while no worker of it is up."""
    __tablename__ = "served_models"

    backend: Mapped[str] = mapped_column(String(16), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    info: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_seen: Mapped[float] = mapped_column(Epoch)


# --- conversation state and the celebrity gallery: see storage/chat_state.py, storage/gallery.py ---

class ChatState(Base):
    """What the conversation core remembers about one user between messages."""
    __tablename__ = "chat_states"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_set: Mapped[dict[str, Any] | None] = mapped_column(JSON)   # the candidate set shown last: face_id, face_number, set
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)    # the question awaiting yes/no: {"kind": "delete" | "notice", …}
    redo: Mapped[list[int]] = mapped_column(JSON, default=list)     # face ids undone, most recent last
    notice_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    style: Mapped[str | None] = mapped_column(String(160))          # the route of the style chosen for new faces
    breeding: Mapped[dict[str, Any] | None] = mapped_column(JSON)   # storage.chat_state.Breeding: round, selection, locks
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class SavedFace(Base):
    """A name a user gave one of their faces ("save smiley")."""
    __tablename__ = "saved_faces"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))                   # case-folded
    face_id: Mapped[int] = mapped_column(Id, ForeignKey("faces.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GalleryEntry(Base):
    """A named face users may morph with, curated by the operator."""
    __tablename__ = "gallery_entries"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)  # other spellings, both scripts
    source: Mapped[dict[str, Any]] = mapped_column(JSON)            # {"kind": "seed" | "describe" | "photo", …}
    fictional: Mapped[bool] = mapped_column(Boolean, default=False)  # False: a real person (morphs are logged)
    # a photo entry's photo as uploaded, kept so workers can fit the entry for other models
    source_blob_id: Mapped[int | None] = mapped_column(Id, ForeignKey("blobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GalleryCode(Base):
    """A gallery entry's face for one backend and checkpoint (a face row of the gallery's own user)."""
    __tablename__ = "gallery_codes"
    __table_args__ = (UniqueConstraint("entry_id", "backend", "checkpoint_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("gallery_entries.id", ondelete="CASCADE"))
    backend: Mapped[str] = mapped_column(String(16))
    checkpoint_id: Mapped[str] = mapped_column(String(80))
    face_id: Mapped[int] = mapped_column(Id, ForeignKey("faces.id", ondelete="CASCADE"), index=True)


# --- chat platform update cursors: see storage/platform_cursors.py ---------------------------

class PlatformCursor(Base):
    """Where a platform's update stream was left off (Telegram's getUpdates offset), so a
    restarted bot neither handles an update twice nor skips one."""
    __tablename__ = "platform_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)   # e.g. "telegram:<bot id>"
    position: Mapped[int] = mapped_column(BigInteger)                 # every update below this was handled
    handled: Mapped[list[int]] = mapped_column(JSON, default=list)    # ids at or above `position` already handled
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ShownProgress(Base):
    """The chat message that shows a job's progress (storage/progress_messages.py), so a
    restarted bot edits that message into the result instead of leaving it stale."""
    __tablename__ = "progress_messages"
    __table_args__ = (Index("ix_progress_messages_platform", "platform", "created_at"),)

    job_id: Mapped[int] = mapped_column(Id, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))    # the platform's id of the message
    text: Mapped[str] = mapped_column(Text)                # what it said when sent
    created_at: Mapped[float] = mapped_column(Epoch)
    process: Mapped[str | None] = mapped_column(String(128))   # the chat process that posted and follows it


# --- moderator accounts, their sessions and the moderation log's indexes: see storage/moderation.py ---

class Moderator(Base):
    """A dashboard account, created only from the command line (`dreamface mod add`)."""
    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))        # bot/moderation/passwords.py format
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ModeratorSession(Base):
    """A logged-in dashboard session. The cookie carries a random token; only its SHA-256 is
    stored, so reading this table does not let anyone log in."""
    __tablename__ = "moderator_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    moderator_id: Mapped[int] = mapped_column(Id, ForeignKey("moderators.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))            # every form of this session carries it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # absolute end
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)  # idle timeout


class ModeratorLoginFailure(Base):
    """One failed dashboard login: counted per name and per client address over a window, so
    a guessing run is refused in every process (bot/moderation/app.py)."""
    __tablename__ = "moderator_login_failures"
    __table_args__ = (
        Index("ix_moderator_login_failures_name", "name", "failed_at"),
        Index("ix_moderator_login_failures_address", "address", "failed_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))                  # as typed (it may name nobody)
    address: Mapped[str] = mapped_column(String(64))               # the client's IP address
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# The generation log pages newest first by (created_at, id); these keep its filtered pages and
# the audit log fast at a million rows (bench figures in the report of the moderation work).
Index("uq_blobs_location", Blob.location, unique=True)
Index("ix_faces_user_created_at_id", Face.user_id, Face.created_at, Face.id)
Index("ix_faces_flagged_created_at_id", Face.created_at, Face.id,
      sqlite_where=text("flagged"), postgresql_where=text("flagged"))
Index("ix_faces_hidden_created_at_id", Face.created_at, Face.id,
      sqlite_where=text("hidden"), postgresql_where=text("hidden"))
Index("ix_moderation_events_created_at_id", ModerationEvent.created_at, ModerationEvent.id)
Index("ix_moderation_events_target_user_id", ModerationEvent.target_user_id)
Index("ix_moderation_events_target_face_id", ModerationEvent.target_face_id)
Index("ix_moderation_events_reports", ModerationEvent.target_face_id,
      sqlite_where=text("action = 'report'"), postgresql_where=text("action = 'report'"))


# --- privacy and abuse limits: uploaded photos until their job is done (storage/privacy.py) and the
# per-user rate window (storage/queries.py INSERT_JOB) ---------------------------------------------

class Upload(Base):
    """A user's uploaded photo, kept only for its job: deleted when the job is done (or the
    configured retention after), or by the periodic clean-up if no job ever took it."""
    __tablename__ = "uploads"

    blob_id: Mapped[int] = mapped_column(Id, ForeignKey("blobs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(Id, ForeignKey("jobs.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[float] = mapped_column(Epoch)              # database clock, like the queue's times


# the rate window counts one user's jobs created in the last minute
Index("ix_jobs_user_created_at", Job.user_id, Job.created_at)
