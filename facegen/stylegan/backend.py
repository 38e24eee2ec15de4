"""`StyleGANBackend`: the backend contract (facegen/backend.py) over an operator's StyleGAN2/3 checkpoint.

A FaceCode's base is W+ ([num_ws, w_dim]), exactly what the synthesis network takes, so the
shared latent operations (morphs, remix, truncation) apply unchanged. Seeds become z as
NVIDIA's generate.py does, and pixels are converted the same way, so a seed renders the image
the official code renders for that checkpoint.

Parts picked from grids render through feature-space blending (blend.py); edits, descriptions
and variations move along attribute directions (directions.py); with a CLIP model (clip.py,
DREAMFACE_CLIP_MODEL) free words edit a face by optimisation (text_edit.py). What this
checkpoint cannot do raises `Unsupported` (or `NoDirection`) with a message the chat can show.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from facegen.attributes import Attributes, Edit
from facegen.backend import (DEFAULT_SIZE, Backend, FittedFace, NoDirection, PhotoFitOptions, Progress, UnitBox,
                              Unsupported, text_language)
from facegen.facecode import FaceCode
from facegen.latent import default_layer_ranges
from facegen.stylegan.blend import REGIONS, PartBlender, region_box
from facegen.stylegan.clip import Clip
from facegen.stylegan.directions import Directions, calibrate, closed_form, load_directions
from facegen.stylegan.discriminator import Discriminator
from facegen.stylegan.loaders import AnyGenerator, load_networks, weights_digest
from facegen.stylegan.networks2 import NOISE_MODES
from facegen.stylegan.runtime import Runner, compiled, select_device, warn_if_unclamped_fp16


def seed_to_z(seed: int, z_dim: int) -> np.ndarray:
    """z [1, z_dim] for a seed, exactly as the official generate.py draws it (float64)."""
    return np.random.RandomState(seed).randn(1, z_dim)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in about [-1, 1] → [N, H, W, C] uint8, the official conversion."""
    return (images.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8).cpu().numpy()


def layer_ranges_for(generator: AnyGenerator) -> dict[str, slice]:
    """Coarse / middle / fine rows of W+. StyleGAN2: by the resolution each row drives (4–8,
    16–32, 64+ px, as in the paper); StyleGAN3 has no per-resolution blocks, so the same
    4 / 4 / 10-of-18 proportions."""
    if generator.arch != "stylegan2":
        return default_layer_ranges(generator.num_ws)
    res = generator.synthesis.ws_resolutions()
    coarse = sum(r <= 8 for r in res)
    middle = coarse + sum(16 <= r <= 32 for r in res)
    return {"coarse": slice(0, coarse), "middle": slice(coarse, middle), "fine": slice(middle, len(res))}


class StyleGANBackend(Backend):
    name = "stylegan"
    photoreal = True
    regions: Sequence[str] = REGIONS   # parts picked from grids, blended in feature space (blend.py)

    def __init__(self,
                 generator: AnyGenerator,      # a loaded generator (see loaders.load_generator)
                 noise_mode: str = "const",    # "const" (stored noise maps), "random" (seeded per face), "none"
                 device: str = "cpu",          # torch device: cpu, cuda, cuda:N or mps (checked: runtime.select_device)
                 precision: str = "fp32",      # fp32 (exact), fp16 or bf16 (autocast; within a few uint8 levels)
                 compile: bool = False,        # torch.compile the synthesis network (slow first render per batch size)
                 max_batch: int = 32,          # most faces per forward pass (lowered after an out-of-memory)
                 directions: str = "",         # attribute direction files: comma-separated or a directory (directions.py)
                 discriminator: Discriminator | None = None,  # the checkpoint's D: photo inversion's loss (inversion.py)
                 clip: Clip | None = None,     # a loaded CLIP (clip.load_clip) for free-text edits; None: none
                 ) -> None:
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}")
        self.device = select_device(device)
        self.generator = generator.to(self.device).eval().requires_grad_(False)
        self.discriminator = discriminator.to(self.device) if discriminator is not None else None
        self.runner = Runner(self.device, max_batch=max_batch, precision=precision, backend=self.name)
        warn_if_unclamped_fp16(self.generator, precision)
        self.synthesis = compiled(self.generator.synthesis) if compile else self.generator.synthesis
        self.noise_mode = noise_mode
        self.checkpoint_id = f"{generator.arch}-{weights_digest(generator)}"
        self.num_ws, self.w_dim = generator.num_ws, generator.w_dim
        self.z_dim, self.resolution = generator.z_dim, generator.img_resolution
        self.layer_ranges: Mapping[str, slice] = layer_ranges_for(generator)
        self.blender = PartBlender(self.generator)
        self.directions = Directions(
            {d.name: d for d in calibrate(list(load_directions(directions, self.w_dim, self.num_ws).values()),
                                          self.generator.mapping)},
            calibrate(closed_form(self.generator), self.generator.mapping))
        self.clip = None if clip is None else clip.to(self.device)
        self._text_languages: tuple[str, ...] = ()
        if self.clip is not None:
            from facegen.stylegan.text_directions import text_languages
            self._text_languages = text_languages(self.clip)

    @classmethod
    def from_file(cls, path: str | Path, noise_mode: str = "const", device: str = "cpu",
                  **runtime: Any) -> "StyleGANBackend":
        """`runtime`: precision, compile, max_batch, directions, clip (see __init__)."""
        generator, discriminator = load_networks(path)
        return cls(generator, noise_mode=noise_mode, device=device, discriminator=discriminator, **runtime)

    def sample(self, seed: int, truncation_psi: float = 1.0) -> FaceCode:
        """The face of a seed: W+ = mapping(z) with ψ applied as the official mapping does."""
        z = torch.from_numpy(seed_to_z(seed, self.z_dim)).to(self.device)
        with torch.no_grad():
            ws = self.generator.mapping(z, truncation_psi)
        return FaceCode(ws[0].cpu().numpy())

    def sample_truncated(self, seed: int, psi: float) -> FaceCode:
        """ψ applied inside the mapping, bit for bit as NVIDIA's generate.py does."""
        return self.sample(seed, truncation_psi=psi)

    def average(self) -> np.ndarray:
        return np.broadcast_to(self.generator.mapping.w_avg.cpu().numpy(), (self.num_ws, self.w_dim)).copy()

    def synthesize(self, codes: Sequence[FaceCode]) -> torch.Tensor:
        """Float images [N, C, H, W] for a batch of faces, at the checkpoint's resolution."""
        for code in codes:
            if code.shape != (self.num_ws, self.w_dim):
                raise Unsupported(f"this face was made by a different model (latent {list(code.shape)}, "
                                  f"this checkpoint takes {[self.num_ws, self.w_dim]})")
            for region in code.parts:
                if region not in REGIONS:
                    raise Unsupported(f"this face has a {region!r} part; stylegan regions: {', '.join(REGIONS)}")
        if not codes:
            return torch.empty([0, self.generator.img_channels, self.resolution, self.resolution])
        # chunks of at most runner.limit faces, one forward pass each, split further on out-of-memory
        return self.runner.run(list(codes), self._forward)

    def _forward(self, codes: Sequence[FaceCode]) -> torch.Tensor:
        """One forward pass for a chunk of faces: float images [N, C, H, W] on the device. Faces
        with picked parts go through the part blender; the others render exactly as before."""
        with torch.no_grad(), self.runner.autocast():
            if not any(code.parts for code in codes):
                return self._plain(codes).float()
            groups = [[i for i, code in enumerate(codes) if not code.parts],
                      [i for i, code in enumerate(codes) if code.parts]]
            out: list[torch.Tensor] = [torch.empty(0)] * len(codes)
            for indices, draw in zip(groups, (self._plain, self._blended)):
                if indices:
                    for i, image in zip(indices, draw([codes[i] for i in indices])):
                        out[i] = image.float()
            return torch.stack(out)

    def _plain(self, codes: Sequence[FaceCode]) -> torch.Tensor:
        if self.noise_mode == "random":
            # Noise seeded by the face itself: a stored face re-renders identically.
            return torch.cat([self._synthesize_one_random(code) for code in codes])
        ws = torch.from_numpy(np.stack([code.base for code in codes])).to(self.device)
        return self.synthesis(ws, noise_mode=self.noise_mode)

    def _blended(self, codes: Sequence[FaceCode]) -> torch.Tensor:
        def tensor(latent: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.array(latent)).to(self.device)

        def blend(chunk: Sequence[FaceCode], rng: torch.Generator | None) -> torch.Tensor:
            bases = torch.stack([tensor(code.base) for code in chunk])
            parts = [{region: tensor(latent) for region, latent in code.parts.items()} for code in chunk]
            return self.blender.synthesize(bases, parts, noise_mode=self.noise_mode, generator=rng)

        if self.noise_mode == "random":   # noise seeded by each face, as for plain faces
            return torch.cat([blend([code], self._face_rng(code)) for code in codes])
        return blend(codes, None)

    def _face_rng(self, code: FaceCode) -> torch.Generator:
        seed = int.from_bytes(hashlib.sha256(code.to_bytes()).digest()[:8], "little")
        return torch.Generator(device=self.device).manual_seed(seed)

    def _synthesize_one_random(self, code: FaceCode) -> torch.Tensor:
        rng = self._face_rng(code)
        ws = torch.from_numpy(code.base[None].copy()).to(self.device)
        return self.generator.synthesis(ws, noise_mode="random", generator=rng)

    def render(self, codes: Sequence[FaceCode], size: int = DEFAULT_SIZE) -> list[Image.Image]:
        pixels = to_uint8(self.synthesize(codes))
        images = [Image.fromarray(p) for p in pixels]
        if size != self.resolution:
            images = [im.resize((size, size), Image.LANCZOS) for im in images]
        return images

    def region_box(self, region: str) -> UnitBox:
        return region_box(region)

    # --- attribute directions (directions.py) ----------------------------------------------

    def from_attributes(self, attributes: Attributes, seed: int) -> FaceCode:
        """The seed's face moved along the direction of every described attribute this model has
        one for; the others are left as sampled (`unapplied` names them)."""
        return self.directions.describe(self.sample(seed), attributes)[0]

    def edit_names(self) -> list[str]:
        """The attributes a direction of this model carries: "smile", or "hair_colour=blond"
        for fields whose values each need a direction of their own."""
        return self.directions.capabilities()

    def edit(self, code: FaceCode, edit: Edit) -> FaceCode:
        """A signed step (or a set value) along the attribute's direction, on the base and donors."""
        moved = self.directions.apply(code, edit)
        if moved is None:
            raise NoDirection(edit.field, self.edit_names())
        return moved

    def variations(self, code: FaceCode, n: int, strength: float, seed: int) -> list[FaceCode]:
        """n children moved along the closed-form principal directions: each direction by
        strength × a normal draw, in degrees (see directions.py), base and donors alike."""
        children = []
        for child_seed in np.random.default_rng([seed, n]).integers(0, 2**31 - 1, size=n):
            draws = np.random.default_rng(int(child_seed)).standard_normal(len(self.directions.principal))

            def move(latent: np.ndarray) -> np.ndarray:
                for d, draw in zip(self.directions.principal, draws):
                    latent = d.moved(latent, strength * float(draw))
                return latent
            children.append(FaceCode(move(code.base), {r: move(p) for r, p in code.parts.items()}))
        return children

    # --- photos (align.py, inversion.py) ----------------------------------------------------

    def from_photo(self, photo: Image.Image, seed: int, *, options: PhotoFitOptions = PhotoFitOptions(),
                   progress: Progress | None = None) -> FittedFace:
        """The face aligned FFHQ-style and inverted into W+ (seconds to minutes). Kept in
        `made`: the loss and steps used, and the likeness (the face descriptor distance of the
        inverted face to the photo's, facegen.identity.photo_likeness; left out where the
        recogniser finds no face in the picture, as in an untrained model's)."""
        from facegen.identity import photo_likeness
        from facegen.photo import find_single_face
        from facegen.stylegan.align import align_face
        from facegen.stylegan.inversion import InversionSettings, invert
        face = find_single_face(photo)
        aligned = align_face(photo, face.points, self.resolution)
        fitted = invert(self.generator, aligned, InversionSettings(steps=options.steps, seed=seed),
                        lpips_vgg=options.lpips_vgg or None, discriminator=self.discriminator, progress=progress,
                        noise_mode="none" if self.noise_mode == "none" else "const")
        likeness = photo_likeness(photo, face.box, self.render([fitted.code], self.resolution)[0])
        return FittedFace(fitted.code, {"inversion": fitted.metadata()}
                          | ({} if likeness is None else {"likeness": round(likeness, 3)}))

    # --- free-text edits (clip.py, text_edit.py) ----------------------------------------------

    def text_edit_languages(self) -> tuple[str, ...]:
        """The languages the CLIP's text side reads (text_directions.text_languages); () without one."""
        return self._text_languages

    def text_edit(self, code: FaceCode, text: str, *, steps: int, progress: Progress | None = None) -> FittedFace:
        """W+ optimised toward the words' CLIP feature, leashed to the face (text_edit.py): the
        base is optimised as drawn without its donors, and the donors move as the base did, as
        direction edits move them. Kept in `made`: the CLIP similarity before and after, the
        latent distance moved and the seconds taken."""
        from facegen.stylegan.text_edit import text_edit
        self._check_reads(text)
        if code.shape != (self.num_ws, self.w_dim):
            raise Unsupported(f"this face was made by a different model (latent {list(code.shape)})")
        report = None if progress is None else (lambda done, total: progress(done / total))
        edited = text_edit(self.generator, self.clip, code.base, self.clip.text_features([text])[0],
                           steps=steps, progress=report)
        moved = edited.latent - code.base
        face = FaceCode(edited.latent, {region: part + moved for region, part in code.parts.items()})
        return FittedFace(face, {"text_edit": {"similarity_before": round(edited.similarity_before, 4),
                                               "similarity_after": round(edited.similarity_after, 4),
                                               "latent_distance": round(edited.distance, 4),
                                               "seconds": round(edited.seconds, 2)}})

    def text_similarity(self, codes: Sequence[FaceCode], text: str) -> list[float]:
        """cos(CLIP(picture), CLIP(words)) of each face as it is drawn (parts blended in)."""
        self._check_reads(text)
        target = self.clip.text_features([text])[0]
        with torch.no_grad():
            features = self.clip.image_features(self.synthesize(codes).clamp(-1, 1))
        return [float(s) for s in features @ target]

    def _check_reads(self, text: str) -> None:
        if self.clip is None:
            raise Unsupported("free-text edits need a CLIP model (DREAMFACE_CLIP_MODEL) on this worker")
        if text_language(text) not in self._text_languages:
            raise Unsupported(f"this CLIP's text side cannot read {text_language(text)!r} words "
                              f"(it reads {', '.join(self._text_languages) or 'none'})")
