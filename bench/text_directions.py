"""Do directions built from words move faces the asked way? (issue #17)

On models trained here: the montage-trained StyleGAN2 (tests/data/montage32.safetensors, from
`dreamface train`), the CLIP trained by `dreamface clip train` on montage pictures and their
English and Korean descriptions, and, as the measuring instrument, the attribute probe of
bench/attribute_probe.py (a small CNN trained on other montage pictures → their known
parameters; it never saw CLIP's pictures or words).

1. Faces from fixed seeds are rendered and scored by CLIP, and a direction is fitted per
   attribute from English prompts, Korean prompts and both (facegen/stylegan/text_directions.py,
   what `dreamface directions build` runs), calibrated as the backend calibrates (1 degree = 2σ).
2. For --faces other faces, each edit moves the face one degree more and one degree less; the
   probe measures the attribute on the three pictures. A face counts when "more" measures more
   than the face and "less" measures less. Goal: at least 90% of 50 faces, per attribute.
3. Free text: the same words as a free-text edit (facegen/stylegan/text_edit.py) on a few of the
   faces, its CLIP similarity and probe measure before and after, and its time against a
   direction edit's (one latent addition and one render).

    .venv/bin/python bench/text_directions.py --clip /tmp/clip32 --probe /tmp/probe32.pt
    .venv/bin/python bench/text_directions.py --smoke    # tiny CLIP and probe trained in seconds
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import attribute_probe as ap  # noqa: E402  (bench/, first on sys.path)

from facegen.stylegan import text_directions as td  # noqa: E402
from facegen.stylegan.clip import load_clip  # noqa: E402
from facegen.stylegan.directions import Direction, calibrate  # noqa: E402
from facegen.stylegan.loaders import load_generator  # noqa: E402
from facegen.stylegan.text_edit import text_edit  # noqa: E402

CHECKPOINT = ROOT / "tests" / "data" / "montage32.safetensors"
EVAL_SEED = 777   # the measured faces: not among the faces the directions were fitted on
GOAL = 0.9


@dataclass(frozen=True)
class Check:
    """An edit and how the probe reads it: `quantity` (a column of hair colour probabilities
    when `column` is set) should rise along the direction."""
    label: str
    direction: str
    quantity: str
    column: int | None = None


CHECKS = (
    Check("glasses", "glasses", "glasses"),
    Check("beard", "beard", "beard"),
    Check("smile", "smile", "smile"),
    Check("eye size", "eye_size", "eye_size"),
    Check("skin tone: dark", "skin_tone_dark", "skin_tone"),
    Check("hair colour: black", "hair_colour_black", "hair_darkness"),
    Check("hair colour: blond", "hair_colour_blond", "hair_colour", ap.HAIR_COLOURS.index("blond")),
    Check("hair colour: red", "hair_colour_red", "hair_colour", ap.HAIR_COLOURS.index("red")),
    Check("gender: male", "gender", "gender"),
    Check("age: older", "age", "age"),
)
LANGUAGE_SETS = (("en", "ko"), ("en",), ("ko",))


def reading(measured: dict[str, torch.Tensor], check: Check) -> np.ndarray:
    values = measured[check.quantity]
    return (values[:, check.column] if check.column is not None else values).numpy()


def render(G, latents: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return G.synthesis(torch.from_numpy(latents).float(), noise_mode="const").clamp(-1, 1)


def smoke_models(folder: Path) -> tuple[Path, Path]:
    """A CLIP and a probe trained for a few steps on 48 montage faces: plumbing, not a signal."""
    from facegen.training.clip_train import ClipOptions, train_clip
    from facegen.training.montage_dataset import write_montage_dataset
    data = folder / "faces"
    write_montage_dataset(data, 48, 32)
    train_clip(data, folder / "clip", ClipOptions(steps=3, batch=16, width=32, layers=1, vocab=400))
    pictures, params = ap.read_set(data)
    probe_path = folder / "probe.pt"
    ap.save_probe(ap.train_probe(pictures, params, steps=3, batch=16, width=8), probe_path)
    return folder / "clip", probe_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", type=Path, default=CHECKPOINT)
    parser.add_argument("--clip", type=Path, default=Path("/tmp/clip32"), help="a `dreamface clip train` output")
    parser.add_argument("--probe", type=Path, default=Path("/tmp/probe32.pt"), help="bench/attribute_probe.py's file")
    parser.add_argument("--samples", type=int, default=2000, help="faces the directions are fitted on")
    parser.add_argument("--faces", type=int, default=50, help="faces each edit is measured on")
    parser.add_argument("--free-text-faces", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40, help="free-text optimisation steps")
    parser.add_argument("--degrees", type=float, default=1.0, help="how far each edit moves, in degrees (2σ each)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--docs", action="store_true", help="write docs/text_directions.png")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.smoke:
        args.clip, args.probe = smoke_models(Path("text-directions-smoke"))
        args.samples, args.faces, args.free_text_faces, args.steps = 40, 4, 1, 2

    G = load_generator(args.ckpt).eval().requires_grad_(False)
    clip = load_clip(args.clip)
    probe = ap.load_probe(args.probe)
    started = time.monotonic()
    w, features = td.sample_faces(G, clip, args.samples, td.DEFAULT_SEED)
    fitted: dict[tuple[str, ...], dict[str, Direction]] = {}
    rs: dict[tuple[str, ...], dict[str, float]] = {}
    targets = {t.name: t for t in td.targets()}
    for languages in LANGUAGE_SETS:
        made, rs[languages] = [], {}
        for check in CHECKS:
            vector, r = td.fit_direction(w, td.text_scores(clip, features, targets[check.direction], languages))
            made.append(Direction(check.direction, vector))
            rs[languages][check.direction] = r
        fitted[languages] = {d.name: d for d in calibrate(made, G.mapping)}
    print(f"fitted on {args.samples} faces ({time.monotonic() - started:.0f} s to render and score them); "
          f"measured on {args.faces} others with the probe {args.probe.name}")

    z = torch.from_numpy(np.random.RandomState(EVAL_SEED).randn(args.faces, G.z_dim)).float()
    with torch.no_grad():
        latents = G.mapping(z, 1.0).numpy()
    base = ap.measure(probe, render(G, latents))
    print(f"\n{'edit':<20} {'prompts':<7} {'held-out r':>10} {'more ↑':>8} {'less ↓':>8} {'both':>6} "
          f"{'mean change per degree':>23}")
    passed: dict[tuple[str, ...], int] = {}
    for languages in LANGUAGE_SETS:
        passed[languages] = 0
        for check in CHECKS:
            d = fitted[languages][check.direction]
            more = ap.measure(probe, render(G, np.stack([d.moved(x, args.degrees) for x in latents])))
            less = ap.measure(probe, render(G, np.stack([d.moved(x, -args.degrees) for x in latents])))
            b, m, ls = reading(base, check), reading(more, check), reading(less, check)
            up, down, both = (m > b).mean(), (ls < b).mean(), ((m > b) & (ls < b)).mean()
            passed[languages] += bool(both >= GOAL)
            print(f"{check.label:<20} {'+'.join(languages):<7} {rs[languages][check.direction]:>+10.2f} "
                  f"{up:>8.0%} {down:>8.0%} {both:>6.0%} {(m - ls).mean() / (2 * args.degrees):>+23.3f}")
    for languages in LANGUAGE_SETS:
        print(f"{'+'.join(languages)} prompts: {passed[languages]} of {len(CHECKS)} edits move at least "
              f"{GOAL:.0%} of the faces both ways")

    if args.free_text_faces:
        free_text(G, clip, probe, latents[:args.free_text_faces], fitted[("en", "ko")], args.steps)
    if args.docs:
        write_docs(G, latents[:6], fitted[("en", "ko")], args.degrees)
    return 0


def free_text(G, clip, probe, latents: np.ndarray, directions: dict[str, Direction], steps: int) -> None:
    """The same words as a free-text edit, against the direction edit."""
    print(f"\nfree text ({steps} steps of W+ optimisation) against a direction edit (+1 degree), "
          f"{len(latents)} faces:")
    for check, text in ((CHECKS[0], "a face with glasses"), (CHECKS[0], "안경"), (CHECKS[4], "a face with dark skin"),
                        (CHECKS[4], "까무잡잡한 피부")):
        target = clip.text_features([text])[0]
        d = directions[check.direction]
        edits, seconds, direction_seconds = [], 0.0, 0.0
        for x in latents:
            edit = text_edit(G, clip, x, target, steps=steps)
            edits.append(edit)
            seconds += edit.seconds
            started = time.perf_counter()
            render(G, d.moved(x, 1.0)[None])
            direction_seconds += time.perf_counter() - started
        before = reading(ap.measure(probe, render(G, latents)), check)
        optimised = reading(ap.measure(probe, render(G, np.stack([e.latent for e in edits]))), check)
        moved = reading(ap.measure(probe, render(G, np.stack([d.moved(x, 1.0) for x in latents]))), check)
        sim_before = np.mean([e.similarity_before for e in edits])
        sim_after = np.mean([e.similarity_after for e in edits])
        print(f"  {text!r:<24} CLIP similarity {sim_before:.3f} → {sim_after:.3f}; {check.quantity} "
              f"{before.mean():.3f} → {optimised.mean():.3f} optimised, {moved.mean():.3f} by the direction; "
              f"{seconds / len(latents):.2f} s per optimised edit, {direction_seconds / len(latents) * 1000:.1f} ms "
              f"per direction edit with its render ({seconds / max(direction_seconds, 1e-9):.0f}×)")


def write_docs(G, latents: np.ndarray, directions: dict[str, Direction], degrees: float) -> None:
    """Rows: faces; columns: the face, then each edit's less and more; 3× enlarged."""
    from PIL import Image
    columns = [lambda x: x]
    for name in ("glasses", "beard", "smile", "skin_tone_dark", "hair_colour_blond", "age"):
        d = directions[name]
        columns += [lambda x, d=d: d.moved(x, -degrees), lambda x, d=d: d.moved(x, degrees)]
    rows = [render(G, np.stack([column(x) for column in columns])) for x in latents]
    grid = torch.cat([torch.cat(list(row), dim=2) for row in rows], dim=1)
    picture = ((grid.permute(1, 2, 0) + 1) * 127.5).clamp(0, 255).to(torch.uint8).numpy()
    image = Image.fromarray(picture)
    image = image.resize((image.width * 3, image.height * 3), Image.NEAREST)
    image.save(ROOT / "docs" / "text_directions.png")
    print(f"wrote docs/text_directions.png: the face, then glasses, beard, smile, dark skin, blond hair, age "
          f"each at −{degrees:g} and +{degrees:g} degrees")


if __name__ == "__main__":
    sys.exit(main())
