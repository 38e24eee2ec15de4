"""Tiny random StyleGAN checkpoints written the way each source writes them, for the tests.

`write_nvidia_pickle` produces the structure of an NVIDIA network pickle (persistent objects
rebuilt by `torch_utils.persistence._reconstruct_persistent_obj`, carrying module source) from
our own modules, without NVIDIA's code: stand-in modules are put in sys.modules only while
pickling so the pickle can name those globals.
"""

from __future__ import annotations

import contextlib
import pickle
import sys
import types
from pathlib import Path

import pytest
import torch
from torch import nn

from facegen.stylegan.discriminator import Discriminator
from facegen.stylegan.networks2 import Generator
from facegen.stylegan.networks3 import Generator3

SG2_KWARGS = dict(z_dim=16, w_dim=16, img_resolution=16, img_channels=3,
                  mapping_kwargs=dict(num_layers=2),
                  synthesis_kwargs=dict(channel_base=128, channel_max=16, conv_clamp=None))
SG3_KWARGS = dict(z_dim=16, w_dim=16, img_resolution=16, img_channels=3,
                  mapping_kwargs=dict(num_layers=2),
                  synthesis_kwargs=dict(channel_base=256, channel_max=16, num_layers=4, margin_size=4))

D_KWARGS = dict(img_resolution=16, img_channels=3, channel_base=128, channel_max=16)


class Replay(nn.Module):
    """A stand-in generator that draws given pictures (uint8), in order, whatever the latent:
    what a metric scores against a set when G draws that set."""

    def __init__(self, pictures: torch.Tensor) -> None:
        super().__init__()
        self.pictures = pictures.float() / 127.5 - 1
        self.z_dim, self.img_resolution, self.img_channels = 4, pictures.shape[-1], pictures.shape[1]
        self.drawn = 0

    def forward(self, z, noise_mode="const", generator=None):
        rows = torch.arange(self.drawn, self.drawn + len(z)) % len(self.pictures)
        self.drawn += len(z)
        return self.pictures[rows]


def randomized(generator: nn.Module, seed: int = 0) -> nn.Module:
    """Random biases, noise strengths, average w and input magnitudes, so every stored tensor
    changes the picture (freshly built layers have many of them at 0 or 1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(generator.named_parameters()) + list(generator.named_buffers()):
            if name.endswith(("bias", "noise_strength", "w_avg")):
                t.copy_(torch.randn(t.shape, generator=g) * 0.3)
            elif name.endswith("magnitude_ema"):
                t.copy_(torch.rand([], generator=g) + 0.5)
    return generator.eval().requires_grad_(False)


def tiny_sg2(seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    return randomized(Generator(**SG2_KWARGS), seed)


def tiny_sg3(seed: int = 0, radial: bool = False) -> Generator3:
    torch.manual_seed(seed)
    kwargs = {**SG3_KWARGS, "synthesis_kwargs": {**SG3_KWARGS["synthesis_kwargs"]}}
    if radial:
        kwargs["synthesis_kwargs"].update(conv_kernel=1, use_radial_filters=True)
    return randomized(Generator3(**kwargs), seed)


def tiny_d(seed: int = 0, **kwargs) -> Discriminator:
    """A discriminator for the tiny 16-px generators (kwargs: architecture, conv_clamp, …)."""
    torch.manual_seed(seed + 1000)
    return randomized(Discriminator(**{**D_KWARGS, **kwargs}), seed)


class _EasyDict(dict):
    pass


def _reconstruct_persistent_obj(meta):   # only named in the pickle; never called here
    raise AssertionError("the stand-in must not run")


@contextlib.contextmanager
def _nvidia_globals():
    persistence = types.ModuleType("torch_utils.persistence")
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj
    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    util = types.ModuleType("dnnlib.util")
    util.EasyDict = _EasyDict
    _EasyDict.__module__, _EasyDict.__qualname__ = "dnnlib.util", "EasyDict"
    stand_ins = {"torch_utils": types.ModuleType("torch_utils"), "torch_utils.persistence": persistence,
                 "dnnlib": types.ModuleType("dnnlib"), "dnnlib.util": util}
    saved = {name: sys.modules.get(name) for name in stand_ins}
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def official_kwargs(generator: nn.Module) -> dict:
    """The Generator kwargs NVIDIA records: StyleGAN2 (ada) nests synthesis options, StyleGAN3
    passes them at the top level; both add c_dim and precision options we ignore. For a
    Discriminator, those train.py passes (both repositories train the same one)."""
    kw = generator.init_kwargs
    if isinstance(generator, Discriminator):
        return dict(c_dim=0, img_resolution=kw["img_resolution"], img_channels=kw["img_channels"],
                    architecture=kw["architecture"], channel_base=kw["channel_base"], channel_max=kw["channel_max"],
                    num_fp16_res=4, conv_clamp=kw["conv_clamp"],
                    block_kwargs=_EasyDict(resample_filter=kw["resample_filter"], freeze_layers=0),
                    mapping_kwargs=_EasyDict(),
                    epilogue_kwargs=_EasyDict(mbstd_group_size=kw["mbstd_group_size"],
                                              mbstd_num_channels=kw["mbstd_num_channels"]))
    top = dict(z_dim=kw["z_dim"], c_dim=0, w_dim=kw["w_dim"], img_resolution=kw["img_resolution"],
               img_channels=kw["img_channels"], mapping_kwargs={**kw["mapping_kwargs"], "w_avg_beta": 0.995})
    synthesis = {**kw["synthesis_kwargs"], "num_fp16_res": 4}
    if generator.arch == "stylegan2":
        return {**top, "synthesis_kwargs": {**synthesis, "architecture": "skip"}}
    return {**top, **synthesis}


class _NvidiaPickler(pickle.Pickler):
    def __init__(self, file, roots: list[nn.Module], module_src: str) -> None:
        super().__init__(file, protocol=4)
        self.roots, self.module_src = roots, module_src

    def reducer_override(self, obj):
        if not isinstance(obj, nn.Module):
            return NotImplemented
        state = dict(obj.__dict__)
        state["_init_args"] = ()
        state["_init_kwargs"] = official_kwargs(obj) if any(obj is r for r in self.roots) else {}
        name = {"Generator3": "Generator", "SynthesisNetwork3": "SynthesisNetwork",
                "SynthesisLayer3": "SynthesisLayer"}.get(type(obj).__name__, type(obj).__name__)
        meta = _EasyDict(type="class", version=4, module_src=self.module_src, class_name=name, state=state)
        return _reconstruct_persistent_obj, (meta,)


def write_nvidia_pickle(generator: nn.Module, path: Path, module_src: str = "# network code\n",
                        discriminator: Discriminator | None = None) -> None:
    """A network pickle; `discriminator` given: a training snapshot's, which carries D too."""
    with _nvidia_globals(), path.open("wb") as f:
        _NvidiaPickler(f, [generator, discriminator], module_src).dump(
            {"G": generator, "D": discriminator, "G_ema": generator, "training_set_kwargs": _EasyDict(resolution=16)})


@contextlib.contextmanager
def served_tiny_stylegan(directory: Path, monkeypatch):
    """The stylegan backend of this process on a tiny random checkpoint (DREAMFACE_STYLEGAN_CKPT),
    with torch on one thread (tiny tensors: more threads only contend); yields the backend."""
    from facegen.backends import load_backend
    from facegen.stylegan.loaders import save_safetensors
    save_safetensors(tiny_sg2(), directory / "g.safetensors")
    monkeypatch.setenv("DREAMFACE_STYLEGAN_CKPT", str(directory / "g.safetensors"))
    load_backend.cache_clear()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield load_backend("stylegan")
    finally:
        torch.set_num_threads(threads)
        load_backend.cache_clear()


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: threads only contend (the suite runs a worker per core). Autouse in every
    test module that imports it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
