"""An attribute probe: a small CNN trained on montage pictures to read back the parameters they
were drawn from, so that attributes can be measured on any model's pictures (issue #17: do
directions built from text move glasses, beard, hair colour, smile, skin tone, eye size the
asked way on a StyleGAN trained on montage faces?).

    .venv/bin/python bench/attribute_probe.py --data DS --out probe.pt          # train, held-out figures
    .venv/bin/python bench/attribute_probe.py --data DS --probe probe.pt        # held-out figures only
    .venv/bin/python bench/attribute_probe.py --probe probe.pt --generator G.safetensors --grid g.png
    .venv/bin/python bench/attribute_probe.py --smoke                              # checks the script

DS is a set from `dreamface dataset montage` (folder or zip with its captions.jsonl). QUANTITIES
below is the one definition of what is measured. Training holds the set's last --holdout share
out and prints, per quantity, the held-out figure on clean pictures and on blurred ones beside a
trivial baseline (the majority class, or predicting the training mean). A StyleGAN's pictures
are blurrier and smeared next to crisp montage renders, so training augments with mirroring,
small shifts, Gaussian blur, noise and small brightness and contrast changes; never hue or
saturation, since hair and skin colour are measured.

--data with --probe instead of --out scores a saved probe without training. Both print paired
edits too: montage faces drawn twice with one attribute less and more (glasses off and on, …),
and on how many the measure rises: the comparison issue #17's figures make, before and after an
edit.

--generator measures --samples pictures of a StyleGAN checkpoint and prints each quantity's
spread beside the same on fresh montage faces (is there anything to edit?), and how much fine
detail both have.

From other scripts: `load_probe(path)` and `measure(probe, images)` with generator-style
tensors [N, 3, H, W] in [-1, 1] (any side; resized to the probe's).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from facegen.attributes import AgeBand, Attributes, HairColour  # noqa: E402
from facegen.montage.attributes import HAIR_COLOURS as HAIR_VALUES  # noqa: E402
from facegen.montage.attributes import attributes_of  # noqa: E402
from facegen.montage.backend import MontageBackend  # noqa: E402
from facegen.montage.params import SPECS, MontageParams, decode, from_position  # noqa: E402
from facegen.training.dataset import ImageDataset  # noqa: E402
from facegen.training.montage_dataset import (CAPTIONS_FILE, montage_face, montage_picture,  # noqa: E402
                                              write_montage_dataset)

PROBABILITY, REGRESSION, CLASSES = "probability", "regression", "classes"
HAIR_COLOURS: tuple[str, ...] = HairColour.__args__
AGE_BANDS: tuple[str, ...] = AgeBand.__args__


@dataclass(frozen=True)
class Quantity:
    name: str
    kind: str                    # PROBABILITY (BCE), REGRESSION (MSE on standardised targets) or CLASSES (CE)
    doc: str
    target: Callable[[MontageParams, Attributes], float | None]   # None: not shown on this face, left out
    classes: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.classes) or 1


QUANTITIES: tuple[Quantity, ...] = (
    Quantity("glasses", PROBABILITY, "wears glasses", lambda p, a: float(p.glasses)),
    Quantity("beard", PROBABILITY, "any facial hair (stubble, moustache, goatee, full) against none",
             lambda p, a: float(p.beard != "none")),
    Quantity("smile", REGRESSION, "the smile parameter: -1 … +1, above 0 the lips part", lambda p, a: p.smile),
    Quantity("skin_tone", REGRESSION, "the skin_tone parameter: 0 fair … 1 dark", lambda p, a: p.skin_tone),
    Quantity("eye_size", REGRESSION, "the eye_size parameter as an attribute degree: -1 small … +1 big",
             lambda p, a: a.eye_size),
    Quantity("hair_colour", CLASSES, "attributes_of's hair colour (bald faces left out)",
             lambda p, a: None if a.hair_colour is None else HAIR_COLOURS.index(a.hair_colour), HAIR_COLOURS),
    Quantity("hair_darkness", REGRESSION, "the hair_darkness parameter: 0.08 platinum … 1 black (bald left out)",
             lambda p, a: None if p.hair_style == "bald" else p.hair_darkness),
    Quantity("gender", PROBABILITY, "male, by attributes_of (faces it says no gender of left out)",
             lambda p, a: None if a.gender is None else float(a.gender == "male")),
    Quantity("age", REGRESSION, "attributes_of's age band: 0 child, 1 teen … 4 middle-aged, 5 senior",
             lambda p, a: float(AGE_BANDS.index(a.age_band))),
)
BY_NAME = {q.name: q for q in QUANTITIES}
# The "blurred" figures' pictures: a Gaussian blur (σ in pixels at 32 px, scaled with the side)
# and noise (sd, pictures in [-1, 1]). The test checkpoint's samples have the crisp renders'
# Laplacian energy but a σ 0.5–0.75 blur's mid-band energy: smeared shapes under speckle.
BLUR_SIGMA, BLUR_NOISE = 1.0, 0.05
MAX_TRAIN_BLUR, MAX_TRAIN_NOISE = 1.5, 0.06   # the most that training's augmentation adds


# --- the network ----------------------------------------------------------------------------


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class Probe(nn.Module):
    """Three stages of two 3×3 convolutions (the first two halve the side), adaptive pooling to
    4 × 4 (so any side from 16 px works), one hidden layer, then every quantity's outputs side
    by side. `mean`/`std` undo the standardisation of regression targets."""

    def __init__(self, quantities: tuple[Quantity, ...] = QUANTITIES, resolution: int = 32, width: int = 24) -> None:
        super().__init__()
        self.quantities = quantities
        self.resolution = resolution   # the side it was trained at; measure() resizes to it
        self.width = width
        w = width
        self.features = nn.Sequential(*_block(3, w), *_block(w, w), nn.AvgPool2d(2),
                                      *_block(w, 2 * w), *_block(2 * w, 2 * w), nn.AvgPool2d(2),
                                      *_block(2 * w, 4 * w), *_block(4 * w, 4 * w), nn.AdaptiveAvgPool2d(4),
                                      nn.Flatten(), nn.Linear(4 * w * 16, 256), nn.ReLU(inplace=True), nn.Dropout(0.2))
        outputs = sum(q.size for q in quantities)
        self.heads = nn.Linear(256, outputs)
        self.register_buffer("mean", torch.zeros(outputs))
        self.register_buffer("std", torch.ones(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.heads(self.features(x))

    def split(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        """Raw outputs [N, outputs] → each quantity's columns."""
        return dict(zip([q.name for q in self.quantities], out.split([q.size for q in self.quantities], dim=1),
                        strict=True))


def save_probe(probe: Probe, path: Path) -> None:
    """One file: the weights, the quantities' names and the trained side (weights_only loads it)."""
    torch.save({"state_dict": probe.state_dict(), "quantities": [q.name for q in probe.quantities],
                "resolution": probe.resolution, "width": probe.width}, path)


def load_probe(path: str | Path) -> Probe:
    saved = torch.load(path, map_location="cpu", weights_only=True)
    unknown = [name for name in saved["quantities"] if name not in BY_NAME]
    if unknown:
        raise ValueError(f"{path}: quantities this script does not define: {', '.join(unknown)}")
    probe = Probe(tuple(BY_NAME[name] for name in saved["quantities"]), saved["resolution"], saved["width"])
    probe.load_state_dict(saved["state_dict"])
    return probe.eval()


@torch.no_grad()
def measure(probe: Probe, images: torch.Tensor, batch: int = 256) -> dict[str, torch.Tensor]:
    """Generator-style pictures [N, 3, H, W] in [-1, 1] → quantity → [N] (probabilities, or
    regressions in their parameter's units), and hair_colour → [N, 6] class probabilities."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be [N, 3, H, W], not {list(images.shape)}")
    probe.eval()
    outs = [probe(_resized(part.float(), probe.resolution)) for part in images.split(batch)]
    out = probe.mean + probe.std * torch.cat(outs)
    measured = {}
    for q, column in zip(probe.quantities, probe.split(out).values(), strict=True):
        if q.kind == PROBABILITY:
            measured[q.name] = torch.sigmoid(column[:, 0])
        elif q.kind == CLASSES:
            measured[q.name] = column.softmax(dim=1)
        else:
            measured[q.name] = column[:, 0]
    return measured


def _resized(x: torch.Tensor, side: int) -> torch.Tensor:
    if x.shape[-1] == side:
        return x
    if x.shape[-1] > side:
        return F.interpolate(x, size=(side, side), mode="area")
    return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)


# --- pictures and targets -------------------------------------------------------------------


def read_set(path: Path) -> tuple[torch.Tensor, list[MontageParams]]:
    """A montage set's pictures as floats [N, 3, R, R] in [-1, 1] and each one's parameters."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            lines = z.read(CAPTIONS_FILE).decode().splitlines()
    else:
        lines = (path / CAPTIONS_FILE).read_text().splitlines()
    params = {row["file"]: MontageParams(**row["params"]) for row in map(json.loads, lines)}
    with ImageDataset(path) as dataset:
        pictures = dataset.batch(range(len(dataset))).float() / 127.5 - 1
        return pictures, [params[name] for name in dataset.names]


def targets(params: list[MontageParams], quantities: tuple[Quantity, ...] = QUANTITIES) -> dict[str, torch.Tensor]:
    """Quantity → [N] targets, NaN where the face does not show it."""
    attributes = [attributes_of(p) for p in params]
    return {q.name: torch.tensor([math.nan if (t := q.target(p, a)) is None else float(t)
                                  for p, a in zip(params, attributes, strict=True)]) for q in quantities}


def blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Each picture blurred by its own Gaussian (sigma [N] in pixels; 0 leaves it as it is)."""
    n, c, h, w = x.shape
    radius = max(1, math.ceil(3 * float(sigma.max())))
    offsets = torch.arange(-radius, radius + 1, dtype=x.dtype)
    kernel = torch.exp(-offsets[None] ** 2 / (2 * sigma.clamp(min=1e-3)[:, None] ** 2))
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c, dim=0)   # [N*C, K]
    flat = x.reshape(1, n * c, h, w)
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="replicate"), kernel[:, None, None, :], groups=n * c)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="replicate"), kernel[:, None, :, None], groups=n * c)
    return flat.reshape(n, c, h, w)


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Mirroring, shifts of up to 1/16 of the side, Gaussian blur (σ up to MAX_TRAIN_BLUR at
    32 px, on 3 pictures in 4), noise (sd up to MAX_TRAIN_NOISE), brightness ±0.06 and contrast
    ×0.9–1.1: no hue or saturation change, since hair and skin colour are measured."""
    n, _, side, _ = x.shape
    x = torch.where(torch.rand(n, 1, 1, 1, generator=g) < 0.5, x.flip(3), x)
    pad = max(1, side // 16)
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    dy, dx = torch.randint(0, 2 * pad + 1, (2, n), generator=g).tolist()
    x = torch.stack([padded[i, :, dy[i]:dy[i] + side, dx[i]:dx[i] + side] for i in range(n)])
    sigma = torch.rand(n, generator=g) * MAX_TRAIN_BLUR * side / 32
    x = blur(x, sigma * (torch.rand(n, generator=g) < 0.75))
    x = x + torch.randn(x.shape, generator=g) * torch.rand(n, 1, 1, 1, generator=g) * MAX_TRAIN_NOISE
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    contrast = 0.9 + 0.2 * torch.rand(n, 1, 1, 1, generator=g)
    brightness = 0.12 * torch.rand(n, 1, 1, 1, generator=g) - 0.06
    return ((x - mean) * contrast + mean + brightness).clamp(-1, 1)


def blurred(x: torch.Tensor) -> torch.Tensor:
    """The held-out pictures of the "blurred" figures (the same noise every time)."""
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0)) * BLUR_NOISE
    return (blur(x, torch.full((x.shape[0],), BLUR_SIGMA * x.shape[-1] / 32)) + noise).clamp(-1, 1)


# --- training -------------------------------------------------------------------------------


def loss_of(probe: Probe, out: torch.Tensor, wanted: dict[str, torch.Tensor]) -> torch.Tensor:
    """The sum over quantities of each one's mean loss on the faces that show it."""
    total = out.new_zeros(())
    offset = 0
    for q, column in zip(probe.quantities, probe.split(out).values(), strict=True):
        t = wanted[q.name]
        shown = ~t.isnan()
        if shown.any():
            if q.kind == PROBABILITY:
                total = total + F.binary_cross_entropy_with_logits(column[shown, 0], t[shown])
            elif q.kind == CLASSES:
                total = total + F.cross_entropy(column[shown], t[shown].long())
            else:
                standard = (t[shown] - probe.mean[offset]) / probe.std[offset]
                total = total + F.mse_loss(column[shown, 0], standard)
        offset += q.size
    return total


def train_probe(pictures: torch.Tensor, params: list[MontageParams], steps: int, seed: int = 0,
                batch: int = 64, lr: float = 2e-3, width: int = 24, log_every: int = 0) -> Probe:
    """A probe trained on these pictures for `steps` Adam steps (cosine-decayed)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    wanted = targets(params)
    probe = Probe(resolution=pictures.shape[-1], width=width)
    offset = 0
    for q in probe.quantities:
        if q.kind == REGRESSION:
            values = wanted[q.name][~wanted[q.name].isnan()]
            probe.mean[offset], probe.std[offset] = values.mean(), values.std().clamp(min=1e-6)
        offset += q.size
    optimiser = torch.optim.Adam(probe.parameters(), lr=lr, weight_decay=1e-5)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, max(steps, 1))
    probe.train()
    started = time.monotonic()
    for step in range(steps):
        pick = torch.randint(0, len(pictures), (batch,), generator=g)
        loss = loss_of(probe, probe(augment(pictures[pick], g)), {k: v[pick] for k, v in wanted.items()})
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        if log_every and (step + 1) % log_every == 0:
            print(f"  step {step + 1}/{steps}  loss {loss.item():.3f}  {time.monotonic() - started:.0f} s", flush=True)
    return probe.eval()


# --- figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """A held-out figure: accuracy for probabilities and classes (baseline: the training
    majority), Pearson r and RMSE for regressions (baseline: the training mean, r 0)."""
    quantity: str
    count: int
    clean: tuple[float, ...]
    blurred: tuple[float, ...]
    baseline: tuple[float, ...]


def score(probe: Probe, pictures: torch.Tensor, params: list[MontageParams],
          train_params: list[MontageParams]) -> list[Score]:
    """Held-out figures per quantity, clean and blurred, beside the trivial baseline."""
    wanted, trained = targets(params, probe.quantities), targets(train_params, probe.quantities)
    clean, smeared = measure(probe, pictures), measure(probe, blurred(pictures))
    scores = []
    for q in probe.quantities:
        t, shown = wanted[q.name], ~wanted[q.name].isnan()
        known = trained[q.name][~trained[q.name].isnan()]
        t = t[shown]
        if q.kind == REGRESSION:
            def figures(m: torch.Tensor) -> tuple[float, float]:
                m = m[shown]
                return float(torch.corrcoef(torch.stack([m, t]))[0, 1]), float((m - t).pow(2).mean().sqrt())
            base = (0.0, float((t - known.mean()).pow(2).mean().sqrt()))
        else:
            def figures(m: torch.Tensor) -> tuple[float]:
                m = m[shown]
                guess = m.argmax(dim=1) if q.kind == CLASSES else (m > 0.5).float()
                return (float((guess == t).float().mean()),)
            majority = known.mode().values
            base = (float((t == majority).float().mean()),)
        scores.append(Score(q.name, int(shown.sum()), figures(clean[q.name]), figures(smeared[q.name]), base))
    return scores


def print_scores(scores: list[Score]) -> None:
    for s in scores:
        if len(s.clean) == 2:
            print(f"{s.quantity:<14} r / rmse   clean {s.clean[0]:.3f} / {s.clean[1]:.3f}  "
                  f"blurred {s.blurred[0]:.3f} / {s.blurred[1]:.3f}  mean {s.baseline[0]:.3f} / {s.baseline[1]:.3f}"
                  f"  (n {s.count})")
        else:
            print(f"{s.quantity:<14} accuracy   clean {s.clean[0]:.3f}  blurred {s.blurred[0]:.3f}  "
                  f"majority {s.baseline[0]:.3f}  (n {s.count})")


@dataclass(frozen=True)
class Pair:
    """One attribute drawn two ways on the same face: does the measure move the asked way?"""
    label: str
    low: dict[str, object]     # parameter changes of the "less" face …
    high: dict[str, object]    # … and of the "more" face
    reading: Callable[[dict[str, torch.Tensor]], torch.Tensor]   # measures → the compared number [N]


def _degree(name: str, low: float, high: float) -> tuple[dict[str, object], dict[str, object]]:
    return {name: from_position(SPECS[name], low)}, {name: from_position(SPECS[name], high)}


def pairs() -> tuple[Pair, ...]:
    """The attributes of issue #17, each drawn less and more on one face: degrees -0.5 and +0.5
    of the attribute's -1 … +1 scale, but smile 0 and +1 (at 32 px the renderer draws smiles up
    to +0.5 alike, 0.02–0.06 grey levels apart; above it the teeth show); hair colours with
    attributes' own parameter values."""
    black, blond = HAIR_COLOURS.index("black"), HAIR_COLOURS.index("blond")
    return (
        Pair("glasses off → on", {"glasses": False}, {"glasses": True}, lambda m: m["glasses"]),
        Pair("beard none → full", {"beard": "none"}, {"beard": "full"}, lambda m: m["beard"]),
        Pair("smile 0 → +1", *_degree("smile", 0.0, 1.0), lambda m: m["smile"]),
        Pair("skin_tone 0.3 → 0.7", {"skin_tone": 0.3}, {"skin_tone": 0.7}, lambda m: m["skin_tone"]),
        Pair("eye_size -0.5 → +0.5", *_degree("eye_size", -0.5, 0.5), lambda m: m["eye_size"]),
        Pair("hair blond → black", HAIR_VALUES["blond"], HAIR_VALUES["black"],
             lambda m: m["hair_colour"][:, black] - m["hair_colour"][:, blond]),
    )


def paired_edits(probe: Probe, count: int, side: int, first_seed: int = 300_000) -> None:
    """Per pair, on `count` montage faces (bald ones left out: no hair to colour): on how many
    the "more" picture measures higher than the "less" one, clean and blurred."""
    faces = [decode(MontageBackend().sample(first_seed + i)) for i in range(count)]
    faces = [p for p in faces if p.hair_style != "bald"]

    def pictures(changes: dict[str, object]) -> torch.Tensor:
        drawn = [np.array(montage_picture(replace(p, **changes), side)) for p in faces]
        return torch.from_numpy(np.stack(drawn)).permute(0, 3, 1, 2).float() / 127.5 - 1

    print(f"paired edits on {len(faces)} montage faces (seeds {first_seed}–{first_seed + count - 1}, no bald "
          f"ones), the same face drawn less and more: the measure rises on")
    for pair in pairs():
        low, high = pictures(pair.low), pictures(pair.high)
        rises = []
        for look in (lambda x: x, blurred):
            change = pair.reading(measure(probe, look(high))) - pair.reading(measure(probe, look(low)))
            rises.append((int((change > 0).sum()), float(change.mean())))
        print(f"  {pair.label:<22} clean {rises[0][0]}/{len(faces)} (mean {rises[0][1]:+.3f})  "
              f"blurred {rises[1][0]}/{len(faces)} (mean {rises[1][1]:+.3f})")


def print_spread(name: str, measured: dict[str, torch.Tensor]) -> None:
    """Each quantity's spread over a set of pictures."""
    for key, m in measured.items():
        if m.ndim == 2:
            counts = torch.bincount(m.argmax(dim=1), minlength=m.shape[1]).tolist()
            said = ", ".join(f"{c} {n}" for c, n in zip(HAIR_COLOURS, counts, strict=True))
            print(f"{name:<9} {key:<14} most likely: {said}")
        elif BY_NAME[key].kind == PROBABILITY:
            print(f"{name:<9} {key:<14} over 0.5 in {int((m > 0.5).sum())}/{len(m)} "
                  f"(under 0.2 in {int((m < 0.2).sum())}, over 0.8 in {int((m > 0.8).sum())}), "
                  f"mean {m.mean():.3f}, min {m.min():.3f}, max {m.max():.3f}")
        else:
            low, high = torch.quantile(m, torch.tensor([0.05, 0.95])).tolist()
            print(f"{name:<9} {key:<14} mean {m.mean():+.3f}, sd {m.std():.3f}, 5–95% {low:+.3f} … {high:+.3f}")


def sharpness(x: torch.Tensor) -> tuple[float, float]:
    """Fine detail in the middle of pictures (the side less an eighth at each edge): the mean
    |Laplacian| (edges and speckle alike) and the mean |picture − its σ 1 px blur| (mid band)."""
    edge = x.shape[-1] // 8
    middle = slice(edge, x.shape[-1] - edge)
    laplacian = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).expand(3, 1, 3, 3)
    lap = F.conv2d(x[:, :, middle, middle], laplacian, groups=3).abs().mean()
    band = (x - blur(x, torch.ones(len(x))))[:, :, middle, middle].abs().mean()
    return float(lap), float(band)


def generator_spread(args: argparse.Namespace) -> None:
    """The probe's measures of a StyleGAN checkpoint's pictures beside fresh montage faces'."""
    from facegen.stylegan.loaders import load_generator
    probe = load_probe(args.probe)
    G = load_generator(args.generator)
    z = torch.randn([args.samples, G.z_dim], generator=torch.Generator().manual_seed(args.seed))
    with torch.no_grad():
        samples = G(z, noise_mode="const").clamp(-1, 1)
    side = G.img_resolution
    reals = torch.stack([torch.from_numpy(np.array(montage_face(200_000 + i, side)[0])).permute(2, 0, 1)
                         for i in range(args.samples)]).float() / 127.5 - 1
    print(f"{args.samples} samples of {args.generator} ({side} px) against {args.samples} montage faces "
          f"(seeds 200000–{200_000 + args.samples - 1}):")
    for name, pictures in (("samples", samples), ("montage", reals)):
        print_spread(name, measure(probe, pictures))
    looks = {"samples": samples, "montage": reals,
             "montage σ 0.5": blur(reals, torch.full((len(reals),), 0.5 * side / 32)),
             "montage σ 1": blur(reals, torch.full((len(reals),), side / 32)), "blurred figures'": blurred(reals)}
    print("sharpness (mean |Laplacian| / mean |picture − σ 1 px blur|): " +
          "; ".join(f"{name} {lap:.3f} / {band:.3f}" for name, (lap, band) in
                    ((name, sharpness(x)) for name, x in looks.items())))
    if args.grid:
        from PIL import Image
        columns = 8
        rows = -(-args.samples // columns)
        tiles = torch.cat([samples, samples.new_full((rows * columns - args.samples, *samples.shape[1:]), 1.0)])
        grid = tiles.reshape(rows, columns, 3, side, side).permute(0, 3, 1, 4, 2)
        grid = grid.reshape(rows * side, columns * side, 3)
        picture = Image.fromarray(((grid + 1) * 127.5).round().byte().numpy())
        picture.resize((picture.width * 4, picture.height * 4), Image.NEAREST).save(args.grid)
        print(f"grid of the samples, 4 times enlarged: {args.grid}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, help="a `dreamface dataset montage` set (folder or zip) to train on")
    p.add_argument("--out", type=Path, help="where the trained probe goes")
    p.add_argument("--steps", type=int, default=3000, help="Adam steps of --batch pictures (default 3000)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--width", type=int, default=24, help="feature maps of the first stage (default 24)")
    p.add_argument("--holdout", type=float, default=0.1, help="share of the set held out (its last pictures)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1, for a shared machine)")
    p.add_argument("--probe", type=Path, help="a trained probe: scored on --data's held-out pictures (no training), "
                                              "or measuring --generator's pictures")
    p.add_argument("--generator", type=Path, help="a StyleGAN checkpoint whose samples to measure")
    p.add_argument("--pairs", type=int, default=200, help="montage faces drawn twice per attribute (default 200)")
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--grid", type=Path, help="save the samples as a PNG grid here")
    p.add_argument("--smoke", action="store_true", help="48 faces at 16 px, 10 steps, then 8 samples of the test "
                                                        "checkpoint (into ./probe-smoke)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.smoke:
        folder = Path("probe-smoke")
        folder.mkdir(exist_ok=True)
        args.data, args.out = folder / "data", folder / "probe.pt"
        args.generator, args.samples = ROOT / "tests" / "data" / "montage32.safetensors", 8
        args.grid = folder / "grid.png"
        args.steps, args.batch, args.width, args.holdout, args.pairs = 10, 16, 8, 0.25, 8
        if not args.data.exists():
            write_montage_dataset(args.data, 48, 16, seed=100_000)
    if args.data and not (args.out or args.probe):
        p.error("--data needs --out (train a probe there) or --probe (score that one)")
    if args.generator and not (args.out or args.probe):
        p.error("--generator needs --probe (or --data and --out)")
    if not (args.data or args.generator):
        p.error("give --data and --out to train, --data and --probe to score, or --probe and --generator")
    if args.data:
        pictures, params = read_set(args.data)
        cut = len(pictures) - max(1, round(len(pictures) * args.holdout))
        if args.out:
            started = time.monotonic()
            probe = train_probe(pictures[:cut], params[:cut], args.steps, args.seed, args.batch, width=args.width,
                                log_every=max(1, args.steps // 10))
            save_probe(probe, args.out)
            print(f"trained on {cut} pictures at {pictures.shape[-1]} px, {args.steps} steps of {args.batch}, "
                  f"{time.monotonic() - started:.0f} s; saved {args.out}")
        else:
            probe = load_probe(args.probe)
        print(f"held out: the last {len(pictures) - cut} pictures; blurred: Gaussian σ {BLUR_SIGMA:g} px at 32 px "
              f"and noise sd {BLUR_NOISE:g}")
        print_scores(score(probe, pictures[cut:], params[cut:], params[:cut]))
        paired_edits(probe, args.pairs, pictures.shape[-1])
    if args.generator:
        args.probe = args.out or args.probe   # the probe just trained, if one was
        generator_spread(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
