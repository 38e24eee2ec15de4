"""Tables for users, their face history tree, image blobs and moderation events.
Queue tables (jobs, deliveries, worker heartbeats) live in the same metadata below."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
Id = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))            # telegram | discord | web | cli
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(8), default="ko")
    locale_chosen: Mapped[bool] = mapped_column(Boolean, default=False)  # set by "lang en"; else follow the platform
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    current_face_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("faces.id", use_alter=True, ondelete="SET NULL"))
    face_count: Mapped[int] = mapped_column(Integer, default=0)  # last per-user face number handed out
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Blob(Base):
    """Image bytes kept in the database (one durable store, no orphan files)."""
    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Face(Base):
    """A node of a user's history tree: how it was made, its latent code and its picture."""
    __tablename__ = "faces"
    __table_args__ = (
        UniqueConstraint("user_id", "number"),
        Index("ix_faces_created_at_id", "created_at", "id"),
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
    code: Mapped[bytes] = mapped_column(LargeBinary)               # FaceCode.to_bytes()
    image_blob_id: Mapped[int | None] = mapped_column(Id, ForeignKey("blobs.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(Id)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

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


# --- queue tables (jobs, deliveries, workers): see storage/queue.py ---------------------------
