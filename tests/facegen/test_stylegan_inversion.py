"""Photo inversion on tiny random checkpoints (CPU): a generated picture is recovered (with the
pixel loss and with the discriminator's features), progress rises to 1.0, a plateau stops the
run early, the step limit holds, the loss used is named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from facegen.facecode import FaceCode
from facegen.stylegan.backend import StyleGANBackend
from facegen.stylegan.inversion import InversionSettings, invert, noise_penalty
from facegen.stylegan.networks2 import SynthesisLayer
from stylegan_fixtures import one_thread, tiny_d, tiny_sg2, tiny_sg3  # noqa: F401 (one_thread: autouse)

TESTDATA = Path(__file__).resolve().parents[1] / "data"



@pytest.fixture(scope="module", params=["sg2", "sg3"])
def backend(request) -> StyleGANBackend:
    return StyleGANBackend(tiny_sg2() if request.param == "sg2" else tiny_sg3())


def picture(backend: StyleGANBackend, code: FaceCode) -> np.ndarray:
    return np.asarray(backend.render([code], backend.resolution)[0], dtype=np.float64)


def rms(a: np.ndarray, b: np.ndarray) -> float:
    """Root mean square difference in uint8 levels."""
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_a_generated_face_is_recovered(backend):
    """The threshold: these are random-weight 16-px generators, whose latent landscape is far
    rougher than a trained model's, so W+ descent ends in a nearby local minimum rather than
    at zero (measured over 6 targets and both architectures: 12–27 uint8 levels RMS, against
    75–127 for the average face). Recovered means: under 0.35 of the average face's error, and
    under half the error of the nearest of 20 other faces (measured here: 0.15–0.17 and 0.21–0.22)."""
    target_code = backend.sample(9, truncation_psi=0.7)
    target = picture(backend, target_code)
    fractions: list[float] = []
    result = invert(backend.generator, Image.fromarray(target.astype(np.uint8)),
                    InversionSettings(steps=150, w_samples=1000), progress=fractions.append)
    error = rms(picture(backend, result.code), target)
    average_error = rms(picture(backend, FaceCode(backend.average())), target)
    nearest_other = min(rms(picture(backend, backend.sample(s, truncation_psi=0.7)), target) for s in range(100, 120))
    assert error < 0.35 * average_error
    assert error < 0.5 * nearest_other
    assert result.code.shape == (backend.num_ws, backend.w_dim)
    assert result.loss_name == "pixel-ssim" and result.metadata()["loss"] == "pixel-ssim"
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= result.steps


def test_the_discriminator_loss_recovers_faces_as_well_as_pixel_ssim():
    """The measure: RMS error over the average face's, averaged over three faces. With random
    weights the discriminator's features carry no knowledge of faces and both losses end in
    nearby local minima (150 steps, over ten faces each: sg2 0.31 vs 0.29, sg3 0.46 vs 0.52 for
    pixel-ssim), so "as well" allows 10% on these three (measured: 0.317 vs 0.330)."""
    backend = StyleGANBackend(tiny_sg2())
    ratios: dict[str, list[float]] = {"pixel-ssim": [], "discriminator-features": []}
    for seed in (30, 31, 32):
        target = picture(backend, backend.sample(seed, truncation_psi=0.7))
        average_error = rms(picture(backend, FaceCode(backend.average())), target)
        for discriminator in (None, tiny_d()):
            result = invert(backend.generator, Image.fromarray(target.astype(np.uint8)),
                            InversionSettings(steps=100, w_samples=1000), discriminator=discriminator)
            ratios[result.metadata()["loss"]].append(rms(picture(backend, result.code), target) / average_error)
    assert max(ratios["discriminator-features"]) < 0.5
    assert np.mean(ratios["discriminator-features"]) <= 1.1 * np.mean(ratios["pixel-ssim"])


def test_the_step_limit_holds_and_progress_counts_each_step():
    backend = StyleGANBackend(tiny_sg2())
    target = backend.render([backend.sample(3)], backend.resolution)[0]
    fractions: list[float] = []
    result = invert(backend.generator, target, InversionSettings(steps=7, patience=0, w_samples=100),
                    progress=fractions.append)
    assert result.steps == 7 and not result.stopped_early
    assert fractions == pytest.approx([i / 7 for i in range(1, 8)])


def test_a_plateau_stops_early_and_still_reports_done():
    """A real photo at 16 px is beyond a random generator: the loss soon stops falling."""
    backend = StyleGANBackend(tiny_sg2())
    with Image.open(TESTDATA / "obama_official_portrait.jpg") as photo:
        target = photo.convert("RGB").resize((64, 64))   # any size: it is resized to the checkpoint's
    fractions: list[float] = []
    result = invert(backend.generator, target, InversionSettings(steps=1000, patience=20, w_samples=100),
                    progress=fractions.append)
    assert result.stopped_early and 20 < result.steps < 1000
    assert fractions[-1] == 1.0 and fractions[-2] == pytest.approx(result.steps / 1000)
    # the result is the best latent seen: no worse than where it started
    start = invert(backend.generator, target, InversionSettings(steps=1, w_noise=0, learning_rate=0, w_samples=100))
    assert result.distance < start.distance


class FakeLpips(torch.nn.Module):
    """The official vgg16.pt's calling convention (pixels in [0, 255], resize_images,
    return_lpips → feature rows whose squared difference is the distance), on pooled pixels."""

    def forward(self, x: torch.Tensor, resize_images: bool = True, return_lpips: bool = False) -> torch.Tensor:
        assert not resize_images and return_lpips
        return torch.nn.functional.avg_pool2d(x / 255.0, 2).flatten(1)


def test_the_operators_lpips_file_is_used_and_named(tmp_path):
    path = tmp_path / "vgg16.pt"
    with pytest.warns(DeprecationWarning):   # TorchScript is deprecated; the official file is one
        torch.jit.script(FakeLpips()).save(str(path))
    backend = StyleGANBackend(tiny_sg2())
    target_code = backend.sample(9, truncation_psi=0.7)
    target = picture(backend, target_code)
    result = invert(backend.generator, Image.fromarray(target.astype(np.uint8)),
                    InversionSettings(steps=150, w_samples=1000), lpips_vgg=path)
    assert result.loss_name == "lpips-vgg16" and result.metadata()["loss"] == "lpips-vgg16"
    assert rms(picture(backend, result.code), target) < 0.5 * rms(picture(backend, FaceCode(backend.average())), target)
    with pytest.raises(FileNotFoundError, match="DREAMFACE_LPIPS_VGG"):
        invert(backend.generator, Image.fromarray(target.astype(np.uint8)), InversionSettings(steps=1),
               lpips_vgg=tmp_path / "missing.pt")


def test_fitted_noise_maps_stay_noise_and_the_backends_own_are_untouched():
    backend = StyleGANBackend(tiny_sg2())
    before = {name: b.clone() for name, b in backend.generator.named_buffers() if name.endswith("noise_const")}
    target = backend.render([backend.sample(9, truncation_psi=0.7)], backend.resolution)[0]
    result = invert(backend.generator, target, InversionSettings(steps=60, optimize_noise=True, w_samples=100))
    layers = [n for n, m in backend.generator.synthesis.named_modules() if isinstance(m, SynthesisLayer)]
    assert sorted(result.noise) == sorted(layers)
    for v in result.noise.values():
        assert abs(float(v.mean())) < 1e-4 and float(v.square().mean()) == pytest.approx(1.0, abs=1e-3)
    # white noise of the same sizes has about this much autocorrelation; the fit keeps to it
    rng = torch.Generator().manual_seed(1)
    white = [torch.randn(v.shape, generator=rng) for v in result.noise.values()]
    assert float(noise_penalty(list(result.noise.values()))) < 4 * float(noise_penalty(white))
    after = {name: b for name, b in backend.generator.named_buffers() if name.endswith("noise_const")}
    assert all(torch.equal(before[n], after[n]) for n in before)
