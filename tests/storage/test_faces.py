"""Users and the face history tree, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from sqlalchemy import func, select, update

from conftest import blob_files, blob_files_without_rows, each_blob_store
from facegen.facecode import FaceCode
from storage.blobs import BlobData
from storage.db import create_engine, session_factory
from storage.faces import FaceRecord, FaceRepository, NotYourFace, UserRecord
from storage.models import Blob, Face, User


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


async def _in_tx(sessions, action):
    """Run `action(repo)` in one committed transaction."""
    async with sessions() as session, session.begin():
        return await action(FaceRepository(session))


def _code(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return FaceCode(base=rng.standard_normal((4, 8)).astype(np.float32)).to_bytes()


async def _add(repo: FaceRepository, user: UserRecord, parent: FaceRecord | None = None, *,
               operation: str = "new", seed: int = 0, other_parent: FaceRecord | None = None) -> FaceRecord:
    return await repo.add_face(
        user, parent=parent, other_parent=other_parent, operation=operation, params={"seed": seed},
        backend="montage", checkpoint_id="montage-v1", code=_code(seed), image=f"png {seed}".encode())


async def test_a_user_is_created_once_per_platform_identity(sessions):
    first = await _in_tx(sessions, lambda r: r.get_or_create_user("telegram", "42", locale="ko", display_name="민지"))
    again = await _in_tx(sessions, lambda r: r.get_or_create_user("telegram", "42", locale="en", display_name="Minji"))
    other = await _in_tx(sessions, lambda r: r.get_or_create_user("discord", "42", locale="en"))
    assert again.id == first.id and other.id != first.id
    assert (again.locale, again.display_name) == ("ko", "Minji")  # locale kept, renamed
    assert (first.banned, first.face_count, first.current_face_id) == (False, 0, None)


async def test_faces_are_numbered_per_user_and_found_by_number(sessions):
    async def build(repo: FaceRepository):
        alice = await repo.get_or_create_user("web", "alice")
        bob = await repo.get_or_create_user("web", "bob")
        a1 = await _add(repo, alice, seed=1)
        b1 = await _add(repo, bob, seed=2)
        a2 = await _add(repo, alice, a1, operation="remix", seed=3)
        return alice, bob, a1, b1, a2
    alice, bob, a1, b1, a2 = await _in_tx(sessions, build)
    assert (a1.number, b1.number, a2.number) == (1, 1, 2)

    async def look(repo: FaceRepository):
        return (await repo.get_face_by_number(alice, 2), await repo.get_face_by_number(bob, 2),
                await repo.get_face_by_number(bob, 1), await repo.get_user(alice.id))
    found, missing, bobs, alice_now = await _in_tx(sessions, look)
    assert found == a2
    assert missing is None                       # Bob has no #2, and Alice's #2 is not his
    assert bobs.id == b1.id and bobs.user_id == bob.id
    assert alice_now.face_count == 2
    assert np.array_equal(FaceCode.from_bytes(found.code).base, FaceCode.from_bytes(_code(3)).base)
    assert (found.operation, found.params, found.parent_number) == ("remix", {"seed": 3}, 1)


async def test_each_face_keeps_its_own_image(sessions):
    async def build(repo: FaceRepository):
        user = await repo.get_or_create_user("web", "u")
        first = await _add(repo, user, seed=1)
        second = await _add(repo, user, first, seed=2)
        return await repo.face_image(first), await repo.face_image(second)
    assert await _in_tx(sessions, build) == (BlobData(b"png 1", "image/png"), BlobData(b"png 2", "image/png"))


async def test_a_new_face_is_returned_as_it_reads_back_with_the_public_id_its_picture_carries(sessions):
    """add_face builds its record without reading the face back: the record must be the one a
    read gives (parents' numbers, the database's time), under the public id it was given."""
    async def add(repo):
        user = await repo.get_or_create_user("web", "stamp")
        first = await _add(repo, user)
        second = await repo.add_face(
            user, parent=first, other_parent=first, operation="morph", params={"ratio": 0.5}, backend="montage",
            checkpoint_id="montage-v1", code=_code(1), image=b"png", public_id="df-chosenbefore")
        return first, second
    first, second = await _in_tx(sessions, add)
    for made in (first, second):
        assert await _in_tx(sessions, lambda r: r.get_face_by_id(made.id)) == made
    assert (second.parent_number, second.other_parent_number) == (first.number, first.number)
    assert second.public_id == "df-chosenbefore" and first.public_id.startswith("df-")
    assert (await _in_tx(sessions, lambda r: r.face_image(second))).data == b"png"


async def test_history_is_newest_first_and_leaves_out_hidden_faces(sessions, engine):
    async def build(repo: FaceRepository):
        user = await repo.get_or_create_user("web", "u")
        face = None
        for seed in range(5):
            face = await _add(repo, user, face, seed=seed)
        return user
    user = await _in_tx(sessions, build)
    history = await _in_tx(sessions, lambda r: r.history(user, limit=3))
    assert [f.number for f in history] == [5, 4, 3]

    async with engine.begin() as conn:  # what moderation will do
        await conn.execute(update(Face).where(Face.user_id == user.id, Face.number == 4).values(hidden=True))
    assert [f.number for f in await _in_tx(sessions, lambda r: r.history(user, limit=3))] == [5, 3, 2]
    assert [f.number for f in await _in_tx(sessions, lambda r: r.history(user, limit=3, include_hidden=True))] == [5, 4, 3]


async def test_tree_navigation_undo_and_branch(sessions):
    async def build(repo: FaceRepository):
        user = await repo.get_or_create_user("web", "u")
        celebrity_owner = await repo.get_or_create_user("system", "celebrities")
        star = await _add(repo, celebrity_owner, seed=99)
        root = await _add(repo, user, seed=1)                              # 1
        morph = await _add(repo, user, root, operation="morph", seed=2, other_parent=star)  # 2
        branch = await _add(repo, user, root, operation="remix", seed=3)  # 3: back to 1, branch
        await repo.set_current_face(user, branch)
        return (user, star, root, morph, branch, await repo.children(root), await repo.parents(morph),
                await repo.current_face(user))
    user, star, root, morph, branch, children, parents, current = await _in_tx(sessions, build)
    assert [c.number for c in children] == [2, 3]
    assert [p.id for p in parents] == [root.id, star.id]
    assert (morph.parent_number, morph.other_parent_number) == (1, None)  # the star is not the user's face
    assert current == branch
    assert await _in_tx(sessions, lambda r: r.children(star)) == [morph]


async def test_another_users_face_cannot_be_a_parent_or_current(sessions):
    async def build(repo: FaceRepository):
        alice = await repo.get_or_create_user("web", "alice")
        bob = await repo.get_or_create_user("web", "bob")
        return alice, bob, await _add(repo, alice, seed=1)
    alice, bob, alices = await _in_tx(sessions, build)
    with pytest.raises(NotYourFace):
        await _in_tx(sessions, lambda r: _add(r, bob, alices, seed=2))
    with pytest.raises(NotYourFace):
        await _in_tx(sessions, lambda r: r.set_current_face(bob, alices))
    assert (await _in_tx(sessions, lambda r: r.get_user(bob.id))).face_count == 0  # nothing half-written


@each_blob_store
async def test_deleting_a_users_data_removes_faces_and_images_but_keeps_the_ban(sessions, engine, blob_store):
    async def build(repo: FaceRepository):
        gone = await repo.get_or_create_user("telegram", "1", display_name="Gone")
        stays = await repo.get_or_create_user("telegram", "2")
        first = await _add(repo, gone, seed=1)
        await repo.set_current_face(gone, await _add(repo, gone, first, seed=2))
        other = await _add(repo, stays, seed=3, other_parent=first)  # a morph with one of `gone`'s faces
        return gone, stays, other
    gone, stays, other = await _in_tx(sessions, build)
    async with engine.begin() as conn:
        await conn.execute(update(User).where(User.id == gone.id).values(banned=True))

    deleted = await _in_tx(sessions, lambda r: r.delete_user_data(gone))
    assert (deleted.faces, deleted.images) == (2, 2)

    async def look(repo: FaceRepository):
        return (await repo.get_or_create_user("telegram", "1"), await repo.history(gone, include_hidden=True),
                await repo.get_face_by_id(other.id), await repo.face_image(other))
    user_now, history, other_now, other_image = await _in_tx(sessions, look)
    assert history == []
    assert (user_now.banned, user_now.display_name, user_now.current_face_id) == (True, None, None)
    assert other_now.other_parent_id is None and other_image == BlobData(b"png 3", "image/png")
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(Face))).scalar_one() == 1
        assert (await conn.execute(select(func.count()).select_from(Blob))).scalar_one() == 1
    assert len(blob_files(blob_store)) == (1 if blob_store else 0)   # the other user's picture
    assert await blob_files_without_rows(engine, blob_store) == set()

    again = await _in_tx(sessions, lambda r: _add(r, user_now, seed=4))
    assert again.number == 3  # numbers are never reused, so old buttons cannot reach a new face


async def test_concurrent_adds_for_one_user_get_distinct_numbers(migrated_database_url, engine):
    """Separate connections (as separate workers would use) race to add faces for one user."""
    user = await _in_tx(session_factory(engine), lambda r: r.get_or_create_user("web", "busy"))
    engines = [create_engine(migrated_database_url) for _ in range(4)]

    async def worker(eng, seeds):
        numbers = []
        for seed in seeds:
            async with session_factory(eng)() as session, session.begin():
                face = await _add(FaceRepository(session), user, seed=seed)
                await asyncio.sleep(0.005)  # keep the transaction open while others try
                numbers.append(face.number)
        return numbers
    try:
        results = await asyncio.gather(*(worker(eng, range(i * 10, i * 10 + 10)) for i, eng in enumerate(engines)))
    finally:
        for eng in engines:
            await eng.dispose()
    numbers = sorted(n for result in results for n in result)
    assert numbers == list(range(1, 41))


async def test_two_first_messages_at_once_create_one_user(migrated_database_url, engine):
    engines = [create_engine(migrated_database_url) for _ in range(3)]
    try:
        users = await asyncio.gather(*(
            _in_tx(session_factory(eng), lambda r: r.get_or_create_user("discord", "new", locale="en"))
            for eng in engines))
    finally:
        for eng in engines:
            await eng.dispose()
    assert len({u.id for u in users}) == 1


async def test_a_face_made_from_a_hidden_one_is_hidden_and_flagged_for_review(sessions):
    """A job that ran while the moderators hid its parent (or the face it morphed with) must not
    give the owner a visible near-copy."""
    from dataclasses import replace

    from storage.faces import NewFace

    async def add(repo):
        user = await repo.get_or_create_user("web", "hider")
        shown, hidden = await _add(repo, user, seed=1), replace(await _add(repo, user, seed=2), hidden=True)
        return (await _add(repo, user, shown, seed=3), await _add(repo, user, hidden, operation="edit", seed=4),
                await _add(repo, user, shown, operation="morph", other_parent=hidden, seed=5))
    plain, edited, morphed = await _in_tx(sessions, add)
    assert (plain.hidden, plain.flagged) == (False, False)
    assert (edited.hidden, edited.flagged) == (morphed.hidden, morphed.flagged) == (True, True)

    async def add_batch(repo):   # a worker's batch goes through add_faces: the same rule
        user = await repo.get_or_create_user("web", "hider")
        hidden = replace(await _add(repo, user, seed=6), hidden=True)
        made = await repo.add_faces([NewFace(user.id, parent, None, "edit", {}, "montage", "montage-v1", _code(7),
                                             b"png", "image/png", f"df-batch{n}") for n, parent in ((1, hidden), (2, None))])
        stored = [await repo.get_face_by_id(face.id) for face in made]
        return made, stored
    made, stored = await _in_tx(sessions, add_batch)
    assert [(f.hidden, f.flagged) for f in made] == [(f.hidden, f.flagged) for f in stored] == [(True, True), (False, False)]
