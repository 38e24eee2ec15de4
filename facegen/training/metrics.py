"""How good a generator is, measured against its training set: the metrics of `dreamface train
--metrics` (at every snapshot, on G_ema) and `dreamface metrics` (any model file).

- `fid`: the official FID, when the operator supplies NVIDIA's Inception file
  (inception-2015-12-05.pt, the TorchScript file stylegan2-ada-pytorch's metrics load; `--inception
  PATH` or DREAMFACE_INCEPTION; nothing downloads it, and loading it runs it, so only a trusted
  copy). As NVIDIA's `fid50k_full`: the features (2048 numbers before the softmax) of *all* the
  training pictures against those of N generated ones (random latents and random noise, as
  G's default), grey pictures repeated to 3 channels, uint8 pictures of any size (the file
  resizes them to 299 px itself), means and covariances as NVIDIA's FeatureStats takes them
  (divided by the count, not the count − 1). With N = 50000 (`--metric-samples 50000`,
  `--samples 50000`) it is NVIDIA's `fid50k_full`; a smaller N gives a larger number (FID is
  biased upward at small N), so compare runs at one N. N is not capped at the set's size
  here: the reals are the whole set anyway. One difference: NVIDIA's runs with --mirror=1 also
  count the mirror images among the reals; these count the set as stored (its calc_metrics.py
  with --mirror=0).

PPL needs the VGG weights of LPIPS, which cannot be downloaded here, and the FID its file. The
other metrics measure with what the project already holds, dlib's face recogniser
(facegen.identity: 128 numbers per face, trained to tell people apart):

- `fd_dlib`: the Fréchet distance between the descriptors of N training pictures and N
  generated ones, FID's formula on dlib's features: 0 when both have the same mean and
  covariance, larger as the made faces' identities drift from the set's as a population.
- `face_rate`: the share of N generated pictures in which dlib's face detector finds exactly
  one face, with the training pictures' share beside it for reference.
- `ppl`: the perceptual path length in W at the path ends (StyleGAN2's `ppl2_wend`): for N pairs
  of random w's, how far the face moves under a small step from one toward the other,
  distance / ε², the lowest and highest 1 % dropped, then the mean. The distance is the squared
  distance between the two pictures' descriptors: how fast *identity* changes along a morph,
  the smoothness a morph between two people shows. ε is 3e-2, not the paper's 1e-4: dlib reads
  8-bit pixels, and a step of 1e-4 moves pixels by a fiftieth of a grey level, so the distance
  would be rounding; at 3e-2 pixels move by about 6 levels and rounding is about 2 % of the
  distance (bench/train_metrics_choices.py, on a random network). Its numbers are on dlib's
  scale, not comparable to published PPLs.

A picture becomes a descriptor through a fixed chip: the square CHIP_BOX of the picture scaled to
the recogniser's 150 × 150 input. Training pictures are aligned faces, so the face is always
about there, and a fixed chip treats real and generated pictures alike and never fails, while
finding a face and aligning on its landmarks fails on exactly the poor samples a metric must
count. CHIP_BOX lies between where dlib's own aligned chip falls on montage faces (centre 0.50,
0.55 of the side, side 0.56) and on FFHQ-aligned photos (0.50, 0.61, side 0.70), as
bench/train_metrics_choices.py prints; tests/facegen/test_train_metrics.py checks that it still
overlaps both.

Every metric is deterministic from its seed: which real pictures, the latents, the noise. The
reals' measures do not change during a run: a run computes them at its first snapshot only (the
whole set's Inception features too). The Inception file is loaded once per process.
Nothing here draws from torch's global generator, so metrics at snapshots leave a run's
randomness (and exact resumes) as they were.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from facegen.identity import CHIP_SIZE, DRAWN_SIZES
from facegen.training.dataset import ImageDataset

DEFAULT_SAMPLES = 1000            # pictures per metric, at most: N = min(this, the set's size)
RUN_MIN_SAMPLES = 64              # a training run's N is a tenth of its pictures, but at least this
DEFAULT_METRICS = ("fd_dlib", "face_rate")   # `dreamface train`'s; PPL costs twice as much: ask for it
CHIP_BOX = (0.5, 0.58, 0.63)      # centre x, centre y and side of the fixed chip, in picture sides
DETECT_SIDE = DRAWN_SIZES[0]      # smaller pictures are enlarged to this before detection
PPL_EPSILON = 3e-2
PPL_PERCENTILES = (1, 99)         # distances outside these percentiles are dropped
BATCH = 16                        # pictures generated at once (the draws do not depend on it)
NOISE_SEED_OFFSET = 1             # the generated pictures' noise: seed + this, apart from the latents
PROBE_PICTURES = 2                # an Inception file is tried on this many of the set's pictures first
NO_INCEPTION = ("fid needs NVIDIA's Inception file (inception-2015-12-05.pt): name it with --inception PATH "
                "or DREAMFACE_INCEPTION")


class MetricError(ValueError):
    """A metric that cannot be computed as asked; the message says why in one line."""


# --- pictures to measures ------------------------------------------------------------------------

def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """A generator's float pictures in [-1, 1] → uint8, as the training pictures are stored."""
    return (images * 127.5 + 127.5).round().clamp(0, 255).to(torch.uint8)


def _rgb(picture: torch.Tensor) -> Image.Image:
    """uint8 [C, H, W] → an RGB picture (grey sets are read as grey RGB)."""
    array = picture.permute(1, 2, 0).numpy()
    return Image.fromarray(array[:, :, 0]).convert("RGB") if array.shape[2] == 1 else Image.fromarray(array)


def fixed_chip(picture: torch.Tensor) -> np.ndarray:
    """The recogniser's input for a picture: CHIP_BOX scaled to CHIP_SIZE (see the docstring)."""
    side = picture.shape[-1]
    x, y, size = (v * side for v in CHIP_BOX)
    box = (x - size / 2, y - size / 2, x + size / 2, y + size / 2)
    return np.asarray(_rgb(picture).resize((CHIP_SIZE, CHIP_SIZE), Image.BICUBIC, box=box))


def descriptors(pictures: torch.Tensor) -> np.ndarray:
    """[N, 128]: dlib's descriptor of each picture's fixed chip."""
    from facegen.identity import _MODELS
    chips = [fixed_chip(p) for p in pictures]
    with _MODELS.lock:
        _, network = _MODELS.get()
        return np.array(network.compute_face_descriptor(chips), dtype=np.float64).reshape(len(chips), 128)


def face_counts(pictures: torch.Tensor) -> np.ndarray:
    """[N]: how many faces dlib's detector finds in each picture (enlarged to DETECT_SIDE first
    where smaller, so a 32-px face is looked for as a 256-px one)."""
    from facegen.landmarks import find_faces
    counts = []
    for p in pictures:
        picture = _rgb(p)
        if picture.width < DETECT_SIDE:
            picture = picture.resize((DETECT_SIDE, DETECT_SIDE), Image.LANCZOS)
        counts.append(len(find_faces(picture, upsample=0)))
    return np.array(counts)


class InceptionFeatures:
    """A measure: the Inception file's features of uint8 pictures, [N, F] (NVIDIA's: F = 2048),
    computed on the device the file was loaded to. Its __name__ names the file, so the reals'
    cache tells files apart."""

    def __init__(self, path: Path, device: torch.device) -> None:
        if not path.is_file():
            raise MetricError(f"Inception file {path}: no such file")
        try:
            with warnings.catch_warnings():   # torch calls TorchScript deprecated; NVIDIA's file is one
                warnings.simplefilter("ignore", DeprecationWarning)
                self.net = torch.jit.load(str(path), map_location=device).eval()
        except RuntimeError:
            raise MetricError(f"Inception file {path}: not a TorchScript file (NVIDIA's inception-2015-12-05.pt "
                              "is one)") from None
        self.path, self.device, self.__name__ = path, device, f"inception {path}"

    def _features(self, pictures: torch.Tensor) -> torch.Tensor:
        if pictures.shape[1] == 1:
            pictures = pictures.repeat([1, 3, 1, 1])   # grey as grey RGB, as NVIDIA's metrics do
        return self.net(pictures.to(self.device), return_features=True)

    @torch.no_grad()
    def __call__(self, pictures: torch.Tensor) -> np.ndarray:
        # float32 first, then float64 for the statistics, as NVIDIA's FeatureStats
        return self._features(pictures).float().cpu().numpy().astype(np.float64)

    @torch.no_grad()
    def check(self, dataset: ImageDataset) -> None:
        """Refuse, in one line, a file that fails on the set's pictures or does not return one row
        of float features per picture."""
        pictures = dataset.batch(range(min(PROBE_PICTURES, len(dataset))))
        try:
            features = self._features(pictures)
        except Exception as exc:   # noqa: BLE001 - whatever the file's code raises, said in one line
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            raise MetricError(f"Inception file {self.path}: fails on {len(pictures)} of the set's pictures "
                              f"({type(exc).__name__}: {first})") from None
        if (not isinstance(features, torch.Tensor) or features.ndim != 2 or len(features) != len(pictures)
                or not features.is_floating_point()):
            got = (f"{list(features.shape)} {str(features.dtype).removeprefix('torch.')}"
                   if isinstance(features, torch.Tensor) else type(features).__name__)
            raise MetricError(f"Inception file {self.path}: gives {got} for {len(pictures)} pictures, not "
                              f"[{len(pictures)}, features] floats (NVIDIA's inception-2015-12-05.pt gives "
                              f"[{len(pictures)}, 2048])")


_INCEPTIONS: dict[tuple[Path, str], InceptionFeatures] = {}


def fid_measure(names: Sequence[str], inception: str | Path | None, device: torch.device | str,
                dataset: ImageDataset) -> InceptionFeatures | None:
    """fid's measure when `names` hold fid (else None): the Inception file, loaded once per
    process and device and tried on the set's pictures when loaded. MetricError with one line for fid without
    a file, or a file that does not fit."""
    if "fid" not in names:
        return None
    if not inception:
        raise MetricError(NO_INCEPTION)
    key = (Path(inception).resolve(), str(torch.device(device)))
    if key not in _INCEPTIONS:   # tried once, when loaded: a run's every snapshot need not try it again
        measure = InceptionFeatures(Path(inception), torch.device(device))
        measure.check(dataset)
        _INCEPTIONS[key] = measure
    return _INCEPTIONS[key]


Measure = Callable[[torch.Tensor], np.ndarray]


# --- the numbers ---------------------------------------------------------------------------------

def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The square root of a symmetric positive semi-definite matrix (rounding's negative
    eigenvalues taken as 0)."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(a: np.ndarray, b: np.ndarray, ddof: int = 1) -> float:
    """The Fréchet distance between Gaussians fitted to two sets of rows:
    |μa − μb|² + Tr(Σa + Σb − 2 (Σa Σb)^½). Tr (Σa Σb)^½ is taken as Tr (√Σa Σb √Σa)^½, the same
    number from a symmetric matrix, so numpy's eigh computes it without scipy. The covariances
    divide by the count − `ddof` (NVIDIA's FID: ddof 0)."""
    if len(a) < 2 or len(b) < 2:
        raise MetricError(f"a Fréchet distance needs at least 2 pictures on each side, not {len(a)} and {len(b)}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = (np.atleast_2d(np.cov(rows, rowvar=False, ddof=ddof)) for rows in (a, b))
    root_a = _psd_sqrt(cov_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    return float(np.square(mu_a - mu_b).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def path_length_mean(distances: np.ndarray) -> float:
    """StyleGAN2's PPL from per-pair distances / ε²: the mean of those within the 1st and 99th
    percentiles (inclusive, the percentiles taken at data points as NVIDIA's code does)."""
    lo = np.percentile(distances, PPL_PERCENTILES[0], method="lower")
    hi = np.percentile(distances, PPL_PERCENTILES[1], method="higher")
    return float(distances[(distances >= lo) & (distances <= hi)].mean())


# --- one evaluation ------------------------------------------------------------------------------

@dataclass
class Evaluation:
    """A generator against a set: what every metric draws its pictures from. `real_cache` holds
    the reals' measures, which a run's evaluations share (they depend on the set, the count and
    the seed)."""

    G: torch.nn.Module
    dataset: ImageDataset
    samples: int                                   # N: pictures on each side, at most the set's size
    seed: int = 0
    real_cache: dict[tuple, np.ndarray] = field(default_factory=dict)
    fid_fakes: int | None = None                   # fid's generated pictures, not capped; None: samples
    inception: InceptionFeatures | None = None     # fid's measure; None: no fid

    def real_batches(self, count: int) -> Iterator[torch.Tensor]:
        """`count` training pictures: all of them when it is the set's size, else drawn by the seed."""
        indices = np.arange(len(self.dataset))
        if count < len(indices):
            indices = np.sort(np.random.default_rng(self.seed).permutation(indices)[:count])
        for start in range(0, len(indices), BATCH):
            yield self.dataset.batch(indices[start:start + BATCH])

    def latents(self, count: int) -> torch.Tensor:
        return torch.randn([count, self.G.z_dim], generator=torch.Generator().manual_seed(self.seed))

    @torch.no_grad()
    def fake_batches(self, count: int | None = None) -> Iterator[torch.Tensor]:
        """`count` (default N) generated pictures (random noise, as NVIDIA's FID draws them), uint8."""
        noise = torch.Generator().manual_seed(self.seed + NOISE_SEED_OFFSET)
        device = device_of(self.G)   # drawn on the CPU, made on G's device, measured on the CPU
        for z in self.latents(count or self.samples).split(BATCH):
            yield to_uint8(self.G(z.to(device), noise_mode="random", generator=noise)).cpu()

    def reals(self, measure: Measure, whole_set: bool = False) -> np.ndarray:
        """The measure of N training pictures, or of all of them (`whole_set`, NVIDIA's `_full`)."""
        count = len(self.dataset) if whole_set else self.samples
        key = (self.dataset.digest, count, self.seed, measure.__name__)   # the count: N or all
        if key not in self.real_cache:
            self.real_cache[key] = np.concatenate([measure(batch) for batch in self.real_batches(count)])
        return self.real_cache[key]

    def fakes(self, measure: Measure, count: int | None = None) -> np.ndarray:
        return np.concatenate([measure(batch) for batch in self.fake_batches(count)])


def fd_dlib(ev: Evaluation) -> dict[str, float]:
    return {"fd_dlib": frechet_distance(ev.reals(descriptors), ev.fakes(descriptors))}


def face_rate(ev: Evaluation) -> dict[str, float]:
    return {"face_rate": float(np.mean(ev.fakes(face_counts) == 1)),
            "face_rate_reals": float(np.mean(ev.reals(face_counts) == 1))}


@torch.no_grad()
def ppl(ev: Evaluation) -> dict[str, float]:
    """NVIDIA's ppl2_wend with the descriptor distance (module docstring): path ends (t = 0),
    constant noise."""
    ends = torch.Generator().manual_seed(ev.seed)
    z = torch.randn([ev.samples * 2, ev.G.z_dim], generator=ends).to(device_of(ev.G))
    distances = []
    for z0, z1 in zip(*(half.split(BATCH) for half in z.chunk(2))):
        w0, w1 = ev.G.mapping(z0), ev.G.mapping(z1)
        pictures = ev.G.synthesis(torch.cat([w0, w0.lerp(w1, PPL_EPSILON)]), noise_mode="const")
        a, b = np.split(descriptors(to_uint8(pictures).cpu()), 2)
        distances.append(np.square(a - b).sum(1) / PPL_EPSILON ** 2)
    return {"ppl": path_length_mean(np.concatenate(distances))}


def fid(ev: Evaluation) -> dict[str, float]:
    """NVIDIA's fid<N>_full (module docstring): all the reals against fid_fakes made pictures."""
    assert ev.inception is not None, "compute sets fid's measure"
    reals, fakes = ev.reals(ev.inception, whole_set=True), ev.fakes(ev.inception, ev.fid_fakes)
    return {"fid": frechet_distance(reals, fakes, ddof=0), "fid_reals": len(reals), "fid_fakes": len(fakes)}


@dataclass(frozen=True)
class Metric:
    name: str
    compute: Callable[[Evaluation], dict[str, float]]
    headline: Callable[[dict[str, float]], str]   # its results in a progress line


METRICS = {m.name: m for m in (
    Metric("fd_dlib", fd_dlib, lambda r: f"fd_dlib {r['fd_dlib']:.4f}"),
    Metric("face_rate", face_rate, lambda r: f"face_rate {r['face_rate']:.3f} (reals {r['face_rate_reals']:.3f})"),
    Metric("ppl", ppl, lambda r: f"ppl {r['ppl']:.2f}"),
    Metric("fid", fid, lambda r: f"fid {r['fid']:.2f}"),
)}


def parse_metrics(text: str | None, default: Sequence[str] = DEFAULT_METRICS,
                  inception: str | Path | None = None) -> tuple[str, ...]:
    """`--metrics`: a comma list of METRICS names, `none` (no metrics), or None (`default`, with
    fid when an Inception file is named and without it when none is)."""
    if text is None:
        names = tuple(n for n in default if n != "fid")
        return names + ("fid",) if inception else names
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if names == ("none",):
        return ()
    unknown = [n for n in names if n not in METRICS]
    if unknown or not names:
        raise MetricError(f"--metrics {text}: {'unknown metric ' + unknown[0] if unknown else 'no metric named'}; "
                          f"name some of {', '.join(METRICS)}, or none")
    if "fid" in names and not inception:
        raise MetricError(NO_INCEPTION)
    return names


def sample_count(dataset: ImageDataset, samples: int | None) -> int:
    """N: `samples` when given, else min(DEFAULT_SAMPLES, the set's size); at most the set's size."""
    if samples is not None and samples < 2:
        raise MetricError(f"--samples must be at least 2, not {samples}")
    return min(samples or DEFAULT_SAMPLES, len(dataset))


def run_sample_count(dataset: ImageDataset, total_pictures: int) -> int:
    """N for a training run's snapshots when --metric-samples is not given: sized to the run,
    a tenth of the pictures it shows in all (at least RUN_MIN_SAMPLES), at most DEFAULT_SAMPLES
    and the set's size, so a short CPU run does not spend longer scoring than training."""
    return max(2, min(DEFAULT_SAMPLES, len(dataset), max(RUN_MIN_SAMPLES, total_pictures // 10)))


def device_of(G: torch.nn.Module) -> torch.device:
    return next(G.parameters(), torch.empty(0)).device


def compute(G: torch.nn.Module, dataset: ImageDataset, names: Sequence[str], samples: int | None = None,
            seed: int = 0, real_cache: dict | None = None,
            inception: str | Path | None = None) -> dict[str, dict[str, float]]:
    """Each named metric's results, with its time in seconds under "seconds". `inception`: the
    Inception file fid needs (loaded on G's device)."""
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise MetricError(f"unknown metric {unknown[0]}; name some of {', '.join(METRICS)}")
    if (G.img_resolution, G.img_channels) != (dataset.resolution, dataset.channels):
        raise MetricError(f"a {G.img_resolution}-px, {G.img_channels}-channel generator; {dataset.path} holds "
                          f"{dataset.resolution}-px, {dataset.channels}-channel pictures")
    evaluation = Evaluation(G.eval(), dataset, sample_count(dataset, samples), seed,
                            {} if real_cache is None else real_cache, fid_fakes=samples,
                            inception=fid_measure(names, inception, device_of(G), dataset))
    out = {}
    for name in names:
        start = time.monotonic()
        out[name] = {**METRICS[name].compute(evaluation), "seconds": time.monotonic() - start}
    return out


def evaluate(model: str | Path, data: str | Path, metrics: Sequence[str] | None = None,
             samples: int | None = None, seed: int = 0,
             inception: str | Path | None = None) -> dict[str, dict[str, float]]:
    """`compute` for a model file (any checkpoint `load_generator` reads) against a set; `metrics`
    None: all of them (fid only with an `inception` file). Raises MetricError, CheckpointError or
    DatasetError with one line."""
    from facegen.stylegan.loaders import load_generator
    names = parse_metrics(None, tuple(METRICS), inception) if metrics is None else metrics
    with ImageDataset(data) as dataset:
        return compute(load_generator(model), dataset, names, samples, seed, inception=inception)


def summary(results: dict[str, dict[str, float]]) -> str:
    """The results in one line: `fd_dlib 12.3456  face_rate 0.750 (reals 1.000)  ppl 3.21`."""
    return "  ".join(METRICS[name].headline(values) for name, values in results.items())


# --- at every snapshot of a run ---------------------------------------------------------------------

class SnapshotMetrics:
    """The run's metrics at each snapshot: one JSON line per metric in RUN/metric-<name>.jsonl,
    as NVIDIA's metric-fid50k_full.jsonl, and a line for the progress. The reals' measures are
    computed at the first snapshot and kept for the run."""

    def __init__(self, names: Sequence[str], dataset: ImageDataset, out: Path, samples: int | None = None,
                 seed: int = 0, inception: str | Path | None = None, device: torch.device | str = "cpu") -> None:
        """Refuses (MetricError, one line) what cannot be computed before the run starts: fid
        without a file, or a file that does not fit (it is loaded and tried on the set here)."""
        self.names, self.dataset, self.out, self.seed = tuple(names), dataset, out, seed
        self.asked, self.samples = samples, sample_count(dataset, samples)
        self.inception = inception
        self.real_cache: dict[tuple, np.ndarray] = {}
        fid_measure(self.names, inception, device, dataset)

    def record(self, G_ema: torch.nn.Module, model: Path, nimg: int) -> str:
        """Compute, append, and return the progress line."""
        results = compute(G_ema, self.dataset, self.names, self.asked, self.seed, self.real_cache, self.inception)
        seconds = {name: values.pop("seconds") for name, values in results.items()}
        for name, values in results.items():
            samples = values.get("fid_fakes", self.samples)   # fid's made pictures are not capped at the set's size
            line = {"results": values, "metric": name, "samples": samples, "total_time": seconds[name],
                    "snapshot_pkl": model.name, "num_gpus": 1, "kimg": nimg / 1000, "timestamp": time.time()}
            with open(self.out / f"metric-{name}.jsonl", "a") as f:
                f.write(json.dumps(line) + "\n")
        return (f"metrics at {nimg / 1000:g} kimg, {self.samples} pictures: {summary(results)}  "
                f"({sum(seconds.values()):.1f} s)")
