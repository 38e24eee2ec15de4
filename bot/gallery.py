"""Curating the celebrity gallery: the embedded default's fictional faces, and the operator's
`dreamface gallery add / list / remove`. Bridges facegen (computing an entry's code for the
active backend and checkpoint) and storage (keeping it).

    dreamface gallery add "Name" --alias 이름 photo.jpg
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from PIL import Image
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from dreamface.config import Settings
from facegen.backend import Backend
from facegen.backends import load_backend
from facegen.gallery import FICTIONAL_FACES, code_from_source
from facegen.provenance import encode_png, stamp_face_id
from storage.db import session_factory
from storage.gallery import GalleryEntryRecord, GalleryNameTaken, GalleryRepository

PICTURE_SIZE = 256


async def _store_face(repo: GalleryRepository, entry: GalleryEntryRecord, backend: Backend,
                      photo: Image.Image | None = None) -> int:
    code = await asyncio.to_thread(code_from_source, backend, entry.source, photo)
    (image,) = await asyncio.to_thread(backend.render, [code], PICTURE_SIZE)
    png = await asyncio.to_thread(encode_png, image, kind="gallery")   # provenance, like every picture we make
    return await repo.add_face(entry, backend=backend.name, checkpoint_id=backend.checkpoint_id,
                               code=code.to_bytes(), image=png, stamp=stamp_face_id)


async def ensure_default_gallery(engine: AsyncEngine, backend: Backend) -> int:
    """Seed an empty gallery with the fictional faces, and give every entry that can be
    recomputed (seed and description sources) a face for this backend and checkpoint.
    Returns how many faces were computed. Safe to run at every start, by several processes at
    once: the one that loses the race to insert looks again and finds the winner's rows."""
    try:
        return await _seed_gallery(engine, backend)
    except IntegrityError:   # PostgreSQL raised it once the winner committed, so its rows are visible now
        return await _seed_gallery(engine, backend)


async def _seed_gallery(engine: AsyncEngine, backend: Backend) -> int:
    sessions = session_factory(engine)
    added = 0
    async with sessions() as session, session.begin():
        repo = GalleryRepository(session)
        entries = await repo.entries()
        if not entries:
            for face in FICTIONAL_FACES:
                entries.append(await repo.add_entry(face.name, list(face.aliases), face.source, fictional=True))
        for entry in entries:
            if entry.source.get("kind") != "photo" and entry.face_for(backend.name, backend.checkpoint_id) is None:
                await _store_face(repo, entry, backend)
                added += 1
    return added


async def add_from_photo(engine: AsyncEngine, backend: Backend, name: str, aliases: list[str],
                         photo: bytes, seed: int = 0) -> GalleryEntryRecord:
    """An operator's entry from a photo of a real person; raises PhotoError or GalleryNameTaken."""
    from facegen.handlers import PHOTO_MAX_BYTES, PHOTO_MAX_PIXELS
    from facegen.photo import find_single_face, load_photo
    image = load_photo(photo, max_bytes=PHOTO_MAX_BYTES, max_pixels=PHOTO_MAX_PIXELS)
    await asyncio.to_thread(find_single_face, image)
    async with session_factory(engine)() as session, session.begin():
        repo = GalleryRepository(session)
        entry = await repo.add_entry(name, aliases, {"kind": "photo", "seed": seed}, fictional=False)
        await _store_face(repo, entry, backend, image)
    return entry


# --- `dreamface gallery` --------------------------------------------------------------------------

def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gallery", help="the named faces users can morph with")
    sub = parser.add_subparsers(dest="gallery_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a named face from a photo (its code is computed now)")
    add.add_argument("name")
    add.add_argument("photo", type=Path)
    add.add_argument("--alias", action="append", default=[], help="another spelling (repeatable), e.g. in Hangul")
    add.set_defaults(func=lambda args: _run(_add(args)))
    lst = sub.add_parser("list", help="list the gallery")
    lst.set_defaults(func=lambda args: _run(_list(args)))
    rm = sub.add_parser("remove", help="remove a named face (by name or alias)")
    rm.add_argument("name")
    rm.set_defaults(func=lambda args: _run(_remove(args)))


def _run(coroutine) -> int:
    return asyncio.run(coroutine)


async def _engine() -> tuple[AsyncEngine, Backend]:
    from storage.migrate import open_database
    settings = Settings.from_env()
    return await open_database(settings), load_backend(settings.backend)


async def _add(args: argparse.Namespace) -> int:
    from facegen.photo import PhotoError
    engine, backend = await _engine()
    try:
        await ensure_default_gallery(engine, backend)   # the defaults first, so an operator's add never replaces them
        entry = await add_from_photo(engine, backend, args.name, args.alias, args.photo.read_bytes())
    except (OSError, PhotoError, GalleryNameTaken) as exc:
        print(f"dreamface gallery add: {exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"added {entry.name} ({', '.join(entry.aliases) or 'no aliases'}) for {backend.name}/{backend.checkpoint_id}")
    return 0


async def _list(args: argparse.Namespace) -> int:
    engine, backend = await _engine()
    try:
        await ensure_default_gallery(engine, backend)
        async with session_factory(engine)() as session:
            entries = await GalleryRepository(session).entries()
    finally:
        await engine.dispose()
    for e in entries:
        models = ", ".join(f"{b}/{c}" for b, c in sorted(e.faces)) or "no faces"
        kind = "fictional" if e.fictional else "real person"
        print(f"{e.name}\taliases: {', '.join(e.aliases) or '-'}\t{kind}\t{models}")
    return 0


async def _remove(args: argparse.Namespace) -> int:
    engine, _ = await _engine()
    try:
        async with session_factory(engine)() as session, session.begin():
            removed = await GalleryRepository(session).remove(args.name)
    finally:
        await engine.dispose()
    if not removed:
        print(f"dreamface gallery remove: no entry named {args.name!r}", file=sys.stderr)
        return 1
    print(f"removed {args.name}")
    return 0
