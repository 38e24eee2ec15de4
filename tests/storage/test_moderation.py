"""Moderation storage on SQLite and PostgreSQL: moderator accounts, dashboard sessions that end
on logout and expiry, the generation log's keyset pages and filters, and actions that always
leave an audit row."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from conftest import blob_files, blob_files_without_rows, each_blob_store
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.models import Blob, Face, ModerationEvent, ModeratorSession, User
from storage.moderation import (BadModeratorName, Cursor, LogFilter, ModerationActions, ModerationLog,
                                ModeratorNameTaken, ModeratorSessions, Moderators, UnknownTarget)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def png(shade: int = 128) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (shade, 100, 50)).save(out, format="PNG")
    return out.getvalue()


async def seed(engine, plan: list[tuple[str, str, str, datetime]]) -> list[int]:
    """Faces from (platform, user, operation, created_at), each the child of that user's previous one."""
    ids, last = [], {}
    async with session_factory(engine)() as session, session.begin():
        repo = FaceRepository(session)
        for platform, user_key, operation, made in plan:
            user = await repo.get_or_create_user(platform, user_key, "en")
            face = await repo.add_face(user, parent=last.get(user.id), operation=operation, params={},
                                       backend="montage", checkpoint_id="montage-2", code=b"code", image=png())
            await session.execute(update(Face).where(Face.id == face.id).values(created_at=made))
            last[user.id] = face
            ids.append(face.id)
    return ids


async def walk(engine, wanted: LogFilter = LogFilter(), limit: int = 3) -> list[int]:
    """Every face id the log shows, following `next` from page to page."""
    seen, after = [], None
    while True:
        async with session_factory(engine)() as session:
            page = await ModerationLog(session).generations(wanted, after=after, limit=limit)
        seen += [e.face_id for e in page.rows]
        assert len(page.rows) <= limit
        if page.next is None:
            return seen
        after = Cursor.decode(page.next.encode())   # through its URL form, as the dashboard does


# --- accounts and sessions --------------------------------------------------------------------------

async def test_moderator_names_are_unique_and_plain(engine):
    async with session_factory(engine)() as session, session.begin():
        moderators = Moderators(session)
        alice = await moderators.add("alice", "scrypt$hash")
        with pytest.raises(ModeratorNameTaken):
            await moderators.add("alice", "scrypt$other")
        for bad in ("A", "user:5", "Alice", "a b", "<script>", "x" * 40):
            with pytest.raises(BadModeratorName):
                await moderators.add(bad, "scrypt$hash")
        await moderators.add("bob.k", "scrypt$bob")
    async with session_factory(engine)() as session:
        assert [m.name for m in await Moderators(session).all()] == ["alice", "bob.k"]
        record, stored = await Moderators(session).credentials("alice")
        assert record.id == alice.id and stored == "scrypt$hash"
        assert await Moderators(session).credentials("carol") is None


async def test_a_session_ends_at_logout_at_its_lifetime_and_when_idle(engine):
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        alice = await Moderators(session).add("alice", "h")
        live = ModeratorSessions(session)
        await live.start(alice, "a" * 64, "csrf-a", lifetime=timedelta(hours=12), now=T0)
        await live.start(alice, "b" * 64, "csrf-b", lifetime=timedelta(hours=1), now=T0)
        await live.start(alice, "c" * 64, "csrf-c", lifetime=timedelta(hours=12), now=T0)
        await live.start(alice, "d" * 64, "csrf-d", lifetime=timedelta(hours=12), now=T0)
    idle = timedelta(hours=2)
    async with sessions() as session, session.begin():
        live = ModeratorSessions(session)
        found = await live.find("a" * 64, idle=idle, now=T0 + timedelta(minutes=90))
        assert found.moderator.name == "alice" and found.csrf_token == "csrf-a"
        assert await live.find("b" * 64, idle=idle, now=T0 + timedelta(minutes=61)) is None   # past its lifetime
        assert await live.find("c" * 64, idle=idle, now=T0 + timedelta(hours=2, minutes=1)) is None   # idle
        # "a" was used at 90 minutes, so it is not idle at 3 hours
        assert await live.find("a" * 64, idle=idle, now=T0 + timedelta(hours=3)) is not None
        assert await live.end("a" * 64)
        assert await live.find("a" * 64, idle=idle, now=T0 + timedelta(hours=3)) is None
        assert await live.find("z" * 64, idle=idle) is None
        assert await live.end_expired(idle=idle, now=T0 + timedelta(hours=2, minutes=1)) == 1   # "d", never used
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(ModeratorSession))).scalar() == 0


# --- the generation log --------------------------------------------------------------------------------

async def test_keyset_pages_show_every_face_once_newest_first_even_with_equal_times(engine):
    minute = timedelta(minutes=1)
    plan = [("web", "u1", "new", T0), ("web", "u1", "pick", T0 + minute), ("telegram", "u2", "new", T0 + minute),
            ("telegram", "u2", "morph", T0 + minute), ("web", "u1", "edit", T0 + 2 * minute),
            ("discord", "u3", "describe", T0 + 3 * minute), ("web", "u1", "remix", T0 + 3 * minute)]
    ids = await seed(engine, plan)
    expected = [i for _, i in sorted(zip([p[3] for p in plan], ids), reverse=True)]
    for limit in (1, 2, 3, 7, 50):
        assert await walk(engine, limit=limit) == expected


async def test_the_log_filters_by_platform_user_operation_and_day(engine):
    day = timedelta(days=1)
    ids = await seed(engine, [("web", "u1", "new", T0), ("telegram", "u2", "new", T0 + day),
                              ("web", "u1", "morph", T0 + 2 * day), ("telegram", "u2", "photo", T0 + 3 * day)])
    async with session_factory(engine)() as session:
        u2 = (await session.execute(select(User.id).where(User.platform_user_id == "u2"))).scalar()
    assert await walk(engine, LogFilter(platform="telegram")) == [ids[3], ids[1]]
    assert await walk(engine, LogFilter(user_id=u2)) == [ids[3], ids[1]]
    assert await walk(engine, LogFilter(operation="morph")) == [ids[2]]
    assert await walk(engine, LogFilter(since=T0 + day, until=T0 + 3 * day)) == [ids[2], ids[1]]
    assert await walk(engine, LogFilter(platform="web", operation="photo")) == []


async def test_the_log_filters_by_flagged_hidden_and_reported(engine):
    ids = await seed(engine, [("web", f"u{i}", "new", T0 + timedelta(seconds=i)) for i in range(6)])
    async with session_factory(engine)() as session, session.begin():
        actions = ModerationActions(session, actor="alice")
        await actions.set_flagged(ids[1], True)
        await actions.set_flagged(ids[4], True)
        await actions.set_hidden(ids[4], True)
        await actions.set_hidden(ids[2], True)
        user = (await session.execute(select(Face.user_id).where(Face.id == ids[5]))).scalar()
        session.add(ModerationEvent(actor=f"user:{user}", action="report", target_face_id=ids[5], reason="rude"))
        session.add(ModerationEvent(actor=f"user:{user}", action="report", target_face_id=ids[5], reason="again"))
    assert await walk(engine, LogFilter(flagged=True)) == [ids[4], ids[1]]
    assert await walk(engine, LogFilter(hidden=True)) == [ids[4], ids[2]]
    assert await walk(engine, LogFilter(hidden=False, flagged=False)) == [ids[5], ids[3], ids[0]]
    assert await walk(engine, LogFilter(reported=True)) == [ids[5]]
    assert ids[5] not in await walk(engine, LogFilter(reported=False))
    async with session_factory(engine)() as session:
        entry = await ModerationLog(session).face(ids[5])
    assert entry.reports == 2 and not entry.hidden


# --- actions and the audit log ----------------------------------------------------------------------------

async def test_every_action_leaves_an_audit_row_with_who_what_and_why(engine):
    ids = await seed(engine, [("web", "u1", "new", T0), ("web", "u1", "pick", T0 + timedelta(seconds=1))])
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        user = (await session.execute(select(Face.user_id).where(Face.id == ids[0]))).scalar()
        actions = ModerationActions(session, actor="alice")
        assert (await actions.set_hidden(ids[0], True, "nudity")).changed
        assert not (await actions.set_hidden(ids[0], True, "again")).changed   # already hidden, still recorded
        assert (await actions.set_flagged(ids[1], True, "check")).changed
        assert (await actions.set_banned(user, True, "spam")).changed
        assert (await actions.set_banned(user, False, "appeal")).changed
        with pytest.raises(UnknownTarget):
            await actions.set_hidden(10_000_000, True, "")
        with pytest.raises(UnknownTarget):
            await actions.set_banned(10_000_000, True, "x")
    async with sessions() as session:
        page = await ModerationLog(session).audit(limit=10)
        user_row = await session.get(User, user)
    assert [(e.actor, e.action, e.reason) for e in page.rows] == [
        ("alice", "unban", "appeal"), ("alice", "ban", "spam"), ("alice", "flag", "check"),
        ("alice", "hide", "again"), ("alice", "hide", "nudity")]
    assert page.rows[-1].target_face_id == ids[0] and page.rows[-1].target_face_number == 1
    assert page.rows[0].target_user == "web:u1" and not user_row.banned


@each_blob_store
async def test_deleting_a_users_data_keeps_the_user_ban_and_audit_rows(engine, blob_store):
    ids = await seed(engine, [("web", "u1", "new", T0), ("web", "u1", "pick", T0), ("web", "u2", "new", T0)])
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        u1 = (await session.execute(select(Face.user_id).where(Face.id == ids[0]))).scalar()
        actions = ModerationActions(session, actor="alice")
        await actions.set_hidden(ids[0], True, "bad")
        await actions.set_banned(u1, True, "abuse")
        result = await actions.delete_user_data(u1, "their request")
    assert result.deleted.faces == 2 and result.deleted.images == 2
    async with sessions() as session:
        faces = (await session.execute(select(Face.id))).scalars().all()
        blobs = (await session.execute(select(func.count()).select_from(Blob))).scalar()
        user = await session.get(User, u1)
        audit = (await ModerationLog(session).audit(user_id=u1)).rows
    assert faces == [ids[2]] and blobs == 1
    assert len(blob_files(blob_store)) == (1 if blob_store else 0)   # u2's picture; u1's files are gone
    assert await blob_files_without_rows(engine, blob_store) == set()
    assert user.banned
    assert [(e.actor, e.action) for e in audit] == [("alice", "delete_data"), ("alice", "ban"), ("alice", "hide")]
    assert audit[-1].target_face_id is None   # the face is gone; the record of hiding it stays


async def test_a_moderator_deleting_an_unbanned_users_data_leaves_no_trace_of_them(engine):
    ids = await seed(engine, [("web", "u1", "new", T0), ("web", "u2", "new", T0)])
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        u1 = (await session.execute(select(Face.user_id).where(Face.id == ids[0]))).scalar()
        await ModerationActions(session, actor="alice").delete_user_data(u1, "their request by mail")
    async with sessions() as session:
        assert await session.get(User, u1) is None
        audit = (await ModerationLog(session).audit()).rows
    assert [(e.actor, e.action, e.reason) for e in audit] == [("alice", "delete_data", "their request by mail")]


async def test_the_audit_log_pages_by_keyset(engine):
    async with session_factory(engine)() as session, session.begin():
        for i in range(7):
            session.add(ModerationEvent(actor="alice", action="flag", reason=str(i), created_at=T0))
    seen, after = [], None
    while True:
        async with session_factory(engine)() as session:
            page = await ModerationLog(session).audit(after=after, limit=3)
        seen += [e.reason for e in page.rows]
        if page.next is None:
            break
        after = page.next
    assert seen == [str(i) for i in reversed(range(7))]


def test_a_cursor_survives_its_url_form_and_refuses_junk():
    cursor = Cursor(T0, 42)
    assert Cursor.decode(cursor.encode()) == cursor
    for junk in ("", "abc", "!!!", Cursor(T0, 1).encode()[:-3]):
        with pytest.raises(ValueError):
            Cursor.decode(junk)
