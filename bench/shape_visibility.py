"""Are the shapes in a small montage picture at all? (issue #17; a script that prints figures, not
a test.)

    .venv/bin/python bench/shape_visibility.py                              # the pixel figures: seconds
    .venv/bin/python bench/shape_visibility.py --data /tmp/clipdata64 --steps 600   # and the told ViT: minutes
    .venv/bin/python bench/shape_visibility.py --smoke                      # tiny sizes: plumbing only

1. Glasses in the picture: 60 montage faces (seeds 0–59) drawn with and without glasses at 32,
   64, 128 and 256 px; the mean change per pixel in grey levels, the largest, and how many pixels
   changed by more than 20 grey levels (the median face).
2. With `--data` (a `dataset montage` set): `clip train`'s vision side (the same width, depth and
   patches, fresh weights) told the answer: trained for `--steps` steps of 64 pictures with a
   logistic head on glasses and beard (any against none), scored every 100 steps on the held-out
   pictures of `clip train`'s split, beside always answering the commonest value. What that
   network cannot learn when told, a CLIP trained on the same pictures cannot read either.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facegen.training.clip_train import (ClipOptions, facts_of, image_processor, patch_of, pixels,  # noqa: E402
                                         read_captions, split, vision_config)
from facegen.training.dataset import ImageDataset  # noqa: E402
from facegen.training.montage_dataset import montage_face, montage_picture, write_montage_dataset  # noqa: E402

CHANGED = 20   # grey levels: a change anyone sees
SHAPES = ("glasses", "beard")


def glasses_in_pictures(sizes: tuple[int, ...], faces: int) -> None:
    print(f"glasses on against off, {faces} faces: mean |change| per pixel, the largest, pixels changed "
          f"over {CHANGED} grey levels (median face)")
    for size in sizes:
        rows = []
        for seed in range(faces):
            _, params = montage_face(seed, 16)
            on, off = (np.asarray(montage_picture(replace(params, glasses=g), size), float) for g in (True, False))
            change = np.abs(on - off).mean(axis=2)
            rows.append((change.mean(), change.max(), (change > CHANGED).sum()))
        mean, largest, changed = np.array(rows).T
        print(f"{size:>4} px  mean {mean.mean():5.2f}  largest {np.median(largest):3.0f}  changed {np.median(changed):4.0f}")


def told_vision(data: Path, steps: int, options: ClipOptions) -> None:
    from transformers import CLIPVisionConfig, CLIPVisionModel
    torch.manual_seed(options.seed)
    with ImageDataset(data) as dataset:
        facts = [facts_of(row) for row in read_captions(dataset)]
        train, held = split(len(dataset), options.seed)
        train = [i for i in train if facts[i] is not None]
        held = [i for i in held if facts[i] is not None]
        width = options.width
        model = CLIPVisionModel(CLIPVisionConfig(**vision_config(options, dataset.resolution)))
        head = torch.nn.Linear(width, len(SHAPES))
        processor = image_processor(dataset.resolution)
        mean = torch.tensor(processor.image_mean).view(1, 3, 1, 1)
        std = torch.tensor(processor.image_std).view(1, 3, 1, 1)
        truth = torch.tensor([[float(f["glasses"]), float(f["beard"] != "none")] if f else [0.0, 0.0] for f in facts])
        optimiser = torch.optim.AdamW([*model.parameters(), *head.parameters()], lr=options.lr,
                                      weight_decay=options.weight_decay)
        order = torch.Generator().manual_seed(options.seed + 1)

        def logits(indices: list[int]) -> torch.Tensor:
            return head(model(pixel_values=pixels(dataset.batch(indices), mean, std)).pooler_output)

        def held_accuracy() -> list[float]:
            model.eval()
            with torch.no_grad():
                guess = torch.cat([logits(held[i:i + 100]) for i in range(0, len(held), 100)]) > 0
            model.train()
            return (guess == (truth[held] > 0.5)).float().mean(0).tolist()

        share = truth[held].mean(0).tolist()
        commonest = "  ".join(f"{name} {max(s, 1 - s):.1%}" for name, s in zip(SHAPES, share))
        print(f"{dataset.resolution}-px vision side ({options.layers} layers, width {width}, patches of "
              f"{patch_of(options, dataset.resolution)} px) told glasses and beard, {len(train)} pictures, "
              f"{len(held)} held out; always the commonest: {commonest}")
        start = time.monotonic()
        for step in range(1, steps + 1):
            batch = [train[i] for i in torch.randint(len(train), (64,), generator=order).tolist()]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits(batch), truth[batch])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if step % 100 == 0 or step == steps:
                accuracy = "  ".join(f"{name} {a:.1%}" for name, a in zip(SHAPES, held_accuracy()))
                print(f"step {step:>5}  loss {loss.item():.3f}  held out: {accuracy}  ({time.monotonic() - start:.0f} s)",
                      flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="are glasses and beards in small montage pictures at all?")
    parser.add_argument("--data", type=Path, help="a `dataset montage` set: also train the told vision side on it")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="8 faces; a 16-px set of 48, 3 steps")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    options = ClipOptions()
    if args.smoke:
        args.data, args.steps, options = Path("shape-visibility-smoke"), 3, ClipOptions(width=32, layers=1)
        write_montage_dataset(args.data, 48, 16)
    glasses_in_pictures((32, 64) if args.smoke else (32, 64, 128, 256), 8 if args.smoke else 60)
    if args.data is not None:
        told_vision(args.data, args.steps, options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
