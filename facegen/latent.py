"""Latent operations shared by every backend.

λ (`ratio`) is always the share of the first face `a` — the user's current face, "me" —
as in the seed paper where λ = 0.7 keeps the result closer to the user. Each operation
applies to the base and to every part donor alike (a region without a donor uses the base).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import numpy as np

from facegen.facecode import FaceCode

# the three ways to blend two faces (`morph`); the chat's words for them: bot/grammar/lexicon.py
MorphMode = Literal["linear", "style", "attribute"]
MORPH_MODES: tuple[MorphMode, ...] = get_args(MorphMode)
# λ, the share of "me": 0 is all the other face, 1 all me (a percent of it on the chat's buttons)
RATIO_MIN, RATIO_MAX = 0.0, 1.0


class LatentError(ValueError):
    """Parameters out of range for a latent operation."""


def ratio_in_range(ratio: float) -> bool:
    """A morph ratio is the share of the user's current face: 0 is all the other face, 1 all me."""
    return RATIO_MIN <= ratio <= RATIO_MAX


def _check_ratio(ratio: float) -> float:
    ratio = float(ratio)
    if not ratio_in_range(ratio):
        raise LatentError(f"ratio must be between {RATIO_MIN:g} and {RATIO_MAX:g}, got {ratio}")
    return ratio


def _combine(a: FaceCode, b: FaceCode, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> FaceCode:
    if a.shape != b.shape:
        raise LatentError(f"faces have different latent shapes {a.shape} and {b.shape}")
    regions = set(a.parts) | set(b.parts)
    return FaceCode(fn(a.base, b.base), {r: fn(a.part(r), b.part(r)) for r in regions})


def linear(a: FaceCode, b: FaceCode, ratio: float) -> FaceCode:
    """W = λ·A + (1−λ)·B."""
    lam = _check_ratio(ratio)
    return _combine(a, b, lambda x, y: lam * x + (1.0 - lam) * y)


def crossover_shares(ratio: float) -> tuple[float, float]:
    """A's share of the head (the slots before the crossover point) and of the tail at ratio λ:
    the head fills first, min(1, 2λ), then the tail, max(0, 2λ − 1). So at λ = 0.5 the head is
    all A and the tail all B (the classic crossover), A's share of each part only grows with λ,
    and A's share of the whole is λ: the ratio means "me"'s share, as in every mode. (The seed
    paper's λ·A + (1−λ)·B head with a (1−λ)·A + λ·B tail keeps A's share of the whole at one
    half whatever λ is, so "me 70%" would not be 70% of anything.)"""
    lam = _check_ratio(ratio)
    return min(1.0, 2.0 * lam), max(0.0, 2.0 * lam - 1.0)


def _crossover(x: np.ndarray, y: np.ndarray, lam: float, point: int, axis: int) -> np.ndarray:
    out = np.empty_like(x)
    head = (slice(None),) * axis + (slice(None, point),)
    tail = (slice(None),) * axis + (slice(point, None),)
    head_share, tail_share = crossover_shares(lam)
    out[head] = head_share * x[head] + (1.0 - head_share) * y[head]
    out[tail] = tail_share * x[tail] + (1.0 - tail_share) * y[tail]
    return out


def layer_crossover(a: FaceCode, b: FaceCode, ratio: float, layer: int | None = None) -> FaceCode:
    """Style mixing: A's coarse layers W[:xp] and fine layers W[xp:] at the shares
    `crossover_shares` gives (xp defaults to num_ws // 2): at λ = 0.5, A's coarse layers with B's
    fine ones."""
    lam = _check_ratio(ratio)
    num_ws = a.shape[0]
    xp = num_ws // 2 if layer is None else int(layer)
    if not 0 <= xp <= num_ws:
        raise LatentError(f"crossover layer must be between 0 and {num_ws}, got {xp}")
    return _combine(a, b, lambda x, y: _crossover(x, y, lam, xp, axis=0))


def channel_crossover(a: FaceCode, b: FaceCode, ratio: float, channel: int | None = None) -> FaceCode:
    """Attribute mixing: the same shares along the channel axis (xp defaults to w_dim // 2)."""
    lam = _check_ratio(ratio)
    w_dim = a.shape[1]
    xp = w_dim // 2 if channel is None else int(channel)
    if not 0 <= xp <= w_dim:
        raise LatentError(f"crossover channel must be between 0 and {w_dim}, got {xp}")
    return _combine(a, b, lambda x, y: _crossover(x, y, lam, xp, axis=1))


def morph(a: FaceCode, b: FaceCode, ratio: float, mode: str = "linear") -> FaceCode:
    """One entry point for the three morph modes the chat offers."""
    if mode == "linear":
        return linear(a, b, ratio)
    if mode == "style":
        return layer_crossover(a, b, ratio)
    if mode == "attribute":
        return channel_crossover(a, b, ratio)
    raise LatentError(f"unknown morph mode {mode!r}; choose one of {', '.join(MORPH_MODES)}")


def remix(code: FaceCode, fresh: np.ndarray, layers: slice) -> FaceCode:
    """Replace a layer range with fresh w's (`fresh`: a sampled [num_ws, w_dim] latent)."""
    fresh = np.asarray(fresh, dtype=np.float32)
    if fresh.shape != code.shape:
        raise LatentError(f"fresh latent shape {fresh.shape} differs from the face's {code.shape}")

    def swap(x: np.ndarray) -> np.ndarray:
        out = x.copy()
        out[layers] = fresh[layers]
        return out

    return FaceCode(swap(code.base), {r: swap(p) for r, p in code.parts.items()})


def truncate(code: FaceCode, average: np.ndarray, psi: float) -> FaceCode:
    """Pull toward the average latent: W = avg + ψ·(W − avg). ψ = 1 leaves the face as is."""
    avg = np.asarray(average, dtype=np.float32)
    if avg.ndim == 1:
        avg = np.broadcast_to(avg, code.shape)
    if avg.shape != code.shape:
        raise LatentError(f"average latent shape {avg.shape} does not fit {code.shape}")

    def pull(x: np.ndarray) -> np.ndarray:
        return avg + psi * (x - avg)

    return FaceCode(pull(code.base), {r: pull(p) for r, p in code.parts.items()})


def default_layer_ranges(num_ws: int) -> dict[str, slice]:
    """Coarse / middle / fine split in StyleGAN's proportions (4 / 4 / 10 of 18 layers)."""
    coarse = max(1, round(num_ws * 4 / 18))
    middle = max(coarse + 1, round(num_ws * 8 / 18))
    return {"coarse": slice(0, coarse), "middle": slice(coarse, middle), "fine": slice(middle, num_ws)}
