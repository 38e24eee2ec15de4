"""Three ways a generator reaches us, one result: our `Generator` / `Generator3` in eval mode.
The discriminator `D` comes along where the file has one (`load_discriminator`).

- NVIDIA network pickles (stylegan2-ada-pytorch, stylegan3; network `G_ema`), read with the
  restricted unpickler of `safe_pickle`: the generator is rebuilt from its recorded
  constructor kwargs and module state, never from the code the pickle carries.
- rosinality `.pt` files (`g_ema` state dict, `latent_avg`), read with
  `torch.load(weights_only=True)` and renamed onto the StyleGAN2 modules.
- safetensors files written by `save_safetensors` (`dreamface convert`), with the
  architecture kwargs as JSON in the header metadata. The fast path for operators. The
  discriminator, when converted along, sits beside it under the `discriminator.` prefix.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from facegen.stylegan.discriminator import Discriminator
from facegen.stylegan.errors import CheckpointError
from facegen.stylegan.networks2 import Generator
from facegen.stylegan.networks3 import Generator3
from facegen.stylegan.ops import fir_filter
from facegen.stylegan.safe_pickle import RecordedModule, UnsafePickle, load_restricted

AnyGenerator = Generator | Generator3
METADATA_KEY = "dreamface_stylegan"
SAFETENSORS_FORMAT = 1
ARCHITECTURES: dict[str, type[nn.Module]] = {"stylegan2": Generator, "stylegan3": Generator3}

# Constructor kwargs NVIDIA records that we use, and those that only matter for training or
# for half precision (we always compute in float32).
_MAPPING_USED = {"num_layers", "layer_features", "lr_multiplier"}
_MAPPING_IGNORED = {"w_avg_beta", "embed_features", "activation"}
_SYNTHESIS_USED = {
    "stylegan2": {"channel_base", "channel_max", "conv_clamp", "resample_filter"},
    "stylegan3": {"channel_base", "channel_max", "num_layers", "num_critical", "first_cutoff", "first_stopband",
                  "last_stopband_rel", "margin_size", "output_scale", "conv_kernel", "filter_size",
                  "lrelu_upsampling", "use_radial_filters", "conv_clamp"},
}
_SYNTHESIS_IGNORED = {"num_fp16_res", "fp16_channels_last", "fused_modconv_default", "magnitude_ema_beta",
                      "architecture"}
# Discriminator kwargs NVIDIA records (both repositories train the same D): what we use,
# what only matters for training or half precision, and options that must keep their default.
_D_USED = {"img_resolution", "img_channels", "architecture", "channel_base", "channel_max", "conv_clamp"}
_D_IGNORED = {"c_dim", "num_fp16_res", "cmap_dim", "mapping_kwargs", "block_kwargs", "epilogue_kwargs"}
_D_BLOCK_IGNORED = {"freeze_layers", "fp16_channels_last"}
_D_EPILOGUE_USED = {"mbstd_group_size", "mbstd_num_channels"}
D_PREFIX = "discriminator."   # its tensors' prefix in dreamface safetensors files
log = logging.getLogger(__name__)
_TORCH_ZIP_MAGIC = b"PK\x03\x04"
_TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


def load_generator(path: str | Path) -> AnyGenerator:
    """Any supported checkpoint → generator in eval mode; CheckpointError names the problem."""
    return _by_format(path, load_rosinality, load_nvidia_pickle, load_safetensors)


def load_discriminator(path: str | Path) -> Discriminator | None:
    """The checkpoint's discriminator in eval mode, or None where the file carries none (a
    `G_ema`-only pickle, rosinality files, safetensors converted without one). CheckpointError
    for a discriminator that is there but cannot be built (conditional, unknown options)."""
    return _by_format(path, lambda p: None, load_nvidia_discriminator, load_safetensors_discriminator)


def optional_discriminator(path: str | Path) -> Discriminator | None:
    """`load_discriminator`, with an unusable discriminator logged and left out: photo inversion
    then falls back to the pixel loss rather than the backend failing to start."""
    return _optional(path, lambda: load_discriminator(path))


def load_networks(path: str | Path) -> tuple[AnyGenerator, Discriminator | None]:
    """`load_generator` and `optional_discriminator` from one read of the file (a 1024-px
    pickle is hundreds of megabytes)."""
    def nvidia(p: Path) -> tuple[AnyGenerator, Discriminator | None]:
        data = _recorded_networks(p)
        return _nvidia_generator(data, p), _optional(p, lambda: _nvidia_discriminator(data, p))

    def safetensors(p: Path) -> tuple[AnyGenerator, Discriminator | None]:
        meta, state = _read_safetensors(p)
        return _safetensors_generator(meta, state, p), _optional(p, lambda: _safetensors_discriminator(meta, state, p))

    return _by_format(path, lambda p: (load_rosinality(p), None), nvidia, safetensors)


def _optional(path: str | Path, load: Any) -> Discriminator | None:
    try:
        return load()
    except CheckpointError as exc:
        log.warning("%s; photo inversion will not use the discriminator", exc)
    except _UNREADABLE as exc:
        log.warning("%s: unreadable discriminator (%s: %s); photo inversion will not use it",
                    path, type(exc).__name__, exc)
    return None


# What reading a corrupt file can raise (MemoryError: a corrupt length field).
_UNREADABLE = (UnsafePickle, pickle.UnpicklingError, EOFError, zipfile.BadZipFile, RuntimeError, ValueError,
               KeyError, TypeError, AttributeError, OSError, MemoryError)


def _by_format(path: str | Path, rosinality: Any, nvidia: Any, safetensors: Any) -> Any:
    """Call the reader for the file's format (sniffed from its first bytes)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    with path.open("rb") as f:
        head = f.read(16)
    try:
        if head.startswith(_TORCH_ZIP_MAGIC) or head.startswith(_TORCH_LEGACY_MAGIC):
            return rosinality(path)
        # safetensors before pickles: its first 8 bytes are the JSON header's length, whose low
        # byte is a pickle's 0x80 for one header length in 256
        if len(head) > 8 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < path.stat().st_size:
            return safetensors(path)
        if head[:1] == b"\x80":
            return nvidia(path)
    except CheckpointError:
        raise
    except _UNREADABLE as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(exc).__name__}: {exc})") from None
    raise CheckpointError(f"{path}: not a StyleGAN checkpoint (NVIDIA pickle, rosinality .pt or dreamface safetensors)")


def build_generator(arch: str, init_kwargs: dict[str, Any]) -> AnyGenerator:
    """A generator of the named architecture with random weights."""
    if arch not in ARCHITECTURES:
        raise CheckpointError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch](**init_kwargs)


def _finish(generator: AnyGenerator, state: dict[str, torch.Tensor], source: str) -> AnyGenerator:
    own = generator.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise CheckpointError(f"{source}: weights do not fit the {generator.arch} architecture "
                              f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    for key, value in state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise CheckpointError(f"{source}: {key} has shape {list(value.shape)}, expected {list(own[key].shape)}")
    generator.load_state_dict({k: v.to(torch.float32) for k, v in state.items()})
    return generator.eval().requires_grad_(False)


# --- NVIDIA pickles ---------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """numpy scalars and EasyDicts → JSON-able Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _pick(kwargs: dict[str, Any], used: set[str], ignored: set[str], what: str) -> dict[str, Any]:
    unknown = sorted(set(kwargs) - used - ignored)
    if unknown:
        raise CheckpointError(f"{what}: unsupported options {unknown}")
    return {k: v for k, v in kwargs.items() if k in used}


def nvidia_init_kwargs(recorded: RecordedModule) -> tuple[str, dict[str, Any]]:
    """(architecture, our constructor kwargs) from a recorded NVIDIA `Generator`."""
    if recorded.class_name != "Generator" or recorded.init_args:
        raise CheckpointError(f"G_ema is a {recorded.class_name} built with positional arguments; "
                              "expected an NVIDIA StyleGAN Generator")
    kwargs = _plain(recorded.init_kwargs)
    synthesis = recorded.modules.get("synthesis")
    arch = "stylegan3" if synthesis is not None and "input" in synthesis.modules else "stylegan2"
    if kwargs.pop("c_dim", 0):
        raise CheckpointError("conditional generators (c_dim > 0) are not supported")
    top = {k: kwargs.pop(k) for k in ("z_dim", "w_dim", "img_resolution", "img_channels") if k in kwargs}
    mapping = _pick(kwargs.pop("mapping_kwargs", {}) or {}, _MAPPING_USED, _MAPPING_IGNORED, "mapping_kwargs")
    # stylegan2-ada-pytorch nests the synthesis options; the stylegan3 repository (both of its
    # generators) passes them at the top level.
    synthesis_kwargs = kwargs.pop("synthesis_kwargs") if "synthesis_kwargs" in kwargs else kwargs
    if synthesis_kwargs.get("architecture", "skip") != "skip":
        raise CheckpointError(f"only the 'skip' StyleGAN2 generator is supported, "
                              f"not {synthesis_kwargs['architecture']!r}")
    synthesis_kwargs = _pick(synthesis_kwargs, _SYNTHESIS_USED[arch], _SYNTHESIS_IGNORED, "synthesis_kwargs")
    return arch, {**top, "mapping_kwargs": mapping, "synthesis_kwargs": synthesis_kwargs}


def _recorded_networks(path: str | Path) -> dict[str, RecordedModule]:
    """The recorded modules of an NVIDIA pickle by name (G, D, G_ema …), without executing
    anything the file carries."""
    with Path(path).open("rb") as f:
        try:
            data = load_restricted(f)
        except UnsafePickle as exc:
            raise CheckpointError(f"{path}: refused, {exc}") from None
    if not isinstance(data, dict):
        return {}
    return {name: module for name, module in data.items() if isinstance(module, RecordedModule)}


def load_nvidia_pickle(path: str | Path, network: str = "G_ema") -> AnyGenerator:
    """The named generator of an NVIDIA pickle."""
    return _nvidia_generator(_recorded_networks(path), path, network)


def _nvidia_generator(networks: dict[str, RecordedModule], path: str | Path, network: str = "G_ema") -> AnyGenerator:
    recorded = networks.get(network)
    if recorded is None:
        raise CheckpointError(f"{path}: no {network} network in this pickle")
    arch, init_kwargs = nvidia_init_kwargs(recorded)
    return _finish(build_generator(arch, init_kwargs), recorded.state_dict(), str(path))


def nvidia_discriminator_kwargs(recorded: RecordedModule) -> dict[str, Any]:
    """Our Discriminator kwargs from a recorded NVIDIA `Discriminator`."""
    if recorded.class_name != "Discriminator" or recorded.init_args:
        raise CheckpointError(f"D is a {recorded.class_name} built with positional arguments; "
                              "expected an NVIDIA StyleGAN Discriminator")
    kwargs = _plain(recorded.init_kwargs)
    if kwargs.get("c_dim", 0) or "mapping" in recorded.modules:
        raise CheckpointError("conditional discriminators (c_dim > 0) are not supported")
    block = dict(kwargs.get("block_kwargs") or {})
    epilogue = dict(kwargs.get("epilogue_kwargs") or {})
    for what, options in (("block_kwargs", block), ("epilogue_kwargs", epilogue)):
        if options.pop("activation", "lrelu") != "lrelu":
            raise CheckpointError(f"discriminator {what}: only the leaky ReLU activation is supported")
    resample_filter = block.pop("resample_filter", [1, 3, 3, 1])
    _pick(block, set(), _D_BLOCK_IGNORED, "discriminator block_kwargs")
    ours = _pick(kwargs, _D_USED, _D_IGNORED, "discriminator")
    return {**ours, "resample_filter": resample_filter,
            **_pick(epilogue, _D_EPILOGUE_USED, set(), "discriminator epilogue_kwargs")}


def _build_discriminator(kwargs: dict[str, Any], state: dict[str, torch.Tensor], source: str) -> Discriminator:
    try:
        discriminator = Discriminator(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{source}: unsupported discriminator ({exc})") from None
    own = discriminator.state_dict()
    if set(own) != set(state) or any(tuple(state[k].shape) != tuple(own[k].shape) for k in own):
        raise CheckpointError(f"{source}: the discriminator's weights do not fit its recorded architecture "
                              f"(missing {sorted(set(own) - set(state))[:3]}, "
                              f"unexpected {sorted(set(state) - set(own))[:3]})")
    discriminator.load_state_dict({k: v.to(torch.float32) for k, v in state.items()})
    return discriminator.eval().requires_grad_(False)


def load_nvidia_discriminator(path: str | Path) -> Discriminator | None:
    """`D` of an NVIDIA pickle (training snapshots carry it), None when absent."""
    return _nvidia_discriminator(_recorded_networks(path), path)


def _nvidia_discriminator(networks: dict[str, RecordedModule], path: str | Path) -> Discriminator | None:
    recorded = networks.get("D")
    if recorded is None:
        return None
    return _build_discriminator(nvidia_discriminator_kwargs(recorded), recorded.state_dict(), f"{path}: D")


# --- rosinality -------------------------------------------------------------------------------

def rosinality_to_nvidia(state: dict[str, torch.Tensor], latent_avg: torch.Tensor) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(our StyleGAN2 init kwargs, our state dict) from a rosinality `g_ema` state dict."""
    n_mlp = len([k for k in state if re.fullmatch(r"style\.\d+\.weight", k)])
    num_up = len([k for k in state if re.fullmatch(r"to_rgbs\.\d+\.conv\.weight", k)])
    resolution = 4 * 2 ** num_up
    out: dict[str, torch.Tensor] = {}
    for i in range(n_mlp):
        out[f"mapping.fc{i}.weight"] = state[f"style.{i + 1}.weight"]
        out[f"mapping.fc{i}.bias"] = state[f"style.{i + 1}.bias"]
    out["mapping.w_avg"] = latent_avg.reshape(-1)
    out["synthesis.b4.const"] = state["input.input"][0]

    def conv(src: str, dst: str, noise: str) -> None:
        out[f"{dst}.weight"] = state[f"{src}.conv.weight"][0]
        out[f"{dst}.affine.weight"] = state[f"{src}.conv.modulation.weight"]
        out[f"{dst}.affine.bias"] = state[f"{src}.conv.modulation.bias"]
        out[f"{dst}.noise_strength"] = state[f"{src}.noise.weight"].reshape([])
        out[f"{dst}.bias"] = state[f"{src}.activate.bias"]
        out[f"{dst}.noise_const"] = state[f"noises.{noise}"][0, 0]
        out[f"{dst}.resample_filter"] = fir_filter([1, 3, 3, 1])

    def torgb(src: str, dst: str) -> None:
        out[f"{dst}.weight"] = state[f"{src}.conv.weight"][0]
        out[f"{dst}.affine.weight"] = state[f"{src}.conv.modulation.weight"]
        out[f"{dst}.affine.bias"] = state[f"{src}.conv.modulation.bias"]
        out[f"{dst}.bias"] = state[f"{src}.bias"].reshape(-1)

    conv("conv1", "synthesis.b4.conv1", "noise_0")
    torgb("to_rgb1", "synthesis.b4.torgb")
    channels = {4: state["conv1.conv.weight"].shape[1]}
    for k in range(num_up):
        res = 8 * 2 ** k
        conv(f"convs.{2 * k}", f"synthesis.b{res}.conv0", f"noise_{2 * k + 1}")
        conv(f"convs.{2 * k + 1}", f"synthesis.b{res}.conv1", f"noise_{2 * k + 2}")
        torgb(f"to_rgbs.{k}", f"synthesis.b{res}.torgb")
        channels[res] = state[f"convs.{2 * k}.conv.weight"].shape[1]
    for res in channels:
        out[f"synthesis.b{res}.resample_filter"] = fir_filter([1, 3, 3, 1])
    kernel = state.get("to_rgbs.0.upsample.kernel")
    if kernel is not None and not torch.allclose(kernel / kernel.sum(), fir_filter([1, 3, 3, 1])):
        raise CheckpointError("rosinality model with a blur kernel other than [1, 3, 3, 1]")

    channel_max = channels[4]
    channel_base = max(channels[r] * r for r in channels if channels[r] < channel_max) if any(
        channels[r] < channel_max for r in channels) else channel_max * resolution
    if any(min(channel_base // r, channel_max) != c for r, c in channels.items()):
        raise CheckpointError(f"rosinality channel counts {channels} do not follow min(base / res, max)")
    w_dim, z_dim = state["style.1.weight"].shape
    kwargs = dict(z_dim=int(z_dim), w_dim=int(w_dim), img_resolution=resolution, img_channels=3,
                  mapping_kwargs=dict(num_layers=n_mlp, lr_multiplier=0.01),
                  synthesis_kwargs=dict(channel_base=int(channel_base), channel_max=int(channel_max), conv_clamp=None))
    return kwargs, out


def _mean_w(generator: Generator, samples: int = 10_000) -> torch.Tensor:
    """The average w of a mapping network, for files that do not store one."""
    z = torch.from_numpy(np.random.RandomState(0).randn(samples, generator.z_dim)).to(torch.float32)
    with torch.no_grad():
        return generator.mapping(z)[:, 0].mean(dim=0)


def load_rosinality(path: str | Path) -> Generator:
    """`g_ema` of a rosinality stylegan2-pytorch checkpoint (`latent_avg` when stored)."""
    # Training checkpoints also hold their argparse options; Namespace is plain data.
    with torch.serialization.safe_globals([argparse.Namespace]):
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or "g_ema" not in ckpt:
        raise CheckpointError(f"{path}: a torch file without a rosinality 'g_ema' state dict")
    state = ckpt["g_ema"]
    latent_avg = ckpt.get("latent_avg")
    w_dim = state["style.1.weight"].shape[0]
    kwargs, ours = rosinality_to_nvidia(state, latent_avg if latent_avg is not None else torch.zeros(w_dim))
    generator = _finish(build_generator("stylegan2", kwargs), ours, str(path))
    if latent_avg is None:
        generator.mapping.w_avg.copy_(_mean_w(generator))
    return generator


def nvidia_to_rosinality(generator: Generator) -> dict[str, torch.Tensor]:
    """The inverse renaming: a rosinality-style `g_ema` state dict of one of our StyleGAN2s."""
    state = generator.state_dict()
    out: dict[str, torch.Tensor] = {}
    for i in range(generator.mapping.num_layers):
        out[f"style.{i + 1}.weight"] = state[f"mapping.fc{i}.weight"]
        out[f"style.{i + 1}.bias"] = state[f"mapping.fc{i}.bias"]
    out["input.input"] = state["synthesis.b4.const"][None]
    resolutions = generator.synthesis.block_resolutions

    def conv(src: str, dst: str, noise: str) -> None:
        out[f"{dst}.conv.weight"] = state[f"{src}.weight"][None]
        out[f"{dst}.conv.modulation.weight"] = state[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = state[f"{src}.affine.bias"]
        out[f"{dst}.noise.weight"] = state[f"{src}.noise_strength"].reshape(1)
        out[f"{dst}.activate.bias"] = state[f"{src}.bias"]
        out[f"noises.{noise}"] = state[f"{src}.noise_const"][None, None]

    def torgb(src: str, dst: str) -> None:
        out[f"{dst}.conv.weight"] = state[f"{src}.weight"][None]
        out[f"{dst}.conv.modulation.weight"] = state[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = state[f"{src}.affine.bias"]
        out[f"{dst}.bias"] = state[f"{src}.bias"].reshape(1, -1, 1, 1)

    conv("synthesis.b4.conv1", "conv1", "noise_0")
    torgb("synthesis.b4.torgb", "to_rgb1")
    for k, res in enumerate(resolutions[1:]):
        conv(f"synthesis.b{res}.conv0", f"convs.{2 * k}", f"noise_{2 * k + 1}")
        conv(f"synthesis.b{res}.conv1", f"convs.{2 * k + 1}", f"noise_{2 * k + 2}")
        torgb(f"synthesis.b{res}.torgb", f"to_rgbs.{k}")
        out[f"to_rgbs.{k}.upsample.kernel"] = fir_filter([1, 3, 3, 1]) * 4
    return {k: v.clone() for k, v in out.items()}


# --- safetensors ------------------------------------------------------------------------------

def save_safetensors(generator: AnyGenerator, path: str | Path, discriminator: Discriminator | None = None) -> None:
    """Write `safetensors_bytes` to `path`."""
    Path(path).write_bytes(safetensors_bytes(generator, discriminator))


def safetensors_bytes(generator: AnyGenerator, discriminator: Discriminator | None = None) -> bytes:
    """Weights plus a JSON header naming the architecture and its constructor kwargs; the
    discriminator's, when given, under D_PREFIX with its kwargs in the header too."""
    from safetensors.torch import save
    meta: dict[str, Any] = {"format": SAFETENSORS_FORMAT, "arch": generator.arch, "init_kwargs": generator.init_kwargs}
    tensors = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in generator.state_dict().items()}
    if discriminator is not None:
        meta["discriminator_kwargs"] = discriminator.init_kwargs
        tensors.update({D_PREFIX + k: v.detach().to("cpu", copy=True).contiguous()
                        for k, v in discriminator.state_dict().items()})
    return save(tensors, metadata={METADATA_KEY: json.dumps(meta)})


def _read_safetensors(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(header metadata, tensors) of a dreamface safetensors file."""
    from safetensors import SafetensorError, safe_open
    try:
        with safe_open(str(path), framework="pt") as f:
            meta_text = (f.metadata() or {}).get(METADATA_KEY)
            if meta_text is None:
                raise CheckpointError(f"{path}: a safetensors file without dreamface's architecture header; "
                                      "write it with `dreamface convert`")
            state = {key: f.get_tensor(key) for key in f.keys()}
    except SafetensorError as exc:
        raise CheckpointError(f"{path}: corrupt safetensors file ({exc})") from None
    meta = json.loads(meta_text)
    if meta.get("format") != SAFETENSORS_FORMAT:
        raise CheckpointError(f"{path}: dreamface safetensors format {meta.get('format')} is not supported")
    return meta, state


def load_safetensors(path: str | Path) -> AnyGenerator:
    return _safetensors_generator(*_read_safetensors(path), path)


def _safetensors_generator(meta: dict[str, Any], state: dict[str, torch.Tensor], path: str | Path) -> AnyGenerator:
    state = {k: v for k, v in state.items() if not k.startswith(D_PREFIX)}
    return _finish(build_generator(meta["arch"], meta["init_kwargs"]), state, str(path))


def load_safetensors_discriminator(path: str | Path) -> Discriminator | None:
    return _safetensors_discriminator(*_read_safetensors(path), path)


def _safetensors_discriminator(meta: dict[str, Any], state: dict[str, torch.Tensor],
                               path: str | Path) -> Discriminator | None:
    if "discriminator_kwargs" not in meta:
        return None
    state = {k.removeprefix(D_PREFIX): v for k, v in state.items() if k.startswith(D_PREFIX)}
    return _build_discriminator(meta["discriminator_kwargs"], state, f"{path}: discriminator")


def weights_digest(generator: nn.Module) -> str:
    """A short id of the weights alone: the same for one model in any file format."""
    digest = hashlib.sha256()
    for key, value in sorted(generator.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
