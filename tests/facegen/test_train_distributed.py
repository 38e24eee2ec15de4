"""`dreamface train` in two gloo processes under torchrun equals the one-process run, on tiny
16-px networks and an 8-face montage set on the CPU, with ADA augmenting D's pictures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import REPO
from dreamface.cli import main
from facegen.training.montage_dataset import write_montage_dataset
from facegen.training.options import TrainingError, auto_options, check_processes
from facegen.training.snapshot import load_state

# 4 steps of 8 pictures, 4 to a process: one minibatch-std group of 4 each; ADA from p = 0.5,
# moving p by 0.32 after the 4th step (by D's signs on the reals of both processes)
TRAIN = ["train", "--res", "16", "--kimg", "0.032", "--batch", "8", "--cbase", "64", "--cmax", "16",
         "--p", "0.5", "--ada-kimg", "0.1"]


def _two_processes(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "dreamface.cli", *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def _why(stderr: str) -> str:
    """What a failed torchrun said: the ranks' own errors (a gloo abort prints "terminate called
    … what(): …" long before torchrun's summary) and the summary's end."""
    causes = [line for line in stderr.splitlines() if any(w in line for w in ("what()", "terminate", "Error"))]
    return "\n".join(causes[:20]) + "\n…\n" + stderr[-1500:]


@pytest.mark.slow
def test_two_processes_train_as_one(tmp_path, capsys):
    write_montage_dataset(tmp_path / "faces", 8, 16)
    two = _two_processes([*TRAIN, "--data", "faces", "--out", "two"], tmp_path)
    assert two.returncode == 0, _why(two.stderr)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main([*TRAIN, "--data", str(tmp_path / "faces"), "--out", str(tmp_path / "one")]) == 0
    finally:
        torch.set_num_threads(threads)
    one_out = capsys.readouterr().out

    # process 0 alone speaks and writes, and the losses it reports are the whole batch's
    assert "batch 8 over 2 processes" in two.stdout
    ticks = [line for line in two.stdout.splitlines() if line.startswith("tick")]
    assert len(ticks) == 2 and "p 0.500" in ticks[0]
    losses = lambda line: line.split("s/kimg")[1].split("ETA")[0]   # noqa: E731
    assert [losses(t) for t in ticks] == [losses(t) for t in one_out.splitlines() if t.startswith("tick")]
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())

    # the same weights up to the order of sums: float32 rounding gives differences of 1e-5 at
    # most (mapping weights of ~500); a process that misses others' gradients, pictures of
    # another process's groups or noise of its own moves weights by Adam's step, ~2.5e-3
    a, b = (load_state(tmp_path / run / "snapshot-000000032.state") for run in ("one", "two"))
    for net in ("G", "D", "G_ema"):
        for name, tensor in a[net].items():
            assert torch.allclose(b[net][name], tensor, rtol=1e-6, atol=1e-4), (net, name)
    assert torch.allclose(b["pl_mean"], a["pl_mean"], rtol=1e-5)
    assert (a["nimg"], a["step"]) == (b["nimg"], b["step"]) == (32, 4)
    assert a["augment"] == b["augment"] and a["augment"]["p"] in (pytest.approx(0.18), pytest.approx(0.82))


def test_batches_that_do_not_split_over_the_processes_are_refused():
    check_processes(auto_options(16, batch=8), 2)
    with pytest.raises(TrainingError, match="--batch 12 does not split over 2 processes.*use a multiple of 8"):
        check_processes(auto_options(16, batch=12), 2)   # shares of 6: not whole groups of 4
    with pytest.raises(TrainingError, match="does not split over 3 processes"):
        check_processes(auto_options(16, batch=8), 3)
