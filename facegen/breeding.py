"""Breeding: build a face by choosing among whole faces, round after round (issue #21).

Police composite research found that witnesses build more recognisable faces by choosing among
whole faces than by assembling features (EvoFIT): an array of faces is shown, the witness selects
the few most like the person, best-liked first, and those are bred into the next array with
smaller changes each round. Here a round is a candidate set of kind "breed", drawn around an
ANCHOR face (the face breeding started from; it stays the same for the whole session) and
stored as parameters only, like every set (facegen.recipes):

    {"kind": "breed", "round": r (1-based), "n": MIN_ARRAY … MAX_ARRAY, "seed": int,
     "strength": mutation strength (strength_for(r) when the round was made),
     "locks": [region, …], "edits": [{"field", "amount", "value"}, …],
     "chosen": [numbers of the previous round, best-liked first] ([] in round 1),
     "previous": the previous round's parameters (None in round 1)}

A round's faces are latent math on the anchor through the nested "previous" rounds (no
rendering), the same for every backend (only Backend methods and FaceCode):
- Member 1 is the best-liked face carried over unchanged (elitism): the anchor in round 1,
  the previous round's chosen[0] later.
- Every other member has two parents drawn from the chosen faces (the better liked, the more
  often), crossed over in one of three ways (whole layer groups, channels, or regions), then
  mutated by the backend's own `variations` at the round's strength, which falls round by
  round (strength_for). One chosen face (and round 1's anchor) is mutated only.
- Edits (whole-face scales: older, thinner, friendlier …) apply to every member, member 1
  included, in order.
- Locked regions ("keep the eyes"): every member takes each locked region's latent (its
  FaceCode part) from member 1, so the region stays as it is from round to round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from facegen.attributes import Edit
from facegen.backend import Backend
from facegen.facecode import FaceCode

MAX_ROUNDS = 30        # rounds in one breeding session (each round nests the ones before it)
MAX_PARENTS = 6        # faces chosen in one round (EvoFIT asks for a few of 18)
MIN_ARRAY, MAX_ARRAY = 4, 18
TELEGRAM_ARRAY = 9     # a 3 × 3 sheet
WEB_ARRAY = 12         # 4 × 3: about 80 CSS px a face on a phone, 130 on a desktop
DISCORD_ARRAY = 18     # 6 × 3, EvoFIT's array; Discord is mostly read on a desktop
# the mutation strength of round r: FIRST_STRENGTH, then DECAY times the round before, not
# below MIN_STRENGTH (0 is a parent itself, 1 a fresh random face; see Backend.variations)
FIRST_STRENGTH = 1.0     # the first array: fresh faces beside the start, as EvoFIT begins (bench/witness.py)
STRENGTH_DECAY = 0.6
MIN_STRENGTH = 0.1
CROSSOVERS = ("layers", "channels", "regions")


def strength_for(round_number: int) -> float:
    """How far round `round_number`'s children move from their parents."""
    return round(max(MIN_STRENGTH, FIRST_STRENGTH * STRENGTH_DECAY ** (round_number - 1)), 4)


# --- rounds as parameters (what the chat side makes and the face nodes store) -------------------

def first_round(n: int, seed: int, *, locks: Iterable[str] = (), edits: Iterable[Edit | Mapping[str, Any]] = ()
                ) -> dict[str, Any]:
    """The first array around the anchor face."""
    return {"kind": "breed", "round": 1, "n": check_array(n), "seed": int(seed), "strength": strength_for(1),
            "locks": _locks(locks), "edits": _edits(edits), "chosen": [], "previous": None}


def next_round(previous: Mapping[str, Any], chosen: Sequence[int], seed: int, *, locks: Iterable[str] | None = None,
               edits: Iterable[Edit | Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The array bred from `chosen` (numbers of `previous`'s faces, best-liked first), as large
    as the previous one; `locks` None keeps the previous round's locks."""
    number = previous["round"] + 1
    if number > MAX_ROUNDS:
        raise ValueError(f"a breeding session has at most {MAX_ROUNDS} rounds")
    return {"kind": "breed", "round": number, "n": previous["n"], "seed": int(seed), "strength": strength_for(number),
            "locks": list(previous["locks"]) if locks is None else _locks(locks), "edits": _edits(edits),
            "chosen": check_chosen(chosen, previous["n"]), "previous": dict(previous)}


def adjust(round_set: Mapping[str, Any], *, locks: Iterable[str] | None = None,
           edits: Iterable[Edit | Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The same round (same seed, same parents) with its locks replaced (None keeps them) and
    `edits` added after its own: a whole-face scale applied to the whole array shown now."""
    return {**round_set, "locks": list(round_set["locks"]) if locks is None else _locks(locks),
            "edits": [*round_set["edits"], *_edits(edits)]}


def check_array(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not MIN_ARRAY <= n <= MAX_ARRAY:
        raise ValueError(f"a breeding array has {MIN_ARRAY} to {MAX_ARRAY} faces, got {n!r}")
    return n


def check_chosen(chosen: Sequence[int], n: int) -> list[int]:
    """The numbers chosen from an array of n faces: 1 to MAX_PARENTS distinct numbers 1…n."""
    if isinstance(chosen, (str, bytes)) or not isinstance(chosen, Sequence) or not chosen:
        raise ValueError("choose at least one face to breed from")
    if len(chosen) > MAX_PARENTS:
        raise ValueError(f"choose at most {MAX_PARENTS} faces to breed from, got {len(chosen)}")
    for k in chosen:
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
            raise ValueError(f"chosen faces are numbers 1 to {n}, got {k!r}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"each face is chosen once, got {list(chosen)}")
    return list(chosen)


def _locks(locks: Iterable[str]) -> list[str]:
    if isinstance(locks, str):
        raise ValueError(f"locks are a list of regions, got {locks!r}")
    return list(dict.fromkeys(locks))


def _edits(edits: Iterable[Edit | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Edits as JSON objects, the form face nodes store (recipes checks them)."""
    out = []
    for e in edits:
        if isinstance(e, Edit):
            out.append({"field": e.field, "amount": e.amount, "value": e.value})
        else:
            out.append({"field": e["field"], "amount": e.get("amount", 0.0), "value": e.get("value")})
    return out


# --- the faces of a round ------------------------------------------------------------------------

def breed(backend: Backend, anchor: FaceCode, round_set: Mapping[str, Any]) -> list[FaceCode]:
    """The faces of a round in the order their numbers show (member 1 first); only the chosen
    faces of earlier rounds are recomputed."""
    members = _members(backend, anchor, round_set, range(1, round_set["n"] + 1))
    return [members[k] for k in range(1, round_set["n"] + 1)]


def _members(backend: Backend, anchor: FaceCode, round_set: Mapping[str, Any],
             numbers: Iterable[int]) -> dict[int, FaceCode]:
    previous = round_set["previous"]
    if previous is None:
        parents = [anchor]
    else:
        earlier = _members(backend, anchor, previous, round_set["chosen"])
        parents = [earlier[k] for k in round_set["chosen"]]
    edits = [Edit(e["field"], e["amount"], e["value"]) for e in round_set["edits"]]
    first = _edited(backend, parents[0], edits)
    out = {}
    for k in numbers:
        if k == 1:
            out[k] = first
            continue
        child = _edited(backend, _child(backend, parents, round_set, k), edits)
        for region in round_set["locks"]:
            child = child.with_part(region, first.part(region))
        out[k] = child
    return out


def _edited(backend: Backend, code: FaceCode, edits: Sequence[Edit]) -> FaceCode:
    for e in edits:
        code = backend.edit(code, e)
    return code


def _child(backend: Backend, parents: Sequence[FaceCode], round_set: Mapping[str, Any], number: int) -> FaceCode:
    """Member `number` (2…n): two parents crossed over (one parent: itself), then mutated. Its
    own random stream, so computing one member never needs the others."""
    rng = np.random.default_rng([round_set["seed"], round_set["round"], number])
    if len(parents) == 1:
        child = parents[0]
    else:
        liking = np.arange(len(parents), 0, -1, dtype=float)   # best-liked first: k, k−1, …, 1
        a, b = rng.choice(len(parents), size=2, replace=False, p=liking / liking.sum())
        child = crossover(backend, parents[a], parents[b], CROSSOVERS[rng.integers(len(CROSSOVERS))], rng)
    mutation_seed = int(rng.integers(0, 2**31 - 1))
    return backend.variations(child, 1, round_set["strength"], mutation_seed)[0]


def crossover(backend: Backend, a: FaceCode, b: FaceCode, how: str, rng: np.random.Generator) -> FaceCode:
    """A child of a and b, each trait whole from one of them:
    "layers": each layer group (coarse / middle / fine W+ rows) from a or b, at least one from each;
    "channels": each W+ channel from a or b (StyleGAN's attribute mixing, channel by channel);
    "regions": a's face with each region's latent (FaceCode part) from a or b."""
    if how == "regions":
        child = a
        for region in backend.regions:
            if rng.random() < 0.5:
                child = child.with_part(region, b.part(region))
        return child
    from_b = np.zeros(a.shape, dtype=bool)
    if how == "layers":
        groups = list(backend.layer_ranges.values())
        taken = rng.integers(1, max(2, 2 ** len(groups) - 1))   # a subset of the groups, neither none nor all
        for i, rows in enumerate(groups):
            if taken >> i & 1:
                from_b[rows] = True
    elif how == "channels":
        from_b[:, rng.random(a.shape[1]) < 0.5] = True
    else:
        raise ValueError(f"unknown crossover {how!r}; choose one of {', '.join(CROSSOVERS)}")
    regions = set(a.parts) | set(b.parts)
    return FaceCode(np.where(from_b, b.base, a.base),
                    {r: np.where(from_b, b.part(r), a.part(r)) for r in regions})
