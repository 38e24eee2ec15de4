"""Reading NVIDIA network pickles without running anything they carry.

stylegan2-ada-pytorch and stylegan3 pickle each network with its Python source: a persistent
object is rebuilt by `torch_utils.persistence._reconstruct_persistent_obj(meta)`, which would
import `meta.module_src` as a module and run it. Here that function, and every other global a
pickle may name, is looked up in a short table: tensor rebuilders, numpy arrays and scalars,
OrderedDict, set, and inert stand-ins for the persistence hook and `dnnlib.EasyDict`. The
stand-in records the class name, its init kwargs and the module state (parameters, buffers,
submodules); the source text is never compiled. Any other global stops the load.
"""

from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import torch


class UnsafePickle(pickle.UnpicklingError):
    """The pickle names a global outside the table of what network pickles need."""


class RecordedDict(dict):
    """Stand-in for dnnlib.EasyDict: a plain dict, nothing else."""


@dataclass
class RecordedModule:
    """What a persistent NVIDIA object held, rebuilt as data: never instantiated as code."""
    class_name: str
    init_args: tuple = ()
    init_kwargs: dict = field(default_factory=dict)
    parameters: dict[str, torch.Tensor | None] = field(default_factory=dict)
    buffers: dict[str, torch.Tensor | None] = field(default_factory=dict)
    non_persistent: set[str] = field(default_factory=set)
    modules: dict[str, "RecordedModule | None"] = field(default_factory=dict)

    def state_dict(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """Flat `a.b.weight` → tensor, as `nn.Module.state_dict()` would give."""
        out: dict[str, torch.Tensor] = {}
        for name, value in self.parameters.items():
            if value is not None:
                out[prefix + name] = value.detach()
        for name, value in self.buffers.items():
            if value is not None and name not in self.non_persistent:
                out[prefix + name] = value
        for name, module in self.modules.items():
            if module is not None:
                out.update(module.state_dict(f"{prefix}{name}."))
        return out


def _recorded_module(meta: dict) -> RecordedModule:
    """Stand-in for `_reconstruct_persistent_obj`: keep the state, drop `module_src` unread."""
    if not isinstance(meta, dict) or meta.get("type") != "class" or not isinstance(meta.get("class_name"), str):
        raise UnsafePickle("a persistent object without the expected class metadata")
    state = meta.get("state") or {}
    if not isinstance(state, dict):
        raise UnsafePickle(f"{meta['class_name']}: module state is not a dict")

    def tensors(key: str) -> dict:
        value = state.get(key) or {}
        if not isinstance(value, dict) or not all(v is None or isinstance(v, torch.Tensor) for v in value.values()):
            raise UnsafePickle(f"{meta['class_name']}.{key} holds something other than tensors")
        return dict(value)

    modules = state.get("_modules") or {}
    if not all(m is None or isinstance(m, RecordedModule) for m in modules.values()):
        raise UnsafePickle(f"{meta['class_name']} has a submodule that is not a persistent network object")
    return RecordedModule(
        class_name=meta["class_name"],
        init_args=tuple(state.get("_init_args") or ()),
        init_kwargs=dict(state.get("_init_kwargs") or {}),
        parameters=tensors("_parameters"),
        buffers=tensors("_buffers"),
        non_persistent=set(state.get("_non_persistent_buffers_set") or ()),
        modules=dict(modules))


def _storage_from_bytes(data: bytes) -> Any:
    """Stand-in for `torch.storage._load_from_bytes`, which would call `torch.load` unrestricted."""
    return torch.load(io.BytesIO(data), weights_only=True)


def _numpy_global(name: str) -> Any:
    core = getattr(np, "_core", None) or np.core
    return getattr(core.multiarray, name)


ALLOWED: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _numpy_global("_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): _numpy_global("_reconstruct"),
    ("numpy.core.multiarray", "scalar"): _numpy_global("scalar"),
    ("numpy._core.multiarray", "scalar"): _numpy_global("scalar"),
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _recorded_module,
    ("dnnlib.util", "EasyDict"): RecordedDict,
}
# numpy scalar dtypes are pickled by class (numpy.dtypes.Float64DType in numpy 2).
for _name in ("Float64DType", "Float32DType", "Int64DType", "Int32DType", "BoolDType"):
    if hasattr(getattr(np, "dtypes", None), _name):
        ALLOWED[("numpy.dtypes", _name)] = getattr(np.dtypes, _name)


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickle(f"refusing to load global {module}.{name}: not part of a network pickle") from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickle("refusing a persistent id: not part of a network pickle")


def load_restricted(stream: BinaryIO) -> Any:
    """Unpickle with the table above; raises UnsafePickle on anything outside it."""
    return _RestrictedUnpickler(stream).load()
