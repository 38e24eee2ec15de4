"""Does ranking a description's candidates by the whole sentence pick faces that fit it? (issue #17, part 4)

Where the worker's CLIP reads a description, the chat draws RANK_POOL candidates and keeps the one
whose picture is nearest the sentence (facegen.recipes.ranked_description). On models trained here
(the montage-trained StyleGAN2 tests/data/montage32.safetensors and a `dreamface clip train`
CLIP), this draws --pools pools of RANK_POOL random faces, ranks each pool by a sentence, and
reads the asked attribute of every face with the attribute probe of bench/attribute_probe.py
(trained on other montage pictures; it never saw CLIP's pictures or words). Per sentence:

    top-1 percentile   where the kept face's reading falls in its pool (share of the other faces
                       it reads above): 50% is a random pick, 100% the pool's best
    top-1 > median     share of pools whose kept face reads above the pool's median
    top-4 / pool mean  the mean reading of the 4 offered against the whole pool's

Each check's sentences come from the words `dreamface directions build` prompts with (English
and Korean), plus whole descriptions naming two attributes, scored on each. The first pool is
also ranked through the product's own ranked_description, which must keep the same face.

    .venv/bin/python bench/sentence_rank.py --clip /tmp/clip32 --probe /tmp/probe32.pt
    .venv/bin/python bench/sentence_rank.py --smoke     # a CLIP and probe trained for 3 steps: plumbing only
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import attribute_probe as ap  # noqa: E402  (bench/, first on sys.path)
from text_directions import CHECKS, CHECKPOINT, Check, reading, smoke_models  # noqa: E402

from facegen.backend import child_seeds  # noqa: E402
from facegen.recipes import RANK_POOL, RANKED_SHOWN, ranked_description  # noqa: E402
from facegen.stylegan import text_directions as td  # noqa: E402
from facegen.stylegan.backend import StyleGANBackend  # noqa: E402
from facegen.stylegan.clip import load_clip  # noqa: E402
from facegen.stylegan.loaders import load_generator  # noqa: E402

BY_LABEL = {check.label: check for check in CHECKS}
# whole descriptions, as people type them, each scored on the attributes it names
DESCRIPTIONS = (
    ("a woman with dark skin and black hair", ("skin tone: dark", "hair colour: black")),
    ("까무잡잡한 피부에 검은 머리 여자", ("skin tone: dark", "hair colour: black")),
    ("a smiling man with blond hair", ("hair colour: blond", "smile", "gender: male")),
    ("금발 머리에 웃는 남자", ("hair colour: blond", "smile", "gender: male")),
)
POOL_SEED = 4242


def sentences() -> list[tuple[str, Check]]:
    """(sentence, what it asks for): each check's first 'more' prompt in both languages, then
    the whole descriptions."""
    targets = {t.name: t for t in td.targets()}
    out = [(targets[check.direction].prompts(locale)[0][0], check) for check in CHECKS for locale in td.LANGUAGES]
    return out + [(text, BY_LABEL[label]) for text, labels in DESCRIPTIONS for label in labels]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", type=Path, default=CHECKPOINT)
    parser.add_argument("--clip", type=Path, default=Path("/tmp/clip32"), help="a `dreamface clip train` output")
    parser.add_argument("--probe", type=Path, default=Path("/tmp/probe32.pt"), help="bench/attribute_probe.py's file")
    parser.add_argument("--pools", type=int, default=50, help="pools of RANK_POOL faces each sentence ranks")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.smoke:
        args.clip, args.probe = smoke_models(Path("sentence-rank-smoke"))
        args.pools = 3

    clip = load_clip(args.clip)
    backend = StyleGANBackend(load_generator(args.ckpt), clip=clip)
    probe = ap.load_probe(args.probe)
    pool_seeds = [child_seeds(POOL_SEED + k, RANK_POOL) for k in range(args.pools)]
    started = time.perf_counter()
    with torch.no_grad():
        pictures = torch.cat([backend.synthesize([backend.sample(s) for s in seeds]).clamp(-1, 1)
                              for seeds in pool_seeds])
        features = clip.image_features(pictures).view(args.pools, RANK_POOL, -1)
    measured = ap.measure(probe, pictures)
    print(f"{args.pools} pools of {RANK_POOL} faces from {args.ckpt.name}, ranked with {args.clip.name}, "
          f"read with {args.probe.name} ({time.perf_counter() - started:.1f} s to draw, embed and read them)")

    rows = []
    for text, check in sentences():
        if not backend.describe().reads(text):
            print(f"  ({text!r}: this CLIP's text side does not read its language)")
            continue
        scores = (features @ clip.text_features([text])[0]).numpy()          # [pools, RANK_POOL]
        values = reading(measured, check).reshape(args.pools, RANK_POOL)
        order = np.argsort(-scores, axis=1, kind="stable")
        kept = values[np.arange(args.pools), order[:, 0]]
        percentile = ((values < kept[:, None]).sum(1) / (RANK_POOL - 1)).mean()
        above_median = (kept > np.median(values, axis=1)).mean()
        offered = np.take_along_axis(values, order[:, :RANKED_SHOWN], axis=1).mean()
        rows.append((text, check, percentile, above_median, offered, values.mean()))
    print(f"\n{'measured':<20} {'top-1 percentile':>16} {'top-1 > median':>14} {f'top-{RANKED_SHOWN} mean':>10} "
          f"{'pool mean':>9}  sentence")   # (the sentence last: Hangul is twice as wide)
    for text, check, percentile, above_median, offered, pool in rows:
        print(f"{check.label:<20} {percentile:>16.0%} {above_median:>14.0%} {offered:>+10.3f} {pool:>+9.3f}  {text!r}")
    better = sum(percentile > 0.5 for _, _, percentile, *_ in rows)
    print(f"{better} of {len(rows)} sentence-attribute pairs pick faces above the pool's middle (a random pick: 50%)")

    # the product's path on the first pool: the same face, and its time on this machine
    text = rows[0][0]
    started = time.perf_counter()
    made = ranked_description(backend, {"text": text, "attributes": {}, "seed": POOL_SEED, "rank": RANK_POOL})
    seconds = time.perf_counter() - started
    first = pool_seeds[0][int(np.argmax((features[0] @ clip.text_features([text])[0]).numpy()))]
    assert made.made["seed"] == first, "ranked_description kept another face than the bench's ranking"
    print(f"ranked_description({text!r}) keeps seed {first}, as above; {seconds * 1000:.0f} ms for "
          f"{RANK_POOL} candidates at {backend.resolution} px on this machine")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
