"""The celebrity gallery: fuzzy names in both scripts, the fictional defaults, and the
operator's `dreamface gallery add / list / remove` with a real photo."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.conversation.names import match_name
from bot.gallery import ensure_default_gallery
from facegen.backends import load_backend
from facegen.gallery import FICTIONAL_FACES
from storage.db import session_factory
from storage.gallery import GalleryEntryRecord, GalleryRepository

REPO = Path(__file__).resolve().parents[2]
PHOTO = REPO / "tests" / "data" / "obama_official_portrait.jpg"
ENTRIES = [GalleryEntryRecord(i, f.name, f.aliases, f.source, True, {}) for i, f in enumerate(FICTIONAL_FACES)]


@pytest.mark.parametrize("typed", ["Sora Bae", "sora", "SORA BAE", "소라", "소라랑", "배소라님", "소랴", "sora bea"])
def test_names_match_in_both_scripts_with_particles_and_typos(typed):
    assert match_name(typed, ENTRIES).entry.name == "Sora Bae"


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
    assert dreamface("remove", "오바마").returncode == 0
    assert "Barack Obama" not in dreamface("list").stdout
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
    from facegen.provenance import FACE_KEY, KIND_KEY, NOTICE, read_provenance
    from storage.faces import FaceRepository
    backend = load_backend("montage")
    await ensure_default_gallery(engine, backend)
    async with session_factory(engine)() as session:
        entries = await GalleryRepository(session).entries()
        repo = FaceRepository(session)
        for entry in entries:
            face_id = entry.face_for("montage", backend.checkpoint_id)
            picture = await repo.face_image(await repo.get_face_by_id(face_id))
            chunks = read_provenance(picture.data)
            assert (chunks["Comment"], chunks[KIND_KEY], chunks[FACE_KEY]) == (NOTICE, "gallery", str(face_id))
