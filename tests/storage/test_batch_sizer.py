"""The worker's batch size follows the throughput a worker sustains: it grows while a bigger
batch moves more jobs per second, stops where the device saturates, shrinks when a batch keeps
faces waiting too long, and ignores claims that found the queue short."""

from __future__ import annotations

import random

import pytest

from storage.batch_sizer import HOLD, WINDOW, BatchSizer


def run(sizer: BatchSizer, batch_seconds, batches: int, *, backlog: bool = True, noise: float = 0.0,
        seed: int = 0) -> list[int]:
    """Feed the sizer `batches` batches; batch_seconds(size) → (seconds claim to claim, handler
    seconds). Returns the size asked for at each batch."""
    rng = random.Random(seed)
    sizes = []
    for _ in range(batches):
        asked = sizer.size
        sizes.append(asked)
        claimed = asked if backlog else max(1, asked // 2)
        seconds, handler = batch_seconds(claimed)
        seconds *= 1 + rng.uniform(-noise, noise)
        sizer.observe(asked, claimed, seconds, handler)
    return sizes


def fixed_cost_per_batch(overhead: float, per_job: float):
    """A model whose batch pays a fixed cost (a forward pass, a transaction) plus a cost per job."""
    return lambda n: (overhead + per_job * n, overhead + per_job * n)


def saturating(overhead: float, per_job: float, device_batch: int):
    """A device that runs at most `device_batch` faces per pass: beyond it, another pass."""
    def seconds(n: int):
        passes = -(-n // device_batch)
        t = overhead * passes + per_job * n
        return t, t
    return seconds


def test_a_fixed_cost_per_batch_grows_the_batch_to_the_maximum():
    sizer = BatchSizer(2, 32)
    sizes = run(sizer, fixed_cost_per_batch(0.05, 0.001), 40)
    assert sizes[0] == 2 and sizer.size == 32
    assert sizes == sorted(sizes)   # it only climbed


def test_it_stops_where_the_device_saturates():
    sizer = BatchSizer(4, 64)
    run(sizer, saturating(0.05, 0.0005, device_batch=16), 200)
    assert sizer.size == 16   # 32 means two passes: no more jobs per second, more waiting


@pytest.mark.parametrize("seed", range(5))
def test_noise_of_five_percent_does_not_move_it_off_the_saturation_point(seed):
    sizer = BatchSizer(4, 64)
    sizes = run(sizer, saturating(0.05, 0.0005, device_batch=16), 300, noise=0.05, seed=seed)
    assert sizer.size == 16
    assert sizes[-HOLD:].count(16) >= HOLD - 2 * WINDOW   # probes aside, it stays there


def test_when_the_load_changes_it_follows_at_the_next_probe():
    sizer = BatchSizer(4, 64)
    run(sizer, saturating(0.05, 0.0005, device_batch=16), 100)
    assert sizer.size == 16
    sizes = run(sizer, fixed_cost_per_batch(0.05, 0.0005), 200)   # e.g. a model with a smaller footprint
    assert sizes[-HOLD:].count(64) >= HOLD - 2 * WINDOW   # probes down aside


def test_a_batch_that_keeps_faces_waiting_too_long_halves_and_is_not_doubled_again():
    sizer = BatchSizer(16, 32, max_batch_seconds=2.0)
    sizes = run(sizer, fixed_cost_per_batch(0.01, 0.2), 100)   # 16 jobs: 3.2 s in the handler
    assert sizes[:2] == [16, 8]
    assert max(sizes[1:]) <= 8


def test_equal_throughput_at_half_the_batch_is_taken_after_a_failed_probe_up():
    # a CPU renderer: no fixed cost per batch, so size changes nothing but the wait in a batch
    sizer = BatchSizer(8, 32)
    run(sizer, fixed_cost_per_batch(0.0, 0.03), 2 * (HOLD + 4 * WINDOW))
    assert sizer.size < 8


def test_claims_that_find_the_queue_short_leave_the_size_alone():
    sizer = BatchSizer(8, 32)
    run(sizer, fixed_cost_per_batch(0.05, 0.001), 50, backlog=False)
    assert sizer.size == 8


def test_a_fixed_batch_size_never_moves():
    sizer = BatchSizer(8, 8, minimum=8)
    assert run(sizer, fixed_cost_per_batch(0.05, 0.3), 50) == [8] * 50


def test_bounds_are_checked():
    with pytest.raises(ValueError):
        BatchSizer(8, 4, minimum=6)
    assert BatchSizer(100, 32).size == 32 and BatchSizer(0, 32).size == 1
