"""Replies that show a face or a candidate sheet, with their buttons. Used both for results
arriving from the worker (outbox deliveries) and for steps the core answers at once (undo,
back to, load), so a face looks the same however the user reached it.

`key` is the face owner's storage.models.owner_key: its first characters tag the owner's
buttons, and the whole key goes into the report button anyone who sees the face may press.
A sheet has no report button: its candidates are not stored faces, and the face it was drawn
around carries its own."""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation import payloads
from bot.conversation.names import display_name
from bot.conversation.replies import region_name, say
from bot.messages import Button, Picture, Reply
from facegen.latent import ratio_in_range
from facegen.provenance import filename
from storage.blobs import BlobData
from storage.faces import FaceRecord
from storage.gallery import GalleryEntryRecord

GRID_BUTTON_REGIONS = ("eyes", "nose", "mouth")
PICKS_PER_ROW = 5
GALLERY_PER_ROW = 2   # names are long
RATIO_STEP = 10   # percent, the ± buttons of a morph


def shares_text(locale: str, ratio: float, other: str) -> str:
    """Both shares of a morph: the ratio is always the share of the user's own face."""
    me = round(ratio * 100)
    return say(locale, "shares", me=me, other=other, them=100 - me)


def set_label(locale: str, params: dict) -> str:
    if params["kind"] == "region":
        return region_name(locale, params["region"])
    return say(locale, "what_variations" if params["kind"] == "variations" else "what_remix")


def face_text(locale: str, face: FaceRecord, other: FaceRecord | None, entry: GalleryEntryRecord | None) -> str:
    op, p = face.operation, face.params
    if op == "pick":
        return say(locale, "made_pick", number=face.number, parent=face.parent_number,
                   what=set_label(locale, p["set"]), k=p["number"])
    if op == "morph":
        other_name = (display_name(entry, locale) if entry is not None
                      else f"#{other.number}" if other is not None and other.user_id == face.user_id else "?")
        return say(locale, "made_morph", number=face.number, shares=shares_text(locale, p["ratio"], other_name))
    if op in ("remix", "edit") and face.parent_number is not None:
        return say(locale, f"made_{op}", number=face.number, parent=face.parent_number)
    if op in ("new", "describe", "photo"):
        return say(locale, f"made_{op}", number=face.number)
    return say(locale, "made_face", number=face.number)


def face_buttons(locale: str, key: str, face: FaceRecord, regions: Sequence[str],
                 redraw_in: Sequence[tuple[str, str]] = ()) -> tuple[tuple[Button, ...], ...]:
    """`redraw_in`: (style name, style code) of the other styles this face can be drawn in again."""
    n, tag = face.number, key[:payloads.TAG_CHARS]
    rows: list[tuple[Button, ...]] = []
    if face.operation == "morph":
        me = round(face.params["ratio"] * 100)
        row = []
        if ratio_in_range((me - RATIO_STEP) / 100):
            row.append(Button(f"−0.1 ({me - RATIO_STEP}%)", payloads.encode(tag, "mr", n, me - RATIO_STEP)))
        row.append(Button(f"{say(locale, 'btn_flip')} ({100 - me}%)", payloads.encode(tag, "mr", n, 100 - me)))
        if ratio_in_range((me + RATIO_STEP) / 100):
            row.append(Button(f"+0.1 ({me + RATIO_STEP}%)", payloads.encode(tag, "mr", n, me + RATIO_STEP)))
        rows.append(tuple(row))
    grid = [Button(say(locale, f"btn_{r}"), payloads.encode(tag, "sh", n, r)) for r in GRID_BUTTON_REGIONS if r in regions]
    grid.append(Button(say(locale, "btn_variations"), payloads.encode(tag, "sh", n, "*")))
    rows.append(tuple(grid))
    last = [Button(say(locale, "btn_remix"), payloads.encode(tag, "rx", n))]
    if face.parent_number is not None:
        last.append(Button(say(locale, "btn_undo"), payloads.encode(tag, "un", n)))
    last.append(Button(say(locale, "btn_report"), payloads.report(key, n)))
    rows.append(tuple(last))
    if redraw_in:
        rows.append(tuple(Button(say(locale, "btn_redraw_style", style=name), payloads.encode(tag, "st", n, code))
                          for name, code in redraw_in))
    return tuple(rows)


def face_reply(locale: str, key: str, face: FaceRecord, image: BlobData | None, regions: Sequence[str], *,
               other: FaceRecord | None = None, entry: GalleryEntryRecord | None = None,
               lead: str | None = None, job_id: int | None = None,
               redraw_in: Sequence[tuple[str, str]] = ()) -> Reply:
    """A hidden face (a moderator's action) is shown without its picture."""
    text = face_text(locale, face, other, entry)
    if face.hidden:
        image, text = None, f"{text}\n{say(locale, 'face_hidden')}"
    pictures = () if image is None else (_picture(image, f"dreamface-{face.number}", as_file=True),)
    return Reply("\n".join(filter(None, (lead, text))), pictures, face_buttons(locale, key, face, regions, redraw_in),
                 job_id=job_id, kind="result", extra={"face_number": face.number})


def gallery_reply(locale: str, key: str, entries: Sequence[GalleryEntryRecord], sheet: bytes) -> Reply:
    """The gallery as a numbered sheet of its faces, a line per name, and a morph button per name."""
    tag = key[:payloads.TAG_CHARS]
    lines = [say(locale, "gallery_head")]
    for k, e in enumerate(entries, 1):
        first = display_name(e, locale)   # the name in the user's language leads, the others follow
        others = [n for n in (e.name, *e.aliases) if n != first]
        line = f"{k}. {first}" + (f" ({', '.join(others)})" if others else "")
        lines.append(line + (f" · {say(locale, 'gallery_fictional')}" if e.fictional else ""))
    lines.append(say(locale, "gallery_press"))
    names = [Button(f"{k}. {display_name(e, locale)}", payloads.encode(tag, "gm", e.id)) for k, e in enumerate(entries, 1)]
    rows = tuple(tuple(names[i:i + GALLERY_PER_ROW]) for i in range(0, len(names), GALLERY_PER_ROW))
    return Reply("\n".join(lines), (Picture(sheet, "dreamface-gallery.png", sheet=True),), rows)


def sheet_reply(locale: str, key: str, face_number: int, params: dict, image: BlobData, job_id: int | None) -> Reply:
    code, tag = payloads.set_code(params), key[:payloads.TAG_CHARS]
    picks = [Button(str(k), payloads.encode(tag, "pk", face_number, code, k)) for k in range(1, params["n"] + 1)]
    rows = tuple(tuple(picks[i:i + PICKS_PER_ROW]) for i in range(0, len(picks), PICKS_PER_ROW))
    text = say(locale, "sheet", number=face_number, what=set_label(locale, params), n=params["n"])
    return Reply(text, (_picture(image, f"dreamface-{face_number}-{params['kind']}", sheet=True),), rows,
                 job_id=job_id, kind="result", extra={"face_number": face_number})


def _picture(image: BlobData, stem: str, *, as_file: bool = False, sheet: bool = False) -> Picture:
    """A stored picture as sent, named for its format (a photoreal face is a .jpg, a drawing a .png)."""
    return Picture(image.data, filename(stem, image.content_type), image.content_type, as_file, sheet)
