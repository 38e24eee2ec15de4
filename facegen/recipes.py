"""Recipes: how each kind of step turns stored inputs into a FaceCode. Pure functions of the
backend, the parameters and the input faces, so a step can be replayed exactly (a pick from a
grid is "candidate k of the set these parameters describe"; nothing else needs storing).

Operations that make one face (a node of the user's history tree):
    new       {seed}
    describe  {text, attributes, seed[, rank]}  attributes: facegen.attributes.Attributes fields;
                                                `rank`: the worker draws that many candidates (child
                                                seeds of `seed`) and keeps the one nearest the words
                                                (Backend.text_similarity): see ranked_description
    pick      {set: <candidate set>, number}    the parent's candidate `number` (1-based)
    morph     {ratio, mode}                     parent = "me", other = the second face
    remix     {layers, seed}                    fresh latents in one layer group
    edit      {edits: [{field, amount, value}]} 1 to MAX_EDITS, applied in order as one step
    photo     {seed}                            from the user's photo (Backend.from_photo fits it)
    text      {text, steps}                     the parent moved toward free words (Backend.text_edit);
                                                `steps` is the worker's to fill in (DREAMFACE_TEXT_EDIT_STEPS)
Kept with the face, not used to make it: `skipped` (describe, edit: the words the parser did not
understand, said with the result) and `previous` (new, describe, photo: the id of the face that
was current when this one was asked for, where undo goes back to). A ranked description is
stored as its winner (`seed`), with `pool_seed`, `ranked` (the RANKED_SHOWN best seeds, best
first) and `text_similarity`, so it replays without the text model.
Candidate sets (drawn as one numbered contact sheet, picked later by number):
    {kind: "region", region, n, seed} · {kind: "variations", n, strength, seed} ·
    {kind: "remix", layers, n, seed} ·
    {kind: "ranked", n, seed, attributes, seeds}: a ranked description's best candidates, best
    first (the described face's `attributes` and `ranked`; candidate 1 is that face) ·
    {kind: "breed", round, n, seed, strength, locks, edits, chosen, previous}: a breeding round
    around the anchor face, nesting the rounds before it (facegen.breeding)
A remix (a face or a set) keeps what the user asked for along the face's history (`asked`):
the worker reads it from the stored faces and passes it as `keep`, so a pick replays the set
it picked from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from facegen import breeding, latent
from facegen.attributes import DEGREES, ENUMS, FLAGS, MARK_PLACES, MARKS, Attributes, Edit
from facegen.backend import Backend, BackendInfo, FittedFace, Progress, child_seeds
from facegen.candidates import region_candidates, variations
from facegen.facecode import FaceCode
from ground.config import MAX_RANK_POOL, MAX_TEXT_EDIT_STEPS, RANK_POOL
from ground.limits import MAX_TEXT_CHARS

FACE_OPERATIONS = ("new", "describe", "pick", "morph", "remix", "edit", "photo", "text")
NEEDS_PARENT = ("pick", "morph", "remix", "edit", "text")
SET_KINDS = ("region", "variations", "remix", "breed", "ranked")
MAX_EDITS = 16      # in one step: a refinement may set every feature a description names
MAX_SET_SIZE = 25
MAX_SEED = 2**31 - 1
RANKED_SHOWN = 4     # the best of them kept with the face, offered as a sheet (Midjourney's grid of 4)
# what every description decides, said or not: these appear only when asked for (see asked)
DECIDED_BY_DESCRIPTIONS = ("glasses", "beard")


class RecipeError(ValueError):
    """Parameters that do not describe a step this backend can make."""


# --- validation (used at enqueue, so bad requests never reach a worker) ----------------------

def _int(params: Mapping[str, Any], key: str, lo: int, hi: int, default: int | None = None) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecipeError(f"{key} must be a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise RecipeError(f"{key} must be between {lo:g} and {hi:g}, got {value:g}")
    return value


def _float(params: Mapping[str, Any], key: str, lo: float, hi: float, default: float | None = None) -> float:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise RecipeError(f"{key} must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise RecipeError(f"{key} must be between {lo:g} and {hi:g}, got {value:g}")
    return float(value)


def _choice(params: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str | None = None) -> str:
    value = params.get(key, default)
    if value not in choices:
        raise RecipeError(f"{key} must be one of {', '.join(choices)}, got {value!r}")
    return value


def clean_set(params: Mapping[str, Any], model: BackendInfo) -> dict[str, Any]:
    """A candidate set's parameters for this model (its regions and layer groups), checked."""
    kind = _choice(params, "kind", SET_KINDS)
    if kind == "breed":
        return _clean_round(params, model)
    if kind == "ranked":
        return _clean_ranked(params)
    out: dict[str, Any] = {"kind": kind, "n": _int(params, "n", 1, MAX_SET_SIZE, 10),
                           "seed": _int(params, "seed", 0, MAX_SEED, 0)}
    if kind == "region":
        out["region"] = _choice(params, "region", model.regions)
    elif kind == "variations":
        out["strength"] = _float(params, "strength", 0.0, 1.0, 0.35)
    else:
        out["layers"] = _choice(params, "layers", model.layer_groups, "fine")
    return out


def _clean_ranked(params: Mapping[str, Any]) -> dict[str, Any]:
    seeds = params.get("seeds")
    if not isinstance(seeds, list) or not 1 <= len(seeds) <= MAX_SET_SIZE:
        raise RecipeError(f"seeds must be a list of 1 to {MAX_SET_SIZE} seeds")
    return {"kind": "ranked", "n": _int(params, "n", len(seeds), len(seeds), len(seeds)),
            "seed": _int(params, "seed", 0, MAX_SEED, 0), "attributes": _clean_attributes(params.get("attributes", {})),
            "seeds": [_int({"seed": s}, "seed", 0, MAX_SEED) for s in seeds]}


def ranked_set(face_params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The sheet of a ranked description's best candidates (None for any other face)."""
    if not face_params.get("ranked"):
        return None
    seeds = list(face_params["ranked"])
    return {"kind": "ranked", "n": len(seeds), "seed": 0, "attributes": dict(face_params.get("attributes", {})),
            "seeds": seeds}


def _clean_round(params: Mapping[str, Any], model: BackendInfo, number: int | None = None) -> dict[str, Any]:
    """A breeding round (facegen.breeding), and the rounds it nests, checked; `number` is the
    round the set must be (its successor's round − 1), so the nesting is at most MAX_ROUNDS deep."""
    _choice(params, "kind", ("breed",))
    if number is not None and params.get("round") != number:
        raise RecipeError(f"round {number + 1} must nest round {number}, got round {params.get('round')!r}")
    out: dict[str, Any] = {"kind": "breed", "round": _int(params, "round", 1, breeding.MAX_ROUNDS),
                           "n": _int(params, "n", breeding.MIN_ARRAY, breeding.MAX_ARRAY),
                           "seed": _int(params, "seed", 0, MAX_SEED), "strength": _float(params, "strength", 0.0, 1.0)}
    locks = params.get("locks", [])
    if not isinstance(locks, list) or len(set(map(str, locks))) != len(locks):
        raise RecipeError(f"locks must be a list of regions, each once, got {locks!r}")
    unknown = [region for region in locks if region not in model.regions]
    if unknown:
        raise RecipeError(f"cannot lock {', '.join(map(repr, unknown))}; regions: {', '.join(model.regions)}")
    out["locks"] = list(locks)
    edits = params.get("edits", [])
    if not isinstance(edits, list) or len(edits) > MAX_EDITS:
        raise RecipeError(f"edits must be a list of at most {MAX_EDITS} edits")
    out["edits"] = [_clean_edit(e) for e in edits]
    previous, chosen = params.get("previous"), params.get("chosen", [])
    if out["round"] == 1:
        if previous is not None or chosen != []:
            raise RecipeError("round 1 is bred from the anchor face: no previous round, nothing chosen")
        return {**out, "chosen": [], "previous": None}
    if not isinstance(previous, Mapping):
        raise RecipeError(f"round {out['round']} needs the previous round")
    previous = _clean_round(previous, model, out["round"] - 1)
    try:
        out["chosen"] = breeding.check_chosen(chosen, previous["n"])
    except ValueError as exc:
        raise RecipeError(str(exc)) from None
    return {**out, "previous": previous}


def _clean_attributes(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise RecipeError(f"attributes must be an object, got {type(raw).__name__}")
    known = {f.name for f in fields(Attributes)}
    unknown = set(raw) - known
    if unknown:
        raise RecipeError(f"unknown attributes: {', '.join(sorted(unknown))}")
    out = dict(raw)
    for name, value in raw.items():
        if value is None:
            continue
        if name in ENUMS and value not in ENUMS[name]:
            raise RecipeError(f"{name} must be one of {', '.join(ENUMS[name])}, got {value!r}")
        if name in DEGREES:
            _float(raw, name, -1.0, 1.0)
        if name in FLAGS and not isinstance(value, bool):
            raise RecipeError(f"{name} must be true or false, got {value!r}")
        if name in MARKS:
            out[name] = _places(name, value)
    return out


def _places(name: str, value: Any) -> list[str]:
    """Mark places as a list (JSON keeps no tuples), each known, each once."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise RecipeError(f"{name} must be a list of places ({', '.join(MARK_PLACES)}), got {value!r}")
    unknown = [place for place in value if place not in MARK_PLACES]
    if unknown:
        raise RecipeError(f"{name} can sit at {', '.join(MARK_PLACES)}, not {', '.join(map(str, unknown))}")
    return list(dict.fromkeys(value))


def _clean_edit(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("field"), str):
        raise RecipeError(f"an edit needs a field name, got {raw!r}")
    value = raw.get("value")
    if raw["field"] in MARKS and value is not None:
        value = _places(raw["field"], value)
    return {"field": raw["field"], "amount": _float(raw, "amount", -3.0, 3.0, 0.0), "value": value}


def _kept(params: Mapping[str, Any], operation: str) -> dict[str, Any]:
    """What is kept with the face beside its recipe (see the module docstring)."""
    kept: dict[str, Any] = {}
    if operation in ("describe", "edit") and params.get("skipped"):
        words = params["skipped"]
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words) \
                or sum(len(w) for w in words) > MAX_TEXT_CHARS:
            raise RecipeError(f"skipped must be a list of words, at most {MAX_TEXT_CHARS} characters in all")
        kept["skipped"] = list(words)
    if operation in ("new", "describe", "photo") and params.get("previous") is not None:
        kept["previous"] = _int(params, "previous", 1, 2**63 - 1)
    return kept


def clean_face_params(operation: str, params: Mapping[str, Any], model: BackendInfo) -> dict[str, Any]:
    """The recipe's parameters, checked and normalized; raises RecipeError."""
    _choice({"operation": operation}, "operation", FACE_OPERATIONS)
    return {**_recipe(operation, params, model), **_kept(params, operation)}


def _recipe(operation: str, params: Mapping[str, Any], model: BackendInfo) -> dict[str, Any]:
    seed = {"seed": _int(params, "seed", 0, MAX_SEED, 0)}
    if operation in ("new", "photo"):
        return seed
    if operation == "describe":
        text = params.get("text", "")
        if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
            raise RecipeError(f"text must be a string of at most {MAX_TEXT_CHARS} characters")
        rank = {} if params.get("rank") is None else {"rank": _int(params, "rank", 2, MAX_RANK_POOL)}
        return {"text": text, "attributes": _clean_attributes(params.get("attributes", {})), **seed, **rank}
    if operation == "pick":
        candidate_set = clean_set(params.get("set") or {}, model)
        return {"set": candidate_set, "number": _int(params, "number", 1, candidate_set["n"])}
    if operation == "morph":
        return {"ratio": _float(params, "ratio", latent.RATIO_MIN, latent.RATIO_MAX),
                "mode": _choice(params, "mode", latent.MORPH_MODES, "linear")}
    if operation == "remix":
        return {"layers": _choice(params, "layers", model.layer_groups, "fine"), **seed}
    if operation == "text":
        text = params.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_CHARS:
            raise RecipeError(f"text must be words, at most {MAX_TEXT_CHARS} characters")
        steps = {} if params.get("steps") is None else {"steps": _int(params, "steps", 1, MAX_TEXT_EDIT_STEPS)}
        return {"text": text, **steps}
    edits = params.get("edits")
    if not isinstance(edits, list) or not 1 <= len(edits) <= MAX_EDITS:
        raise RecipeError(f"edits must be a list of 1 to {MAX_EDITS} edits")
    return {"edits": [_clean_edit(e) for e in edits]}


# --- making faces ----------------------------------------------------------------------------

def asked(lineage: Sequence[tuple[str, Mapping[str, Any]]]) -> tuple[str, ...]:
    """What the user asked for along a face's history: `lineage` is (operation, params) of the
    face, its parent, and so on back to its first face. Every field a description said (and
    the accessories it decided by not saying them) and every field an edit changed, once each;
    a remix keeps them (Backend.remix)."""
    out: dict[str, None] = {}
    for operation, params in lineage:
        if operation == "describe":
            said = [name for name, value in params.get("attributes", {}).items() if value is not None]
            out.update(dict.fromkeys([*said, *DECIDED_BY_DESCRIPTIONS]))
        elif operation == "edit":
            out.update(dict.fromkeys(e["field"] for e in params.get("edits", [])))
    return tuple(out)


def wants_keep(operation: str, params: Mapping[str, Any]) -> bool:
    """Whether making this face remixes its parent (and so needs `asked` of the parent's history)."""
    return operation == "remix" or (operation == "pick" and params["set"]["kind"] == "remix")


def candidate_set(backend: Backend, parent: FaceCode, params: Mapping[str, Any],
                  keep: Iterable[str] = ()) -> list[FaceCode]:
    """The faces of a candidate set, in the order their numbers show; a remix set keeps the
    attributes named in `keep` (see asked)."""
    n, seed = params["n"], params["seed"]
    if params["kind"] == "breed":
        return breeding.breed(backend, parent, params)
    if params["kind"] == "region":
        return region_candidates(backend, parent, params["region"], n=n, seed=seed)
    if params["kind"] == "variations":
        return variations(backend, parent, n=n, strength=params["strength"], seed=seed)
    if params["kind"] == "ranked":
        attributes = Attributes(**params["attributes"])
        return [backend.from_attributes(attributes, s) for s in params["seeds"]]
    layers, keep = backend.layer_ranges[params["layers"]], tuple(keep)
    return [backend.remix(parent, seed * 1000 + i, layers, keep) for i in range(n)]


def make_face(backend: Backend, operation: str, params: Mapping[str, Any], *, parent: FaceCode | None = None,
              other: FaceCode | None = None, keep: Iterable[str] = ()) -> FaceCode:
    """Apply a cleaned recipe (see clean_face_params); a remix, or a pick from a remix set, keeps
    the attributes named in `keep` (see asked)."""
    if operation in NEEDS_PARENT and parent is None:
        raise RecipeError(f"{operation} needs a current face")
    if operation == "new":
        return backend.sample(params["seed"])
    if operation == "describe":
        return backend.from_attributes(Attributes(**params["attributes"]), params["seed"])
    if operation == "pick":
        return candidate_set(backend, parent, params["set"], keep)[params["number"] - 1]
    if operation == "morph":
        if other is None:
            raise RecipeError("morph needs a second face")
        return backend.morph(parent, other, params["ratio"], params["mode"])
    if operation == "remix":
        return backend.remix(parent, params["seed"], backend.layer_ranges[params["layers"]], keep)
    if operation == "edit":
        code = parent
        for e in params["edits"]:
            code = backend.edit(code, Edit(e["field"], e["amount"], e["value"]))
        return code
    if operation == "text":
        return text_face(backend, params, parent).code
    if operation == "photo":
        raise RecipeError("a face from a photo is fitted by the backend (Backend.from_photo), not replayed")
    raise RecipeError(f"unknown operation {operation!r}")


def ranked_description(backend: Backend, params: Mapping[str, Any]) -> FittedFace:
    """A describe step with `rank`: its candidates (child seeds of `seed`) ranked by how well
    they match the whole sentence; the best, with what the face keeps of the ranking (see the
    module docstring). Ties keep the seeds' order, so the same request gives the same face."""
    attributes = Attributes(**params["attributes"])
    seeds = child_seeds(params["seed"], params["rank"])
    codes = [backend.from_attributes(attributes, s) for s in seeds]
    scores = backend.text_similarity(codes, params["text"])
    order = sorted(range(len(seeds)), key=lambda i: -scores[i])
    best = order[0]
    return FittedFace(codes[best], {"seed": seeds[best], "pool_seed": params["seed"],
                                    "ranked": [seeds[i] for i in order[:RANKED_SHOWN]],
                                    "text_similarity": round(scores[best], 4)})


def text_face(backend: Backend, params: Mapping[str, Any], parent: FaceCode | None,
              progress: Progress | None = None) -> FittedFace:
    """A text step (its steps filled in) with how it was made: Backend.text_edit on the parent."""
    if parent is None:
        raise RecipeError("text needs a current face")
    if params.get("steps") is None:
        raise RecipeError("a text step needs its steps (the worker fills them in)")
    return backend.text_edit(parent, params["text"], steps=params["steps"], progress=progress)

