"""The shipped job kinds and their handlers: the bridge between the queue and the models.

Four kinds:
- `face.make`: one new face for a user's history tree (new, describe, pick, morph, remix,
  edit; see facegen.recipes). The face node, its image and the reply are stored with the
  job's result in one transaction. A morph with a gallery entry that has no face for the
  job's model yet names the entry (`gallery_entry_id`): the worker fits the entry with its own
  backend first, from its seed, description or kept photo, and keeps that face for everyone.
- `face.photo`: the same from the user's photo, on the slow queue, so it never holds up quick
  renders: the backend fits the photo (Backend.from_photo: the montage measures the face, then
  fits it for likeness with a face recogniser in about 8 s on 2 cores; a StyleGAN aligns and
  inverts in seconds to minutes), one job at a time, writing the running job's progress (at
  most once per `progress_interval`) for the chat's "drawing it now… 45%". What the fit keeps
  with the face (`FittedFace.made`) is plain numbers, such as the montage's likeness distance;
  the photo's face descriptor never leaves the render thread.
- `face.text`: a free-text edit of the user's face ("make it look like a vampire"), on the slow
  queue like a photo, with progress the same way: the backend moves the face toward the words
  in DREAMFACE_TEXT_EDIT_STEPS steps (Backend.text_edit: a StyleGAN with a CLIP, seconds to
  minutes). Kept with the face: the steps, the CLIP similarity before and after, and how far
  the face moved as the face recogniser sees it (where it finds a face in both pictures).
- `face.sheet`: a numbered contact sheet of a candidate set (region grid, variations, remix
  set, breeding round) around the user's current face (a breeding round: its anchor face): a
  region's candidates as close-ups of the region with the whole face small under each, a
  breeding round as one array of whole faces (facegen.sheet.candidate_sheet). Only the picture
  is stored; a pick replays the set. Around a face made from a photo, the reply also carries how
  near each candidate stays to that face, as the face recogniser sees it, for the chat to say.

A request the models cannot satisfy (a photo with no face, a parent that was deleted) is not a
crash to retry: the job completes with an `error` reply the chat localizes by its code.
Rendering runs in a thread, so the worker's heartbeats go on meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ground.config import BACKENDS, Settings
from ground.limits import PHOTO_MAX_BYTES, PHOTO_MAX_PIXELS
from facegen.backend import DEFAULT_SIZE, MAX_SIZE, Backend, BackendInfo, PhotoFitOptions, UnitBox, text_language
from storage import cleanup
from facegen.backends import load_backend
from facegen.candidates import render_candidate_sets, render_candidates
from facegen.describe.back import face_words
from facegen.facecode import FaceCode, FaceCodeError
from facegen.gallery import GalleryFace, draw_gallery_face
from storage.jobkinds import JobKind, JobKinds, route_of, routes_served
from facegen.provenance import EncodedPicture, encode_picture
from facegen.recipes import (NEEDS_PARENT, RecipeError, asked, candidate_set, clean_face_params, clean_set,
                             make_face, ranked_description, text_face, wants_keep)
from facegen.sheet import candidate_sheet, drawn_side
from storage.worker import Batched, Done, Handler
from storage.blobs import add_blob, read_blob
from storage.db import session_factory
from storage.faces import FaceRecord, FaceRepository, NewFace
from storage.gallery import GalleryEntryRecord, GalleryRepository
from storage.models import new_public_id
from storage.outbox import Destination, Outbox
from storage.privacy import drop_upload
from storage.queue import JobControl, JobRecord

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 1.0   # seconds between progress writes of one running job
MAX_LINEAGE = 500         # faces read back through a history for what a remix keeps
DEFAULT_TEXT_EDIT_STEPS = Settings.text_edit_steps   # DREAMFACE_TEXT_EDIT_STEPS's default
MAKE = "face.make"
PHOTO = "face.photo"
TEXT = "face.text"
SHEET = "face.sheet"
SLOW_OPERATIONS = {"photo": PHOTO, "text": TEXT}   # the steps that take seconds to minutes: their own kinds


class InputMissing(Exception):
    """A face or photo the job refers to is gone (deleted since it was asked for)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- payloads --------------------------------------------------------------------------------

def _common(payload: Mapping[str, Any]) -> dict[str, Any]:
    user_id = payload["user_id"]
    if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id < 1:
        raise ValueError(f"user_id must be a positive integer, got {user_id!r}")
    backend = payload.get("backend", "montage")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    model = payload.get("model")   # the model id the job must run on (None: any model of the backend)
    if model is not None and (not isinstance(model, str) or not 0 < len(model) <= 80):
        raise ValueError(f"model must be a model id, got {model!r}")
    size = payload.get("size", DEFAULT_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or not 64 <= size <= MAX_SIZE:
        raise ValueError(f"size must be between 64 and {MAX_SIZE}, got {size!r}")
    reply_to = payload["reply_to"]
    if not isinstance(reply_to, Mapping) or not reply_to.get("platform") or reply_to.get("chat_id") is None:
        raise ValueError("reply_to needs a platform and a chat_id")
    return {"user_id": user_id, "backend": backend, "model": model, "size": size,
            "reply_to": {"platform": str(reply_to["platform"]), "chat_id": str(reply_to["chat_id"]),
                         "target": None if reply_to.get("target") is None else str(reply_to["target"]),
                         # the chat process that answered: it sends the result while it lives (storage/queries.py)
                         "process": None if reply_to.get("process") is None else str(reply_to["process"])}}


def _optional_id(payload: Mapping[str, Any], key: str) -> int | None:
    value = payload.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{key} must be a positive integer, got {value!r}")
    return value


Describe = Callable[[str, str | None], BackendInfo | None]   # (backend, model id) → its description


def _described(out: Mapping[str, Any], describe: Describe) -> BackendInfo:
    model = describe(out["backend"], out["model"])
    if model is None:
        raise ValueError(f"no worker has announced the {out['backend']} model {out['model']!r}")
    return model


def _validate_face(payload: Mapping[str, Any], describe: Describe) -> dict[str, Any]:
    out = _common(payload)
    operation = payload["operation"]
    out["operation"] = operation
    out["params"] = clean_face_params(operation, payload.get("params") or {}, _described(out, describe))
    out["parent_id"] = _optional_id(payload, "parent_id")
    out["other_id"] = _optional_id(payload, "other_id")
    out["gallery_entry_id"] = _optional_id(payload, "gallery_entry_id")   # a morph's other face, fitted first
    out["photo_blob_id"] = _optional_id(payload, "photo_blob_id")
    if operation in NEEDS_PARENT and out["parent_id"] is None:
        raise ValueError(f"{operation} needs parent_id")
    if operation == "morph" and (out["other_id"] is None) == (out["gallery_entry_id"] is None):
        raise ValueError("morph needs other_id or gallery_entry_id")
    if operation != "morph" and out["gallery_entry_id"] is not None:
        raise ValueError("only a morph takes gallery_entry_id")
    if operation == "photo" and out["photo_blob_id"] is None:
        raise ValueError("photo needs photo_blob_id")
    return out


def _validators(describe: Describe) -> dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]]:
    def make(payload: Mapping[str, Any]) -> dict[str, Any]:
        if payload.get("operation") in SLOW_OPERATIONS:
            raise ValueError(f"{payload['operation']} steps go to {SLOW_OPERATIONS[payload['operation']]}")
        return _validate_face(payload, describe)

    def slow(operation: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        def validate(payload: Mapping[str, Any]) -> dict[str, Any]:
            if payload.get("operation") != operation:
                raise ValueError(f"{SLOW_OPERATIONS[operation]} only makes {operation} steps")
            return _validate_face(payload, describe)
        return validate

    def sheet(payload: Mapping[str, Any]) -> dict[str, Any]:
        out = _common(payload)
        out["face_id"] = _optional_id(payload, "face_id")
        if out["face_id"] is None:
            raise ValueError("a candidate sheet needs face_id")
        out["set"] = clean_set(payload.get("set") or {}, _described(out, describe))
        return out

    return {MAKE: make, PHOTO: slow("photo"), TEXT: slow("text"), SHEET: sheet}


def described_by_loading(backend: str, model: str | None) -> BackendInfo:
    """The description of the backend this process loads: for workers, tools and tests; the
    chat side describes models from what workers announced (bot/conversation/styles.py)."""
    return load_backend(backend).describe()


def job_kinds(describe: Describe = described_by_loading) -> JobKinds:
    """The registry the chat side enqueues against; `describe` gives the description of the
    model a payload names, to check its parameters against. A face job goes only to a worker
    serving its backend and model (its route); jobs batch together per kind and route."""
    def route(payload: Mapping[str, Any]) -> str:
        return route_of(payload["backend"], payload["model"])

    validators = _validators(describe)
    return JobKinds({kind: JobKind(kind, validators[kind], queue=queue, route=route,
                                   batch_key=lambda p, kind=kind: f"{kind}:{route(p)}")
                     for kind, queue in ((MAKE, "default"), (PHOTO, "slow"), (TEXT, "slow"), (SHEET, "default"))})


# --- handlers --------------------------------------------------------------------------------

@dataclass
class _Drawn:
    """A face made in the render thread. Its picture is encoded later (`encode`, in a thread
    while the worker renders the next batch), with the public id the face will be stored under
    (so it is encoded once, with its id)."""
    code: FaceCode
    public_id: str
    image: Image.Image
    backend: Backend
    made: dict[str, Any]   # how it was made, kept with the face (e.g. the inversion's loss)
    picture: EncodedPicture | None = None


@dataclass
class _Inputs:
    parent: FaceRecord | None = None
    other: FaceRecord | None = None
    photo: bytes | None = None
    entry: GalleryEntryRecord | None = None   # a gallery entry to fit for this model (the other face)
    entry_photo: bytes | None = None          # …its kept photo, for a photo entry
    fitted: GalleryFace | None = None         # …its face, once fitted in the render thread
    keep: tuple[str, ...] = ()                # what a remix of the parent keeps (recipes.asked)
    lineage: list[tuple[str, dict[str, Any]]] = field(default_factory=list)   # the parent's history, newest first
    partner: str | None = None                # a morph's gallery entry, by name


async def store_gallery_face(session: AsyncSession, entry: GalleryEntryRecord, face: GalleryFace, *,
                             worker_id: str | None = None) -> FaceRecord:
    """Keep a gallery entry's face for its model (facegen.gallery.draw_gallery_face), under the
    public id its picture carries. Where another process kept one first, that face is returned."""
    face_id = await GalleryRepository(session).add_face(
        entry, backend=face.backend, checkpoint_id=face.model, code=face.code.to_bytes(), image=face.picture.data,
        image_content_type=face.picture.content_type, public_id=face.public_id, worker_id=worker_id)
    return await FaceRepository(session).get_face_by_id(face_id)


async def _lineage(repo: FaceRepository, face: FaceRecord | None) -> list[tuple[str, dict[str, Any]]]:
    """(operation, params) of the face and its parents, read back parent by parent: what the
    user asked for along it (recipes.asked) and what words say it is (describe.back)."""
    lineage, seen = [], set()
    while face is not None and face.id not in seen and len(lineage) < MAX_LINEAGE:
        seen.add(face.id)
        lineage.append((face.operation, face.params))
        face = None if face.parent_id is None else await repo.get_face_by_id(face.parent_id)
    return lineage


async def _asked(repo: FaceRepository, face: FaceRecord | None) -> tuple[str, ...]:
    """What the user asked for along the face's history: a remix of the face keeps it."""
    return asked(await _lineage(repo, face))


def _words(p: Mapping[str, Any], inputs: _Inputs) -> dict[str, str]:
    """What the new face is, in words in both languages, from its recipe and its parent's
    history (facegen.describe.back.face_words); a morph names its two faces."""
    me = "?" if inputs.parent is None else f"#{inputs.parent.number}"
    other = inputs.partner or ("?" if inputs.other is None else f"#{inputs.other.number}")
    return face_words([(p["operation"], p["params"]), *inputs.lineage], me=me, other=other)


def _code(record: FaceRecord | None) -> FaceCode | None:
    return None if record is None else FaceCode.from_bytes(record.code)


def _ranks(payload: Mapping[str, Any], backend: Backend) -> bool:
    """Whether this job is a description to choose among candidates by its words: asked for
    (`rank`), and the model reads their language (else the seed's face, as without a text model)."""
    p = payload["params"]
    return payload["operation"] == "describe" and bool(p.get("rank")) \
        and text_language(p["text"]) in backend.text_edit_languages()


def _destination(payload: Mapping[str, Any]) -> Destination:
    r = payload["reply_to"]
    return Destination(r["platform"], r["chat_id"], r["target"])


class FaceJobs:
    """Handlers for the face kinds on one database. Every picture carries the provenance
    (facegen/provenance.py) in its backend's format; `watermark` adds the visible corner mark."""

    def __init__(self, engine: AsyncEngine, *, watermark: bool = False, photo_retention_seconds: float = 0.0,
                 photo_options: PhotoFitOptions = PhotoFitOptions(),   # PhotoFitOptions.from_settings
                 text_edit_steps: int = DEFAULT_TEXT_EDIT_STEPS,       # DREAMFACE_TEXT_EDIT_STEPS
                 progress_interval: float = PROGRESS_INTERVAL) -> None:
        self.sessions = session_factory(engine)
        self.outbox = Outbox(engine)
        self.queue = JobControl(engine)   # only reports progress; never enqueues
        self.watermark = watermark
        self.photo_retention_seconds = photo_retention_seconds
        self.photo_options = photo_options
        self.text_edit_steps = text_edit_steps
        self.progress_interval = progress_interval

    def handlers(self) -> dict[str, Handler]:
        return {MAKE: self.make, PHOTO: self.photo, TEXT: self.text, SHEET: self.sheet}

    # -- loading inputs

    async def _face(self, repo: FaceRepository, face_id: int | None, owner: int | None) -> FaceRecord | None:
        if face_id is None:
            return None
        face = await repo.get_face_by_id(face_id)
        if face is None or (owner is not None and face.user_id != owner):
            raise InputMissing("face_gone", "that face no longer exists")
        return face

    async def _load(self, session: AsyncSession, payload: Mapping[str, Any]) -> _Inputs:
        repo = FaceRepository(session)
        # the parent is always the user's own; the other face of a morph may be a gallery face
        inputs = _Inputs(parent=await self._face(repo, payload.get("parent_id"), payload["user_id"]),
                         other=await self._face(repo, payload.get("other_id"), None))
        inputs.lineage = await _lineage(repo, inputs.parent)
        if wants_keep(payload["operation"], payload["params"]):
            inputs.keep = asked(inputs.lineage)
        if payload.get("gallery_entry_id") is not None:
            await self._load_entry(session, payload, inputs)
        if payload.get("photo_blob_id") is not None:
            try:
                inputs.photo = (await read_blob(session, payload["photo_blob_id"])).data
            except KeyError:
                raise InputMissing("photo_gone", "the photo is no longer stored") from None
        return inputs

    async def _load_entry(self, session: AsyncSession, payload: Mapping[str, Any], inputs: _Inputs) -> None:
        """A morph's gallery entry: its face for this worker's model if one was kept meanwhile,
        else what to fit it from."""
        backend = load_backend(payload["backend"])
        entry = await GalleryRepository(session).get(payload["gallery_entry_id"])
        if entry is None or not entry.refittable:   # removed, or its photo since (the chat checked)
            raise InputMissing("face_gone", "that gallery entry is gone or can no longer be fitted")
        inputs.partner = entry.name
        face_id = entry.face_for(backend.name, backend.checkpoint_id)
        if face_id is not None:
            inputs.other = await self._face(FaceRepository(session), face_id, None)
            return
        inputs.entry = entry
        if entry.source_blob_id is not None:
            try:
                inputs.entry_photo = (await read_blob(session, entry.source_blob_id)).data
            except KeyError:
                raise InputMissing("face_gone", "the gallery entry's photo is no longer stored") from None

    def _fit_entry(self, backend: Backend, inputs: _Inputs) -> FaceCode:
        """In the render thread: the gallery entry's face for this worker's model (kept on the
        inputs, for the job's result to store)."""
        from facegen.photo import PhotoError, load_photo
        try:
            photo = None if inputs.entry_photo is None else load_photo(
                inputs.entry_photo, max_bytes=PHOTO_MAX_BYTES, max_pixels=PHOTO_MAX_PIXELS)
            inputs.fitted = draw_gallery_face(backend, inputs.entry.source, photo, public_id=new_public_id(),
                                              options=self.photo_options, watermark=self.watermark)
        except PhotoError as exc:   # the user sent no photo: say it is the gallery face that failed
            raise GalleryUnfit(f"gallery entry {inputs.entry.name!r}: {exc.message}") from exc
        return inputs.fitted.code

    async def _load_all(self, jobs: Sequence[JobRecord]) -> list[_Inputs | InputMissing]:
        loaded: list[_Inputs | InputMissing] = []
        async with self.sessions() as session:
            for job in jobs:
                try:
                    loaded.append(await self._load(session, job.payload))
                except InputMissing as exc:
                    loaded.append(exc)
        return loaded

    # -- face.make

    async def make(self, jobs: Sequence[JobRecord]) -> list[Done]:
        loaded = await self._load_all(jobs)
        made = await asyncio.to_thread(self._make_codes, jobs, loaded)
        return [self._face_outcome(job, inputs, result) for job, inputs, result in zip(jobs, loaded, made)]

    def _make_codes(self, jobs: Sequence[JobRecord], loaded: Sequence[_Inputs | InputMissing]
                    ) -> list[_Drawn | Exception]:
        results: list[Any] = []
        codes: dict[int, FaceCode] = {}
        made: dict[int, dict[str, Any]] = {}   # how a face was made, where there is more than its recipe
        for i, (job, inputs) in enumerate(zip(jobs, loaded)):
            if isinstance(inputs, InputMissing):
                results.append(inputs)
                continue
            p = job.payload
            try:
                backend = load_backend(p["backend"])
                other = self._fit_entry(backend, inputs) if inputs.entry is not None else _code(inputs.other)
                if _ranks(p, backend):
                    ranked = ranked_description(backend, p["params"])
                    codes[i], made[i] = ranked.code, dict(ranked.made)
                else:
                    codes[i] = make_face(backend, p["operation"], p["params"], parent=_code(inputs.parent),
                                         other=other, keep=inputs.keep)
                results.append(None)
            except (RecipeError, FaceCodeError, ValueError) as exc:
                results.append(exc)
        # one render call per batch: the batch shares backend and size (batch_key, worker claim)
        by_size: dict[tuple[str, int], list[int]] = {}
        for i in codes:
            by_size.setdefault((jobs[i].payload["backend"], jobs[i].payload["size"]), []).append(i)
        for (backend_name, size), indices in by_size.items():
            backend = load_backend(backend_name)
            images = backend.render([codes[i] for i in indices], size)
            for i, image in zip(indices, images):
                results[i] = self._drawn(codes[i], image, backend, made.get(i))
        return results

    # -- face.photo and face.text: slow, one job at a time, with progress

    async def photo(self, jobs: Sequence[JobRecord]) -> list[Done]:
        """Each photo fitted in turn by the job's backend, reporting each job's progress."""
        return await self._one_by_one(jobs, self._fit_photo)

    async def text(self, jobs: Sequence[JobRecord]) -> list[Done]:
        """Each free-text edit made in turn by the job's backend, reporting each job's progress."""
        return await self._one_by_one(jobs, self._edit_text)

    async def _one_by_one(self, jobs: Sequence[JobRecord],
                          make: Callable[[JobRecord, _Inputs | InputMissing, Callable[[float], None]], Any]
                          ) -> list[Done]:
        loaded = await self._load_all(jobs)
        outcomes = []
        for job, inputs in zip(jobs, loaded):
            result = await asyncio.to_thread(make, job, inputs, self._progress_reporter(job))
            outcomes.append(self._face_outcome(job, inputs, result))
        return outcomes

    def _edit_text(self, job: JobRecord, inputs: _Inputs | InputMissing, progress: Callable[[float], None]
                   ) -> _Drawn | Exception:
        """The parent moved toward the words, with how far it moved as the face recogniser sees
        it (facegen.identity.drawn_distances at one size; left out where it finds no face)."""
        if isinstance(inputs, InputMissing):
            return inputs
        from facegen.identity import DRAWN_SIZES, drawn_distances
        p = job.payload
        backend = load_backend(p["backend"])
        params = {**p["params"], "steps": p["params"].get("steps") or self.text_edit_steps}
        parent = _code(inputs.parent)
        try:
            edited = text_face(backend, params, parent, progress)
        except (RecipeError, FaceCodeError, ValueError) as exc:   # Unsupported: no CLIP, a language it cannot read
            return exc
        moved = drawn_distances(backend, parent, [edited.code], DRAWN_SIZES[:1])[0]
        made = {"steps": params["steps"], **edited.made}
        if moved is not None:
            made["identity_distance"] = round(moved, 3)
        log.info("job %s: text edit by %s, %d steps", job.id, backend.name, params["steps"])
        return self._drawn(edited.code, backend.render([edited.code], p["size"])[0], backend, made)

    def _fit_photo(self, job: JobRecord, inputs: _Inputs | InputMissing, progress: Callable[[float], None]
                   ) -> _Drawn | Exception:
        if isinstance(inputs, InputMissing):
            return inputs
        from facegen.photo import load_photo
        p = job.payload
        backend = load_backend(p["backend"])
        started = time.monotonic()
        try:
            image = load_photo(inputs.photo, max_bytes=PHOTO_MAX_BYTES, max_pixels=PHOTO_MAX_PIXELS)
            fitted = backend.from_photo(image, p["params"]["seed"], options=self.photo_options, progress=progress)
        except ValueError as exc:   # PhotoError (no face, several, cut off, too small), Unsupported
            return exc
        log.info("job %s: photo fitted by %s in %.1f s", job.id, backend.name, time.monotonic() - started)
        return self._drawn(fitted.code, backend.render([fitted.code], p["size"])[0], backend, dict(fitted.made))

    def _drawn(self, code: FaceCode, image: Image.Image, backend: Backend,
               made: dict[str, Any] | None = None) -> _Drawn:
        """A new face, its picture to be encoded with the public id it will be stored under."""
        return _Drawn(code, new_public_id(), image, backend, made or {})

    def _picture(self, image: Image.Image, kind: str, backend: Backend, face_id: str | None) -> EncodedPicture:
        """The picture in the backend's format (facegen.provenance.picture_format) with its
        provenance: what it is, which face, and the backend and model that drew it."""
        return encode_picture(image, photoreal=backend.photoreal, kind=kind, face_id=face_id,
                              watermark=self.watermark, backend=backend.name, model=backend.checkpoint_id)

    def _progress_reporter(self, job: JobRecord) -> Callable[[float], None]:
        """A callback for the inversion thread: writes the fraction done from the event loop,
        at most once per `progress_interval`, without waiting for the write."""
        loop = asyncio.get_running_loop()
        last = -math.inf

        async def write(fraction: float) -> None:
            try:   # progress is a courtesy: a failed write must not stop the job
                await self.queue.report_progress(job, job.worker_id or "", fraction)
            except Exception as exc:
                log.debug("job %s: progress not recorded (%s)", job.id, exc)

        def report(fraction: float) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= self.progress_interval:
                last = now
                asyncio.run_coroutine_threadsafe(write(fraction), loop)

        return report

    def _face_outcome(self, job: JobRecord, inputs: _Inputs | InputMissing, result: Any) -> Done:
        p = job.payload
        if isinstance(result, Exception):
            return self._error(job, result)
        drawn: _Drawn = result

        async def encode() -> None:   # Pillow's encoders release the GIL: a batch's pictures encode side by side
            drawn.picture = await asyncio.to_thread(self._picture, drawn.image, "face", drawn.backend, drawn.public_id)
            drawn.image = None

        return Done({"operation": p["operation"], **drawn.made}, Batched(self._store_faces, (job, inputs, drawn)),
                    prepare=encode)

    async def _store_faces(self, session: AsyncSession, made: Sequence[tuple[JobRecord, _Inputs, _Drawn]]) -> None:
        """Store a batch's new faces with their images and replies, each made its user's current
        face, in a few multi-row statements (FaceRepository.add_faces, Outbox.add_many)."""
        new = []
        for job, inputs, drawn in made:
            p = job.payload
            backend = load_backend(p["backend"])
            other = inputs.other
            if inputs.fitted is not None:   # kept even if the user is gone: the next morph needs no fit
                other = await store_gallery_face(session, inputs.entry, inputs.fitted, worker_id=job.worker_id)
            new.append(NewFace(
                user_id=p["user_id"], parent=inputs.parent, other_parent=other, operation=p["operation"],
                params={**p["params"], **drawn.made, "words": _words(p, inputs)}, backend=backend.name, checkpoint_id=backend.checkpoint_id,
                code=drawn.code.to_bytes(), image=drawn.picture.data, image_content_type=drawn.picture.content_type,
                public_id=drawn.public_id, job_id=job.id, worker_id=job.worker_id))
        faces = await FaceRepository(session).add_faces(new)
        replies = []
        for (job, inputs, _), face in zip(made, faces):
            if face is None:   # the user deleted their data meanwhile: nothing stored
                continue
            await self._photo_used(session, job.payload)
            replies.append((_destination(job.payload), {
                "type": "face", "face_id": face.id, "number": face.number, "operation": job.payload["operation"],
                "parent_number": None if inputs.parent is None else inputs.parent.number,
            }, job.id))
        await self.outbox.add_many(session, replies)

    # -- face.sheet

    async def sheet(self, jobs: Sequence[JobRecord]) -> list[Done]:
        loaded, keeps = [], []
        async with self.sessions() as session:
            repo = FaceRepository(session)
            for job in jobs:
                try:
                    face = await self._face(repo, job.payload["face_id"], job.payload["user_id"])
                except InputMissing as exc:
                    face = exc
                loaded.append(face)
                remixes = job.payload["set"]["kind"] == "remix" and not isinstance(face, InputMissing)
                keeps.append(await _asked(repo, face) if remixes else ())
        pictures = await asyncio.to_thread(self._draw_sheets, jobs, loaded, keeps)
        kept = await asyncio.to_thread(self._likeness_kept, jobs, loaded, keeps)
        return [self._sheet_outcome(job, face, picture, likeness)
                for job, face, picture, likeness in zip(jobs, loaded, pictures, kept)]

    def _likeness_kept(self, jobs: Sequence[JobRecord], faces: Sequence[FaceRecord | InputMissing],
                       keeps: Sequence[tuple[str, ...]]) -> list[list[float | None] | None]:
        """For a sheet around a face made from a photo, how near each candidate stays to that
        face, as the face recogniser sees it (facegen.identity.drawn_distances at one size: a
        render each and one descriptor call); None for other sheets, and where the candidates
        cannot be made."""
        from facegen.identity import DRAWN_SIZES, drawn_distances
        kept: list[list[float | None] | None] = []
        for job, face, keep in zip(jobs, faces, keeps):
            if isinstance(face, InputMissing) or face.operation != "photo":
                kept.append(None)
                continue
            backend = load_backend(job.payload["backend"])
            try:
                code = FaceCode.from_bytes(face.code)
                candidates = candidate_set(backend, code, job.payload["set"], keep)
            except (RecipeError, FaceCodeError, ValueError):
                kept.append(None)   # the sheet itself says what went wrong
                continue
            kept.append([None if d is None else round(d, 3)
                         for d in drawn_distances(backend, code, candidates, DRAWN_SIZES[:1])])
        return kept

    def _draw_sheets(self, jobs: Sequence[JobRecord], faces: Sequence[FaceRecord | InputMissing],
                     keeps: Sequence[tuple[str, ...]]) -> list[Any]:
        """Each job's sheet image (encoded later, in the settling stage), or its error."""
        pictures: list[Any] = list(faces)   # InputMissing stays; the rest become images or errors
        groups: dict[tuple[str, int], list[tuple[int, FaceCode, list[FaceCode]]]] = {}
        for i, (job, face) in enumerate(zip(jobs, faces)):
            if isinstance(face, InputMissing):
                continue
            p = job.payload
            try:
                code = FaceCode.from_bytes(face.code)
                candidates = candidate_set(load_backend(p["backend"]), code, p["set"], keeps[i])
            except (RecipeError, FaceCodeError, ValueError) as exc:
                pictures[i] = exc
                continue
            groups.setdefault((p["backend"], drawn_side(p["size"], _region_box(p))), []).append((i, code, candidates))
        # the candidates of every sheet in the batch are drawn in one render call per backend and tile
        for (backend_name, tile), sheets in groups.items():
            backend = load_backend(backend_name)
            try:
                drawn = render_candidate_sets(
                    backend, [(code, cands, jobs[i].payload["set"].get("region")) for i, code, cands in sheets], tile)
            except (RecipeError, FaceCodeError, ValueError):
                drawn = None   # one sheet spoils the batch: draw sheet by sheet, so only that sheet gets the error
            for k, (i, code, cands) in enumerate(sheets):
                try:
                    images = drawn[k] if drawn is not None else render_candidates(
                        backend, code, cands, jobs[i].payload["set"].get("region"), tile)
                    pictures[i] = candidate_sheet(images, _region_box(jobs[i].payload),
                                                  array=jobs[i].payload["set"]["kind"] == "breed")
                except (RecipeError, FaceCodeError, ValueError) as exc:
                    pictures[i] = exc
        return pictures

    def _sheet_outcome(self, job: JobRecord, face: FaceRecord | InputMissing, sheet: Any,
                       likeness: list[float | None] | None) -> Done:
        if isinstance(sheet, Exception):
            return self._error(job, sheet)
        p = job.payload
        picture: EncodedPicture | None = None

        async def encode() -> None:   # off the render thread, like a face's picture
            nonlocal picture
            picture = await asyncio.to_thread(self._picture, sheet, "sheet", load_backend(p["backend"]), face.public_id)

        async def store(session: AsyncSession) -> None:
            assert picture is not None
            blob_id = await add_blob(session, picture.data, picture.content_type)
            await self.outbox.add(session, _destination(p), {
                "type": "sheet", "face_number": face.number, "set": p["set"],
            } | ({} if likeness is None else {"likeness": likeness}), job_id=job.id, picture=blob_id)

        return Done({"set": p["set"]["kind"]}, store, prepare=encode)

    async def _photo_used(self, session: AsyncSession, payload: Mapping[str, Any]) -> None:
        """With no retention the photo goes with the job's result; otherwise the clean-up
        job deletes it later (storage/privacy.py sweep_uploads)."""
        if payload.get("photo_blob_id") is not None and self.photo_retention_seconds <= 0:
            await drop_upload(session, payload["photo_blob_id"])

    # -- user-facing errors

    def _error(self, job: JobRecord, exc: Exception) -> Done:
        code = getattr(exc, "code", None) or "bad_request"
        log.info("job %s (%s) ends with a reply, not a face: %s %s", job.id, job.kind, code, exc)

        async def store(session: AsyncSession) -> None:
            await self._photo_used(session, job.payload)
            await self.outbox.add(session, _destination(job.payload),
                                  {"type": "error", "code": code, "message": str(exc),
                                   "values": getattr(exc, "values", {})}, job_id=job.id)

        return Done({"error": code}, store)


def _region_box(payload: Mapping[str, Any]) -> UnitBox | None:
    """Where a sheet's region candidates differ (None: a whole-face set)."""
    region = payload["set"].get("region")
    return None if region is None else load_backend(payload["backend"]).region_box(region)


class GalleryUnfit(ValueError):
    """A gallery entry's kept photo could not be fitted by this model."""
    code = "gallery_unfit"


def served(settings: Settings) -> list[BackendInfo]:
    """The models this worker serves (DREAMFACE_BACKEND), built now so the first job is not
    slow, named as the operator labelled them (DREAMFACE_STYLE_LABEL, DREAMFACE_STYLE_LABEL_KO)."""
    info = load_backend(settings.backend).describe()
    return [replace(info, label=settings.style_label, label_ko=settings.style_label_ko)]


def worker_routes(models: Sequence[BackendInfo]) -> dict[str, Any]:
    """The Worker arguments that make it claim only these models' jobs and announce them."""
    return {"routes": routes_served([(m.name, m.model_id) for m in models]),
            "models": [m.to_json() for m in models]}


def load(settings: Settings, engine: AsyncEngine) -> Mapping[str, Handler]:
    """What `dreamface worker` runs."""
    load_backend(settings.backend)
    faces = FaceJobs(engine, watermark=settings.watermark, photo_retention_seconds=settings.photo_retention_seconds,
                     photo_options=PhotoFitOptions.from_settings(settings), text_edit_steps=settings.text_edit_steps)
    return {**faces.handlers(), **cleanup.handlers(settings, engine)}
