"""Training in several processes through torch.distributed, as NVIDIA's train.py does it: each
process takes an equal share of every batch, computes its gradients, and the processes average
them (one all-reduce per phase) before every process takes the same optimiser step.

Started by torchrun (which sets RANK, LOCAL_RANK and WORLD_SIZE); without it a run is one
process and nothing here talks to anyone. The processes talk through NCCL when they train on
GPUs (one per process, by LOCAL_RANK) and through gloo on CPUs.

A run in several processes equals the one-process run up to the order of its sums, because:

- every process holds the same random generators and draws every number for the whole batch
  (latents, mixing, noise, path-length directions), then keeps its own rows (`Shard.rows`);
- the rows are strided (process i takes rows i, i + count, …), so each of D's minibatch-std
  groups (rows j, j + batch / group, …) falls inside one process whenever the share is a
  multiple of the group size (options.check_processes);
- the batch means that are no gradient (G's average w, the path-length mean) are means over all
  processes, and the path-length mean stays differentiable across them (`Shard.mean`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import torch
import torch.distributed as dist
from torch import nn


class _SumOverProcesses(torch.autograd.Function):
    """Σ of a tensor over the processes; its gradient is summed likewise, since every process's
    loss depends on every process's part."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        dist.all_reduce(total)
        return total


class Shard(NamedTuple):
    """This process's part of every batch: rows index, index + count, … of the whole batch."""

    index: int = 0   # this process's rank; 0 writes the files and the progress
    count: int = 1   # processes in all
    device: torch.device = torch.device("cpu")   # where this process trains (its GPU under NCCL)

    @property
    def leader(self) -> bool:
        return self.index == 0

    def rows(self, whole):
        """This process's rows of a whole batch (a tensor or a list)."""
        return whole if self.count == 1 else whole[self.index::self.count]

    def randn(self, shape: list[int] | torch.Size, generator: torch.Generator | None) -> torch.Tensor:
        """Gaussian numbers for this process's rows: the whole batch's drawn, these rows kept."""
        whole = torch.randn([shape[0] * self.count, *shape[1:]], generator=generator)
        return self.rows(whole).to(self.device)

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """The mean over the whole batch (dim 0) of per-row values, differentiable."""
        if self.count == 1:
            return values.mean(dim=0)
        return _SumOverProcesses.apply(values.sum(dim=0)) / (values.shape[0] * self.count)

    def average(self, tensor: torch.Tensor) -> torch.Tensor:
        """The processes' mean of a tensor, in place (no gradient)."""
        if self.count > 1:
            dist.all_reduce(tensor)
            tensor /= self.count
        return tensor

    def average_gradients(self, parameters: Iterable[nn.Parameter]) -> None:
        """Every parameter's gradient becomes the processes' mean, in one all-reduce."""
        if self.count == 1:
            return
        grads = [p.grad for p in parameters]
        flat = self.average(torch.cat([g.flatten() for g in grads]))
        for g, part in zip(grads, flat.split([g.numel() for g in grads])):
            g.copy_(part.view_as(g))

    def share_from_leader(self, modules: Iterable[nn.Module]) -> None:
        """Copy the leader's parameters and buffers to every process (as NVIDIA does at the start)."""
        if self.count > 1:
            for module in modules:
                for tensor in module.state_dict().values():
                    dist.broadcast(tensor, src=0)


def pick_device(name: str) -> torch.device:
    """`auto` (a GPU when torch sees one, else the CPU), `cpu` or `cuda`; under torchrun each
    process takes the GPU of its LOCAL_RANK. TrainingError-free: the caller words refusals."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda: torch sees no GPU here (use --device cpu)")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if name == "cpu":
        return torch.device("cpu")
    raise ValueError(f"--device must be auto, cpu or cuda, not {name!r}")


@contextmanager
def joined(device: torch.device = torch.device("cpu")) -> Iterator[Shard]:
    """This process's shard of the run: joins torchrun's process group for the run's length
    (NCCL between GPUs, gloo between CPUs), or is the only shard when not started by torchrun."""
    count = int(os.environ.get("WORLD_SIZE", "1"))
    if count == 1:
        yield Shard(device=device)
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield Shard(dist.get_rank(), dist.get_world_size(), device)
    finally:
        dist.destroy_process_group()
