"""The training loop of `dreamface train`: StyleGAN2-ADA's steps (facegen.training.step) over a
dataset, with G's moving average, progress, snapshots, and resuming.

A run starts one of three ways:

- fresh: networks from the options (NVIDIA's `auto` for the resolution, see options.py), with
  initial weights drawn from the seed;
- a fine-tune (`--resume` a dreamface .safetensors or an NVIDIA pickle): G, G_ema and D from the
  checkpoint (G starts as its G_ema; D is new where the file has none), new optimisers, counting
  from 0 pictures. The model it makes inherits the checkpoint's licence;
- an exact resume (`--resume` a snapshot's .state): everything as it was, so N steps, a resume
  and N more give the weights 2N steps give, bit for bit on the CPU.

Time is counted in pictures shown to D (kimg = thousands). A tick ends every `tick_kimg`, and
after the very first step so a bad set-up shows at once (as in NVIDIA's loop); each tick prints a
progress line and appends one JSON line to RUN/stats.jsonl. Every `snap` ticks, and when the
run ends, a snapshot is written (snapshot.py) and the metrics asked for are computed on its G_ema
(metrics.py).

Augmentation (augment.py): with `--aug ada` the loop moves p every ADA_INTERVAL steps from
the mean sign of D's outputs on the reals over those steps (`rt` in the D phase's statistics);
p and the signs since its last move are part of the state. Each tick's line and JSON line show
p and the tick's mean rt.

Randomness: the run's own generator draws the latents, mixing, noise, path-length directions
and augmentations; a second one the data order (every picture once per epoch, mirrored copies
counted as pictures); the sample grid's latents come from a fixed seed.

Under torchrun the run is several processes (distributed.py): each reads and trains on its
shard of every batch, and process 0 alone writes the run folder and prints the progress.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from facegen.stylegan.discriminator import Discriminator
from facegen.stylegan.errors import CheckpointError
from facegen.stylegan.loaders import safetensors_bytes
from facegen.stylegan.networks2 import Generator
from facegen.training.augment import ADA_INTERVAL, AugmentPipe, ada_adjust
from facegen.training.dataset import ImageDataset
from facegen.training.distributed import Shard, joined, pick_device
from facegen.training.loss import LossSettings, StyleGAN2Loss
from facegen.training.metrics import SnapshotMetrics, run_sample_count
from facegen.training.options import (TrainingError, TrainingOptions, auto_options, check_processes,
                                      check_resolution)
from facegen.training.snapshot import (GRID_SUFFIX, MODEL_SUFFIX, STATE_SUFFIX, global_rng_state, load_state,
                                       prune, restore_global_rng, snapshot_stem, state_bytes, write_atomically)
from facegen.training.step import D_REG, G_REG, AdamSettings, lazy_adam, train_step, update_ema

GRID_COLUMNS, GRID_ROWS = 8, 4
GRID_SEED = 0
DATA_SEED_OFFSET = 2 ** 32   # the data order's generator: seed + this, apart from the run's own
LICENCE_NOTE = ("this run fine-tunes {base}: the model it makes inherits that checkpoint's licence "
                "(NVIDIA's FFHQ models are for non-commercial use only)")
_FLAGS = {"channel_base": "--cbase", "channel_max": "--cmax",   # option fields named otherwise on the command line
          "augment_p": "--p", "ada_target": "--target"}


def flag(field: str) -> str:
    return _FLAGS.get(field, "--" + field.replace("_", "-"))


class DataOrder:
    """Which pictures each step sees: every one once per epoch, in an order of its own generator."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(size, generator=self.generator)
        self.position = 0

    def take(self, count: int) -> list[int]:
        out: list[int] = []
        while len(out) < count:
            if self.position == self.size:
                self.order, self.position = torch.randperm(self.size, generator=self.generator), 0
            end = min(self.size, self.position + count - len(out))
            out += self.order[self.position:end].tolist()
            self.position = end
        return out

    def state(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "order": self.order.clone(), "position": self.position}

    def restore(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.order, self.position = state["order"], state["position"]


def set_precision(G: Generator, D: Discriminator, fp16_from: int | None) -> None:
    """Mixed precision as NVIDIA trains: the blocks at `fp16_from` px and above keep their
    feature maps in float16 (weights, optimisers and the picture itself stay float32, and the
    activation clamp keeps the maps in range); None: float32 throughout. Only training sets it:
    a saved model serves in float32."""
    for network in (G.synthesis, D):
        for res in network.block_resolutions:
            getattr(network, f"b{res}").use_fp16 = fp16_from is not None and res >= fp16_from


class Trainer:
    """One run's networks, optimisers, random generators and counters, and its step."""

    def __init__(self, options: TrainingOptions, dataset: ImageDataset, G: Generator, D: Discriminator,
                 base: str | None = None, shard: Shard = Shard()) -> None:
        check_processes(options, shard.count)
        self.options, self.dataset, self.base, self.shard = options, dataset, base, shard
        self.G, self.D = G.requires_grad_(False).to(shard.device), D.requires_grad_(False).to(shard.device)
        set_precision(self.G, self.D, options.fp16_from())
        self.G_ema = copy.deepcopy(self.G).eval()
        self.augment = None if options.aug == "noaug" else AugmentPipe(options.augment_p)
        self.real_signs: list[float] = []   # ada: each step's rt since p last moved
        self.loss = StyleGAN2Loss(self.G, self.D, LossSettings(r1_gamma=options.gamma), shard,
                                  self.augment).to(shard.device)
        adam = AdamSettings(lr=options.lr)
        self.opt_G, self.opt_D = lazy_adam(G, G_REG, adam), lazy_adam(D, D_REG, adam)
        self.generator = torch.Generator().manual_seed(options.seed)
        self.order = DataOrder(len(dataset) * (2 if options.mirror else 1), options.seed + DATA_SEED_OFFSET)
        self.nimg = self.step_index = self.tick = 0
        self.seconds = 0.0   # training time so far, over all resumes

    def ema_beta(self) -> float:
        """How much of G_ema stays each step: a half-life of ema_kimg, shorter early in a run."""
        ema_nimg = self.options.ema_kimg * 1000
        if self.options.ema_rampup is not None:
            ema_nimg = min(ema_nimg, self.nimg * self.options.ema_rampup)
        return 0.5 ** (self.options.batch / max(ema_nimg, 1e-8))

    def step(self) -> dict[str, float]:
        real = self.dataset.batch(self.shard.rows(self.order.take(self.options.batch)), mirror=self.options.mirror)
        stats = train_step(self.loss, self.opt_G, self.opt_D, real, self.step_index, self.generator)
        update_ema(self.G_ema, self.G, self.ema_beta())
        self.nimg += self.options.batch
        self.step_index += 1
        if self.options.aug == "ada":
            self.real_signs.append(stats["rt"])   # the whole batch's, the same in every process
            if self.step_index % ADA_INTERVAL == 0:
                self.augment.p = ada_adjust(self.augment.p, float(np.mean(self.real_signs)), self.options.ada_target,
                                            self.options.batch * len(self.real_signs), self.options.ada_kimg)
                self.real_signs.clear()
        return stats

    # --- snapshots ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"options": self.options.as_dict(), "dataset_digest": self.dataset.digest, "base": self.base,
                "nimg": self.nimg, "step": self.step_index, "tick": self.tick, "seconds": self.seconds,
                "G_kwargs": self.G.init_kwargs, "D_kwargs": self.D.init_kwargs,
                "G": self.G.state_dict(), "D": self.D.state_dict(), "G_ema": self.G_ema.state_dict(),
                "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(), "pl_mean": self.loss.pl_mean,
                "augment": {"p": self.augment.p if self.augment else 0.0, "real_signs": list(self.real_signs)},
                "rng": {"run": self.generator.get_state(), "data": self.order.state(), **global_rng_state()}}

    def restore(self, state: dict[str, Any]) -> None:
        for name, module in (("G", self.G), ("D", self.D), ("G_ema", self.G_ema)):
            module.load_state_dict(state[name])
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])
        self.loss.pl_mean.copy_(state["pl_mean"])
        augment = state.get("augment", {"p": 0.0, "real_signs": []})   # none in states from before augmentation
        if self.augment is not None:
            self.augment.p = augment["p"]
        self.real_signs = list(augment["real_signs"])
        self.nimg, self.step_index, self.tick, self.seconds = state["nimg"], state["step"], state["tick"], state["seconds"]
        self.generator.set_state(state["rng"]["run"])
        self.order.restore(state["rng"]["data"])
        restore_global_rng(state["rng"])

    def save_snapshot(self, out: Path, grid_latents: torch.Tensor, keep: int) -> Path:
        """Write this moment's snapshot (snapshot.py), then prune; returns the model's path.
        Only process 0 writes."""
        stem = out / snapshot_stem(self.nimg)
        model = stem.with_suffix(MODEL_SUFFIX)
        if not self.shard.leader:
            return model
        files = {stem.with_suffix(STATE_SUFFIX): state_bytes(self.state()),
                 model: safetensors_bytes(self.G_ema, self.D),
                 stem.with_suffix(GRID_SUFFIX): png_bytes(sample_grid(self.G_ema, grid_latents, self.options.batch))}
        try:
            write_atomically(files)
        except OSError as exc:
            raise TrainingError(f"{stem}: the snapshot could not be written ({exc.strerror or exc}); training "
                                f"stopped, and the snapshots already in {out} are as they were") from None
        prune(out, keep)
        return model


# --- starting a run ---------------------------------------------------------------------------

def fresh_trainer(dataset: ImageDataset, choices: dict[str, Any], shard: Shard) -> Trainer:
    options = auto_options(dataset.resolution, **choices)
    torch.manual_seed(options.seed)   # the initial weights
    G = Generator(**options.generator_kwargs(dataset.channels))
    D = Discriminator(**options.discriminator_kwargs(dataset.channels))
    return Trainer(options, dataset, G, D, shard=shard)


def resumed_trainer(path: Path, dataset: ImageDataset, choices: dict[str, Any], shard: Shard) -> Trainer:
    """Everything as the snapshot left it; settings given again must be the snapshot's."""
    state = load_state(path)
    options = TrainingOptions(**{"aug": "noaug", **state["options"]})   # states from before augmentation had none
    if options.resolution != dataset.resolution:
        raise TrainingError(f"{path}: a snapshot of a {options.resolution}-px run; {dataset.path} holds "
                            f"{dataset.resolution}-px pictures")
    if state["dataset_digest"] != dataset.digest:
        raise TrainingError(f"{path} was trained on another set of pictures (digest {state['dataset_digest']}, "
                            f"{dataset.path} has {dataset.digest}); a run goes on exactly only on its own "
                            f"pictures: to train its model on these, --resume its {MODEL_SUFFIX} file instead")
    for name, value in choices.items():
        if getattr(options, name) != value:
            raise TrainingError(f"{flag(name)} {value}: {path} was trained with {getattr(options, name)}, "
                                f"and an exact resume keeps its settings (to change them, --resume its "
                                f"{MODEL_SUFFIX} file: a fine-tune)")
    try:
        G, D = Generator(**state["G_kwargs"]), Discriminator(**state["D_kwargs"])
        trainer = Trainer(options, dataset, G, D, base=state["base"], shard=shard)
        trainer.restore(state)
    except (TypeError, ValueError, KeyError, RuntimeError) as exc:
        raise TrainingError(f"{path}: the state does not fit its recorded networks ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0]})") from None
    return trainer


def fine_tune_trainer(path: Path, dataset: ImageDataset, choices: dict[str, Any], shard: Shard) -> Trainer:
    """A checkpoint's networks with new optimisers; the architecture is the checkpoint's."""
    from facegen.stylegan.loaders import load_networks
    try:
        G_ema, D = load_networks(path)
    except CheckpointError as exc:
        raise TrainingError(str(exc)) from None
    if not isinstance(G_ema, Generator):
        raise TrainingError(f"{path}: a {G_ema.arch} generator; dreamface trains StyleGAN2 only")
    if (G_ema.img_resolution, G_ema.img_channels) != (dataset.resolution, dataset.channels):
        raise TrainingError(f"{path}: a {G_ema.img_resolution}-px, {G_ema.img_channels}-channel generator; "
                            f"{dataset.path} holds {dataset.resolution}-px, {dataset.channels}-channel pictures")
    kwargs = G_ema.init_kwargs
    synthesis, mapping = kwargs["synthesis_kwargs"], kwargs["mapping_kwargs"]
    architecture = dict(z_dim=kwargs["z_dim"], w_dim=kwargs["w_dim"], map_layers=mapping.get("num_layers", 8),
                        channel_base=synthesis.get("channel_base", 32768),
                        channel_max=synthesis.get("channel_max", 512), conv_clamp=synthesis.get("conv_clamp"))
    if D is not None and isinstance(D.init_kwargs["mbstd_group_size"], int):
        architecture["mbstd_group"] = D.init_kwargs["mbstd_group_size"]
    for name, value in choices.items():
        if name in architecture and architecture[name] != value:
            raise TrainingError(f"{flag(name)} {value}: {path} has {architecture[name]}")
    options = auto_options(dataset.resolution, **{**choices, **architecture})
    if D is None:
        torch.manual_seed(options.seed)
        D = Discriminator(**options.discriminator_kwargs(dataset.channels))
    return Trainer(options, dataset, G_ema, D, base=str(path), shard=shard)   # G starts as the file's G_ema


def check_out_folder(out: Path, resume: Path | None) -> None:
    """A new run needs an empty (or new) folder, so nothing of another run is overwritten; an
    exact resume may also go on in its snapshot's own folder."""
    if out.exists() and not out.is_dir():
        raise TrainingError(f"{out} exists and is not a folder")
    if not out.exists() or not any(out.iterdir()):
        return
    if resume is not None and resume.suffix == STATE_SUFFIX and resume.resolve().parent == out.resolve():
        return
    raise TrainingError(f"{out} exists and is not empty; name a new folder for --out, or go on with "
                        f"--resume {out}/snapshot-….state")


# --- pictures ---------------------------------------------------------------------------------

def tile(images: torch.Tensor, columns: int) -> Image.Image:
    """uint8 [N, C, H, W] → one picture of `columns` columns."""
    n, c, h, w = images.shape
    rows = n // columns
    grid = images[: rows * columns].reshape(rows, columns, c, h, w).permute(0, 3, 1, 4, 2)
    array = grid.reshape(rows * h, columns * w, c).numpy()
    return Image.fromarray(array[:, :, 0] if c == 1 else array, "L" if c == 1 else "RGB")


@torch.no_grad()
def sample_grid(G: Generator, latents: torch.Tensor, chunk: int) -> Image.Image:
    """G's pictures of the fixed latents (constant noise), GRID_COLUMNS to a row."""
    device = next(G.parameters()).device
    images = torch.cat([G(z.to(device), noise_mode="const").cpu() for z in latents.split(max(chunk, 1))])
    return tile((images * 127.5 + 127.5).round().clamp(0, 255).to(torch.uint8), GRID_COLUMNS)


def png_bytes(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


# --- progress ---------------------------------------------------------------------------------

def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds}s"


def progress_line(tick: int, nimg: int, total: int, sec_per_kimg: float, losses: dict[str, float]) -> str:
    eta = (total - nimg) / 1000 * sec_per_kimg
    parts = [f"tick {tick:<4d}", f"kimg {nimg / 1000:.3f}/{total / 1000:g}", f"{sec_per_kimg:.1f} s/kimg"]
    for key, label, digits in (("G_loss", "G", 3), ("D_loss", "D", 3), ("r1_penalty", "R1", 4), ("pl_penalty", "PL", 3),
                               ("augment_p", "p", 3), ("rt", "rt", 2)):
        if key in losses:
            parts.append(f"{label} {losses[key]:.{digits}f}")
    return "  ".join(parts + [f"ETA {duration(eta)}"])


# --- the run ----------------------------------------------------------------------------------

def train(data: Path, out: Path, *, resolution: int, kimg: float, resume: Path | None = None,
          choices: dict[str, Any] | None = None, tick_kimg: float = 4.0, snap: int = 50, keep: int = 0,
          device: str = "auto", metrics: tuple[str, ...] = (), metric_samples: int | None = None,
          inception: str | Path | None = None, log: Callable[[str], None] = print) -> Path:
    """Train until `kimg` thousand pictures in all (a resumed run counts what it saw before);
    returns the final snapshot's model file. `choices`: TrainingOptions fields set by hand
    (None values ignored); `device`: auto (a GPU when torch sees one), cpu or cuda; `metrics`:
    metrics.METRICS names computed at every snapshot, on `metric_samples` pictures (None:
    sized to the run), fid with the `inception` file. TrainingError / DatasetError / MetricError
    with one line when it cannot run, before anything is written."""
    check_resolution(resolution)
    try:
        where = pick_device(device)
    except ValueError as exc:
        raise TrainingError(str(exc)) from None
    if kimg <= 0 or tick_kimg <= 0:
        raise TrainingError(f"--kimg and --tick must be more than 0, not {kimg} and {tick_kimg}")
    if snap < 1 or keep < 0:
        raise TrainingError(f"--snap must be at least 1 and --keep at least 0, not {snap} and {keep}")
    choices = {k: v for k, v in (choices or {}).items() if v is not None}
    check_out_folder(out, resume)   # by every process, before process 0 writes there
    with joined(where) as shard, ImageDataset(data) as dataset:
        if not shard.leader:
            log = _silent
        if dataset.resolution != resolution:
            raise TrainingError(f"{data} holds {dataset.resolution}-px pictures, not {resolution}: "
                                f"make the set at --res {resolution}, or train at --res {dataset.resolution}")
        if metrics and metric_samples is None:
            metric_samples = run_sample_count(dataset, round(kimg * 1000))
        # made here, before the networks: it refuses a metric it cannot compute (an unfit Inception file)
        scores = (SnapshotMetrics(metrics, dataset, out, metric_samples, inception=inception, device=shard.device)
                  if metrics and shard.leader else None)
        if choices.get("fp16") and shard.device.type == "cpu":
            log("note: --fp16 on the CPU runs slower than float32; half precision is for GPUs")
        if resume is None:
            trainer = fresh_trainer(dataset, choices, shard)
        elif resume.suffix == STATE_SUFFIX:
            trainer = resumed_trainer(resume, dataset, choices, shard)
        else:
            trainer = fine_tune_trainer(resume, dataset, choices, shard)
            log("warning: " + LICENCE_NOTE.format(base=resume))
        shard.share_from_leader([trainer.G, trainer.D, trainer.G_ema])
        return _run(trainer, out, round(kimg * 1000), max(round(tick_kimg * 1000), 1), snap, keep, log, scores)


def _silent(line: str) -> None:
    """The progress of processes other than 0: not shown."""


def _run(trainer: Trainer, out: Path, total: int, tick_nimg: int, snap: int, keep: int,
         log: Callable[[str], None], scores: SnapshotMetrics | None = None) -> Path:
    if trainer.nimg >= total:
        raise TrainingError(f"the snapshot has seen {trainer.nimg / 1000:g} kimg already; ask for more with --kimg")
    options, dataset, leader = trainer.options, trainer.dataset, trainer.shard.leader
    if leader:
        start_folder(trainer, out)
    grid_latents = torch.randn([GRID_COLUMNS * GRID_ROWS, trainer.G.z_dim],
                               generator=torch.Generator().manual_seed(GRID_SEED))
    log(f"training {options.resolution}-px StyleGAN2 on {len(dataset)} pictures{' (and their mirror images)' if options.mirror else ''}: "
        f"batch {options.batch}{_split(trainer.shard)} on {_device(trainer.shard)}, γ {options.gamma:g}, "
        f"{_augmentation(trainer)}, from {trainer.nimg / 1000:g} to {total / 1000:g} kimg, into {out}")
    live = sys.stdout.isatty() and log is print
    tick_start_nimg, tick_start = trainer.nimg, time.monotonic()
    tick_losses: dict[str, list[float]] = defaultdict(list)
    model = None
    with open(out / "stats.jsonl", "a") if leader else contextlib.nullcontext() as stats_file:
        while True:
            for key, value in trainer.step().items():
                tick_losses[key].append(value)
            done = trainer.nimg >= total
            elapsed = time.monotonic() - tick_start
            sec_per_kimg = elapsed / (trainer.nimg - tick_start_nimg) * 1000
            if not done and trainer.tick != 0 and trainer.nimg < tick_start_nimg + tick_nimg:
                if live:
                    print(f"\r{progress_line(trainer.tick, trainer.nimg, total, sec_per_kimg, {})}", end="", flush=True)
                continue
            trainer.seconds += elapsed
            losses = {key: float(np.mean(values)) for key, values in tick_losses.items()}
            if trainer.augment is not None:
                losses["augment_p"] = trainer.augment.p
            log(("\r" if live else "") + progress_line(trainer.tick, trainer.nimg, total, sec_per_kimg, losses))
            if stats_file:
                stats_file.write(json.dumps({"tick": trainer.tick, "kimg": trainer.nimg / 1000,
                                             "seconds": trainer.seconds, "sec_per_kimg": sec_per_kimg, **losses,
                                             "timestamp": time.time()}) + "\n")
                stats_file.flush()
            finished, trainer.tick = trainer.tick, trainer.tick + 1
            if done or finished % snap == 0:
                model = trainer.save_snapshot(out, grid_latents, keep)
                if scores:
                    log(scores.record(trainer.G_ema, model, trainer.nimg))
            if done:
                break
            tick_start_nimg, tick_start = trainer.nimg, time.monotonic()
            tick_losses.clear()
    log(f"model: {model}")
    return model


def start_folder(trainer: Trainer, out: Path) -> None:
    """The run folder with the settings and a grid of training pictures, unless it has them."""
    dataset = trainer.dataset
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "options.json").exists():
        described = {**trainer.options.as_dict(), "data": str(dataset.path), "dataset_digest": dataset.digest,
                     "base": trainer.base}
        (out / "options.json").write_text(json.dumps(described, indent=2) + "\n")
    if not (out / "reals.png").exists():
        count = GRID_COLUMNS * GRID_ROWS
        reals = dataset.batch([i % len(dataset) for i in range(count)])
        (out / "reals.png").write_bytes(png_bytes(tile(reals, GRID_COLUMNS)))


def _device(shard: Shard) -> str:
    return "the CPU" if shard.device.type == "cpu" else f"{torch.cuda.get_device_name(shard.device)} ({shard.device})"


def _augmentation(trainer: Trainer) -> str:
    options = trainer.options
    if trainer.augment is None:
        return "no augmentation"
    if options.aug == "fixed":
        return f"augmentation p {trainer.augment.p:g}"
    return f"ADA from p {trainer.augment.p:g} toward rt {options.ada_target:g} (±1 in {options.ada_kimg:g} kimg)"


def _split(shard: Shard) -> str:
    return f" over {shard.count} processes" if shard.count > 1 else ""
