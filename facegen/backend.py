"""The backend contract: everything a face backend can do, written down once.

A backend maps a FaceCode to pixels and makes the codes the chat asks for. `montage` (CPU,
built in) and `stylegan` (an operator's checkpoint) subclass `Backend`; nothing outside a
backend branches on a backend's name. A new backend (say, a diffusion model) is one package
with a `Backend` subclass plus one line in facegen/backends.py, proved against the same
contract tests (tests/facegen/test_backend_contract.py).

What every backend must provide:
    name, checkpoint_id, resolution, num_ws, w_dim, layer_ranges, regions
    sample, average, render, from_attributes, edit
What a backend may provide (each has a default here):
    sample_truncated  a seed's face pulled toward the average by ψ (default: `sample`, then
                    facegen.latent.truncate; StyleGAN truncates inside its mapping, as NVIDIA's code does)
    render_region   repaint only a region for region candidates (default: render them whole)
    region_box      where a region's candidates differ, for close-up grids (default: the whole picture)
    variations      children of a face (default: latent mutation around it)
    morph           two faces blended at a share (default: facegen.latent.morph)
    remix           a layer group drawn afresh, keeping the attributes the user asked for
                    (default: facegen.latent.remix, keeping nothing it cannot tell apart)
    edit_names      the attributes `edit` can change (default: the whole vocabulary)
    unapplied / missing_edits   described attributes / edits it cannot honour (default: none)
    from_photo      a face fitted to a photo, with progress (default: refused as Unsupported)
    text_edit       a face moved toward free words, with progress, and text_edit_languages, the
                    languages it reads (default: none, and refused as Unsupported)
    text_similarity how well faces match words, to rank a description's candidates (default:
                    refused as Unsupported, like text_edit)
    photoreal       its pictures are photo-like, so they are JPEG files (default: False, PNG)
`describe()` gives the plain-data `BackendInfo` the chat side validates and queues against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from ground.config import Settings
from facegen.attributes import Attributes, Edit
from facegen.describe import detect_locale
from facegen.facecode import FaceCode
from facegen.latent import morph, remix, truncate

MAX_SIZE = 1024
DEFAULT_SIZE = 512

Progress = Callable[[float], None]   # a fraction done, 0 … 1
UnitBox = tuple[float, float, float, float]   # (left, top, right, bottom) as shares of the picture's side
WHOLE_PICTURE: UnitBox = (0.0, 0.0, 1.0, 1.0)


class Unsupported(NotImplementedError, ValueError):
    """An operation this backend cannot do; the message says which and why. Also a ValueError,
    so command-line error handling reports it in one line; `code` is how the chat words it."""
    code = "unsupported"


class NoDirection(Unsupported):
    """An attribute edit or description this model cannot make. `values` names the attribute
    and the ones it can change, for the chat's reply."""
    code = "no_direction"

    def __init__(self, attribute: str, available: Sequence[str]) -> None:
        have = ", ".join(available) if available else "none (set DREAMFACE_STYLEGAN_DIRECTIONS)"
        super().__init__(f"this model has no direction for {attribute!r}; directions it has: {have}")
        self.values = {"attribute": attribute, "available": list(available)}


@dataclass(frozen=True)
class PhotoFitOptions:
    """How hard a backend may work to fit a photo: the most optimisation steps
    (DREAMFACE_INVERSION_STEPS) and a perceptual-loss weights file (DREAMFACE_LPIPS_VGG) of
    an inversion; the candidates a search scores (DREAMFACE_PHOTO_FIT_EVALUATIONS; None: the
    backend's default, that setting's). A backend uses those that apply to how it fits.
    `caricature`: how much to exaggerate what differs from the average face (0 none, 1
    doubles it), where the backend can."""
    steps: int = 500
    lpips_vgg: str = ""
    evaluations: int | None = None
    caricature: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, caricature: float = 0.0) -> "PhotoFitOptions":
        """The options a process configured by `settings` fits photos with."""
        return cls(steps=settings.inversion_steps, lpips_vgg=settings.lpips_vgg,
                   evaluations=settings.photo_fit_evaluations, caricature=caricature)


@dataclass(frozen=True)
class FittedFace:
    """A face made by a slow fit (to a photo, toward free words), and how it was made, as plain
    numbers kept with the face (e.g. the loss used, the CLIP similarity before and after)."""
    code: FaceCode
    made: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BackendInfo:
    """What a backend serves, as plain data (no model objects): the chat side validates and
    queues requests against this, and workers announce it with their heartbeat."""
    name: str
    model_id: str                              # the checkpoint id stored with every face
    resolution: int
    regions: tuple[str, ...]
    layer_groups: tuple[str, ...]              # "coarse", "middle", "fine"
    edits: tuple[str, ...]                     # what `edit` and descriptions can change (Backend.edit_names)
    abilities: tuple[str, ...]                 # of ABILITIES
    label: str = ""                            # the operator's name for this style, if set (DREAMFACE_STYLE_LABEL)
    label_ko: str = ""                         # …and in Korean (DREAMFACE_STYLE_LABEL_KO)
    text_edit_languages: tuple[str, ...] = ()  # what free-text edits read ("en", "ko"); (): no free-text edits

    ABILITIES: ClassVar[tuple[str, ...]] = ("photo", "region_repaint", "own_variations")

    def can(self, ability: str) -> bool:
        return ability in self.abilities

    def label_for(self, locale: str) -> str:
        """The operator's name for this style in `locale`, or "" when none was set."""
        return (self.label_ko if locale == "ko" else "") or self.label

    def unapplied(self, attributes: Attributes) -> list[str]:
        """Described fields this model cannot show."""
        return cannot_change(self.edits, attributes)

    def missing_edits(self, edits: Sequence[Edit]) -> list[str]:
        return cannot_change(self.edits, edits)

    def reads(self, text: str) -> bool:
        """Whether this model's free-text edits read `text`'s language (text_language)."""
        return text_language(text) in self.text_edit_languages

    def to_json(self) -> dict[str, Any]:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "BackendInfo":
        known = {f.name for f in fields(cls)}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known})


# every attribute an edit or a description may name, and "age": an edit's step through the age
# bands ("older", Edit("age", amount=+1)), which a description says as an age band
VOCABULARY: tuple[str, ...] = (*(f.name for f in fields(Attributes)), "age")


class Backend:
    """Subclass and set the class attributes (or set them in __init__); override the five
    required methods and whichever optional ones the backend does better than the default."""

    name: str                              # "montage" | "stylegan" | …
    checkpoint_id: str                     # renderer version or checkpoint hash, stored with every face
    resolution: int                        # the side it draws natively, in pixels
    num_ws: int                            # rows of W+
    w_dim: int                             # columns of W+
    layer_ranges: Mapping[str, slice]      # "coarse" / "middle" / "fine" → rows of W+
    regions: Sequence[str]                 # regions that can take a part donor (eyes, nose, …)
    label: str = ""                        # the operator's name for this style
    photoreal: bool = False                # photo-like pictures: stored and sent as JPEG, not PNG
                                           # (facegen.provenance.picture_format)

    # --- required ---------------------------------------------------------------------------

    def sample(self, seed: int) -> FaceCode:
        """A random face, deterministic per seed."""
        raise NotImplementedError

    def average(self) -> np.ndarray:
        """The average latent [num_ws, w_dim], for truncation."""
        raise NotImplementedError

    def render(self, codes: Sequence[FaceCode], size: int = DEFAULT_SIZE) -> list[Image.Image]:
        """Pixels for a batch of faces (RGB, size × size)."""
        raise NotImplementedError

    def from_attributes(self, attributes: Attributes, seed: int) -> FaceCode:
        """A face showing the described attributes; everything unspecified sampled from seed
        (attributes it cannot honour, `unapplied` names, are left as sampled)."""
        raise NotImplementedError

    def edit(self, code: FaceCode, edit: Edit) -> FaceCode:
        """An attribute edit on an existing face ("more smile", "add glasses", …); raises
        NoDirection for an attribute outside `edit_names`."""
        raise NotImplementedError

    # --- optional, with defaults ------------------------------------------------------------

    def sample_truncated(self, seed: int, psi: float) -> FaceCode:
        """The face of `seed` pulled toward the average latent: W = avg + ψ·(W − avg), so ψ = 1
        is `sample(seed)` and ψ = 0 the average face (a backend whose sampler truncates on its
        own, more exactly, overrides this)."""
        code = self.sample(seed)
        return code if psi == 1 else truncate(code, self.average(), psi)

    def render_region(self, code: FaceCode, candidates: Sequence[FaceCode], region: str,
                      size: int = DEFAULT_SIZE) -> list[Image.Image]:
        """Candidates that differ from `code` only in `region` (a backend that can repaint
        just the region overrides this; the default draws each whole)."""
        return self.render(candidates, size)

    def region_box(self, region: str) -> UnitBox:
        """Where a region's candidates differ, as (left, top, right, bottom) shares of the
        picture's side, for close-up grids (the default: the whole picture)."""
        return WHOLE_PICTURE

    def variations(self, code: FaceCode, n: int, strength: float, seed: int) -> list[FaceCode]:
        """n children of the face: every latent (base and donors) mutated as
        w' = √(1−s²)·w + s·ε, ε ~ N(0, 1) shared by the base and the donors of one child, so each
        trait moves once; the mixing keeps w ~ N(0, 1), so strength 1 is a fresh random face
        and 0 the face itself."""
        keep = np.float32(np.sqrt(1.0 - strength * strength))
        children = []
        for child_seed in child_seeds(seed, n):
            noise = self.sample(child_seed).base * np.float32(strength)
            children.append(FaceCode(keep * code.base + noise, {r: keep * w + noise for r, w in code.parts.items()}))
        return children

    def morph(self, a: FaceCode, b: FaceCode, ratio: float, mode: str = "linear") -> FaceCode:
        """a ("me") blended with b, `ratio` being a's share, in one of facegen.latent's modes (a
        backend whose latent holds choices that cannot be blended overrides this)."""
        return morph(a, b, ratio, mode)

    def remix(self, code: FaceCode, seed: int, layers: slice, keep: Iterable[str] = ()) -> FaceCode:
        """The face with the W+ rows `layers` replaced by those of `sample(seed)` (a style
        remix), except that what shows the attributes named in `keep` (Attributes fields and
        "age": what the user described or edited) stays as it was, where the backend can tell
        what shows them. The default keeps nothing: a latent cannot say where an attribute lives."""
        return remix(code, self.sample(seed).base, layers)

    def edit_names(self) -> list[str]:
        """What `edit` and `from_attributes` can change: attribute names ("smile"), or
        "field=value" where only some values of a field can be shown ("hair_colour=blond")."""
        return list(VOCABULARY)

    def unapplied(self, attributes: Attributes) -> list[str]:
        """The described fields this model cannot show (the chat says so)."""
        return cannot_change(self.edit_names(), attributes)

    def missing_edits(self, edits: Sequence[Edit]) -> list[str]:
        """The edited fields this model cannot change."""
        return cannot_change(self.edit_names(), edits)

    def from_photo(self, photo: Image.Image, seed: int, *, options: PhotoFitOptions = PhotoFitOptions(),
                   progress: Progress | None = None) -> FittedFace:
        """A face fitted to the one face in `photo` (an upright RGB image already checked by
        facegen.photo); raises facegen.photo.PhotoError for a face it cannot use, Unsupported
        when it cannot fit photos at all. `progress` hears the fraction done of a slow fit."""
        raise Unsupported(f"the {self.name} backend cannot make a face from a photo")

    def text_edit_languages(self) -> tuple[str, ...]:
        """The languages (of text_language) `text_edit` reads; () when it cannot edit from words."""
        return ()

    def text_edit(self, code: FaceCode, text: str, *, steps: int, progress: Progress | None = None) -> FittedFace:
        """The face moved toward free words ("a vampire", "뱀파이어") in `steps` optimisation
        steps, deterministic, the same change on the base and the donors; raises Unsupported
        when it cannot (no text model, or a language it does not read). `progress` hears the
        fraction done."""
        raise Unsupported(f"the {self.name} backend cannot edit a face from free words")

    def text_similarity(self, codes: Sequence[FaceCode], text: str) -> list[float]:
        """How well each face, as drawn, matches the words: the cosine of their text and picture
        features (higher is closer), for ranking candidates by a sentence; raises Unsupported
        where text_edit would (no text model, or a language it does not read)."""
        raise Unsupported(f"the {self.name} backend cannot compare faces with words")

    # --- description --------------------------------------------------------------------------

    def abilities(self) -> tuple[str, ...]:
        """Which optional abilities this backend has, from which defaults it overrides."""
        mine = type(self)
        return tuple(ability for ability, method in (("photo", "from_photo"), ("region_repaint", "render_region"),
                                                     ("own_variations", "variations"))
                     if getattr(mine, method) is not getattr(Backend, method))

    def describe(self) -> BackendInfo:
        return BackendInfo(name=self.name, model_id=self.checkpoint_id, resolution=self.resolution,
                           regions=tuple(self.regions), layer_groups=tuple(self.layer_ranges),
                           edits=tuple(self.edit_names()), abilities=self.abilities(), label=self.label,
                           text_edit_languages=self.text_edit_languages())


def text_language(text: str) -> str:
    """The language of a free-text prompt, as text_edit_languages names them: "ko" with any
    Hangul in it, else "en" (the description parser's rule)."""
    return detect_locale(text)


def cannot_change(capabilities: Iterable[str], wanted: Attributes | Iterable[Edit]) -> list[str]:
    """The fields of these edits (or described attributes) that no capability (see
    Backend.edit_names) covers, in order, once each."""
    have = set(capabilities)
    edits = ([Edit(f, value=v) for f, v in wanted.specified().items()] if isinstance(wanted, Attributes)
             else list(wanted))
    out: list[str] = []
    for e in edits:
        if e.field not in have and f"{e.field}={e.value}" not in have and e.field not in out:
            out.append(e.field)
    return out


def child_seeds(seed: int, n: int) -> list[int]:
    """n seeds derived from one (deterministic), for candidates and children."""
    if n < 1:
        raise ValueError(f"need at least one candidate, got n={n}")
    return [int(s) for s in np.random.default_rng([seed, n]).integers(0, 2**31 - 1, size=n)]


__all__ = ["Backend", "BackendInfo", "DEFAULT_SIZE", "FittedFace", "cannot_change", "MAX_SIZE", "NoDirection",
           "PhotoFitOptions", "Progress", "Unsupported", "VOCABULARY", "child_seeds", "text_language"]
