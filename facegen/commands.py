"""Operator commands for faces without the chat: generate, parse, grid, morph.

A face argument (`A`, `B` of morph) is a seed (an integer) or the path of a photo. Every
command works the same on every backend; what only some backends take (a checkpoint, a noise
mode) is declared by the backend registry (facegen/backends.py OVERRIDES), and given to a
backend that does not take it is refused in one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ground.config import BACKENDS, Settings
from ground.limits import PHOTO_MAX_BYTES, PHOTO_MAX_PIXELS
from facegen.backend import DEFAULT_SIZE, MAX_SIZE, PhotoFitOptions
from facegen.backends import OVERRIDES, BackendUnavailable, Override, build_backend, load_backend
from facegen.facecode import FaceCode
from facegen.latent import MORPH_MODES, LatentError


class CommandError(Exception):
    """A problem with the command's arguments, reported in one line."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("generate", parents=[_common(size=None)],
                              help="draw one face from a seed or a description")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--seed", type=int, default=None, help="random face for this seed (default 0)")
    source.add_argument("--describe", metavar="TEXT", help="a description in Korean or English")
    source.add_argument("--photo", metavar="PATH", type=Path, help="a photo with one face: the face made from it")
    _caricature_option(p)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--trunc", type=float, default=1.0,
                   help="truncation ψ of a --seed face: pulled toward the average face (1 = none, 0 = the average)")
    for override in _overrides():
        p.add_argument(override.flag, dest=override.name, choices=override.choices or None, default=None,
                       help=override.help)
    p.set_defaults(func=_guard(generate))

    p = subparsers.add_parser("parse", help="print what a description means, as JSON")
    p.add_argument("text")
    p.add_argument("--lang", choices=("ko", "en"), default=None, help="default: detected from the script")
    p.set_defaults(func=_guard(parse))

    p = subparsers.add_parser("grid", parents=[_common()], help="numbered candidates for one region of a face")
    p.add_argument("--region", required=True, help="eyes, nose, mouth, brows, jaw, hair, …")
    p.add_argument("--seed", type=int, default=0, help="the face the candidates vary")
    p.add_argument("-n", "--count", type=int, default=10)
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=_guard(grid))

    p = subparsers.add_parser("morph", parents=[_common()], help="blend face A (a seed or photo) with face B")
    p.add_argument("a", metavar="A", help="seed or photo path: 'me'")
    p.add_argument("b", metavar="B", help="seed or photo path")
    p.add_argument("--ratio", type=float, default=0.5, help="share of A, between 0 and 1")
    p.add_argument("--mode", choices=MORPH_MODES, default="linear")
    _caricature_option(p)
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=_guard(morph_command))


def _caricature_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--caricature", type=float, default=0.0, metavar="S",
                   help="for a face made from a photo: exaggerate how it differs from the average face "
                        "(0 none, 1 twice as much)")


def _common(size: int | None = DEFAULT_SIZE) -> argparse.ArgumentParser:
    """--backend and --size, new for each subcommand: argparse shares a parent's actions with
    every child, so a default changed for one subcommand would change it for all."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--backend", choices=BACKENDS, default="montage")
    shown = "the backend's own size" if size is None else size
    common.add_argument("--size", type=int, default=size, help=f"picture side in pixels, up to {MAX_SIZE} (default: {shown})")
    return common


def _overrides() -> list[Override]:
    """Each setting some backend lets a command give, once (facegen/backends.py OVERRIDES)."""
    return list({override.name: override for overrides in OVERRIDES.values() for override in overrides}.values())


def _guard(func):
    """Turn the errors a user can cause into one line on stderr and exit code 2."""
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (CommandError, LatentError, ValueError, OSError, BackendUnavailable) as exc:
            print(f"dreamface {args.command}: {exc}", file=sys.stderr)
            return 2
    return run


def _save(image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    print(path)


def face_from_argument(backend, value: str, seed: int = 0, caricature: float = 0.0) -> FaceCode:
    """An integer is a seed; anything else must be a photo with exactly one usable face."""
    try:
        return backend.sample(int(value))
    except ValueError:
        pass
    return face_from_photo(backend, Path(value), seed, caricature)


def face_from_photo(backend, path: Path, seed: int = 0, caricature: float = 0.0) -> FaceCode:
    """The face the backend makes from the photo at `path`, fitted as a worker would
    (DREAMFACE_PHOTO_FIT_EVALUATIONS, DREAMFACE_INVERSION_STEPS, …: the chat's photo job does the same)."""
    if not path.is_file():
        raise CommandError(f"{str(path)!r} is neither a seed nor a photo file")
    if caricature < 0:
        raise CommandError(f"--caricature must be 0 or more, got {caricature}")
    from facegen.photo import PhotoError, load_photo
    try:
        image = load_photo(path.read_bytes(), max_bytes=PHOTO_MAX_BYTES, max_pixels=PHOTO_MAX_PIXELS)
        fitted = backend.from_photo(image, seed, options=PhotoFitOptions.from_settings(Settings.from_env(), caricature))
    except PhotoError as exc:
        raise CommandError(f"{path}: {exc}") from None
    if "likeness" in fitted.made:
        print(f"likeness to the photo: {fitted.made['likeness']:.2f} (face descriptor distance; "
              f"under 0.6 reads as the same person)", file=sys.stderr)
    return fitted.code


def generate(args: argparse.Namespace) -> int:
    """One face at the backend's own resolution unless --size asks otherwise; a description's
    words the parser did not know, and attributes this model cannot show, are named on stderr."""
    if (args.describe is not None or args.photo is not None) and args.trunc != 1:
        raise CommandError("--trunc applies to a face from --seed, not to --describe or --photo")
    if args.photo is None and args.caricature:
        raise CommandError("--caricature applies to a face made from --photo")
    given = {override.name: getattr(args, override.name) for override in _overrides()
             if getattr(args, override.name) is not None}
    backend = build_backend(args.backend, **given)
    if args.describe is not None:
        from facegen.describe import parse_description
        description = parse_description(args.describe)
        if description.unknown:
            print(f"not understood: {', '.join(description.unknown)}", file=sys.stderr)
        code = backend.from_attributes(description.attributes, seed=args.seed or 0)
        if left := backend.unapplied(description.attributes):
            print(f"no direction on this model for: {', '.join(left)} (left as drawn)", file=sys.stderr)
    elif args.photo is not None:
        code = face_from_photo(backend, args.photo, args.seed or 0, args.caricature)
    else:
        code = backend.sample_truncated(args.seed or 0, args.trunc)
    (image,) = backend.render([code], args.size or backend.resolution)
    _save(image, args.out)
    return 0


def parse(args: argparse.Namespace) -> int:
    """The description, and what the same words do to a current face in the chat
    (facegen.describe.intent): the edits of a refinement, and whether they ask for a new face
    or for a change."""
    from dataclasses import asdict
    from facegen.describe.intent import read_request
    request = read_request(args.text, locale=args.lang)
    print(json.dumps({**request.description.to_json(), "edits": [asdict(e) for e in request.edits],
                      "new_face": request.new_face, "change": request.change}, ensure_ascii=False, indent=2))
    return 0


def grid(args: argparse.Namespace) -> int:
    from facegen.candidates import region_candidates, render_candidates
    from facegen.sheet import candidate_sheet
    backend = load_backend(args.backend)
    if not 1 <= args.count <= 25:
        raise CommandError(f"--count must be between 1 and 25, got {args.count}")
    code = backend.sample(args.seed)
    candidates = region_candidates(backend, code, args.region, n=args.count, seed=args.seed)
    _save(candidate_sheet(render_candidates(backend, code, candidates, args.region, args.size),
                          backend.region_box(args.region)), args.out)
    return 0


def morph_command(args: argparse.Namespace) -> int:
    backend = load_backend(args.backend)
    a = face_from_argument(backend, args.a, seed=1, caricature=args.caricature)
    b = face_from_argument(backend, args.b, seed=2, caricature=args.caricature)
    (image,) = backend.render([backend.morph(a, b, args.ratio, args.mode)], args.size)
    _save(image, args.out)
    return 0
