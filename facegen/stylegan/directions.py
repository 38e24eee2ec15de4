"""Attribute directions in W: what "more smile", "older" or a description move a stylegan face along.

Two sources, no extra networks:
- **Operator files** named after the attribute they change (DREAMFACE_STYLEGAN_DIRECTIONS: files
  separated by commas, or a directory of them):
  InterFaceGAN boundaries, `.npy` of shape [1, w_dim] or [w_dim] (the unit normal of a linear
  attribute boundary in W; its own files are called e.g. `stylegan_ffhq_smile_w_boundary.npy`);
  GANSpace components, `.npz` with `lat_comp` [n, 1, w_dim] (unit principal directions of W),
  `lat_mean` and `lat_stdev` [n]. A file name may add, before the extension, `.c<k>` (which
  GANSpace component; default 0) and `.w<start>-<stop>` (the rows of W+ it moves, start up to
  but not including stop, as GANSpace writes its edits; default every row):
  `smile.npy`, `stylegan_ffhq_age_w_boundary.npy`, `smile.c46.w4-5.npz`.
  The attribute is the longest trailing part of the name (after dropping `_boundary` and `_w`)
  that names one of facegen.attributes' fields or an alias (eyeglasses → glasses, male →
  gender, …); other names are kept as they are and listed, but no chat intent reaches them.
  Sign: positive means more of the attribute: older, smiling, male (InterFaceGAN's
  convention), wearing glasses, bearded, freckled, with moles or scars (a direction cannot say
  where: `moles.npy` is "more moles" wherever they were asked for).
  Enum fields: gender, age_band (as `age`) and beard sit on one direction each; hair colour,
  style, skin tone and face shape take a direction per value (`blond.npy` or
  `hair_colour_blond.npy`); eye colour, brow shape, hairline and beard colour only the prefixed
  name (`eye_colour_blue.npy`, `brow_shape_arched.npy`, `hairline_receding.npy`,
  `beard_colour_white.npy`), since their values (brown, grey, straight …) name other things too.
- **Closed-form directions** (SeFa, "Closed-Form Factorization of Latent Semantics in GANs"):
  the eigenvectors of AᵀA, A the style affine weights of every synthesis layer stacked (each
  output row scaled to unit length), largest eigenvalue first. They have no names; they are
  `principal_1`, `principal_2`, …, and stylegan variations move along them.

Scale: every direction is calibrated on the checkpoint itself. Its spread σ is the standard
deviation of ⟨w, d⟩ over 2000 faces from fixed seeds, so one degree (facegen.attributes' unit,
−1 … +1) is 2σ along any direction from any source, and degree 0 is those faces' mean.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch

from facegen.attributes import ENUMS, Attributes, Edit
from facegen.facecode import FaceCode

SUFFIXES = (".npy", ".npz")
DEGREE_SIGMAS = 2.0          # one degree = this many standard deviations along the direction
CALIBRATION_FACES = 2000
CALIBRATION_SEED = 20201111
PRINCIPAL = "principal_"

# Other names operators' files use for our attributes.
ALIASES: dict[str, str] = {
    "eyeglasses": "glasses", "glass": "glasses", "male": "gender", "sex": "gender", "aging": "age",
    "old": "age", "older": "age", "smiling": "smile", "hair_color": "hair_colour", "beard_kind": "beard",
    "mustache": "moustache", "eye_distance": "eye_spacing", "lips": "lip_fullness",
}
# Degree targets for the enum fields that sit on one direction (named after the field).
ENUM_TARGETS: dict[str, dict[str, float]] = {
    "gender": {"male": 1.0, "female": -1.0},
    "age_band": {"child": -1.0, "teen": -0.7, "twenties": -0.4, "thirties": 0.0, "middle": 0.5, "senior": 1.0},
    "beard": {"none": -1.0, "stubble": 0.3, "moustache": 0.6, "goatee": 0.6, "full": 1.0},
}
# Fields whose direction has another name.
FIELD_DIRECTION = {"age_band": "age"}
FLAGS = ("glasses", "double_eyelid", "beard_tidy", "dimples")
# Degrees from 0 (none) to 1, and marks (a tuple of places: any place is "more of them").
ONE_SIDED = ("wrinkles", "freckles")
MARK_FIELDS = ("moles", "scars")
# Enum fields with a direction per value ("blond", "hair_colour_blond", …) …
VALUE_FIELDS = ("hair_colour", "hair_style", "skin_tone", "face_shape")
# … and those whose values are only named with the field ("eye_colour_blue", never "blue"):
# brown and grey are hair colours too, straight a brow shape and a hairline.
PREFIXED_VALUE_FIELDS = ("eye_colour", "brow_shape", "hairline", "beard_colour")


class DirectionError(ValueError):
    """A direction file that cannot be used; the message names the file and why."""


@dataclass(frozen=True)
class Direction:
    name: str                   # the attribute it changes ("smile", "age", …) or principal_k
    vector: np.ndarray          # unit [w_dim]
    rows: slice = field(default_factory=lambda: slice(None))   # rows of W+ it moves
    source: str = ""            # the file it came from, or "closed-form"
    mean: float = 0.0           # ⟨w, d⟩ averaged over the calibration faces (degree 0)
    sigma: float = 1.0          # their standard deviation (half a degree)

    def position(self, latent: np.ndarray) -> float:
        """Where a face sits along the direction, in degrees (its moved rows averaged)."""
        return (float(latent[self.rows].mean(axis=0) @ self.vector) - self.mean) / (DEGREE_SIGMAS * self.sigma)

    def moved(self, latent: np.ndarray, degrees: float) -> np.ndarray:
        out = latent.copy()
        out[self.rows] += np.float32(degrees * DEGREE_SIGMAS * self.sigma) * self.vector
        return out


def _enum_values(field: str) -> tuple[str, ...]:
    from facegen.attributes import ENUMS
    return ENUMS[field]


def attribute_names() -> set[str]:
    """Every name a direction file may be called by: fields, 'age', enum values, aliases."""
    names = {f.name for f in fields(Attributes)} | {"age"} | set(ALIASES)
    for value_field in VALUE_FIELDS:
        names |= set(_enum_values(value_field)) | {f"{value_field}_{v}" for v in _enum_values(value_field)}
    for value_field in PREFIXED_VALUE_FIELDS:
        names |= {f"{value_field}_{v}" for v in _enum_values(value_field)}
    return names


_OPTION = re.compile(r"\.(c\d+|w\d+-\d+)$")


def parse_file_name(path: Path) -> tuple[str, int, slice]:
    """(attribute name, GANSpace component, rows) from a direction file's name."""
    stem = path.name[: -len(path.suffix)]
    component, rows = 0, slice(None)
    while found := _OPTION.search(stem):
        option = found.group(1)
        if option[0] == "c":
            component = int(option[1:])
        else:
            start, stop = (int(n) for n in option[1:].split("-"))
            if stop <= start:
                raise DirectionError(f"{path.name}: rows w{start}-{stop} are empty (stop is not included)")
            rows = slice(start, stop)
        stem = stem[: found.start()]
    base = stem.lower().replace("-", "_")
    for suffix in ("_boundary", "_w"):
        base = base.removesuffix(suffix)
    tokens = base.split("_")
    known = attribute_names()
    for i in range(len(tokens)):
        candidate = "_".join(tokens[i:])
        if candidate in known:
            return ALIASES.get(candidate, candidate), component, rows
    return base, component, rows


def load_direction_file(path: str | Path, w_dim: int, num_ws: int) -> Direction:
    path = Path(path)
    name, component, rows = parse_file_name(path)
    try:
        if path.suffix == ".npy":
            vector = np.load(path, allow_pickle=False)
            if vector.shape not in ((w_dim,), (1, w_dim)):
                raise DirectionError(f"{path.name}: an InterFaceGAN boundary must have shape [1, {w_dim}] "
                                     f"or [{w_dim}], got {list(vector.shape)}")
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                if "lat_comp" not in data:
                    raise DirectionError(f"{path.name}: a GANSpace file needs a 'lat_comp' array")
                comps = data["lat_comp"]
            comps = comps.reshape(comps.shape[0], -1) if comps.ndim >= 2 else comps
            if comps.ndim != 2 or comps.shape[1] != w_dim:
                raise DirectionError(f"{path.name}: lat_comp must be [n, 1, {w_dim}], got {list(comps.shape)}")
            if not 0 <= component < comps.shape[0]:
                raise DirectionError(f"{path.name}: component {component} asked for, the file has {comps.shape[0]}")
            vector = comps[component]
        else:
            raise DirectionError(f"{path.name}: direction files are .npy (InterFaceGAN) or .npz (GANSpace)")
    except (OSError, ValueError) as exc:
        if isinstance(exc, DirectionError):
            raise
        raise DirectionError(f"{path}: cannot read a direction ({exc})") from None
    vector = np.asarray(vector, dtype=np.float64).reshape(w_dim)
    norm = np.linalg.norm(vector)
    if not np.isfinite(norm) or norm == 0:
        raise DirectionError(f"{path.name}: the direction is zero or not finite")
    if rows.stop is not None and rows.stop > num_ws:
        raise DirectionError(f"{path.name}: rows w{rows.start}-{rows.stop} go past this model's {num_ws} rows")
    return Direction(name, (vector / norm).astype(np.float32), rows, str(path))


def direction_files(spec: str) -> list[Path]:
    """The files a DREAMFACE_STYLEGAN_DIRECTIONS value names: comma-separated files or directories."""
    files: list[Path] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        path = Path(item)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise DirectionError(f"{path}: no such direction file or directory")
    return files


def load_directions(spec: str, w_dim: int, num_ws: int) -> dict[str, Direction]:
    """The operator's named directions; two files for one attribute are an error."""
    out: dict[str, Direction] = {}
    for path in direction_files(spec):
        direction = load_direction_file(path, w_dim, num_ws)
        if direction.name in out:
            raise DirectionError(f"two direction files for {direction.name!r}: {out[direction.name].source} and {path}")
        out[direction.name] = direction
    return out


def closed_form(generator: torch.nn.Module, count: int = 16) -> list[Direction]:
    """SeFa: the top `count` eigenvectors of AᵀA over every style affine of the synthesis."""
    weights = [module.weight.detach().double().cpu() for name, module in generator.synthesis.named_modules()
               if name.endswith("affine") and module.weight.shape[0] > 4]   # not StyleGAN3's 4-number input transform
    a = torch.cat(weights)
    a = a / a.norm(dim=1, keepdim=True)
    values, vectors = torch.linalg.eigh(a.T @ a)
    order = torch.argsort(values, descending=True)[:count]
    return [Direction(f"{PRINCIPAL}{k + 1}", vectors[:, i].float().numpy(), source="closed-form")
            for k, i in enumerate(order.tolist())]


def calibrate(directions: Sequence[Direction], mapping: torch.nn.Module) -> list[Direction]:
    """Each direction with the mean and spread of ⟨w, d⟩ over CALIBRATION_FACES mapped faces."""
    if not directions:
        return []
    rng = np.random.RandomState(CALIBRATION_SEED)
    device = mapping.w_avg.device
    z = torch.from_numpy(rng.randn(CALIBRATION_FACES, mapping.z_dim)).to(device)
    with torch.no_grad():
        w = mapping(z)[:, 0].double().cpu().numpy()
    out = []
    for d in directions:
        coords = w @ d.vector.astype(np.float64)
        out.append(replace(d, mean=float(coords.mean()), sigma=float(max(coords.std(), 1e-6))))
    return out


# --- intents → directions --------------------------------------------------------------------

def needed(field: str, value: object = None) -> list[str]:
    """Names of the directions that can carry one field (any of them will do), best first."""
    if field in VALUE_FIELDS:
        return [] if value is None else [str(value), f"{field}_{value}"]
    if field in PREFIXED_VALUE_FIELDS:
        return [] if value is None else [f"{field}_{value}"]
    return [FIELD_DIRECTION.get(field, field)]


def _target(field: str, value: object) -> float:
    """The degree a value edit sets its direction to."""
    if field in ENUM_TARGETS:
        if str(value) not in ENUM_TARGETS[field]:
            raise ValueError(f"{field} must be one of {', '.join(ENUM_TARGETS[field])}, not {value!r}")
        return ENUM_TARGETS[field][str(value)]
    if field in VALUE_FIELDS or field in PREFIXED_VALUE_FIELDS:
        return 1.0
    if field in FLAGS:
        return 1.0 if value is True else -1.0
    if field in MARK_FIELDS:
        return 1.0 if value else -1.0      # some places: marked; none: clear
    if field in ONE_SIDED:
        return 2.0 * float(value) - 1.0   # 0 none … 1 deep
    return float(value)


class Directions:
    """A checkpoint's directions by name, and how attribute intents apply them."""

    def __init__(self, named: Mapping[str, Direction], principal: Sequence[Direction] = ()) -> None:
        self.named = dict(named)
        self.principal = list(principal)

    def available(self) -> list[str]:
        """Attribute names a user can ask for, sorted."""
        return sorted(self.named)

    def capabilities(self) -> list[str]:
        """In attribute terms (facegen.backend.Backend.edit_names): each field a direction
        carries, and "field=value" for each value of a per-value field that has one."""
        out = []
        for f in fields(Attributes):
            if f.name in VALUE_FIELDS or f.name in PREFIXED_VALUE_FIELDS:
                out += [f"{f.name}={v}" for v in ENUMS[f.name] if self.find(f.name, v) is not None]
            elif self.find(f.name) is not None:
                out.append(f.name)
        return out

    def find(self, field: str, value: object = None) -> Direction | None:
        for name in needed(field, value):
            if name in self.named:
                return self.named[name]
        return None

    def missing(self, edits: Iterable[Edit]) -> list[str]:
        """The fields of these edits that no direction carries, in order, once each."""
        out: list[str] = []
        for e in edits:
            if self.find(e.field, e.value) is None and e.field not in out:
                out.append(e.field)
        return out

    def edit(self, latent: np.ndarray, change: Edit) -> np.ndarray | None:
        """One edit on a W+ latent; None when no direction carries the field."""
        d = self.find(change.field, change.value)
        if d is None:
            return None
        if change.value is None or change.field == "age":
            return d.moved(latent, change.amount)
        return d.moved(latent, _target(change.field, change.value) - d.position(latent))

    def apply(self, code: FaceCode, change: Edit) -> FaceCode | None:
        """The edit on the base and every part donor alike (a donor's region follows its face)."""
        base = self.edit(code.base, change)
        if base is None:
            return None
        return FaceCode(base, {r: self.edit(p, change) for r, p in code.parts.items()})

    def describe(self, code: FaceCode, attributes: Attributes) -> tuple[FaceCode, list[str]]:
        """The face moved to every described attribute a direction carries, and the fields it could not."""
        unapplied = []
        for attribute, value in attributes.specified().items():
            moved = self.apply(code, Edit(attribute, value=value))
            if moved is None:
                unapplied.append(attribute)
            else:
                code = moved
        return code, unapplied
