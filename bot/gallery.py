"""Curating the celebrity gallery: the embedded default's fictional faces, and the operator's
`dreamface gallery add / list / remove`. An entry gets its face for this process's backend and
checkpoint here (facegen.gallery draws it, facegen.handlers.store_gallery_face keeps it, as the
worker does); workers of other models fit it on first use. Photo entries keep their photo.

    dreamface gallery add "Name" --alias 이름 photo.jpg
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from pathlib import Path

from PIL import Image
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.config import Settings
from facegen.backend import Backend, PhotoFitOptions
from facegen.backends import load_backend
from facegen.gallery import FICTIONAL_FACES, draw_gallery_face
from facegen.handlers import store_gallery_face
from storage.db import session_factory
from storage.gallery import GalleryEntryRecord, GalleryNameTaken, GalleryRepository
from storage.models import new_public_id


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
                face = await asyncio.to_thread(draw_gallery_face, backend, entry.source, public_id=new_public_id())
                await store_gallery_face(session, entry, face)
                added += 1
    return added


async def add_from_photo(engine: AsyncEngine, backend: Backend, name: str, aliases: list[str],
                         photo: bytes, seed: int = 0, options: PhotoFitOptions = PhotoFitOptions()
                         ) -> GalleryEntryRecord:
    """An operator's entry from a photo of a real person, the photo kept with it (as uploaded)
    for fitting other models, fitted with `options`; raises PhotoError or GalleryNameTaken."""
    from facegen.handlers import PHOTO_MAX_BYTES, PHOTO_MAX_PIXELS
    from facegen.photo import find_single_face, load_photo
    image = load_photo(photo, max_bytes=PHOTO_MAX_BYTES, max_pixels=PHOTO_MAX_PIXELS)
    await asyncio.to_thread(find_single_face, image)
    source = {"kind": "photo", "seed": seed}
    face = await asyncio.to_thread(draw_gallery_face, backend, source, image, public_id=new_public_id(),
                                   options=options)
    async with session_factory(engine)() as session, session.begin():
        entry = await GalleryRepository(session).add_entry(name, aliases, source, fictional=False,
                                                           photo=(photo, _content_type(photo)))
        await store_gallery_face(session, entry, face)
    return entry


def _content_type(photo: bytes) -> str:
    """The MIME type of a photo load_photo accepted (JPEG, PNG or WebP)."""
    with Image.open(io.BytesIO(photo)) as image:
        return Image.MIME[image.format]


# --- `dreamface gallery` --------------------------------------------------------------------------

def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gallery", help="the named faces users can morph with")
    sub = parser.add_subparsers(dest="gallery_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a named face from a photo (fitted now for this backend, "
                                     "by workers of other models on first use; the photo is kept)")
    add.add_argument("name")
    add.add_argument("photo", type=Path)
    add.add_argument("--alias", action="append", default=[], help="another spelling (repeatable), e.g. in Hangul")
    add.set_defaults(func=lambda args: _run(_add(args)))
    lst = sub.add_parser("list", help="list the gallery: which models have each face, and whether others can fit it")
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
        entry = await add_from_photo(engine, backend, args.name, args.alias, args.photo.read_bytes(),
                                     options=PhotoFitOptions.from_settings(Settings.from_env()))
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
        print(f"{e.name}\taliases: {', '.join(e.aliases) or '-'}\t{kind}\t{models}\t{_refit(e)}")
    return 0


def _refit(entry: GalleryEntryRecord) -> str:
    """Whether workers of other models can fit the entry on first use, and from what."""
    if not entry.refittable:
        return "other models: no (its photo was not kept: remove it and add it again)"
    source = {"seed": "its seed", "describe": "its description", "photo": "its kept photo"}[entry.source["kind"]]
    return f"other models: fitted on first use from {source}"


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
