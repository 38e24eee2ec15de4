"""Memory of a 1024-px StyleGAN2 worker (a script that prints figures; not a timed test).

    .venv/bin/python bench/stylegan_memory.py [--resolution 1024] [--batches 1,2] [--device cpu]
        [--no-inversion]
    .venv/bin/python bench/stylegan_memory.py --smoke     # 16 px, batch 1, on CUDA if present: checks the script

A config-F generator (512-dim z and w, 8 mapping layers, channel base 32768, max 512, clamp
256) and its resnet discriminator (the one photo inversion keeps resident), random weights:

- weights: parameters and buffers (the stored noise maps) of G and D, in fp32 bytes;
- synthesis: the peak of live activation tensors during one forward pass through
  `StyleGANBackend.synthesize` (the worker's path, fp32, noise const) per batch size, beside
  CPU and wall seconds of an unmeasured pass;
- inversion: what `invert` keeps for its loss (the target's D features) and the peak of live
  tensors during one step at batch 1 (synthesis with grad on W+, the discriminator-features
  loss, backward through D and G).

On CUDA the peaks are `torch.cuda.max_memory_allocated` above what was allocated before. On the
CPU they are the sum of the tensor storages alive at once, tracked by a dispatch mode that sees
every storage an operator creates and when it is freed: the same tensors a GPU would hold, but
without the caching allocator's rounding, cuDNN workspaces or the CUDA context, so on a GPU
count those on top.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facegen.stylegan.backend import StyleGANBackend  # noqa: E402
from facegen.stylegan.discriminator import Discriminator  # noqa: E402
from facegen.stylegan.inversion import DiscriminatorFeatures  # noqa: E402
from facegen.stylegan.networks2 import Generator  # noqa: E402

MiB = 2 ** 20


class LiveTensors(TorchDispatchMode):
    """Bytes of tensor storages created inside the mode and still alive: now and at the peak."""

    def __init__(self) -> None:
        super().__init__()
        self.alive: dict[int, int] = {}
        self.now = self.peak = self.largest = 0

    def _freed(self, key: int) -> None:
        self.now -= self.alive.pop(key)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        # views and in-place results share an input's storage (a parameter's, say): not new memory
        inputs = {t.untyped_storage()._cdata for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)}
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.device.type == "cpu":
                storage = t.untyped_storage()
                key = storage._cdata
                if key not in self.alive and key not in inputs:
                    self.alive[key] = storage.nbytes()
                    self.now += storage.nbytes()
                    self.largest = max(self.largest, storage.nbytes())
                    # storages keep their Python object while alive, so this fires when the memory goes
                    weakref.finalize(storage, self._freed, key)
        self.peak = max(self.peak, self.now)
        return out


@contextlib.contextmanager
def tracked(device: torch.device) -> Iterator[LiveTensors]:
    """Peak / still-alive bytes above the start, on CUDA from the allocator's statistics."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        stats = LiveTensors()
        yield stats
        torch.cuda.synchronize(device)
        stats.peak = torch.cuda.max_memory_allocated(device) - before
        stats.now = torch.cuda.memory_allocated(device) - before
    else:
        with LiveTensors() as stats:
            yield stats


def nbytes(tensors: Iterator[torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resolution", type=int, default=1024)
    parser.add_argument("--batches", default="1,2", help="comma-separated batch sizes")
    parser.add_argument("--device", help="default: cpu (with --smoke: cuda where present)")
    parser.add_argument("--no-inversion", dest="inversion", action="store_false")
    parser.add_argument("--smoke", action="store_true", help="16 px, batch 1: a quick check that the script runs")
    args = parser.parse_args()
    if args.smoke:
        args.resolution, args.batches = 16, "1"
        if not args.device and not torch.cuda.is_available():
            print("(CUDA absent: the GPU allocator's peaks skipped, live tensors counted on the CPU)")
    device = torch.device(args.device or ("cuda" if args.smoke and torch.cuda.is_available() else "cpu"))
    torch.manual_seed(0)
    g = Generator(z_dim=512, w_dim=512, img_resolution=args.resolution, img_channels=3,
                  mapping_kwargs=dict(num_layers=8),
                  synthesis_kwargs=dict(channel_base=32768, channel_max=512, conv_clamp=256))
    d = Discriminator(img_resolution=args.resolution, architecture="resnet", channel_base=32768,
                      channel_max=512, conv_clamp=256)
    backend = StyleGANBackend(g, noise_mode="const", device=str(device), discriminator=d)
    g, d = backend.generator, backend.discriminator.eval().requires_grad_(False)
    print(f"torch {torch.__version__}, {device}, {torch.get_num_threads()} threads, {args.resolution} px, fp32")
    for name, net in (("G", g), ("D", d)):
        count = sum(p.numel() for p in net.parameters())
        print(f"{name}: {count / 1e6:.2f} M parameters = {nbytes(net.parameters()) / MiB:.1f} MiB, "
              f"buffers {nbytes(net.buffers()) / MiB:.1f} MiB")

    rng = np.random.RandomState(0)
    for batch in (int(b) for b in args.batches.split(",")):
        codes = [backend.sample(int(seed)) for seed in rng.randint(0, 2 ** 31, batch)]
        wall, cpu = timed(lambda: backend.synthesize(codes))   # also the warm-up of the measured pass
        with tracked(device) as live:
            backend.synthesize(codes)
        print(f"synthesis batch {batch}: peak live activations {live.peak / MiB:.0f} MiB "
              f"({live.peak / batch / MiB:.0f} MiB per image; largest tensor {live.largest / MiB:.0f} MiB); "
              f"{wall:.1f} s wall, {cpu:.1f} s CPU")

    if args.inversion:
        target = torch.rand(1, 3, args.resolution, args.resolution, device=device) * 2 - 1
        with tracked(device) as kept:
            loss = DiscriminatorFeatures(d, target)
        ws = torch.from_numpy(backend.average()[None]).to(device).requires_grad_()

        def step() -> None:
            loss(g.synthesis(ws, noise_mode="const")).sum().backward()
            ws.grad = None

        wall, cpu = timed(step)
        with tracked(device) as live:
            step()
        print(f"inversion: the loss keeps {kept.now / MiB:.0f} MiB (the target's D features); one step at batch 1 "
              f"(synthesis + D features + backward through both) peaks at {live.peak / MiB:.0f} MiB of live "
              f"tensors; {wall:.1f} s wall, {cpu:.1f} s CPU")
    if device.type == "cpu":
        print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
              "(weights, activations, allocator slack and the torch libraries)")


if __name__ == "__main__":
    main()
