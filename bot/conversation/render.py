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
from bot.conversation.replies import attribute_name, change_text, operation_name, region_name, say
from bot.messages import Button, Menu, Picture, Reply, Tile
from facegen.describe.back import generic_words
from facegen import breeding
from facegen.sheet import array_columns
from facegen.identity import LIKENESS_LEVELS, likeness_level
from facegen.latent import ratio_in_range
from facegen.provenance import filename
from storage.blobs import BlobData
from storage.faces import FaceRecord
from storage.gallery import GalleryEntryRecord

GRID_BUTTON_REGIONS = ("eyes", "nose", "mouth")
PICKS_PER_ROW = 5
HISTORY_PER_ROW = 4
DESCRIPTION_CHARS = 24   # of a description, quoted in a history line
BUTTON_WORDS_CHARS = 24  # of the words a free-text button offers
GALLERY_PER_ROW = 2   # names are long
RATIO_STEP = 10   # percent, the ± buttons of a morph
NEAREST_SHOWN = 3   # candidates a sheet around a photo's face names as keeping most of it


def shares_text(locale: str, ratio: float, other: str) -> str:
    """Both shares of a morph: the ratio is always the share of the user's own face."""
    me = round(ratio * 100)
    return say(locale, "shares", me=me, other=other, them=100 - me)


def likeness_text(locale: str, distance: float) -> str:
    """"Likeness to your photo: medium": the level of a made face's distance to its photo."""
    return say(locale, "likeness", level=say(locale, f"likeness_{likeness_level(distance)}"))


def set_label(locale: str, params: dict) -> str:
    if params["kind"] == "region":
        return region_name(locale, params["region"])
    return say(locale, {"variations": "what_variations", "ranked": "what_ranked"}.get(params["kind"], "what_remix"))


def morph_partner(locale: str, face: FaceRecord, entry: GalleryEntryRecord | None) -> str:
    """Who a morph blended the user's face with: the gallery entry's name, or the user's own #n."""
    if entry is not None:
        return display_name(entry, locale)
    return "?" if face.other_parent_number is None else f"#{face.other_parent_number}"


def face_text(locale: str, face: FaceRecord, entry: GalleryEntryRecord | None) -> str:
    op, p = face.operation, face.params
    if op == "pick" and p["set"]["kind"] == "breed":
        return say(locale, "made_breed", number=face.number, parent=face.parent_number, round=p["set"]["round"],
                   k=p["number"])
    if op == "pick":
        return say(locale, "made_pick", number=face.number, parent=face.parent_number,
                   what=set_label(locale, p["set"]), k=p["number"])
    if op == "morph":
        return say(locale, "made_morph", number=face.number,
                   shares=shares_text(locale, p["ratio"], morph_partner(locale, face, entry)))
    if op == "edit" and face.parent_number is not None:
        return say(locale, "made_edit", number=face.number, parent=face.parent_number,
                   changes=", ".join(change_text(locale, e) for e in p.get("edits", ())))
    if op == "remix" and face.parent_number is not None:
        return say(locale, "made_remix", number=face.number, parent=face.parent_number)
    if op == "text":   # with how near it stays to its parent, where the face recogniser could tell
        said = say(locale, "made_text", number=face.number, text=p["text"])
        if "identity_distance" in p and face.parent_number is not None:
            level = say(locale, f"likeness_{likeness_level(p['identity_distance'])}")
            said += " " + say(locale, "likeness_kept", number=face.parent_number, groups=level)
        return said
    if op == "photo" and "likeness" in p:
        return f'{say(locale, "made_photo", number=face.number)} {likeness_text(locale, p["likeness"])}'
    if op == "describe" and p.get("ranked"):
        return say(locale, "made_describe_ranked", number=face.number, pool=p["rank"])
    if op in ("new", "describe", "photo"):
        return say(locale, f"made_{op}", number=face.number)
    return say(locale, "made_face", number=face.number)


def step_text(locale: str, face: FaceRecord, entry: GalleryEntryRecord | None) -> str:
    """What one step did, short: "눈 3번 고르기", "morph 70% Sora Bae", "edit: smile, no glasses"."""
    op, p = face.operation, face.params
    if op == "pick" and p["set"]["kind"] == "breed":
        return say(locale, "step_breed", round=p["set"]["round"], k=p["number"])
    if op == "pick":
        return say(locale, "step_pick", what=set_label(locale, p["set"]), k=p["number"])
    if op == "morph":
        return say(locale, "step_morph", me=round(p["ratio"] * 100), other=morph_partner(locale, face, entry))
    if op == "edit" and p.get("edits"):
        return say(locale, "step_edit", what=", ".join(_edit_text(locale, e) for e in p["edits"]))
    if op in ("describe", "text") and p.get("text"):
        text = p["text"] if len(p["text"]) <= DESCRIPTION_CHARS else p["text"][:DESCRIPTION_CHARS - 1] + "…"
        return say(locale, f"step_{op}", text=text)
    return operation_name(locale, op)


def _edit_text(locale: str, edit: dict) -> str:
    name = attribute_name(locale, edit["field"])
    if edit.get("value") is False:
        return say(locale, "step_off", what=name)
    if edit.get("value") not in (None, True):
        return f"{name} {str(edit['value']).replace('_', ' ')}"
    amount = edit.get("amount") or 0
    return name + (" +" if amount > 0 else " −" if amount < 0 else "")


def history_line(locale: str, face: FaceRecord, entry: GalleryEntryRecord | None) -> str:
    """One face in the history: "#8 눈 3번 고르기 ← #3"."""
    line = f"#{face.number} {step_text(locale, face, entry)}"
    return line if face.parent_number is None else f"{line} ← #{face.parent_number}"


def history_reply(locale: str, key: str, faces: Sequence[FaceRecord], current_id: int | None,
                  entries: dict[int, GalleryEntryRecord], names: dict[int, list[str]], sheet: bytes,
                  thumbnails: Sequence[bytes | None]) -> Reply:
    """The history, newest first: a line per face (with its saved names, and which is current),
    one contact sheet of their pictures numbered #n with a "#n" button each that goes back there,
    and the same as tiles for chats that show a picture per button. `entries`: the gallery faces
    morphs blended in, by face id; `names`: saved names by face id; `thumbnails`: each face's
    small picture (None: it has none)."""
    tag = key[:payloads.TAG_CHARS]
    lines = [say(locale, "history_head")]
    for face in faces:
        line = history_line(locale, face, entries.get(face.id))
        if face.id in names:
            line += " · " + ", ".join(f"'{n}'" for n in names[face.id])
        if face.id == current_id:
            line += "  " + say(locale, "history_current")
        lines.append(line)
    lines.append(say(locale, "history_press"))
    buttons = [Button(f"#{f.number}", payloads.encode(tag, "bk", f.number)) for f in faces]
    rows = tuple(tuple(buttons[i:i + HISTORY_PER_ROW]) for i in range(0, len(buttons), HISTORY_PER_ROW))
    tiles = tuple(Tile(f"#{f.number} {step_text(locale, f, entries.get(f.id))}", button,
                       None if thumb is None else Picture(thumb, f"dreamface-{f.number}-small.png"),
                       current=f.id == current_id)
                  for f, button, thumb in zip(faces, buttons, thumbnails))
    return Reply("\n".join(lines), (Picture(sheet, "dreamface-history.png", sheet=True),), rows, tiles=tiles,
                 extra={"faces": [f.number for f in faces]})


def face_buttons(locale: str, key: str, face: FaceRecord, regions: Sequence[str],
                 redraw_in: Sequence[tuple[str, str]] = (), free_text: str | None = None
                 ) -> tuple[tuple[Button, ...], ...]:
    """`redraw_in`: (style name, style code) of the other styles this face can be drawn in again;
    `free_text`: the words the face skipped, offered as a free-text edit of it."""
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
    if len(face.params.get("ranked") or ()) > 1:   # a description chosen by its words: its runners-up
        rows.append((Button(say(locale, "btn_ranked", n=len(face.params["ranked"])), payloads.encode(tag, "sh", n, payloads.RANKED_SHEET)),))
    last = [Button(say(locale, "btn_remix"), payloads.encode(tag, "rx", n))]
    if face.parent_number is not None or face.params.get("previous") is not None:   # a new face: back to the one before
        last.append(Button(say(locale, "btn_undo"), payloads.encode(tag, "un", n)))
    last.append(Button(say(locale, "btn_report"), payloads.report(key, n)))
    rows.append(tuple(last))
    if redraw_in:
        rows.append(tuple(Button(say(locale, "btn_redraw_style", style=name), payloads.encode(tag, "st", n, code))
                          for name, code in redraw_in))
    if free_text:
        words = free_text if len(free_text) <= BUTTON_WORDS_CHARS else free_text[:BUTTON_WORDS_CHARS - 1] + "…"
        rows.append((Button(say(locale, "btn_free_text", words=words), payloads.encode(tag, "ft", n)),))
    return tuple(rows)


def face_reply(locale: str, key: str, face: FaceRecord, image: BlobData | None, regions: Sequence[str], *,
               entry: GalleryEntryRecord | None = None, lead: str | None = None, job_id: int | None = None,
               redraw_in: Sequence[tuple[str, str]] = (), free_text: str | None = None) -> Reply:
    """A hidden face (a moderator's action) is shown without its picture. `entry`: the gallery
    face a morph blended in; `free_text`: words to offer as a free-text edit (face_buttons)."""
    text = face_text(locale, face, entry)
    if face.hidden:
        image, text = None, f"{text}\n{say(locale, 'face_hidden')}"
    pictures = () if image is None else (_picture(image, f"dreamface-{face.number}", as_file=True,
                                                  alt=face_words(locale, face)),)
    return Reply("\n".join(filter(None, (lead, text))), pictures,
                 face_buttons(locale, key, face, regions, redraw_in, free_text),
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


def likeness_kept_text(locale: str, face_number: int, distances: Sequence[float | None]) -> str:
    """"Likeness to #3: high 1, 2, 4 · medium 3 · nearest 4, 1, 2": each candidate of a sheet by
    the level of its distance to the face it was drawn around, then the NEAREST_SHOWN nearest
    (a candidate without a measure is left out)."""
    measured = {k: d for k, d in enumerate(distances, 1) if d is not None}
    groups: dict[str, list[str]] = {}
    for k, d in measured.items():
        groups.setdefault(likeness_level(d), []).append(str(k))
    levels = [level for level in LIKENESS_LEVELS if level in groups]
    if len(levels) == 1 and len(measured) == len(distances):
        parts = [say(locale, "likeness_kept_all", level=say(locale, f"likeness_{levels[0]}"))]
    else:
        parts = [f'{say(locale, f"likeness_{level}")} {", ".join(groups[level])}' for level in levels]
    if len(measured) > NEAREST_SHOWN:
        nearest = sorted(measured, key=measured.get)[:NEAREST_SHOWN]
        parts.append(say(locale, "likeness_nearest", numbers=", ".join(map(str, nearest))))
    return say(locale, "likeness_kept", number=face_number, groups=" · ".join(parts))


def sheet_reply(locale: str, key: str, face_number: int, params: dict, image: BlobData, job_id: int | None,
                likeness: Sequence[float | None] | None = None) -> Reply:
    """A sheet of candidates with a pick button each; `likeness`: each candidate's distance to
    the face, where that face was made from a photo."""
    code, tag = payloads.set_code(params), key[:payloads.TAG_CHARS]
    picks = [Button(str(k), payloads.encode(tag, "pk", face_number, code, k)) for k in range(1, params["n"] + 1)]
    rows = tuple(tuple(picks[i:i + PICKS_PER_ROW]) for i in range(0, len(picks), PICKS_PER_ROW))
    text = say(locale, "sheet", number=face_number, what=set_label(locale, params), n=params["n"])
    if likeness and any(d is not None for d in likeness):
        text += "\n" + likeness_kept_text(locale, face_number, likeness)
    return Reply(text, (_picture(image, f"dreamface-{face_number}-{params['kind']}", sheet=True),), rows,
                 job_id=job_id, kind="result", extra={"face_number": face_number})


def breed_reply(locale: str, key: str, face_number: int, params: dict, chosen: Sequence[int], *,
                image: BlobData | None = None, kind: str = "result", job_id: int | None = None,
                lead: str | None = None) -> Reply:
    """A breeding array around face #face_number (its sheet, where `image` is given): what to
    do, the faces selected, the regions kept and the changes made to every face; a toggle per
    face, ticked ✓ when selected (a multi-select menu where the chat has one), and Next / Done /
    Stop. Every button carries the round's token, so an older array's buttons are refused."""
    tag, token, n = key[:payloads.TAG_CHARS], payloads.round_token(params), params["n"]
    lines = [lead, say(locale, "breed_sheet", number=face_number, round=params["round"])]
    lines.append(say(locale, "breed_chosen", numbers=", ".join(map(str, chosen)), best=chosen[0]) if chosen
                 else say(locale, "breed_chosen_none"))
    if params["locks"]:
        lines.append(say(locale, "breed_locks_line", regions=", ".join(region_name(locale, r) for r in params["locks"])))
    if params["edits"]:
        lines.append(say(locale, "breed_edits_line", changes=", ".join(change_text(locale, e) for e in params["edits"])))
    toggles = [Button(f"✓ {k}" if k in chosen else str(k), payloads.encode(tag, "bt", face_number, token, k))
               for k in range(1, n + 1)]
    columns = array_columns(n)   # a toggle under each column of the sheet
    rows = [tuple(toggles[i:i + columns]) for i in range(0, n, columns)]
    rows.append(tuple(Button(say(locale, label), payloads.encode(tag, verb, face_number, token))
                      for label, verb in (("btn_breed_next", "bn"), ("btn_breed_done", "bd"), ("btn_breed_stop", "bs"))))
    menu = Menu(payloads.menu(tag, face_number, token), n, tuple(chosen), say(locale, "breed_menu"), len(rows) - 1,
                breeding.MAX_PARENTS)
    pictures = () if image is None else (_picture(image, f"dreamface-{face_number}-breed-{params['round']}", sheet=True),)
    return Reply("\n".join(filter(None, lines)), pictures, tuple(rows), job_id=job_id, kind=kind, menu=menu,
                 extra={"face_number": face_number, "round": params["round"]})


def face_words(locale: str, face: FaceRecord) -> str:
    """What the face is, in words: written by the worker when it made the face
    (facegen.describe.back); a face made before that is just "a face"."""
    words = face.params.get("words") or {}
    return words.get(locale) or generic_words(locale)


def _picture(image: BlobData, stem: str, *, as_file: bool = False, sheet: bool = False, alt: str = "") -> Picture:
    """A stored picture as sent, named for its format (a photoreal face is a .jpg, a drawing a .png)."""
    return Picture(image.data, filename(stem, image.content_type), image.content_type, as_file, sheet, alt)
