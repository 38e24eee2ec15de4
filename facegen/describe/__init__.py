"""Descriptions in Korean or English → `Description` (attributes, impressions, words not
understood), and edit requests → `Edit`.

    parse_description("바가지 머리에 입꼬리가 살짝 올라간 남자")
    parse_edit("a bit older")          # Edit("age", amount=0.5)

Impressions (선한, 성실한, kind, trustworthy …) are reported, never turned into features here:
how an impression should look is the backend's call (the montage backend may nudge, a
StyleGAN backend may ignore them). Text longer than MAX_TEXT_CHARS (ground/limits.py) raises DescriptionTooLong rather
than being cut silently: a chat user should hear that the end was not read.
"""

from __future__ import annotations

from facegen.attributes import Attributes, Description, Edit
from facegen.describe import english, korean
from facegen.describe.edits import edits_from
from facegen.describe.resolve import Resolution, merge, resolve
from ground.limits import MAX_TEXT_CHARS

LOCALES = ("ko", "en")


class DescriptionTooLong(ValueError):
    """The text is longer than MAX_TEXT_CHARS characters."""

    def __init__(self, length: int) -> None:
        super().__init__(f"description is {length} characters long; at most {MAX_TEXT_CHARS} are read")
        self.length = length


def detect_locale(text: str) -> str:
    """"ko" when the text has any Hangul, else "en"."""
    for ch in text:
        if "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f":
            return "ko"
    return "en"


def _resolution(text: str, locale: str | None) -> Resolution:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise DescriptionTooLong(len(text))
    language = (locale or detect_locale(text)).lower()[:2]
    if language not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r}; expected one of {LOCALES}")
    if language == "ko":
        return resolve(korean.words(text))
    return resolve(english.words(text), comma_blocks_backward=True)


def parse_description(text: str, locale: str | None = None) -> Description:
    """Attributes said in `text`; locale "ko" / "en", or None to pick by script."""
    result = _resolution(text, locale)
    values = {k: v for k, v in merge(result.applied).items() if k in Attributes.__dataclass_fields__}
    return Description(attributes=Attributes(**values), impressions=result.impressions, unknown=result.unknown)


def parse_edits(text: str, locale: str | None = None) -> list[Edit]:
    """Every relative edit in `text`, in the order first said."""
    return edits_from(_resolution(text, locale))


def parse_edit(text: str, locale: str | None = None) -> Edit | None:
    """The edit asked for ("more smile", "안경 씌워줘"), the first one if several, or None."""
    found = parse_edits(text, locale)
    return found[0] if found else None


def warm_up() -> None:
    """Build the Korean analyser now (about a second) instead of on the first Korean text."""
    korean.kiwi()


__all__ = ["parse_description", "parse_edit", "parse_edits", "detect_locale", "warm_up",
           "DescriptionTooLong", "MAX_TEXT_CHARS"]
