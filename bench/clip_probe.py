"""What does a CLIP trained by `dreamface clip train` tell apart, on each side? (issue #17)

Text side: the cosine of the text vectors of each attribute's two prompts (1.00: the words
read as one). Picture side: a linear probe (logistic regression on the picture vectors of the
set's training pictures, scored on its held-out ones, the split `clip train` used) for each
attribute of clip_train.ATTRIBUTES, beside the commonest value's share. An attribute the probe
finds and the text side does not is the text side's to learn; one neither finds is not in the
picture vectors at all.

    .venv/bin/python bench/clip_probe.py --data /tmp/clipdata --clip /tmp/clip32 /tmp/clip32neg
    .venv/bin/python bench/clip_probe.py --smoke     # a CLIP trained for 3 steps on 48 faces: plumbing only
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from facegen.attributes import Attributes  # noqa: E402
from facegen.describe.back import LOCALES, describe_back  # noqa: E402
from facegen.stylegan.clip import load_clip  # noqa: E402
from facegen.training.clip_train import (ATTRIBUTES, ClipOptions, facts_of, read_captions, split,  # noqa: E402
                                         train_clip, true_value)
from facegen.training.dataset import ImageDataset  # noqa: E402

PROBE_STEPS = 300


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, classes: int) -> torch.Tensor:
    """Predicted classes of test_x from a softmax regression fitted on (train_x, train_y) (LBFGS,
    a little weight decay), on standardised inputs."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    a, b = (train_x - mean) / std, (test_x - mean) / std
    layer = torch.nn.Linear(a.shape[1], classes)
    optimiser = torch.optim.LBFGS(layer.parameters(), max_iter=PROBE_STEPS)

    def closure():
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(layer(a), train_y) + 1e-3 * layer.weight.pow(2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    with torch.no_grad():
        return layer(b).argmax(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/clipdata"), help="the set the CLIPs were trained on")
    parser.add_argument("--clip", type=Path, nargs="+", default=[Path("/tmp/clip32")])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.smoke:
        from facegen.training.montage_dataset import write_montage_dataset
        args.data = Path("clip-probe-smoke") / "faces"
        write_montage_dataset(args.data, 48, 32)
        train_clip(args.data, args.data.parent / "clip", ClipOptions(steps=3, batch=16, width=32, layers=1, vocab=400),
                   log=lambda line: None)
        args.clip = [args.data.parent / "clip"]

    for directory in args.clip:
        clip = load_clip(directory)
        seed = json.loads((directory / "training.json").read_text())["options"]["seed"]
        with ImageDataset(args.data) as dataset, torch.no_grad():
            facts = [facts_of(row) for row in read_captions(dataset)]
            train, held = split(len(dataset), seed)
            vectors = torch.cat([clip.image_features(dataset.batch(list(range(i, min(i + 256, len(dataset)))))
                                                     .float() / 127.5 - 1) for i in range(0, len(dataset), 256)])
        print(f"{directory} on {args.data} ({len(train)} training pictures, {len(held)} held out)")
        print(f"  {'attribute':<12} {'text cosine en / ko':>19} {'picture probe':>13} {'commonest':>9}")
        for attribute, values in ATTRIBUTES.items():
            cosines = []
            for locale in LOCALES:
                features = clip.text_features([describe_back(Attributes(**{attribute: v}), locale) for v in values])
                off = ~torch.eye(len(values), dtype=torch.bool)
                cosines.append(float((features @ features.T)[off].mean()))
            label = {i: true_value(attribute, facts[i]) for i in range(len(dataset))}
            fit = [i for i in train if label[i] is not None]
            test = [i for i in held if label[i] is not None]
            y = torch.tensor([values.index(label[i]) for i in fit + test])
            guess = linear_probe(vectors[fit], y[:len(fit)], vectors[test], len(values))
            accuracy = float((guess == y[len(fit):]).float().mean())
            commonest = float(torch.bincount(y[len(fit):], minlength=len(values)).max()) / len(test)
            print(f"  {attribute:<12} {cosines[0]:>11.2f} / {cosines[1]:.2f} {accuracy:>13.1%} {commonest:>9.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
