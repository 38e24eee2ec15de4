"""Running synthesis on a device: device choice, precision, torch.compile, and batches cut into
chunks that fit in memory.

`Runner.run(items, forward)` calls `forward` on chunks of at most `limit` items and joins the
results. On CUDA the limit also follows free memory (a per-face estimate measured on every
chunk). Out of memory, a chunk is halved (the cache emptied) and retried, and the lower limit
is kept for later batches; a single face that still does not fit raises `RenderOutOfMemory`.
Faces do not interact in a batch: a face renders the same in any chunk, up to the rounding the
convolution library does differently per batch size (~1e-6, at most the last uint8 level).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import torch

from ground import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}
MEMORY_HEADROOM = 0.8   # share of the free memory a chunk may plan to use (the estimate is rough)


class DeviceUnavailable(RuntimeError):
    """The configured torch device does not exist on this machine."""


class RenderOutOfMemory(RuntimeError):
    """Even one face does not fit in the device's memory."""


def select_device(name: str) -> torch.device:
    """The torch device for a setting value (cpu, cuda, cuda:N, mps), or a clear error if this
    machine or torch build cannot run it."""
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only torch build" if torch.version.cuda is None else f"torch for CUDA {torch.version.cuda}"
            raise DeviceUnavailable(f"the stylegan device is {name!r} but no CUDA GPU is usable here ({build}, "
                                    f"torch {torch.__version__}); set DREAMFACE_STYLEGAN_DEVICE=cpu or install "
                                    "a CUDA build of torch")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise DeviceUnavailable(f"the stylegan device is {name!r} but this machine has {count} CUDA GPU(s) "
                                    f"(cuda:0 to cuda:{count - 1})")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceUnavailable(f"the stylegan device is {name!r} but Apple's MPS is not available here")
    return device


def precision_dtype(precision: str) -> torch.dtype | None:
    """None for fp32 (no autocast: the exact path), else the autocast dtype."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return PRECISIONS[precision]


def warn_if_unclamped_fp16(model: torch.nn.Module, precision: str) -> None:
    """fp16 tops out at 65504. With the activation clamp of FFHQ checkpoints (conv_clamp 256) a
    demodulated conv cannot get there; without it (rosinality, TF-converted config F) it might."""
    if precision == "fp16" and any(getattr(m, "conv_clamp", 0) is None for m in model.modules()):
        log.warning("fp16 with a checkpoint that does not clamp its activations (conv_clamp) may overflow "
                    "(blank or speckled faces); bf16 has the range of fp32")


def memory_fit(free_bytes: int, per_item_bytes: float, limit: int, headroom: float = MEMORY_HEADROOM) -> int:
    """How many items (at least 1, at most `limit`) fit in `headroom` of `free_bytes`."""
    if per_item_bytes <= 0:
        return limit
    return max(1, min(limit, int(free_bytes * headroom // per_item_bytes)))


class Runner:
    """Chunked, memory-aware execution of one model on one device."""

    def __init__(self,
                 device: torch.device,      # where the model runs
                 max_batch: int = 32,       # most items per forward pass; lowered for good after an OOM
                 precision: str = "fp32",   # fp32 (exact), fp16 or bf16 (autocast)
                 backend: str = "stylegan", # label of the metrics
                 ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.device = device
        self.limit = max_batch
        self.dtype = precision_dtype(precision)
        self.backend = backend
        self.per_item_bytes: float | None = None   # CUDA only: peak memory per item, from the last chunk
        metrics.RENDER_BATCH_LIMIT.labels(backend).set(self.limit)

    def autocast(self) -> contextlib.AbstractContextManager:
        """Reduced-precision arithmetic for convolutions and matmuls, or nothing for fp32."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def chunk_size(self, remaining: int) -> int:
        n = min(self.limit, remaining)
        if self.device.type == "cuda" and self.per_item_bytes:
            free, _ = torch.cuda.mem_get_info(self.device)
            # memory torch holds in its cache but no tensor uses is free for us too
            free += torch.cuda.memory_reserved(self.device) - torch.cuda.memory_allocated(self.device)
            n = memory_fit(free, self.per_item_bytes, n)
        return n

    def run(self, items: Sequence[T], forward: Callable[[Sequence[T]], torch.Tensor]) -> torch.Tensor:
        """`forward` over chunks of `items`, results concatenated along dim 0 (on the CPU)."""
        out: list[torch.Tensor] = []
        start = 0
        while start < len(items):
            n = self.chunk_size(len(items) - start)
            out_of_memory = False
            try:
                with self._measured(n):
                    result = forward(items[start:start + n])
            except torch.OutOfMemoryError:   # torch.cuda.OutOfMemoryError is the same class
                out_of_memory = True
            if out_of_memory:
                # outside the except block: the traceback no longer pins the chunk's tensors
                self._free_cache()
                if n == 1:
                    raise RenderOutOfMemory(
                        f"one face does not fit in the memory of {self.device} (out of memory even at batch 1); "
                        "use a smaller checkpoint, DREAMFACE_STYLEGAN_PRECISION=fp16, or a device with more "
                        "free memory") from None
                self.limit = n // 2
                metrics.RENDER_BATCH_LIMIT.labels(self.backend).set(self.limit)
                log.warning("%s: out of memory at a batch of %d on %s; retrying in batches of %d",
                            self.backend, n, self.device, self.limit)
                continue
            metrics.RENDER_BATCH.labels(self.backend).observe(n)
            out.append(result.cpu())
            start += n
        return torch.cat(out) if out else torch.empty(0)

    @contextlib.contextmanager
    def _measured(self, n: int) -> Iterator[None]:
        """On CUDA, note the peak memory per item of this chunk."""
        if self.device.type != "cuda":
            yield
            return
        torch.cuda.reset_peak_memory_stats(self.device)
        before = torch.cuda.memory_allocated(self.device)
        yield
        self.per_item_bytes = (torch.cuda.max_memory_allocated(self.device) - before) / n

    def _free_cache(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


def compiled(module: torch.nn.Module) -> Callable[..., torch.Tensor]:
    """`module` compiled with torch.compile (the first calls at each new batch size are slow)."""
    return torch.compile(module, dynamic=None)
