"""Part blending on small random StyleGAN2 (128 px) and StyleGAN3 (64 px) generators: a picked
part changes its region and leaves the rest of the face alone; plain faces stay exact."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from facegen.candidates import region_candidates, render_candidates
from facegen.facecode import FaceCode
from facegen.recipes import clean_face_params, make_face
from facegen.stylegan.backend import StyleGANBackend
from facegen.stylegan.blend import REGIONS, blend_split, mask_overlay, region_mask
from facegen.backend import Unsupported
from facegen.stylegan.networks2 import Generator
from facegen.stylegan.networks3 import Generator3
from stylegan_fixtures import SG2_KWARGS, SG3_KWARGS, randomized

# Beyond this distance from a mask's support (image widths) the picture is the base's: the
# receptive field of the layers after the split. StyleGAN3's windowed-sinc filters reach further.
FAR = {"stylegan2": (0.15, 1e-4), "stylegan3": (0.3, 1e-3)}


def small_sg2() -> Generator:
    torch.manual_seed(0)
    return randomized(Generator(**{**SG2_KWARGS, "img_resolution": 128,
                                   "synthesis_kwargs": dict(channel_base=512, channel_max=16)}), 0)


def small_sg3() -> Generator3:
    torch.manual_seed(0)
    return randomized(Generator3(**{**SG3_KWARGS, "img_resolution": 64, "synthesis_kwargs": dict(
        channel_base=512, channel_max=16, num_layers=6, margin_size=4)}), 0)


@pytest.fixture(scope="module", params=["sg2", "sg3"])
def backend(request) -> StyleGANBackend:
    return StyleGANBackend(small_sg2() if request.param == "sg2" else small_sg3())


def far_from(mask: np.ndarray, reach: float) -> np.ndarray:
    """Pixels farther than `reach` image widths from the mask's support (a square reach: conservative)."""
    size = mask.shape[0]
    support = Image.fromarray(((mask > 0) * 255).astype(np.uint8))
    near = support.filter(ImageFilter.MaxFilter(2 * math.ceil(reach * size) + 1))
    return np.asarray(near) == 0


def floats(backend: StyleGANBackend, *codes: FaceCode) -> list[np.ndarray]:
    return [image.numpy() for image in backend.synthesize(list(codes))]


def test_masks_sit_on_the_ffhq_layout_and_mean_the_same_at_any_resolution():
    eyes = region_mask("eyes", 1024)
    assert eyes[480, 384] == 1.0 and eyes[480, 640] == 1.0          # FFHQ's eye centres
    assert eyes[100, 512] == 0.0 and eyes[900, 512] == 0.0
    assert np.array_equal(eyes, eyes[:, ::-1]), "left and right eyes mirror each other"
    assert region_mask("mouth", 1024)[760, 512] == 1.0 and region_mask("mouth", 1024)[480, 384] == 0.0
    for region in REGIONS:
        fine = region_mask(region, 256).reshape(64, 4, 64, 4).mean(axis=(1, 3))
        assert np.abs(fine - region_mask(region, 64)).max() < 0.15, region
        assert 0.0 <= region_mask(region, 64).min() and region_mask(region, 64).max() == pytest.approx(1.0)


def test_split_sits_at_32_to_64_px_on_full_size_models():
    for resolution, expected in ((1024, 64), (512, 64), (256, 64), (128, 32)):
        torch.manual_seed(0)
        generator = Generator(**{**SG2_KWARGS, "img_resolution": resolution,
                                 "synthesis_kwargs": dict(channel_base=2048, channel_max=2)})
        split = blend_split(generator)
        assert split.size == expected
        assert generator.synthesis.ws_resolutions()[split.rows - 2] == expected   # the donor drives that block


@pytest.mark.parametrize("region", ["eyes", "mouth", "hair"])
def test_a_part_changes_its_region_and_nothing_far_from_it(backend, region):
    base, donor = backend.sample(1), backend.sample(2)
    [plain, blended] = floats(backend, base, base.with_part(region, donor.base))
    change = np.abs(blended - plain).max(axis=0)
    mask = region_mask(region, backend.resolution)
    reach, tolerance = FAR[backend.generator.arch]
    far = far_from(mask, reach)
    assert far.sum() > 0.05 * far.size or region == "hair"
    if far.any():
        assert change[far].max() < tolerance
    inside = change[mask > 0.9]
    assert inside.mean() > 0.01 and inside.mean() > 20 * tolerance, "the donor's part shows inside its region"


def test_a_face_without_parts_renders_exactly_as_the_plain_synthesis(backend):
    plain, other = backend.sample(3), backend.sample(4)
    with_part = plain.with_part("nose", other.base)
    together = backend.synthesize([plain, with_part, other])
    with torch.no_grad():
        official = backend.generator.synthesis(torch.from_numpy(np.stack([plain.base, other.base])))
    assert torch.equal(together[0], official[0]) and torch.equal(together[2], official[1])
    assert not torch.equal(together[1], together[0])


def test_a_picked_part_survives_serialization_and_re_renders_identically(backend):
    parent = backend.sample(5)
    params = clean_face_params("pick", {"set": {"kind": "region", "region": "eyes", "n": 6, "seed": 9},
                                        "number": 4}, backend.describe())
    picked = make_face(backend, "pick", params, parent=parent)
    assert set(picked.parts) == {"eyes"}
    stored = FaceCode.from_bytes(picked.to_bytes())
    replayed = make_face(backend, "pick", params, parent=FaceCode.from_bytes(parent.to_bytes()))
    images = [np.asarray(im) for im in backend.render([picked, stored, replayed], backend.resolution)]
    assert np.array_equal(images[0], images[1]) and np.array_equal(images[0], images[2])
    # a second part keeps the first: picking a mouth after the eyes
    both = region_candidates(backend, stored, "mouth", n=2, seed=1)[0]
    assert set(both.parts) == {"eyes", "mouth"}


def test_grid_candidates_differ_inside_the_region_only(backend):
    face = backend.sample(6)
    candidates = region_candidates(backend, face, "nose", n=4, seed=2)
    images = [np.asarray(im, dtype=np.int16) for im in render_candidates(backend, face, candidates, "nose",
                                                                        backend.resolution)]
    reach, _ = FAR[backend.generator.arch]
    far = far_from(region_mask("nose", backend.resolution), reach)
    for image in images[1:]:
        assert np.abs(image - images[0])[far].max() <= 1          # a rounding flip at most
        assert np.abs(image - images[0]).max() > 2


def test_random_noise_faces_with_parts_re_render_the_same():
    backend = StyleGANBackend(small_sg2(), noise_mode="random")
    code = backend.sample(1).with_part("eyes", backend.sample(2).base)
    first, again = (np.asarray(backend.render([code], 128)[0]) for _ in range(2))
    assert np.array_equal(first, again)


def test_a_part_for_a_region_this_backend_lacks_is_refused(backend):
    code = backend.sample(1).with_part("glasses", backend.sample(2).base)
    with pytest.raises(Unsupported, match="glasses"):
        backend.render([code])


def test_mask_overlay_tints_only_the_regions():
    grey = Image.new("RGB", (128, 128), (128, 128, 128))
    overlay = np.asarray(mask_overlay(grey, ["eyes"]), dtype=np.int16)
    assert (overlay[60, 48] != 128).any() and (overlay[5, 5] == 128).all()
