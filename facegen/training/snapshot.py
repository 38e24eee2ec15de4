"""Training snapshots: all a run needs to go on exactly, and the model it has made so far.

A snapshot after n pictures is three files in the run folder, named by n (9 digits):

    snapshot-000000064.state        resume state: G, D, G_ema, both Adam states, the path-length
                                    mean, augment p and ADA's signs since it last moved,
                                    pictures seen, step and tick, the random generators (the
                                    run's own, the data order's, torch's, numpy's and Python's),
                                    the options and the dataset's digest
    snapshot-000000064.safetensors  G_ema with D, the file `dreamface generate --backend stylegan
                                    --ckpt` and DREAMFACE_STYLEGAN_CKPT load (D serves photo inversion)
    snapshot-000000064.png          G_ema's pictures of the fixed-seed sample latents

The state is a torch file of tensors and plain values only, so it loads with
`torch.load(weights_only=True)`, which runs no code. Each file is written under a temporary name
beside it, flushed to disk, then renamed over the final name: a failed write (a full disk)
leaves the earlier snapshots as they were and no half file under a snapshot's name.
"""

from __future__ import annotations

import io
import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from facegen.training.options import TrainingError

STATE_FORMAT = 1
STATE_SUFFIX, MODEL_SUFFIX, GRID_SUFFIX = ".state", ".safetensors", ".png"
_STEM = re.compile(r"snapshot-(\d{9})")


def snapshot_stem(nimg: int) -> str:
    return f"snapshot-{nimg:09d}"


def write_atomically(files: dict[Path, bytes]) -> None:
    """Write every file under a temporary name, then rename them all into place; on an error
    the temporary files are removed and the files already there are untouched."""
    partials = {path: path.with_name(path.name + ".partial") for path in files}
    try:
        for path, partial in partials.items():
            with open(partial, "wb") as f:
                f.write(files[path])
                f.flush()
                os.fsync(f.fileno())
        for path, partial in partials.items():
            os.replace(partial, path)
    finally:
        for partial in partials.values():
            partial.unlink(missing_ok=True)


def state_bytes(state: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save({"format": STATE_FORMAT, **state}, buffer)
    return buffer.getvalue()


def load_state(path: Path) -> dict[str, Any]:
    """A `.state` file's contents; TrainingError when it is not one of ours."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise TrainingError(f"{path}: no such snapshot") from None
    except Exception as exc:   # torch.load raises many kinds (pickle, zip, runtime) for a bad file
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise TrainingError(f"{path}: not a readable training state ({type(exc).__name__}: {first_line})") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise TrainingError(f"{path}: not a dreamface training state (format {STATE_FORMAT})")
    return state


def snapshots_in(folder: Path) -> list[Path]:
    """The run folder's resume states, oldest first."""
    return sorted(p for p in folder.glob(f"snapshot-*{STATE_SUFFIX}") if _STEM.fullmatch(p.stem))


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete the states and models of all but the newest `keep` snapshots (0: keep all); the
    sample grids stay, they are small and show how the run went. Returns what was deleted."""
    if keep <= 0:
        return []
    deleted = []
    for state in snapshots_in(folder)[:-keep]:
        for path in (state, state.with_suffix(MODEL_SUFFIX)):
            if path.exists():
                path.unlink()
                deleted.append(path)
    return deleted


# --- the random generators ---------------------------------------------------------------------

def global_rng_state() -> dict[str, Any]:
    """torch's, numpy's and Python's global generators, as plain values and tensors."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(),
            "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                      "has_gauss": int(has_gauss), "gauss": float(gauss)},
            "python": random.getstate()}


def restore_global_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
