"""What a chat message asks for, as plain data: one frozen dataclass per intent.

`bot.grammar.parse` turns text into one of these; the conversation core applies them. Every
Command is valid by construction (its `__post_init__` checks the ranges that hold for any
user), so the core only checks what depends on the user's state (is there a grid to pick
from, does face #12 exist, is the name in the gallery, is the set size within the cap).

Text that names a value outside those ranges does not become a Command: the grammar returns
`InvalidArgument` saying which rule was broken and what the user typed, so the reply can
quote it ("130% is more than 100%"). Text nobody understood becomes `NotUnderstood` with the
closest commands as suggestions, so the chat never answers with silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from facegen.attributes import Description, Edit
from facegen.describe.intent import Request
from facegen.latent import MORPH_MODES, MorphMode, ratio_in_range
from ground.limits import MAX_TEXT_CHARS

Locale = Literal["ko", "en"]
LOCALES: tuple[str, ...] = ("ko", "en")
LayerGroup = Literal["coarse", "middle", "fine"]
LAYER_GROUPS: tuple[str, ...] = ("coarse", "middle", "fine")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


# --- references to a face -------------------------------------------------------------------

@dataclass(frozen=True)
class FaceRef:
    """One of the user's own faces by the number the user sees (#12), never a database id."""
    number: int

    def __post_init__(self) -> None:
        _require(self.number >= 1, f"face numbers start at 1, got {self.number}")


@dataclass(frozen=True)
class GalleryName:
    """A name as typed, to be matched (fuzzily, in both scripts) against the celebrity gallery."""
    name: str

    def __post_init__(self) -> None:
        _require(bool(self.name.strip()), "a gallery name cannot be empty")


# --- making and refining faces --------------------------------------------------------------

@dataclass(frozen=True)
class NewFace:
    """A random face; `seed` makes it reproducible ("new 42")."""
    seed: int | None = None


@dataclass(frozen=True)
class Describe:
    """Words about a face: a description ("a round face with big eyes", "blonde", "smile"), or
    a new face asked for ("describe …", "new …", "새 얼굴 …"). `request` holds both readings (a
    new face, a refinement); the core picks one with facegen.describe.intent.decide, knowing
    the current face."""
    request: Request

    @property
    def text(self) -> str:
        """The words about the face, as written (without "describe", "new", …)."""
        return self.request.text

    @property
    def description(self) -> Description:
        return self.request.description


@dataclass(frozen=True)
class ShowCandidates:
    """A numbered grid of alternatives for one region ("show eyes"), or variations of the
    whole face when `region` is None. Regions are the names backends use: eyes, nose, mouth,
    brows, hair, jaw, face, ears, facial_hair, glasses, skin; the core checks the active
    backend has the region."""
    region: str | None = None


@dataclass(frozen=True)
class Pick:
    """Choose candidate `number` from the last set shown. `region` is None for a bare number
    ("3"), which the core resolves against whatever set it showed last (a grid, variations or
    a remix set); with a region ("eyes 3") it must match that grid."""
    number: int
    region: str | None = None

    def __post_init__(self) -> None:
        _require(self.number >= 1, f"candidates are numbered from 1, got {self.number}")


@dataclass(frozen=True)
class Morph:
    """Blend the current face with another. `ratio` is always the share of the user's current
    face ("me"); None when the user did not say one (the core applies its default)."""
    target: FaceRef | GalleryName
    ratio: float | None = None
    mode: MorphMode = "linear"

    def __post_init__(self) -> None:
        _require(self.ratio is None or ratio_in_range(self.ratio), f"ratio {self.ratio} is outside [0, 1]")
        _require(self.mode in MORPH_MODES, f"unknown morph mode {self.mode!r}")


@dataclass(frozen=True)
class Remix:
    """A pickable set of restyled versions: fresh random latents in one layer group (None: the
    default group for "remix style"), `count` versions (None: the core's default)."""
    layers: LayerGroup | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        _require(self.layers is None or self.layers in LAYER_GROUPS, f"unknown layer group {self.layers!r}")
        _require(self.count is None or self.count >= 1, f"a remix set needs at least 1 face, got {self.count}")


@dataclass(frozen=True)
class EditAttribute:
    """Words that ask for a change ("more smile", "make eyes bigger and add glasses", "안경
    씌워줘"): decided like Describe, and a change never starts a new face. `edits` are all the
    message asks for, applied as one step."""
    request: Request

    @property
    def edits(self) -> tuple[Edit, ...]:
        return self.request.edits


@dataclass(frozen=True)
class FreeTextEdit:
    """Change the current face toward free words ("make it look like a vampire", "뱀파이어처럼
    보이게"): a slow edit guided by a text model, where the face's model has one (the core
    checks what its workers announced). `text` is the words as typed, without the frame."""
    text: str

    def __post_init__(self) -> None:
        _require(bool(self.text.strip()), "a free-text edit needs words")
        _require(len(self.text) <= MAX_TEXT_CHARS, f"a free-text edit takes at most {MAX_TEXT_CHARS} characters")


@dataclass(frozen=True)
class Me:
    """Use the user's own photo as the current face. The photo itself travels beside the
    message (the adapter's Incoming data); text like "me" or "내 사진" asks for the same, and
    the core asks for a photo when there is none."""


# --- breeding (issue #21): select several faces of an array, breed the next one --------------

def _numbers(numbers: tuple[int, ...]) -> None:
    _require(all(n >= 1 for n in numbers), f"faces are numbered from 1, got {numbers}")
    _require(len(set(numbers)) == len(numbers), f"a face is selected once, got {numbers}")


@dataclass(frozen=True)
class Breed:
    """Start breeding around the current face ("breed", "교배"): an array of whole faces to
    select several from; the selected ones are bred into the next array (facegen.breeding)."""


@dataclass(frozen=True)
class Select:
    """The faces of the breeding array that look most like the person ("3 5 7", "3번 5번 골라"),
    best-liked first; it replaces the selection."""
    numbers: tuple[int, ...]

    def __post_init__(self) -> None:
        _require(bool(self.numbers), "select at least one face")
        _numbers(self.numbers)


@dataclass(frozen=True)
class NextRound:
    """Breed the next array from the selected faces ("next", "다음"); `numbers` select them first
    ("다음 1 3 5")."""
    numbers: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _numbers(self.numbers)


@dataclass(frozen=True)
class Done:
    """Keep one face of the breeding array as the current face ("done 3", "이걸로"); None: the face
    selected, or the best-liked of several."""
    number: int | None = None

    def __post_init__(self) -> None:
        _require(self.number is None or self.number >= 1, f"faces are numbered from 1, got {self.number}")


@dataclass(frozen=True)
class Lock:
    """Regions that are right already stay as they are while breeding ("keep the eyes", "눈은
    그대로"); `locked` False lets them change again ("unlock eyes"; no regions: all of them)."""
    regions: tuple[str, ...] = ()
    locked: bool = True

    def __post_init__(self) -> None:
        _require(bool(self.regions) or not self.locked, "lock which regions?")


@dataclass(frozen=True)
class StopBreeding:
    """Stop breeding ("stop breeding", "교배 그만"); the current face stays."""


# --- history --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Undo:
    pass


@dataclass(frozen=True)
class Redo:
    pass


@dataclass(frozen=True)
class History:
    pass


@dataclass(frozen=True)
class BackTo:
    """Make face #number current again; a new step from there starts a branch."""
    number: int

    def __post_init__(self) -> None:
        _require(self.number >= 1, f"face numbers start at 1, got {self.number}")


@dataclass(frozen=True)
class Save:
    name: str

    def __post_init__(self) -> None:
        _require(bool(self.name.strip()), "a saved name cannot be empty")


@dataclass(frozen=True)
class Load:
    name: str

    def __post_init__(self) -> None:
        _require(bool(self.name.strip()), "a saved name cannot be empty")


# --- everything else ------------------------------------------------------------------------

@dataclass(frozen=True)
class Cancel:
    """Cancel the user's queued or running jobs."""


@dataclass(frozen=True)
class Gallery:
    """List the celebrity gallery (names the user can morph with)."""


@dataclass(frozen=True)
class ChooseStyle:
    """The style new faces are drawn in ("photo style", "화풍 그림체"), or the list of styles
    when `name` is None. `style` is the kind of style a built-in word names ("stylegan" for
    "photo", "montage" for "그림체"); None for any other name, which the core matches
    against the labels operators gave the styles workers serve."""
    name: str | None = None
    style: str | None = None


@dataclass(frozen=True)
class SetLanguage:
    locale: Locale

    def __post_init__(self) -> None:
        _require(self.locale in LOCALES, f"unknown locale {self.locale!r}")


@dataclass(frozen=True)
class DeleteMyData:
    """Delete everything the user has; the core asks for a Confirm first."""


@dataclass(frozen=True)
class Confirm:
    """Yes to the pending question (the core ignores it when nothing is pending)."""


@dataclass(frozen=True)
class Decline:
    """No to the pending question."""


@dataclass(frozen=True)
class Help:
    """The command list, or the help for one intent (`topic` is an intent name such as "morph")."""
    topic: str | None = None


@dataclass(frozen=True)
class DescribeFace:
    """"describe my face" / "내 얼굴 설명해줘": the current face in words (its recipe's words,
    written by the worker: facegen.describe.back)."""


@dataclass(frozen=True)
class Status:
    """The user's jobs: position in line, running, or the generator being offline."""


@dataclass(frozen=True)
class SmallTalk:
    """A greeting or thanks: answered friendly, nothing changes."""
    kind: Literal["hello", "thanks"]


@dataclass(frozen=True)
class WebLogin:
    """A link that opens the web chat as this platform account (bot/login_links.py)."""


# --- moderators only (the core checks who is asking) ---------------------------------------

@dataclass(frozen=True)
class UserRef:
    """A user as a moderator names one in the chat: the dashboard's user id ("56"), or a
    platform identity ("telegram:123456", a Discord mention "<@123…>")."""
    user_id: int | None = None
    platform: str | None = None
    platform_user_id: str | None = None

    def __post_init__(self) -> None:
        _require((self.user_id is None) != (self.platform is None), "a user id or a platform identity, not both")
        _require(self.user_id is None or self.user_id >= 1, f"user ids start at 1, got {self.user_id}")
        _require((self.platform is None) == (self.platform_user_id is None), "a platform needs its user id")


@dataclass(frozen=True)
class HideFace:
    """Hide (or unhide) a face, named by the id the dashboard and a moderator's report button
    show (its database id: moderators see those, users only their own #numbers)."""
    face_id: int
    hidden: bool = True
    reason: str = ""

    def __post_init__(self) -> None:
        _require(self.face_id >= 1, f"face ids start at 1, got {self.face_id}")


@dataclass(frozen=True)
class BanUser:
    """Ban (or unban) a user; a banned user gets a polite refusal whatever they send."""
    user: UserRef
    banned: bool = True
    reason: str = ""


Command = (NewFace | Describe | ShowCandidates | Pick | Morph | Remix | EditAttribute | FreeTextEdit | Me | Undo | Redo
           | History | BackTo | Save | Load | Cancel | Gallery | ChooseStyle | SetLanguage | DeleteMyData | Confirm
           | Decline | Help | Status | SmallTalk | WebLogin | HideFace | BanUser | DescribeFace | Breed | Select
           | NextRound | Done | Lock | StopBreeding)


# --- what the grammar returns when there is no Command -------------------------------------

InvalidReason = Literal[
    "ratio_out_of_range",     # a morph ratio outside [0, 1]: "1.5", "130%", "11할"
    "shares_do_not_add_up",   # "나 70% 아이유 40%"
    "number_out_of_range",    # a face or candidate number below 1: "pick 0", "back to 0", "select 0 3"
    "count_out_of_range",     # a set of fewer than 1: "remix 0"
    "missing_target",         # a morph with nobody to morph with
    "missing_name",           # save / load without a name
    "missing_text",           # "describe" with nothing after it
    "missing_look",           # "make it look like" with nothing after it
    "bad_target",             # a moderator command whose face or user cannot be read: "ban @ann"
]


@dataclass(frozen=True)
class InvalidArgument:
    """The intent was clear but a value breaks a rule. `intent` is the intent's name (see
    `INTENTS`), `reason` one of InvalidReason, `value` the fragment as the user typed it."""
    intent: str
    reason: InvalidReason
    value: str = ""


@dataclass(frozen=True)
class NotUnderstood:
    """No intent matched. `suggestions` are example commands in the user's language, closest
    first; `reason` is "unknown", "empty" or "too_long" (see bot.grammar.MAX_TEXT_CHARS);
    `unknown_words` are the content words the description parser did not know, so the reply
    can name them ("보라색 뿔" → 보라색, 뿔)."""
    text: str
    suggestions: tuple[str, ...] = ()
    reason: Literal["unknown", "empty", "too_long"] = "unknown"
    unknown_words: tuple[str, ...] = ()


Parsed = Command | InvalidArgument | NotUnderstood

# Intent names, used by Help(topic) and InvalidArgument.intent; one per Command class.
INTENTS: dict[type, str] = {
    NewFace: "new", Describe: "describe", ShowCandidates: "show", Pick: "pick", Morph: "morph",
    Remix: "remix", EditAttribute: "edit", FreeTextEdit: "free_text", Me: "me", Undo: "undo", Redo: "redo",
    History: "history",
    BackTo: "back", Save: "save", Load: "load", Cancel: "cancel", Gallery: "gallery", ChooseStyle: "style",
    SetLanguage: "language", DeleteMyData: "delete", Confirm: "confirm", Decline: "decline",
    Help: "help", Status: "status", SmallTalk: "smalltalk", WebLogin: "web", HideFace: "hide", BanUser: "ban",
    DescribeFace: "describe_face", Breed: "breed", Select: "select", NextRound: "next", Done: "done", Lock: "lock",
    StopBreeding: "stop_breeding",
}
MODERATOR_INTENTS = frozenset({"hide", "ban"})
