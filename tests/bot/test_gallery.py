"""The celebrity gallery: fuzzy names in both scripts, the fictional defaults, the operator's
`dreamface gallery add / list / remove` with a real photo, and entries fitted for another model
by its worker the first time a user on that model morphs with them."""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from bot.conversation import Conversation
from bot.conversation.names import NameMatch, match_name
from bot.gallery import add_from_photo, ensure_default_gallery
from chat_harness import ChatHarness
from facegen.backend import PhotoFitOptions
from facegen.backends import load_backend
from facegen.gallery import FICTIONAL_FACES, draw_gallery_face
from facegen.handlers import FaceJobs, store_gallery_face
from facegen.montage.backend import MontageBackend
from facegen.provenance import (AI_SOURCE_TYPE, BACKEND_KEY, FACE_KEY, KIND_KEY, MODEL_KEY, SOURCE_TYPE_KEY,
                                read_provenance)
from storage.worker import Worker
from storage.blobs import BlobNotFound, read_blob
from storage.db import create_engine, session_factory
from storage.faces import FaceRepository
from storage.gallery import GalleryEntryRecord, GalleryRepository
from storage.models import GalleryCode, ModerationEvent, new_public_id

sys.path.insert(0, str(Path(__file__).parents[1] / "facegen"))
from stylegan_fixtures import served_tiny_stylegan  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PHOTO = REPO / "tests" / "data" / "obama_official_portrait.jpg"
ENTRIES = [GalleryEntryRecord(i, f.name, f.aliases, f.source, True, {}) for i, f in enumerate(FICTIONAL_FACES)]


@pytest.mark.parametrize("typed", ["Sora Bae", "sora", "SORA BAE", "소라", "소라랑", "배소라님", "소랴", "sora bea"])
def test_names_match_in_both_scripts_with_particles_and_typos(typed):
    assert match_name(typed, ENTRIES).entry.name == "Sora Bae"


@pytest.mark.parametrize("typed,name", [
    ("Jnuo Kang", "Juno Kang"), ("강주너", "Juno Kang"), ("taeho", "Taeho Ryu"), ("류태호랑", "Taeho Ryu"),
    ("Grandma", "Grandma Oh"), ("할머나", "Grandma Oh"), ("오할머니", "Grandma Oh")])
def test_a_typo_still_finds_the_name(typed, name):
    assert match_name(typed, ENTRIES).entry.name == name


@pytest.mark.parametrize("typed", ["Obama", "Barack Obama", "오바마", "버락 오바마", "Trump", "도널드 트럼프", "김연아",
                                   "Obma", "Bae", "Lee"])
def test_a_different_name_is_neither_taken_nor_suggested(typed):
    """'morph me with Obama' must not turn into 'did you mean Sora Bae?' (nor 오바마 into 오할머니)."""
    assert match_name(typed, ENTRIES) == NameMatch(None, ())


@pytest.mark.parametrize("typed,suggested", [("이소라", "Sora Bae"), ("준호", "Juno Kang"), ("Tae", "Taeho Ryu")])
def test_a_near_name_is_suggested_not_taken(typed, suggested):
    found = match_name(typed, ENTRIES)
    assert found.entry is None and found.suggestions[0] == suggested


def test_unknown_names_get_suggestions_or_nothing():
    near = match_name("Taeh", ENTRIES)
    assert near.entry is None or near.entry.name == "Taeho Ryu"
    far = match_name("zzyzx", ENTRIES)
    assert far.entry is None and far.suggestions == ()


async def test_defaults_are_seeded_once_with_a_face_each(engine):
    backend = load_backend("montage")
    assert await ensure_default_gallery(engine, backend) == len(FICTIONAL_FACES)
    assert await ensure_default_gallery(engine, backend) == 0
    async with session_factory(engine)() as session:
        entries = await GalleryRepository(session).entries()
    assert {e.name for e in entries} == {f.name for f in FICTIONAL_FACES}
    assert all(e.fictional and e.face_for("montage", backend.checkpoint_id) for e in entries)
    assert all(e.face_for("stylegan", "any") is None for e in entries)


def test_operator_adds_lists_and_removes_a_photo_entry(tmp_path):
    env = {**os.environ, "DREAMFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}

    def dreamface(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "dreamface.cli", "gallery", *args], capture_output=True,
                              text=True, cwd=REPO, env=env, timeout=120)

    added = dreamface("add", "Barack Obama", str(PHOTO), "--alias", "오바마")
    assert added.returncode == 0, added.stderr
    assert "added Barack Obama (오바마) for montage/" in added.stdout
    assert "already names" in dreamface("add", "Obama Again", str(PHOTO), "--alias", "오바마").stderr
    listed = dreamface("list").stdout
    assert "Barack Obama\taliases: 오바마\treal person\tmontage/" in listed and "Sora Bae" in listed
    assert "\tother models: fitted on first use from its kept photo" in listed
    with sqlite3.connect(tmp_path / "g.db") as db:
        (photo_blob,) = db.execute("SELECT source_blob_id FROM gallery_entries WHERE name = 'Barack Obama'").fetchone()
        assert db.execute("SELECT data FROM blobs WHERE id = ?", (photo_blob,)).fetchone() == (PHOTO.read_bytes(),)
    assert dreamface("remove", "오바마").returncode == 0
    assert "Barack Obama" not in dreamface("list").stdout
    with sqlite3.connect(tmp_path / "g.db") as db:
        assert db.execute("SELECT count(*) FROM blobs WHERE id = ?", (photo_blob,)).fetchone() == (0,)
    assert dreamface("remove", "nobody").returncode == 1


async def test_processes_starting_together_seed_the_gallery_once(engine, migrated_database_url):
    """Two chat processes started at the same moment on one PostgreSQL both come up."""
    from storage.db import create_engine
    other = create_engine(migrated_database_url)
    try:
        backend = load_backend("montage")
        added = await asyncio.gather(ensure_default_gallery(engine, backend), ensure_default_gallery(other, backend))
    finally:
        await other.dispose()
    assert sum(added) == len(FICTIONAL_FACES)
    async with session_factory(engine)() as session:
        assert len(await GalleryRepository(session).entries()) == len(FICTIONAL_FACES)


async def test_gallery_pictures_carry_provenance_with_their_face_id(engine):
    from facegen.provenance import NOTICE
    backend = load_backend("montage")
    await ensure_default_gallery(engine, backend)
    async with session_factory(engine)() as session:
        entries = await GalleryRepository(session).entries()
        repo = FaceRepository(session)
        for entry in entries:
            face_id = entry.face_for("montage", backend.checkpoint_id)
            picture = await repo.face_image(await repo.get_face_by_id(face_id))
            chunks = read_provenance(picture.data)
            public_id = (await repo.get_face_by_id(face_id)).public_id
            assert public_id and (chunks["Comment"], chunks[KIND_KEY], chunks[FACE_KEY]) == (NOTICE, "gallery", public_id)
            assert (chunks[BACKEND_KEY], chunks[MODEL_KEY]) == ("montage", backend.checkpoint_id)


# --- entries fitted for another model on first use -------------------------------------------------

@pytest.fixture
def stylegan(tmp_path, monkeypatch):
    """A tiny random StyleGAN, served beside the montage."""
    with served_tiny_stylegan(tmp_path, monkeypatch) as backend:
        yield backend


async def photoreal_chat(engine) -> ChatHarness:
    """A chat whose new faces are photoreal, its in-process worker serving both models (a short
    inversion for photo entries)."""
    chat = ChatHarness(engine)
    faces = FaceJobs(engine, photo_options=PhotoFitOptions(steps=20))
    chat.worker = Worker(engine, faces.handlers(), queues=("default", "slow"))
    await chat.announce("montage")
    await chat.announce("stylegan")
    chat.conversation = Conversation(engine, default_backend="stylegan", size=64)
    return chat


def text(replies) -> str:
    return "\n".join(r.text for r in replies)


async def entry_named(engine, name: str) -> GalleryEntryRecord:
    async with session_factory(engine)() as session:
        return next(e for e in await GalleryRepository(session).entries() if e.name == name)


@pytest.mark.parametrize("name, typed", [("Barack Obama", "오바마"), ("Sora Bae", "sora"), ("Juno Kang", "juno")])
async def test_a_photoreal_user_morphs_with_an_entry_made_on_the_montage(engine, stylegan, name, typed):
    """A photo entry (its photo kept), a described and a seeded fictional entry, all made by a
    montage-only process: the StyleGAN worker fits each on first use and keeps that face."""
    await ensure_default_gallery(engine, MontageBackend())
    await add_from_photo(engine, MontageBackend(), "Barack Obama", ["오바마"], PHOTO.read_bytes())
    assert (await entry_named(engine, name)).face_for("stylegan", stylegan.checkpoint_id) is None
    chat = await photoreal_chat(engine)
    await chat.start("alice")
    await chat.send("alice", "new 1")
    assert "Barack Obama" in text(await chat.send("alice", "celebs"))
    assert f"#2: morphed — you 50% · {name} 50%" in text(await chat.send("alice", f"morph me with {typed}"))

    entry = await entry_named(engine, name)
    fitted = entry.face_for("stylegan", stylegan.checkpoint_id)
    assert fitted is not None and entry.face_for("montage", MontageBackend.checkpoint_id) is not None
    async with session_factory(engine)() as session:
        repo = FaceRepository(session)
        alice = await repo.get_or_create_user("web", "alice")
        morph = await repo.get_face_by_number(alice, 2)
        gallery_face = await repo.get_face_by_id(fitted)
        picture, morph_picture = await repo.face_image(gallery_face), await repo.face_image(morph)
        chunks = read_provenance(picture.data)
        logged = (await session.execute(select(ModerationEvent.action))).scalars().all()
    assert (morph.backend, morph.checkpoint_id, morph.other_parent_id) == ("stylegan", stylegan.checkpoint_id, fitted)
    assert (gallery_face.backend, gallery_face.checkpoint_id) == ("stylegan", stylegan.checkpoint_id)
    assert (chunks[KIND_KEY], chunks[FACE_KEY], chunks[BACKEND_KEY], chunks[MODEL_KEY]) == \
        ("gallery", gallery_face.public_id, "stylegan", stylegan.checkpoint_id)
    assert picture.content_type == morph_picture.content_type == "image/jpeg"   # photoreal: JPEG files
    assert picture.data.startswith(b"\xff\xd8") and chunks[SOURCE_TYPE_KEY] == AI_SOURCE_TYPE
    assert logged == (["morph_real_person"] if name == "Barack Obama" else [])

    # the next morph uses the kept face: no second fit
    assert f"#3: morphed — you 30% · {name} 70%" in text(await chat.send("alice", f"morph me with {typed} at 0.3"))
    async with session_factory(engine)() as session:
        codes = (await session.execute(select(GalleryCode).where(GalleryCode.entry_id == entry.id))).scalars().all()
        third = await FaceRepository(session).get_face_by_number(alice, 3)
    assert sorted(c.backend for c in codes) == ["montage", "stylegan"] and third.other_parent_id == fitted


async def test_two_fits_at_once_keep_one_face(engine, migrated_database_url):
    """Two workers fitting the same entry for the same model at once: the second to store it
    finds the first one's face and uses it; one row, one face."""
    await ensure_default_gallery(engine, load_backend("montage"))
    sora = await entry_named(engine, "Sora Bae")
    drawn = replace(draw_gallery_face(MontageBackend(), sora.source, public_id=new_public_id()),
                    model="another-checkpoint")   # a new model
    first_stored, first_may_commit = asyncio.Event(), asyncio.Event()

    async def fit(on, hold: bool) -> int:
        async with session_factory(on)() as session, session.begin():
            face = await store_gallery_face(session, sora, drawn)
            if hold:   # the first transaction stays open while the second one stores
                first_stored.set()
                await first_may_commit.wait()
            return face.id

    other = create_engine(migrated_database_url)
    try:
        first = asyncio.create_task(fit(engine, hold=True))
        await first_stored.wait()
        second = asyncio.create_task(fit(other, hold=False))
        await asyncio.sleep(0.5)   # the second is waiting on the first's locks now
        first_may_commit.set()
        ids = await asyncio.gather(first, second)
    finally:
        await other.dispose()
    assert ids[0] == ids[1]
    async with session_factory(engine)() as session:
        codes = (await session.execute(select(GalleryCode).where(GalleryCode.entry_id == sora.id))).scalars().all()
        owner = await GalleryRepository(session).owner()
        gallery_faces = [f.id for f in await FaceRepository(session).history(owner, limit=100)
                         if f.checkpoint_id == "another-checkpoint"]
    assert sorted(c.checkpoint_id for c in codes) == sorted([MontageBackend.checkpoint_id, "another-checkpoint"])
    assert sora.id and gallery_faces == [ids[0]]


async def test_an_old_photo_entry_without_its_photo_is_refused_clearly(engine, stylegan):
    """An entry added before photos were kept has a montage face only: a photoreal user hears
    why it cannot be used and what would fix it, in both languages; a drawn face still morphs."""
    await ensure_default_gallery(engine, MontageBackend())
    sora = await entry_named(engine, "Sora Bae")
    async with session_factory(engine)() as session, session.begin():
        gallery = GalleryRepository(session)
        old = await gallery.add_entry("Old Star", ["올드스타"], {"kind": "photo", "seed": 0}, fictional=False)
        face = await FaceRepository(session).get_face_by_id(sora.face_for("montage", MontageBackend.checkpoint_id))
        await gallery.add_face(old, backend="montage", checkpoint_id=face.checkpoint_id, code=face.code, image=b"png")
    assert not (await entry_named(engine, "Old Star")).refittable
    chat = await photoreal_chat(engine)
    await chat.start("alice")
    await chat.send("alice", "new 1")
    assert text(await chat.send("alice", "morph me with old star")) == (
        "Old Star isn't available for photoreal faces yet: an operator needs to add their photo again. "
        "Meanwhile, try another name ('celebs').")
    listed = text(await chat.send("alice", "celebs"))
    assert "Sora Bae" in listed and "Old Star" not in listed
    await chat.send("alice", "언어 한국어")
    assert text(await chat.send("alice", "나랑 올드스타 합성")) == (
        "올드스타는 아직 사진 같은 얼굴과는 합성할 수 없어요. 운영자가 사진을 다시 등록해야 해요. "
        "그동안 다른 이름과 합성해 보세요('연예인 목록').")
    async with session_factory(engine)() as session:
        assert (await session.execute(select(ModerationEvent))).scalars().all() == []   # nothing was queued

    chat.conversation = Conversation(engine, default_backend="montage", size=64)   # a drawn face: it has one
    await chat.send("alice", "새 얼굴 2")
    assert "올드스타 50%" in text(await chat.send("alice", "나랑 올드스타 합성"))


async def test_a_kept_photo_the_model_cannot_fit_is_answered_as_the_gallery_face_failing(engine, stylegan):
    """The user sent no photo: a "no face in your photo" reply would mislead."""
    blank = io.BytesIO()
    Image.new("RGB", (256, 256), "grey").save(blank, "JPEG")
    async with session_factory(engine)() as session, session.begin():
        await GalleryRepository(session).add_entry("Blank Star", [], {"kind": "photo", "seed": 0}, fictional=False,
                                                   photo=(blank.getvalue(), "image/jpeg"))
    chat = await photoreal_chat(engine)
    await chat.start("alice")
    await chat.send("alice", "new 1")
    assert text(await chat.send("alice", "morph me with blank star")).endswith(
        "I couldn't prepare that gallery face in this style. Try another name ('celebs').")


async def test_removing_a_photo_entry_deletes_its_kept_photo(engine):
    entry = await add_from_photo(engine, MontageBackend(), "Barack Obama", ["오바마"], PHOTO.read_bytes())
    async with session_factory(engine)() as session, session.begin():
        assert (await read_blob(session, entry.source_blob_id)).data == PHOTO.read_bytes()
        assert await GalleryRepository(session).remove("Barack Obama")
    async with session_factory(engine)() as session:
        with pytest.raises(BlobNotFound):
            await read_blob(session, entry.source_blob_id)


async def test_the_gallery_answers_with_a_numbered_sheet_of_its_faces_and_a_morph_button_each(engine):
    await ensure_default_gallery(engine, MontageBackend())
    chat = ChatHarness(engine)
    await chat.announce("montage")
    await chat.start("alice")
    await chat.send("alice", "new 1")
    (reply,) = await chat.send("alice", "celebs")
    names = sorted(f.name for f in FICTIONAL_FACES)   # the gallery lists its entries by name
    assert reply.text.splitlines()[1].startswith(f"1. {names[0]} (")
    assert reply.text.splitlines()[-1] == "Press a name to morph it with your current face."
    (sheet,) = reply.pictures
    assert sheet.sheet and Image.open(io.BytesIO(sheet.data)).size == (2 * 256 + 3 * 8, 2 * 256 + 3 * 8)  # 2 × 2 faces
    assert read_provenance(sheet.data)[KIND_KEY] == "sheet"
    buttons = [b for row in reply.buttons for b in row]
    assert [b.label for b in buttons] == [f"{k}. {name}" for k, name in enumerate(names, 1)]

    morphed = await chat.send("alice", button=buttons[2].payload)   # "3. Sora Bae"
    assert "#2: morphed — you 50% · Sora Bae 50%" in text(morphed)   # the default ratio

    await chat.send("alice", "언어 한국어")
    (korean,) = await chat.send("alice", "연예인 목록")
    assert [b.label for row in korean.buttons for b in row][2] == "3. 배소라"


async def test_a_gallery_button_is_only_its_owners_and_a_removed_entry_is_answered(engine):
    await ensure_default_gallery(engine, MontageBackend())
    chat = ChatHarness(engine)
    await chat.announce("montage")
    for user in ("alice", "bob"):
        await chat.start(user)
        await chat.send(user, "new 1")
    (reply,) = await chat.send("alice", "celebs")
    sora = next(b for row in reply.buttons for b in row if b.label.endswith("Sora Bae"))
    assert (await chat.send("bob", button=sora.payload))[0].kind == "error"    # not bob's button
    async with session_factory(engine)() as session, session.begin():
        await GalleryRepository(session).remove("Sora Bae")
    assert text(await chat.send("alice", button=sora.payload)) == "That face no longer exists (it was deleted)."


async def test_morph_with_an_unknown_name_is_not_corrected_to_another(engine):
    await ensure_default_gallery(engine, MontageBackend())
    chat = ChatHarness(engine)
    await chat.announce("montage")
    await chat.start("alice")
    await chat.send("alice", "new 1")
    assert text(await chat.send("alice", "morph me with Obama")) == "I don't know 'Obama'. Say 'celebs' for the list."
    assert "#2: morphed — you 50% · Sora Bae 50%" in text(await chat.send("alice", "morph me with Sora Bea"))
