"""Directions from words (issue #17): every attribute of the vocabulary gets a direction in W on
any StyleGAN model, scored by a CLIP model the operator provides (facegen/stylegan/clip.py).

For each attribute, two sets of words say "more" and "less" of it, in the same words the chat
uses to describe faces back (facegen.describe.back: "a face with big eyes" / "a face with small
eyes", 큰 눈 / 작은 눈; for what a face has or not, "a face with glasses" / "a face", 안경 / 얼굴). Faces from fixed seeds are rendered and scored by CLIP:
score = ⟨picture, "more"⟩ − ⟨picture, "less"⟩, averaged over the languages used. A ridge
regression of the score on w gives the direction (InterFaceGAN fits a linear boundary on
labels; here CLIP's scores are the labels). Along the regression vector β one degree (2σ of
⟨w, d⟩, as directions.py calibrates every direction) moves the predicted score by twice its
spread over faces, whatever the model's scale.

An attribute is kept only when the fit predicts held-out faces' scores (Pearson r ≥ `min_r` on a
fifth of the faces the fit did not see); a weak one is reported, not written. The files are the
InterFaceGAN `.npy` boundaries directions.py already loads (`glasses.npy`,
`hair_colour_blond.npy`, …), so DREAMFACE_STYLEGAN_DIRECTIONS=OUT serves them, and
`directions.json` beside them records the checkpoint and CLIP they were built for.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from facegen.attributes import DEGREES, ENUMS, MARKS, Attributes
from facegen.describe.back import describe_back
from facegen.stylegan.clip import LANGUAGES_SETTING, MODEL_SETTING, TEXT_MODEL_SETTING, Clip
from facegen.stylegan.directions import (ENUM_TARGETS, FIELD_DIRECTION, FLAGS, ONE_SIDED, PREFIXED_VALUE_FIELDS,
                                         VALUE_FIELDS)
from facegen.stylegan.loaders import weights_digest
from facegen.stylegan.runtime import select_device
from ground.config import PREFIX, TEXT_LANGUAGES, ConfigError, Settings

log = logging.getLogger(__name__)

MANIFEST = "directions.json"
DEFAULT_SAMPLES = 1000
DEFAULT_SEED = 20261207
DEFAULT_MIN_R = 0.3
HELD_OUT = 0.2                # share of the faces kept aside to judge each fit
RIDGE = 0.1                   # ridge strength, relative to the mean eigenvalue of w's covariance
LANGUAGES = TEXT_LANGUAGES
MODELS = ("checkpoint", "clip")   # the manifest's keys that say which models the files were built for


@dataclass(frozen=True)
class Target:
    """One direction to build: what "more" and "less" of it say (each a list of alternatives
    whose text features are averaged)."""
    name: str                       # the direction file's name (directions.py's naming)
    more: tuple[Attributes, ...]
    less: tuple[Attributes, ...]

    def prompts(self, locale: str) -> tuple[list[str], list[str]]:
        return ([describe_back(a, locale) for a in self.more], [describe_back(a, locale) for a in self.less])


# "Less" of something a face either has or not is said as just "a face" / 얼굴: CLIP reads "no
# glasses" mostly as "glasses" (negation is a known blind spot, and descriptions of faces
# without glasses do not mention them), so the absence prompt would point the wrong way.
NEUTRAL = Attributes()


def _one(field_name: str, value: object) -> Attributes:
    return Attributes(**{field_name: value})


def targets() -> list[Target]:
    """Every direction the vocabulary has a name for, in the vocabulary's order."""
    out: list[Target] = []
    for name in Attributes.__dataclass_fields__:
        if name in VALUE_FIELDS or name in PREFIXED_VALUE_FIELDS:
            values = ENUMS[name]
            for value in values:   # this value against the others
                out.append(Target(f"{name}_{value}", (_one(name, value),),
                                  tuple(_one(name, other) for other in values if other != value)))
        elif name in ENUM_TARGETS:   # one direction: the values at its two ends
            ends = sorted(ENUM_TARGETS[name].items(), key=lambda item: item[1])
            less = NEUTRAL if ends[0][0] == "none" else _one(name, ends[0][0])
            out.append(Target(FIELD_DIRECTION.get(name, name), (_one(name, ends[-1][0]),), (less,)))
        elif name in FLAGS:
            out.append(Target(name, (_one(name, True),), (NEUTRAL,)))
        elif name in ONE_SIDED:
            out.append(Target(name, (_one(name, 1.0),), (NEUTRAL,)))
        elif name in MARKS:
            out.append(Target(name, (_one(name, ("cheek",)),), (NEUTRAL,)))
        elif name in DEGREES or name == "hair_length":
            out.append(Target(name, (_one(name, 0.7),), (_one(name, -0.7),)))
    return out


def pick_targets(only: Iterable[str] | None) -> list[Target]:
    """The targets named in `only` (direction names or whole fields: "hair_colour" is every
    colour), or all; ValueError naming an unknown one."""
    every = targets()
    if not only:
        return every
    chosen: list[Target] = []
    for wanted in only:
        matched = [t for t in every if t.name == wanted or t.name.startswith(f"{wanted}_")
                   and wanted in (*VALUE_FIELDS, *PREFIXED_VALUE_FIELDS)]
        if not matched:
            raise ValueError(f"no attribute called {wanted!r}; known: {', '.join(t.name for t in every)}")
        chosen += [t for t in matched if t not in chosen]
    return chosen


@dataclass
class Built:
    """One attribute's fit: the unit direction (None when too weak to keep) and how well it predicts."""
    name: str
    held_out_r: float
    prompts: dict[str, list[list[str]]]     # locale → [more, less]
    held_out_r_by_language: dict[str, float] = field(default_factory=dict)
    vector: np.ndarray | None = field(default=None, repr=False)

    @property
    def kept(self) -> bool:
        return self.vector is not None


def sample_faces(generator: torch.nn.Module, clip: Clip, samples: int, seed: int, *, batch: int = 32,
                 progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, torch.Tensor]:
    """w [N, w_dim] of faces from fixed seeds and CLIP's unit features of their pictures [N, D]."""
    device = generator.mapping.w_avg.device
    z = torch.from_numpy(np.random.RandomState(seed).randn(samples, generator.z_dim)).float()
    ws_all, features = [], []
    with torch.no_grad():
        for start in range(0, samples, batch):
            ws = generator.mapping(z[start:start + batch].to(device), 1.0)
            images = generator.synthesis(ws, noise_mode="const").clamp(-1, 1)
            features.append(clip.image_features(images).cpu())
            ws_all.append(ws[:, 0].double().cpu())
            if progress:
                progress(min(start + batch, samples), samples)
    return torch.cat(ws_all).numpy(), torch.cat(features)


def _ridge(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """β of y ≈ ȳ + (x − x̄) β for each column of y ([N] or [N, K]: one solve for all of them), with
    ridge strength RIDGE × the mean eigenvalue of x's covariance."""
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    gram = xc.T @ xc
    strength = RIDGE * np.trace(gram) / gram.shape[0]
    return np.linalg.solve(gram + strength * np.eye(gram.shape[0]), xc.T @ yc)


def fit_directions(w: np.ndarray, scores: np.ndarray, held_out: float = HELD_OUT) -> list[tuple[np.ndarray, float]]:
    """For each column of scores [N, K]: (unit direction fitted on every face, Pearson r of a fit
    on the first faces predicting the last `held_out` share)."""
    cut = int(round(len(w) * (1 - held_out)))
    predicted = (w[cut:] - w[:cut].mean(axis=0)) @ _ridge(w[:cut], scores[:cut])
    betas = _ridge(w, scores)
    out = []
    for k in range(scores.shape[1]):
        norm = np.linalg.norm(betas[:, k])
        if norm == 0:   # the same score for every face (its words read alike): nothing to fit
            out.append((np.zeros(len(betas), np.float32), 0.0))
            continue
        r = float(np.corrcoef(predicted[:, k], scores[cut:, k])[0, 1]) if np.std(predicted[:, k]) > 0 else 0.0
        out.append(((betas[:, k] / norm).astype(np.float32), r))
    return out


def fit_direction(w: np.ndarray, scores: np.ndarray, held_out: float = HELD_OUT) -> tuple[np.ndarray, float]:
    """fit_directions for one set of scores [N]."""
    return fit_directions(w, scores[:, None], held_out)[0]


def text_scores(clip: Clip, features: torch.Tensor, target: Target, languages: Sequence[str]) -> np.ndarray:
    """⟨picture, more⟩ − ⟨picture, less⟩ per face, each side's prompts averaged, then the languages."""
    per_language = []
    for locale in languages:
        more, less = target.prompts(locale)
        text = clip.text_features([*more, *less]).cpu()
        delta = text[:len(more)].mean(0) - text[len(more):].mean(0)
        per_language.append((features @ delta).double().numpy())
    return np.mean(per_language, axis=0)


def build(generator: torch.nn.Module, clip: Clip, chosen: Sequence[Target], *, samples: int = DEFAULT_SAMPLES,
          seed: int = DEFAULT_SEED, languages: Sequence[str] = LANGUAGES, min_r: float = DEFAULT_MIN_R,
          progress: Callable[[int, int], None] | None = None) -> list[Built]:
    """A fit per target from `samples` faces; the direction comes from every language's scores
    together, and each language's own held-out r is reported beside it. (Every fit shares the
    faces, so all of them are solved at once.)"""
    w, features = sample_faces(generator, clip, samples, seed, progress=progress)
    columns = []   # per target: the languages together, then each language alone when there are several
    for target in chosen:
        per_language = [text_scores(clip, features, target, [locale]) for locale in languages]
        columns += [np.mean(per_language, axis=0), *(per_language if len(languages) > 1 else [])]
    fits = iter(fit_directions(w, np.stack(columns, axis=1)))
    out = []
    for target in chosen:
        vector, r = next(fits)
        by_language = {locale: round(next(fits)[1], 4) for locale in languages} if len(languages) > 1 else {}
        prompts = {locale: [list(side) for side in target.prompts(locale)] for locale in languages}
        kept = r >= min_r and vector.any()
        out.append(Built(target.name, round(r, 4), prompts, by_language, vector if kept else None))
    return out


def unknown_languages(clip: Clip, languages: Sequence[str]) -> list[str]:
    """The languages whose words this CLIP's tokenizer mostly cannot read (unknown tokens): an
    English-only text side with a word-level vocabulary. (A byte-level tokenizer reads any
    script; whether its model understands it shows in each language's held-out r.)"""
    unk = getattr(clip.tokenizer, "unk_token_id", None)
    if unk is None:
        return []
    out = []
    for locale in languages:
        words = [describe_back(t.more[0], locale) for t in targets()[:12]]
        ids = [i for text in words for i in clip.tokenizer(text, add_special_tokens=False)["input_ids"]]
        if ids and sum(i == unk for i in ids) > len(ids) / 2:
            out.append(locale)
    return out


def text_languages(clip: Clip, languages: Sequence[str] = LANGUAGES) -> tuple[str, ...]:
    """The languages of `languages` this CLIP's text side is taken to understand: those its
    tokenizer reads, less those the operator left out of DREAMFACE_CLIP_LANGUAGES (a byte-level
    tokenizer reads Korean that an English-only model does not understand)."""
    unread = unknown_languages(clip, languages)
    return tuple(locale for locale in languages
                 if locale not in unread and (clip.languages is None or locale in clip.languages))


def build_into(out: Path, generator: torch.nn.Module, clip: Clip, clip_dirs: Sequence[str | Path | None],
               chosen: Sequence[Target], *, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
               languages: Sequence[str] = LANGUAGES, min_r: float = DEFAULT_MIN_R, checkpoint_file: str = "",
               warn: Callable[[str], None], progress: Callable[[int, int], None] | None = None) -> list[Built]:
    """What `dreamface directions build` and a worker at start (build_at_start) both do: the
    languages this CLIP's tokenizer reads (`warn` says which are left out), a fit per target from
    `samples` faces, and the files and manifest written into `out`."""
    unreadable = unknown_languages(clip, languages)
    if unreadable:
        warn(f"this CLIP's tokenizer cannot read {', '.join(unreadable)} words: left out "
             f"(set {TEXT_MODEL_SETTING} to a text model that knows them)")
    unsaid = [locale for locale in languages if clip.languages is not None and locale not in clip.languages]
    if unsaid:
        warn(f"{LANGUAGES_SETTING}={','.join(clip.languages)}: {', '.join(unsaid)} left out")
    languages = [locale for locale in languages if locale in text_languages(clip, languages)]
    if not languages:
        raise ValueError("no prompt language left")
    built = build(generator, clip, chosen, samples=samples, seed=seed, languages=languages, min_r=min_r,
                  progress=progress)
    about = models_about(generator, clip_dirs)
    write(out, built, {"checkpoint": about["checkpoint"], "checkpoint_file": checkpoint_file, "clip": about["clip"],
                       "clip_dirs": [str(d) for d in clip_dirs if d], "samples": samples, "seed": seed,
                       "languages": list(languages), "min_r": min_r})
    return built


def report_lines(built: Sequence[Built]) -> list[str]:
    """One line per attribute: its held-out r, overall and per language, and whether it was kept."""
    width = max((len(item.name) for item in built), default=0)
    lines = []
    for item in built:
        by_language = "  ".join(f"{locale} {r:+.2f}" for locale, r in item.held_out_r_by_language.items())
        lines.append(f"{item.name:<{width}}  r {item.held_out_r:+.2f}  {by_language:<17}  "
                     f"{'kept' if item.kept else 'too weak: not written'}")
    return lines


def summary(out: Path, built: Sequence[Built], min_r: float, samples: int, seconds: float) -> str:
    """The line after report_lines: how many directions were written, from how many faces, how fast."""
    kept = sum(item.kept for item in built)
    return (f"{out}: {kept} of {len(built)} directions written (held-out r ≥ {min_r}) from {samples} faces "
            f"in {seconds:.0f} s")


# --- files -----------------------------------------------------------------------------------

def files_digest(directories: Iterable[str | Path | None]) -> str:
    """A short id of the files in these directories (names and bytes): the CLIP's cache key."""
    digest = hashlib.sha256()
    for directory in directories:
        if directory is None:
            continue
        for path in sorted(p for p in Path(directory).rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(directory)).encode())
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()[:16]


def models_about(generator: torch.nn.Module, clip_dirs: Sequence[str | Path | None]) -> dict[str, str]:
    """The digests of the checkpoint's weights and of the CLIP's files: what a build is cached by."""
    return {"checkpoint": weights_digest(generator), "clip": files_digest(clip_dirs)}


def read_manifest(out: Path) -> dict | None:
    try:
        return json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def _same_models(manifest: dict, about: dict) -> bool:
    return all(manifest.get(key) == about.get(key) for key in MODELS)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write(out: Path, built: Sequence[Built], about: dict) -> None:
    """Each kept direction as `<name>.npy` ([1, w_dim], InterFaceGAN's shape), then the manifest.
    Files an earlier build wrote are removed when their attribute is now too weak, or all of
    them when that build was for another checkpoint or CLIP; files of other names (an
    operator's own) are left alone."""
    out.mkdir(parents=True, exist_ok=True)
    earlier = read_manifest(out) or {}
    same_models = _same_models(earlier, about)
    earlier_attributes = earlier.get("attributes") or {}
    rebuilt = {item.name for item in built}
    for name, entry in earlier_attributes.items():
        if entry.get("kept") and (not same_models or name in rebuilt):
            (out / f"{name}.npy").unlink(missing_ok=True)
    for item in built:
        if item.kept:
            _write_atomically(out / f"{item.name}.npy", lambda p, v=item.vector: _save_npy(p, v.reshape(1, -1)))
    attributes = dict(earlier_attributes) if same_models else {}
    for item in built:
        attributes[item.name] = {"kept": item.kept, "held_out_r": item.held_out_r,
                                 "held_out_r_by_language": item.held_out_r_by_language, "prompts": item.prompts}
    manifest = {**about, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "attributes": attributes}
    _write_atomically(out / MANIFEST, lambda p: p.write_text(json.dumps(manifest, ensure_ascii=False, indent=1)))


def _save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, array)


# --- at a worker's start (DREAMFACE_BUILD_DIRECTIONS) ------------------------------------------

BUILD_SETTING = f"{PREFIX}BUILD_DIRECTIONS"
DIRECTIONS_SETTING = f"{PREFIX}STYLEGAN_DIRECTIONS"


def build_at_start(settings: Settings, generator: torch.nn.Module, clip: Clip | None, checkpoint_file: str) -> None:
    """Every direction built into DREAMFACE_STYLEGAN_DIRECTIONS, as `dreamface directions build`
    builds them, unless its manifest says they were built for this checkpoint and this CLIP (then
    nothing is done: the cache). ConfigError naming the variable without a CLIP, without one
    directory to write, or when that directory cannot be written."""
    if clip is None:
        raise ConfigError(f"{BUILD_SETTING} needs {MODEL_SETTING} (the CLIP model that scores the faces)")
    folder = settings.stylegan_directions.strip()
    if not folder or "," in folder or Path(folder).is_file():
        raise ConfigError(f"{BUILD_SETTING} needs {DIRECTIONS_SETTING} to name one directory to build the "
                          f"directions into and serve them from, got {folder!r}")
    out = Path(folder)
    clip_dirs = [settings.clip_model, settings.clip_text_model or None]
    manifest = read_manifest(out)
    if (manifest is not None and _same_models(manifest, models_about(generator, clip_dirs))
            and manifest.get("languages") == list(text_languages(clip))):
        log.info("directions in %s are current for this checkpoint, CLIP and its languages", out)
        return
    try:   # before minutes of work, not after
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise ConfigError(f"{DIRECTIONS_SETTING}={out}: the directions cannot be written there "
                          f"({exc.strerror or exc}; {BUILD_SETTING} is on)") from None
    samples = settings.build_directions_samples
    log.info("building directions from words into %s (%s is on; %s): %d faces …", out, BUILD_SETTING,
             f"no {MANIFEST}" if manifest is None else f"its {MANIFEST} is for another checkpoint, CLIP or languages",
             samples)
    started = time.monotonic()
    device = select_device(settings.stylegan_device)
    built = build_into(out, generator.eval().to(device), clip.to(device), clip_dirs, targets(), samples=samples,
                       checkpoint_file=checkpoint_file, warn=log.warning)
    for line in report_lines(built):
        log.info("direction %s", line)
    log.info("%s", summary(out, built, DEFAULT_MIN_R, samples, time.monotonic() - started))
