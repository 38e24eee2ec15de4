"""Compact button payloads, written and read only here.

    d1:<owner>:<verb>[:<arg>…]        e.g. d1:k3j9qa:pk:4:r.eyes.10.77:3  (pick 3 from that eyes grid of #4)

`owner` is a short tag of the platform identity the button was made for; the core refuses a
press by anyone else (a group member pressing someone else's button, a hand-edited payload).
It needs no secret: the sender's identity comes from the platform, so a forged tag can only
match the sender themself, and every face number in a payload is then looked up among the
sender's own faces. Payloads fit Telegram's 64 bytes (bot.messages.MAX_BUTTON_PAYLOAD_BYTES).

A breeding array's buttons carry the anchor face's number and the array's round token
(`round_token`: a hash of the round's parameters), so a press on an older array is told it is over:

    d1:k3j9qa:bt:4:mx2k7q:3        (toggle face 3 of the array with token mx2k7q bred around #4)
    d1:k3j9qa:bm:4:mx2k7q:3.5.7    (a menu's choice: faces 3, 5 and 7; "-" for none; bot.messages.Menu)

The one exception is `rp` (report), which anyone who sees the face may press:

    d1:k3j9qa:rp:7fz2mc:4          (report #4 of the user whose owner key is k3j9qa7fz2mc)

The tag and the rest of the owner's key (storage.models.owner_key: 60 bits of an HMAC under
the server's secret, so nobody can work a key out from a public Telegram or Discord id) name
the owner; the core looks the face number up among that owner's faces only, never by a
database id, and answers every report the same (a second one, a forged or stale one), so a
payload tells nothing about faces.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from storage.models import OWNER_KEY_CHARS

PREFIX = "d1"
TAG_CHARS = 6
VERBS = {
    "ack": 0,   # I have read the first-use notice
    "yes": 0,   # yes to the pending question
    "no": 0,    # no to the pending question
    "pk": 3,    # pick: face number, candidate set, candidate number
    "sh": 2,    # show candidates around a face: face number, region, "*" for variations or "best" for
                #   a ranked description's best candidates
    "rx": 1,    # remix set around a face
    "un": 1,    # undo from a face (go to its parent)
    "bk": 1,    # back to a face: its number (a history's buttons)
    "mr": 2,    # morph the same two faces again: the morph's face number, ratio in percent
    "rp": 2,    # report a face, pressed by anyone: the rest of the owner's key, the owner's face number
    "st": 2,    # choose a style (bot.conversation.styles.style_code): the face to redraw in it (0: none), the code
    "gm": 1,    # morph the current face with a gallery entry: the entry's id (the gallery is public)
    "ft": 1,    # a free-text edit of a face with the words it skipped (its params' "skipped"): its number
    # a breeding array's (face number, round token, …):
    "bt": 3,    # toggle one face: its number
    "bm": 3,    # a menu's choice: the numbers chosen ("3.5.7"; "-" for none)
    "bn": 2,    # breed the next array from the faces selected
    "bd": 2,    # done: keep the face selected (or the best-liked)
    "bs": 2,    # stop breeding
}
BREEDING_VERBS = ("bt", "bm", "bn", "bd", "bs")
RANKED_SHEET = "best"   # sh's region word (and a ranked set's code) for a ranked description's runners-up
TOKEN_CHARS = 6
_NUMBER = re.compile(r"[1-9][0-9]{0,9}|0")
_WORD = re.compile(r"[a-z_]{1,16}")
_STYLE_CODE = re.compile(r"[0-9a-f]{8}")
_TOKEN = re.compile(rf"[a-z2-7]{{{TOKEN_CHARS}}}")
_CHOSEN = re.compile(r"-|[1-9][0-9]{0,2}(?:\.[1-9][0-9]{0,2}){0,49}")
_KEY_REST = re.compile(rf"[a-z2-7]{{{OWNER_KEY_CHARS - TAG_CHARS}}}")


class BadPayload(ValueError):
    """Not a payload this core wrote (garbled, truncated or edited into nonsense)."""


@dataclass(frozen=True)
class Press:
    """A decoded button press."""
    owner: str
    verb: str
    face: int | None = None          # the owner's face number
    value: int | None = None         # candidate number (pk), ratio percent (mr) or gallery entry id (gm)
    region: str | None = None        # sh: a region; None for variations
    set: dict[str, Any] | None = None   # pk: the candidate-set recipe (checked again by the core)
    key: str | None = None           # rp: the face owner's whole key (owner + the rest)
    style: str | None = None         # st: a style code
    token: str | None = None         # a breeding array's round token
    numbers: tuple[int, ...] = ()    # bm: the faces chosen in a menu


def owner_tag(key: str) -> str:
    """The tag of an owner's buttons: the first characters of their storage.models.owner_key."""
    return key[:TAG_CHARS]


def report(key: str, face_number: int) -> str:
    """The report button of a face: `key` is its owner's storage.models.owner_key."""
    return encode(key[:TAG_CHARS], "rp", key[TAG_CHARS:], face_number)


def encode(owner: str, verb: str, *args: Any) -> str:
    if VERBS.get(verb) != len(args):
        raise ValueError(f"{verb!r} takes {VERBS.get(verb)} arguments, got {len(args)}")
    return ":".join((PREFIX, owner, verb, *(str(a) for a in args)))


def menu(owner: str, face_number: int, token: str) -> str:
    """A breeding array's menu press, less the numbers chosen (bot.messages.menu_payload adds them)."""
    return ":".join((PREFIX, owner, "bm", str(face_number), token))


def set_code(params: dict[str, Any]) -> str:
    """A candidate-set recipe as a few dotted fields."""
    if params["kind"] == "region":
        return f"r.{params['region']}.{params['n']}.{params['seed']}"
    if params["kind"] == "variations":
        return f"v.{round(params['strength'] * 100)}.{params['n']}.{params['seed']}"
    if params["kind"] == "ranked":   # its seeds and attributes are the face's own (recipes.ranked_set)
        return f"k.{RANKED_SHEET}.{params['n']}.{params['seed']}"
    return f"x.{params['layers']}.{params['n']}.{params['seed']}"


def round_token(params: dict[str, Any]) -> str:
    """A breeding round's short name: every array drawn from other parameters has another one
    (but for a 1-in-10⁹ clash), so its buttons tell an older array from the one shown now."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.b32encode(digest).decode().lower()[:TOKEN_CHARS]


def _int(text: str) -> int:
    if not _NUMBER.fullmatch(text):
        raise BadPayload(f"not a number: {text!r}")
    return int(text)


def _word(text: str) -> str:
    if not _WORD.fullmatch(text):
        raise BadPayload(f"not a name: {text!r}")
    return text


def _set(code: str) -> dict[str, Any]:
    parts = code.split(".")
    if len(parts) != 4:
        raise BadPayload(f"not a candidate set: {code!r}")
    kind, middle, n, seed = parts
    if kind == "r":
        return {"kind": "region", "region": _word(middle), "n": _int(n), "seed": _int(seed)}
    if kind == "v":
        return {"kind": "variations", "strength": _int(middle) / 100, "n": _int(n), "seed": _int(seed)}
    if kind == "x":
        return {"kind": "remix", "layers": _word(middle), "n": _int(n), "seed": _int(seed)}
    if kind == "k" and middle == RANKED_SHEET:
        return {"kind": "ranked", "n": _int(n), "seed": _int(seed)}
    raise BadPayload(f"not a candidate set: {code!r}")


def decode(payload: str) -> Press:
    parts = payload.split(":")
    if len(parts) < 3 or parts[0] != PREFIX or len(parts[1]) != TAG_CHARS:
        raise BadPayload(f"not a dreamface button: {payload[:80]!r}")
    owner, verb, args = parts[1], parts[2], parts[3:]
    if VERBS.get(verb) != len(args):
        raise BadPayload(f"unknown button {verb!r} with {len(args)} arguments")
    if verb == "pk":
        return Press(owner, verb, face=_int(args[0]), set=_set(args[1]), value=_int(args[2]))
    if verb == "sh":
        return Press(owner, verb, face=_int(args[0]), region=None if args[1] == "*" else _word(args[1]))
    if verb == "mr":
        return Press(owner, verb, face=_int(args[0]), value=_int(args[1]))
    if verb == "rp":
        if not _KEY_REST.fullmatch(args[0]):
            raise BadPayload(f"not an owner key: {args[0]!r}")
        return Press(owner, verb, face=_int(args[1]), key=owner + args[0])
    if verb == "st":
        if not _STYLE_CODE.fullmatch(args[1]):
            raise BadPayload(f"not a style code: {args[1]!r}")
        return Press(owner, verb, face=_int(args[0]), style=args[1])
    if verb == "gm":
        return Press(owner, verb, value=_int(args[0]))
    if verb in BREEDING_VERBS:
        if not _TOKEN.fullmatch(args[1]):
            raise BadPayload(f"not a round token: {args[1]!r}")
        face, token = _int(args[0]), args[1]
        if verb == "bt":
            return Press(owner, verb, face=face, token=token, value=_int(args[2]))
        if verb == "bm":
            if not _CHOSEN.fullmatch(args[2]):
                raise BadPayload(f"not a choice of faces: {args[2][:80]!r}")
            numbers = () if args[2] == "-" else tuple(dict.fromkeys(int(n) for n in args[2].split(".")))
            return Press(owner, verb, face=face, token=token, numbers=numbers)
        return Press(owner, verb, face=face, token=token)
    if verb in ("rx", "un", "bk", "ft"):
        return Press(owner, verb, face=_int(args[0]))
    return Press(owner, verb)
