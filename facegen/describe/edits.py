"""Relative edits on an existing face ("more smile", "a bit older", "수염 없애줘").

An edit text is resolved like a description; each field it mentions becomes one `Edit`, in the
order first said, so "make eyes bigger, nose smaller" is two edits:
- a degree becomes a step of EDIT_STEP at plain strength (0.25 with 살짝 / a bit, 0.71 with
  아주 / much), signed by the word (작게 → −) and flipped by 덜 / less / fewer / 줄여;
- a degree set to nothing ("주름 없애줘", "stop smiling", "remove the freckles") becomes
  value=0.0: set it, not step it;
- age words ("older", "나이 들게", "젊게") become Edit("age", ±1), ±0.5 with a slight degree;
- colours, styles, beard kinds and flags become value edits ("금발로", "add glasses",
  "make her eyes green");
- a mark becomes the places to add ("add a mole under the eye" → ("under_eye",)), or () to
  remove them all ("remove the moles").
Guesses (a pronoun's gender, 할아버지's age, what an impression looks like) are never edits, nor
is what a noun means by itself when a predicate changes something about it (수염을 하얗게, make
the beard grey: the beard colour, not a new full beard; "a white beard" does add one).
"""

from __future__ import annotations

from facegen.attributes import DEGREES, Edit
from facegen.describe.lexicon import PLAIN, SLIGHT
from facegen.describe.resolve import Resolution, merge

EDIT_STEP = 0.5
DEGREE_FIELDS = set(DEGREES) | {"hair_length"}


def edits_from(resolution: Resolution) -> list[Edit]:
    said = [a for a in resolution.applied if not a.weak and not (a.implied and a.head in resolution.predicated)]
    values = merge(said)
    last = {a.field: a for a in said}
    if "age" in values:
        values.pop("age_band", None)
    edits: list[Edit] = []
    for name in dict.fromkeys(a.field for a in said):
        if name not in values:
            continue
        value, applied = values[name], last[name]
        sign = -1 if applied.flip else 1
        if name == "age":
            step = 0.5 if applied.intensity <= SLIGHT else 1.0
            edits.append(Edit("age", amount=sign * step * (1 if value > 0 else -1)))
        elif name in DEGREE_FIELDS:
            if value == 0.0:
                edits.append(Edit(name, value=0.0))
            else:
                amount = sign * EDIT_STEP * value / PLAIN
                edits.append(Edit(name, amount=round(max(-1.0, min(1.0, amount)), 2)))
        else:
            edits.append(Edit(name, value=value))
    return edits
