"""How the stylegan backend runs on a device: batches cut to the max batch, halved on
out-of-memory without changing a pixel, reduced precision close to fp32, torch.compile, a
clear error for a missing GPU, and in the worker: jobs of one batch rendered in one forward
pass, with the weights loaded once."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from prometheus_client import REGISTRY

from facegen.handlers import MAKE, SHEET, FaceJobs, job_kinds
from facegen.stylegan.backend import StyleGANBackend
from facegen.stylegan.loaders import save_safetensors
from facegen.stylegan.runtime import DeviceUnavailable, RenderOutOfMemory, memory_fit, select_device
from storage.worker import Worker
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.queue import Queue
from stylegan_fixtures import tiny_sg2, tiny_sg3

REPLY_TO = {"platform": "web", "chat_id": "c1", "target": "u1"}


def forwards() -> tuple[float, float]:
    """(forward passes, faces) the stylegan backend has run so far, from its metrics."""
    labels = {"backend": "stylegan"}
    return (REGISTRY.get_sample_value("dreamface_render_batch_size_count", labels) or 0.0,
            REGISTRY.get_sample_value("dreamface_render_batch_size_sum", labels) or 0.0)


@pytest.fixture(scope="module", params=["sg2", "sg3"])
def generator(request):
    return tiny_sg2() if request.param == "sg2" else tiny_sg3()


@pytest.fixture(scope="module")
def faces(generator):
    """Ten faces and their float images rendered one at a time (the reference)."""
    single = StyleGANBackend(generator, max_batch=1)
    codes = [single.sample(seed) for seed in range(10)]
    return codes, single.synthesize(codes)


def assert_same_faces(images: torch.Tensor, reference: torch.Tensor) -> None:
    """The same faces in the same order. Not bit-equal: the convolution library rounds
    differently at other batch sizes (~1e-6 here, the last uint8 level at most)."""
    assert images.shape == reference.shape
    assert (images - reference).abs().max() < 1e-5


def test_a_batch_is_cut_into_chunks_of_the_max_batch(generator, faces):
    codes, alone = faces
    backend = StyleGANBackend(generator, max_batch=4)
    passes, faces_before = forwards()
    assert_same_faces(backend.synthesize(codes), alone)
    assert forwards() == (passes + 3, faces_before + 10)      # 4 + 4 + 2


def test_out_of_memory_halves_the_chunk_and_every_face_renders_as_alone(generator, faces, monkeypatch):
    codes, alone = faces
    backend = StyleGANBackend(generator, max_batch=8)
    synthesis = backend.generator.synthesis
    real_forward = synthesis.forward
    sizes: list[int] = []

    def forward_that_fits_three(ws, *args, **kwargs):   # the only stand-in: no GPU here to run out
        sizes.append(ws.shape[0])
        if ws.shape[0] > 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_forward(ws, *args, **kwargs)

    monkeypatch.setattr(synthesis, "forward", forward_that_fits_three)
    split = backend.synthesize(codes)
    assert sizes == [8, 4, 2, 2, 2, 2, 2]
    assert_same_faces(split, alone)
    monkeypatch.undo()
    # bit-equal to batches of two from the start: nothing lost, doubled or reordered by the retries
    assert torch.equal(split, StyleGANBackend(generator, max_batch=2).synthesize(codes))
    assert REGISTRY.get_sample_value("dreamface_render_batch_limit", {"backend": "stylegan"}) == 2

    monkeypatch.setattr(synthesis, "forward", forward_that_fits_three)
    sizes.clear()   # the lower limit is remembered: no more failed tries
    assert_same_faces(backend.synthesize(codes[:5]), alone[:5])
    assert sizes == [2, 2, 1]


def test_one_face_that_does_not_fit_is_a_clear_error(monkeypatch):
    backend = StyleGANBackend(tiny_sg2(), max_batch=4)

    def never_fits(ws, *args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(backend.generator.synthesis, "forward", never_fits)
    with pytest.raises(RenderOutOfMemory, match="one face does not fit"):
        backend.render([backend.sample(1), backend.sample(2)])
    assert backend.runner.limit == 1


def test_memory_aware_limit():
    gib = 2**30
    assert memory_fit(free_bytes=10 * gib, per_item_bytes=1 * gib, limit=32) == 8    # 80 % of 10 GiB
    assert memory_fit(free_bytes=100 * gib, per_item_bytes=1 * gib, limit=32) == 32  # the max batch still caps
    assert memory_fit(free_bytes=gib // 2, per_item_bytes=1 * gib, limit=32) == 1    # always try one


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_reduced_precision_stays_within_a_few_levels_of_fp32(generator, faces, precision):
    codes, _ = faces
    exact = StyleGANBackend(generator).render(codes, generator.img_resolution)
    reduced = StyleGANBackend(generator, precision=precision).render(codes, generator.img_resolution)
    diff = np.abs(np.stack(reduced).astype(int) - np.stack(exact).astype(int))
    # bf16 keeps 8 bits of mantissa; how its rounding adds up depends on the CPU's kernels (native
    # AVX-512/AMX bf16 or emulated on AVX2: 8 and 11 levels at most on the machines seen so far)
    assert diff.max() <= (16 if precision == "bf16" else 2), diff.max()
    assert diff.mean() < 1.0, diff.mean()
    assert diff.max() > 0   # the setting takes effect: the arithmetic really changed


def test_fp16_without_an_activation_clamp_is_flagged(caplog):
    StyleGANBackend(tiny_sg3(), precision="fp16")               # clamps at 256: fp16 cannot overflow
    assert "conv_clamp" not in caplog.text
    StyleGANBackend(tiny_sg2(), precision="fp16")               # no clamp: the operator hears of the risk
    assert "conv_clamp" in caplog.text and "bf16" in caplog.text


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="fp32, fp16, bf16"):
        StyleGANBackend(tiny_sg2(), precision="int8")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_asking_for_cuda_without_a_gpu_says_so(device):
    with pytest.raises(DeviceUnavailable, match="DREAMFACE_STYLEGAN_DEVICE=cpu"):
        select_device(device)
    with pytest.raises(DeviceUnavailable, match=f"'{device}'"):
        StyleGANBackend(tiny_sg2(), device=device)
    assert select_device("cpu") == torch.device("cpu")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")   # inside torch
def test_compiled_synthesis_renders_the_same_pixels():
    """torch.compile (inductor; about 15 s on a warm cache, up to ~100 s cold on 2 CPU cores)."""
    generator = tiny_sg2()
    plain, compiled = StyleGANBackend(generator), StyleGANBackend(generator, compile=True)
    codes = [plain.sample(seed) for seed in range(3)]
    expected = plain.synthesize(codes)
    got = compiled.synthesize(codes)
    assert (got - expected).abs().max() < 1e-4
    diff = np.abs(np.stack(compiled.render(codes, 16)).astype(int) - np.stack(plain.render(codes, 16)).astype(int))
    assert diff.max() <= 1


# --- in the worker -----------------------------------------------------------------------------

@pytest.fixture
def stylegan_configured(tmp_path, monkeypatch):
    """The stylegan backend as a worker loads it: from DREAMFACE_STYLEGAN_CKPT, cached per process."""
    from facegen.backends import load_backend
    ckpt = tmp_path / "g.safetensors"
    save_safetensors(tiny_sg2(), ckpt)
    monkeypatch.setenv("DREAMFACE_STYLEGAN_CKPT", str(ckpt))
    load_backend.cache_clear()
    yield ckpt
    load_backend.cache_clear()


async def test_one_claimed_batch_is_one_forward_pass_and_weights_load_once(engine, stylegan_configured):
    from facegen.backends import load_backend
    backend = load_backend("stylegan")
    stylegan_configured.unlink()   # loaded once: the worker never reads the file again
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        user = await FaceRepository(session).get_or_create_user("web", "u1", "en")
    queue = Queue(engine, job_kinds(), user_job_cap=50)
    worker = Worker(engine, FaceJobs(engine).handlers(), batch_size=8)

    for seed in range(5):
        await queue.enqueue(MAKE, {"user_id": user.id, "reply_to": REPLY_TO, "size": 64, "backend": "stylegan",
                                   "operation": "new", "params": {"seed": seed}}, user_id=None)
    passes, faces_before = forwards()
    assert await worker.run_once() == 5
    assert forwards() == (passes + 1, faces_before + 5)

    async with sessions() as session:
        repo = FaceRepository(session)
        made = [await repo.get_face_by_number(user, n) for n in range(1, 6)]
    assert [f.backend for f in made] == ["stylegan"] * 5
    # (numbers follow the order the results were stored in, not the seeds)
    assert sorted(f.code for f in made) == sorted(backend.sample(seed).to_bytes() for seed in range(5))

    # three contact sheets of four variations each: all twelve candidates in one forward pass
    for seed in range(3):
        await queue.enqueue(SHEET, {"user_id": user.id, "reply_to": REPLY_TO, "size": 64, "backend": "stylegan",
                                    "face_id": made[seed].id, "set": {"kind": "variations", "n": 4, "seed": seed}},
                            user_id=None)
    passes, faces_before = forwards()
    assert await worker.run_once() == 3
    assert forwards() == (passes + 1, faces_before + 12)
    assert load_backend("stylegan") is backend
