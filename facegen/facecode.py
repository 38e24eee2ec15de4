"""FaceCode: what a face *is*, independent of pixels.

A base latent in W+ (shape [num_ws, w_dim]) plus optional part donors by region: a region
picked from a grid renders from its donor's latent instead of the base. Serialization is
versioned and exact (float32 bytes), so a stored face re-renders identically.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

MAGIC = b"DFC"
FORMAT_VERSION = 1
_HEADER_LEN = struct.Struct("<I")


class FaceCodeError(ValueError):
    """Bytes that are not a FaceCode, or latents of the wrong shape."""


def _as_latent(array: np.ndarray, name: str) -> np.ndarray:
    latent = np.ascontiguousarray(array, dtype=np.float32)
    if latent.ndim != 2:
        raise FaceCodeError(f"{name}: expected shape [num_ws, w_dim], got {list(latent.shape)}")
    latent.setflags(write=False)
    return latent


@dataclass(frozen=True, eq=False)
class FaceCode:
    base: np.ndarray
    parts: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        base = _as_latent(self.base, "base")
        parts = {}
        for region, latent in sorted(self.parts.items()):
            latent = _as_latent(latent, f"parts[{region!r}]")
            if latent.shape != base.shape:
                raise FaceCodeError(
                    f"parts[{region!r}]: shape {list(latent.shape)} differs from base {list(base.shape)}")
            parts[region] = latent
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "parts", parts)

    @property
    def shape(self) -> tuple[int, int]:
        return self.base.shape  # type: ignore[return-value]

    def part(self, region: str) -> np.ndarray:
        """The latent a region renders from: its donor if one was picked, else the base."""
        return self.parts.get(region, self.base)

    def with_part(self, region: str, latent: np.ndarray) -> "FaceCode":
        return FaceCode(self.base, {**self.parts, region: latent})

    def with_base(self, base: np.ndarray) -> "FaceCode":
        return FaceCode(base, self.parts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FaceCode):
            return NotImplemented
        return (np.array_equal(self.base, other.base)
                and self.parts.keys() == other.parts.keys()
                and all(np.array_equal(self.parts[k], other.parts[k]) for k in self.parts))

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    # Layout: b"DFC" + version byte + u32 header length + JSON header + float32 arrays (LE),
    # base first, then parts in the header's order.
    def to_bytes(self) -> bytes:
        header = json.dumps({"shape": list(self.shape), "parts": list(self.parts)}).encode()
        chunks = [MAGIC, bytes([FORMAT_VERSION]), _HEADER_LEN.pack(len(header)), header,
                  self.base.astype("<f4").tobytes()]
        chunks += [self.parts[region].astype("<f4").tobytes() for region in self.parts]
        return b"".join(chunks)

    @classmethod
    def from_bytes(cls, data: bytes) -> "FaceCode":
        if len(data) < 8 or data[:3] != MAGIC:
            raise FaceCodeError("not a serialized FaceCode")
        if data[3] != FORMAT_VERSION:
            raise FaceCodeError(f"FaceCode format version {data[3]} is not supported (this build reads {FORMAT_VERSION})")
        (header_len,) = _HEADER_LEN.unpack_from(data, 4)
        offset = 8 + header_len
        try:
            header = json.loads(data[8:offset])
            rows, cols = (int(n) for n in header["shape"])
            regions = [str(r) for r in header["parts"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise FaceCodeError(f"corrupt FaceCode header: {exc}") from None
        size = rows * cols * 4
        if len(data) != offset + size * (1 + len(regions)):
            raise FaceCodeError("FaceCode length does not match its header")

        def latent(i: int) -> np.ndarray:
            start = offset + i * size
            return np.frombuffer(data, dtype="<f4", count=rows * cols, offset=start).reshape(rows, cols)

        return cls(latent(0), {region: latent(i + 1) for i, region in enumerate(regions)})
