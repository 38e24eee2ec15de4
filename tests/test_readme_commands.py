"""The README's commands, run as written, so the README cannot drift from the program again.

Every line of every ```sh block and every command of the Commands table is either run here or
listed in NOT_RUN with the reason. Table rows show placeholders (`A B`, `NAME`, `[--no-worker]`,
`ko|en`, `"…"`); each row maps to concrete commands that must be instances of the row as
written (checked against a pattern made from the row) and run in a scratch directory that holds
real files for the placeholders: a photo, a tiny StyleGAN checkpoint, a tiny training set, a
stand-in Inception file. Long-running commands (`run`, `worker`, `bot …`) are started, checked for health, then stopped with SIGTERM; every
command must end with exit status 0 and no traceback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from conftest import REPO, TESTDATA, process_env

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS / "bot"))
sys.path.insert(0, str(TESTS / "facegen"))
from discord_fake import FakeDiscord  # noqa: E402
from telegram_fake import FakeTelegram  # noqa: E402
from web_process import free_port  # noqa: E402

README = REPO / "README.md"
VENV_BIN = Path(sys.executable).parent
START_TIMEOUT = 120
PHOTO = TESTDATA / "biden_official_portrait.jpg"

pytestmark = pytest.mark.slow

# --- what the README says ---------------------------------------------------------------------


def sh_blocks() -> list[list[str]]:
    """The non-blank lines of each ```sh block, as written (indentation stripped)."""
    blocks, current = [], None
    for line in README.read_text().splitlines():
        stripped = line.strip()
        if current is None and stripped == "```sh":
            current = []
        elif current is not None and stripped == "```":
            blocks.append(current)
            current = None
        elif current is not None and stripped:
            current.append(stripped)
    return blocks


def table_rows() -> list[tuple[str, ...]]:
    """The commands in the first cell of each row of the Commands table."""
    section = README.read_text().split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = re.split(r"(?<!\\)\|", line)[1]
            rows.append(tuple(re.findall(r"`([^`]+)`", first_cell)))
    return rows


PLACEHOLDERS = {"A": r"\S+", "B": r"\S+", "N": r"\d+", "NAME": r"\S+", "PATH": r"\S+", "DIR": r"\S+",
                "IN.pkl": r"\S+\.pkl", "OUT.safetensors": r"\S+\.safetensors", '"…"': r'"[^"]+"',
                "X": r"\d+(?:\.\d+)?"}


def row_pattern(template: str) -> re.Pattern:
    """A template from the table as a pattern: [optional parts], a|b alternatives, placeholders."""
    pattern = ""
    for token in re.findall(r"\[|\]|[^\s\[\]]+", template.replace("\\|", "|")):
        if token == "[":
            pattern += r"(?:\s+"
            continue
        if token == "]":
            pattern += ")?"
            continue
        if token in PLACEHOLDERS:
            piece = PLACEHOLDERS[token]
        elif "|" in token:
            piece = "(?:" + "|".join(re.escape(part) for part in token.split("|")) + ")"
        else:
            piece = re.escape(token)
        pattern += piece if pattern in ("",) or pattern.endswith(r"(?:\s+") else r"\s+" + piece
    return re.compile(pattern + r"$")


# --- how each is run ------------------------------------------------------------------------------

Check = Callable[[Path, str], None]


@dataclass(frozen=True)
class Run:
    command: str                     # run by bash in the scratch directory (or the repository)
    stdin: str = ""
    serves: str | None = None        # "web", "worker", "telegram", "discord": started, checked, stopped
    in_repo: bool = False
    check: Check | None = None       # afterwards: (scratch directory, output)
    env: dict[str, str] = field(default_factory=dict)


def image_at(name: str, size: int | None = None) -> Check:
    def check(scratch: Path, output: str) -> None:
        with Image.open(scratch / name) as image:
            assert image.format == "PNG" and (size is None or image.size[0] >= size), image
    return check


def prints(*words: str) -> Check:
    def check(scratch: Path, output: str) -> None:
        for word in words:
            assert word in output, f"{word!r} not in:\n{output}"
    return check


def json_lines(count: int, images: int) -> Check:
    def check(scratch: Path, output: str) -> None:
        replies = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert len(replies) >= count, output
        assert sum(len(r["images"]) for r in replies) >= images, output
        for reply in replies:
            for path in reply["images"]:
                assert (scratch / path).is_file(), path
    return check


def parsed_json(scratch: Path, output: str) -> None:
    parsed = json.loads(output)
    assert parsed["attributes"], parsed


def files_at(*names: str) -> Check:
    def check(scratch: Path, output: str) -> None:
        for name in names:
            assert (scratch / name).is_file(), name
    return check


def webhook_settings(scratch: Path, output: str) -> None:
    url, secret = output.split()
    assert url.startswith("https://") and re.fullmatch(r"[0-9a-f]{64}", secret), output


# Each table row (its commands joined by " / ") → the concrete commands that stand for it.
ROW_RUNS: dict[str, list[Run]] = {
    "dreamface run [--no-worker]": [Run("dreamface run", serves="web"),
                                    Run("dreamface run --no-worker", serves="web")],
    "dreamface chat [--user NAME] [--lang ko\\|en] [--out DIR] [--photo PATH] [--no-worker]": [
        Run("dreamface chat --user ann --lang en --out faces --photo photo.jpg", stdin="yes\nnew\n",
            check=json_lines(4, 2)),
        Run("dreamface chat --lang ko --no-worker", stdin="도움말\n네\n", check=prints("고마워요")),
    ],
    "dreamface worker [--queues default,slow] [--batch-size N] [--max-batch-size N]": [
        Run("dreamface worker --queues default,slow --batch-size 4 --max-batch-size 16", serves="worker"),
        Run("dreamface worker", serves="worker"),
    ],
    "dreamface db upgrade / dreamface db check": [Run("dreamface db upgrade"), Run("dreamface db check")],
    "dreamface generate --seed 42 --out a.png": [Run("dreamface generate --seed 42 --out a.png",
                                                     check=image_at("a.png"))],
    "dreamface convert IN.pkl OUT.safetensors": [
        Run("dreamface convert tiny.pkl tiny.safetensors",
            check=lambda scratch, output: (scratch / "tiny.safetensors").stat().st_size > 0)],
    'dreamface generate --describe "…" --out a.png': [
        Run('dreamface generate --describe "눈이 크고 웃는 젊은 여자" --out a.png', check=image_at("a.png")),
        Run('dreamface generate --describe "an old man with a white beard" --out a.png', check=image_at("a.png"))],
    'dreamface parse "…"': [Run('dreamface parse "둥근 얼굴에 큰 눈"', check=parsed_json),
                           Run('dreamface parse "a long face, thin lips"', check=parsed_json)],
    "dreamface grid --region eyes --seed 42 --out g.png": [
        Run("dreamface grid --region eyes --seed 42 --out g.png", check=image_at("g.png", 512))],
    "dreamface morph A B --ratio 0.7 --mode linear\\|style\\|attribute --out m.png": [
        Run("dreamface morph 1 2 --ratio 0.7 --mode linear --out m.png", check=image_at("m.png")),
        Run("dreamface morph 1 2 --ratio 0.7 --mode style --out m.png", check=image_at("m.png")),
        Run("dreamface morph photo.jpg 2 --ratio 0.7 --mode attribute --out m.png", check=image_at("m.png"))],
    'dreamface gallery add "Name" --alias 이름 photo.jpg / dreamface gallery list / dreamface gallery remove NAME': [
        Run('dreamface gallery add "Name" --alias 이름 photo.jpg'),
        Run("dreamface gallery list", check=prints("Name", "이름")),
        Run('dreamface gallery remove "Name"')],
    "dreamface bot telegram\\|discord [--no-worker]": [
        Run("dreamface bot telegram", serves="telegram"),
        Run("dreamface bot discord --no-worker", serves="discord")],
    "dreamface mod add NAME / dreamface mod list": [
        Run("dreamface mod add alice", stdin="a long enough password\n", check=prints("moderator alice added")),
        Run("dreamface mod list", check=prints("alice"))],
    "dreamface dataset montage PATH --count N --res N [--seed N]": [
        Run("dreamface dataset montage ds --count 4 --res 32",
            check=lambda scratch, output: (scratch / "ds" / "dataset.json").is_file()),
        Run("dreamface dataset montage ds.zip --count 4 --res 32 --seed 7",
            check=lambda scratch, output: (scratch / "ds.zip").stat().st_size > 0)],
    "dreamface dataset make DIR PATH --res N [--min-face N] [--labels PATH]": [
        Run(f"dreamface dataset make {TESTDATA} photos64.zip --res 64 --min-face 48",
            check=prints("photos64.zip: 6 faces at 64 px", "several faces (1): two_faces.jpg"))],
    "dreamface train --data PATH --out DIR --res N --kimg X [--resume PATH] [--batch N] [--gamma X] [--mirror] "
    "[--aug ada\\|noaug\\|fixed] [--p X] [--target X] [--ada-kimg X] "
    "[--seed N] [--cbase N] [--cmax N] [--tick X] [--snap N] [--keep N] [--fp16] [--device auto\\|cpu\\|cuda] "
    "[--metrics NAME] [--metric-samples N] [--inception PATH]": [
        Run("dreamface train --data faces16 --out run --res 16 --kimg 0.004 --batch 4 --gamma 0.5 --mirror --aug ada "
            "--p 0.2 --target 0.6 --ada-kimg 10 --seed 3 --cbase 64 --cmax 16 --tick 0.004 --snap 1 --keep 1 "
            "--fp16 --device cpu --metrics none",
            check=files_at("run/snapshot-000000004.safetensors", "run/snapshot-000000004.state", "run/stats.jsonl")),
        Run("dreamface train --data faces16 --out run --res 16 --kimg 0.008 --resume run/snapshot-000000004.state "
            "--metrics fd_dlib,fid --metric-samples 4 --inception inception.pt",
            check=files_at("run/snapshot-000000008.safetensors", "run/snapshot-000000008.png",
                           "run/metric-fd_dlib.jsonl", "run/metric-fid.jsonl"))],
    "dreamface clip train --data PATH --out DIR [--steps N] [--batch N] [--seed N] [--lr X] [--width N] "
    "[--layers N] [--vocab N] [--patch N] [--partial X] [--negatives X] [--twins X] [--threads N] [--tick N] / "
    "dreamface directions build [--ckpt PATH] [--clip DIR] [--clip-text DIR] [--out DIR] [--samples N] [--seed N] "
    "[--only NAME] [--languages NAME] [--min-r X] [--device NAME] [--threads N]": [
        Run("dreamface clip train --data faces16 --out clip --steps 2 --batch 4 --seed 1 --lr 0.002 --width 32 "
            "--layers 1 --vocab 300 --patch 4 --partial 0.5 --negatives 0.5 --twins 0.5 --threads 1 --tick 1",
            check=files_at("clip/model.safetensors", "clip/config.json", "clip/tokenizer.json",
                           "clip/preprocessor_config.json", "clip/training.json")),
        Run("dreamface directions build --ckpt tiny.pkl --clip clip --out directions --samples 20 --seed 1 "
            "--only glasses,hair_colour --languages en,ko --min-r 0 --device cpu --threads 1",
            check=files_at("directions/directions.json")),
        Run("dreamface directions build --samples 20 --only smile",
            env={"DREAMFACE_STYLEGAN_CKPT": "tiny.pkl", "DREAMFACE_CLIP_MODEL": "clip",
                 "DREAMFACE_STYLEGAN_DIRECTIONS": "directions"},
            check=prints("directions written"))],
    "dreamface metrics --data PATH --ckpt PATH [--metrics NAME] [--samples N] [--seed N] [--inception PATH]": [
        Run("dreamface metrics --data faces16 --ckpt tiny.pkl --metrics fd_dlib,face_rate,fid --samples 4 --seed 1 "
            "--inception inception.pt", check=prints("fd_dlib ", "face_rate ", "fid ")),
        Run("dreamface metrics --data faces16 --ckpt tiny.pkl --samples 2", check=prints("ppl "))],
}

# Lines of ```sh blocks → how each runs (as written, inside the command).
SH_RUNS: dict[str, Run] = {
    "make run     # sets up .venv, then starts the web chat at http://127.0.0.1:8080":
        Run("make run     # sets up .venv, then starts the web chat at http://127.0.0.1:8080",
            serves="web", in_repo=True),
    "printf '새 얼굴\\n네\\n눈 보여줘\\n3번\\n되돌리기\\n' | dreamface chat --user alice --out faces/":
        Run("printf '새 얼굴\\n네\\n눈 보여줘\\n3번\\n되돌리기\\n' | dreamface chat --user alice --out faces/",
            check=json_lines(5, 4)),
    "dreamface mod add alice          # asks for a password twice (or reads it from stdin); no web route creates moderators":
        Run("dreamface mod add alice          # asks for a password twice (or reads it from stdin); "
            "no web route creates moderators", stdin="a long enough password\n", check=prints("moderator alice added")),
    "dreamface mod list": Run("dreamface mod list", check=prints("alice")),
    'dreamface mod block 203.0.113.0/24 --hours 24 --reason "identity farm"':
        Run('dreamface mod block 203.0.113.0/24 --hours 24 --reason "identity farm"',
            check=prints("blocked: 1", "203.0.113.0/24")),
    "dreamface mod blocks": Run("dreamface mod blocks", check=prints("203.0.113.0/24", "identity farm")),
    "dreamface mod unblock 1": Run("dreamface mod unblock 1", check=prints("block 1 lifted")),
    "dreamface dataset montage faces --count 16 --res 16": Run("dreamface dataset montage faces --count 16 --res 16"),
    "dreamface train --data faces --out run --res 16 --kimg 0.016 --batch 8 --cbase 1024 --cmax 64 --metrics none":
        Run("dreamface train --data faces --out run --res 16 --kimg 0.016 --batch 8 --cbase 1024 --cmax 64 "
            "--metrics none", check=prints("model: run/snapshot-000000016.safetensors")),
    "dreamface metrics --data faces --ckpt run/snapshot-000000016.safetensors --samples 8":
        Run("dreamface metrics --data faces --ckpt run/snapshot-000000016.safetensors --samples 8",
            check=prints("fd_dlib ", "face_rate ", "ppl ")),
    "DREAMFACE_STYLEGAN_CKPT=run/snapshot-000000016.safetensors dreamface generate --backend stylegan --seed 1 "
    "--out trained.png":
        Run("DREAMFACE_STYLEGAN_CKPT=run/snapshot-000000016.safetensors dreamface generate --backend stylegan "
            "--seed 1 --out trained.png", check=image_at("trained.png")),
    "dreamface dataset montage captioned --count 64 --res 16": Run("dreamface dataset montage captioned --count 64 --res 16"),
    "dreamface clip train --data captioned --out clip16 --steps 20 --batch 16 --width 32 --layers 1":
        Run("dreamface clip train --data captioned --out clip16 --steps 20 --batch 16 --width 32 --layers 1",
            check=prints("model: clip16", "held-out image→text top-1")),
    "python -c \"from facegen.stylegan.clip import load_clip; print(load_clip('clip16').text_features(['안경 쓴 남자', "
    "'a man with glasses']).shape)\"":
        Run("python -c \"from facegen.stylegan.clip import load_clip; print(load_clip('clip16').text_features("
            "['안경 쓴 남자', 'a man with glasses']).shape)\"", check=prints("torch.Size([2, 32])")),
}
# The webhook settings block: assignments, checked by the settings that read them.
WEBHOOK_LINES = (
    "DREAMFACE_TELEGRAM_WEBHOOK_URL=https://bot.example.com/telegram/k29fQz7c   # public HTTPS URL",
    "DREAMFACE_TELEGRAM_WEBHOOK_SECRET=$(openssl rand -hex 32)                  # 1–256 of A–Z a–z 0–9 _ -",
)
SH_RUNS[WEBHOOK_LINES[0]] = SH_RUNS[WEBHOOK_LINES[1]] = Run(
    "set -a\n" + "\n".join(WEBHOOK_LINES) + "\n"
    "python -c 'from ground.config import Settings; s = Settings.from_env(); "
    "print(s.telegram_webhook_url, s.telegram_webhook_secret)'", check=webhook_settings)

NOT_RUN = {
    "make test    # sets up .venv, then runs the whole test suite":
        "this test runs inside `make test`; running it here would recurse",
    ".venv/bin/python -m pytest tests/ops/test_topology.py -s   # PostgreSQL at DREAMFACE_TEST_POSTGRES_URL; -s prints the figures":
        "the suite runs tests/ops/test_topology.py itself; a second run would double its slowest minute",
    ".venv/bin/python -m pytest tests/ops/test_styles_topology.py -s   # -s prints the figures":
        "the suite runs tests/ops/test_styles_topology.py itself",
    "torchrun --standalone --nproc_per_node 2 -m dreamface.cli train --data faces --out run2 --res 16 --kimg 0.016 "
    "--batch 8 --cbase 1024 --cmax 64":
        "tests/facegen/test_train_distributed.py runs this launch (on narrower networks, --cbase 64 --cmax 16) and "
        "compares it with one process; running it here too would add about 12 s of two processes",
    ".venv/bin/python bench/stylegan_bench.py --resolution 1024 --device cuda --batches 1,8,32":
        "needs a CUDA GPU, which CI has not; tests/bench runs this script's --smoke mode",
}


def test_every_command_in_the_readme_is_run_here_or_says_why_not():
    lines = [line for block in sh_blocks() for line in block]
    assert lines and table_rows(), "the README lost its commands"
    unaccounted = [line for line in lines if line not in SH_RUNS and line not in NOT_RUN]
    assert not unaccounted, f"README lines this test neither runs nor explains: {unaccounted}"
    stale = [line for line in [*SH_RUNS, *NOT_RUN] if line not in lines]
    assert not stale, f"lines no longer in the README: {stale}"
    rows = [" / ".join(row) for row in table_rows()]
    assert sorted(rows) == sorted(ROW_RUNS), (set(rows) ^ set(ROW_RUNS))
    for row in table_rows():
        runs = ROW_RUNS[" / ".join(row)]
        for run in runs:
            assert any(row_pattern(template).match(run.command) for template in row), \
                f"{run.command!r} is not an instance of {row}"
        for template in row:   # every command of the row is tried at least once
            assert any(row_pattern(template).match(run.command) for run in runs), template


def test_row_patterns_follow_the_readme_notation():
    pattern = row_pattern("dreamface chat [--user NAME] [--lang ko\\|en] [--no-worker]")
    assert pattern.match("dreamface chat") and pattern.match("dreamface chat --user ann --lang ko --no-worker")
    assert not pattern.match("dreamface chat --lang fr") and not pattern.match("dreamface chat --secret x")
    assert row_pattern('dreamface parse "…"').match('dreamface parse "big eyes"')
    assert not row_pattern("dreamface morph A B --out m.png").match("dreamface morph 1 --out m.png")


# --- running them ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    from stylegan_fixtures import tiny_sg2, write_nvidia_pickle
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pkl"
    write_nvidia_pickle(tiny_sg2(), path)
    return path


@pytest.fixture(scope="module")
def tiny_training_set(tmp_path_factory) -> Path:
    from facegen.training.montage_dataset import write_montage_dataset
    path = tmp_path_factory.mktemp("data") / "faces16"
    write_montage_dataset(path, 8, 16)
    return path


@pytest.fixture(scope="module")
def stand_in_inception(tmp_path_factory) -> Path:
    from inception_fixtures import StandInInception, write_torchscript
    return write_torchscript(StandInInception(), tmp_path_factory.mktemp("inception") / "inception.pt")


@pytest.fixture
def scratch(tmp_path, tiny_checkpoint, tiny_training_set, stand_in_inception) -> Path:
    shutil.copy(PHOTO, tmp_path / "photo.jpg")
    shutil.copy(tiny_checkpoint, tmp_path / "tiny.pkl")
    shutil.copytree(tiny_training_set, tmp_path / "faces16")
    shutil.copy(stand_in_inception, tmp_path / "inception.pt")   # for fid: NVIDIA's file cannot be downloaded here
    return tmp_path


def environment(scratch: Path, extra: dict[str, str]) -> dict[str, str]:
    env = process_env()
    env.update({"PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", "PYTHONPATH": str(REPO),
                "DREAMFACE_DATABASE_URL": f"sqlite:///{scratch / 'dreamface.db'}", **extra})
    return env


async def run_to_end(run: Run, scratch: Path) -> str:
    done = await asyncio.to_thread(
        subprocess.run, ["bash", "-c", run.command], input=run.stdin, capture_output=True, text=True,
        cwd=REPO if run.in_repo else scratch, env=environment(scratch, run.env), timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{run.command}: exit {done.returncode}\n{output}"
    assert "Traceback" not in output, f"{run.command}:\n{output}"
    if run.check is not None:
        run.check(scratch, done.stdout)
    return output


@contextlib.asynccontextmanager
async def platform_for(run: Run) -> AsyncIterator[tuple[dict[str, str], Callable[[], bool]]]:
    """The environment a long-running command needs, and how to tell that it is up."""
    if run.serves == "telegram":
        async with FakeTelegram() as fake:
            yield fake.env, lambda: bool(fake.commands)
    elif run.serves == "discord":
        async with FakeDiscord() as fake:
            yield ({"DREAMFACE_DISCORD_TOKEN": fake.token, "DREAMFACE_DISCORD_API_BASE": fake.api_base,
                    "DREAMFACE_DISCORD_GATEWAY_URL": fake.gateway_url},
                   lambda: fake.identifies > 0)
    else:
        port = free_port()
        variable = "DREAMFACE_WORKER_METRICS_PORT" if run.serves == "worker" else "DREAMFACE_WEB_PORT"
        healthy = {"up": False}

        async def poll() -> None:
            async with aiohttp.ClientSession() as http:
                while not healthy["up"]:
                    with contextlib.suppress(aiohttp.ClientError):
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                            healthy["up"] = response.status == 200
                    await asyncio.sleep(0.2)

        poller = asyncio.create_task(poll())
        try:
            yield {variable: str(port)}, lambda: healthy["up"]
        finally:
            poller.cancel()


async def group_gone(group: int, timeout: float) -> None:
    """Wait until no process of the process group is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        await asyncio.sleep(0.1)


async def serve_then_stop(run: Run, scratch: Path) -> str:
    async with platform_for(run) as (env, is_up):
        log_path = scratch / "serve.log"
        with open(log_path, "w") as log:
            # its own process group, so the stop reaches `make` and the dreamface it started alike
            child = subprocess.Popen(["bash", "-c", f"exec {run.command}"], cwd=REPO if run.in_repo else scratch,
                                     env=environment(scratch, {**run.env, **env}), stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not is_up():
                assert child.poll() is None, f"{run.command} exited early:\n{log_path.read_text()}"
                assert time.monotonic() < deadline, f"{run.command} never came up:\n{log_path.read_text()}"
                await asyncio.sleep(0.1)
            os.killpg(child.pid, signal.SIGTERM)
            returncode = await asyncio.to_thread(child.wait, 60)
            await group_gone(child.pid, 60)   # `make` may exit before the dreamface it started has stopped
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
    output = log_path.read_text()
    assert "Traceback" not in output and " ERROR " not in output, f"{run.command}:\n{output}"
    if run.command.startswith("make "):
        # make itself reports the signal; what matters is that dreamface stopped in order
        assert "dreamface: stopped." in output, output
    else:
        assert returncode == 0, f"{run.command}: exit {returncode}\n{output}"
    return output


async def perform(runs: list[Run], scratch: Path) -> None:
    for run in runs:
        if run.serves:
            await serve_then_stop(run, scratch)
        else:
            await run_to_end(run, scratch)


@pytest.mark.parametrize("row", list(ROW_RUNS), ids=lambda row: row.split(" ")[1] + "-" + row.split(" ")[2])
async def test_commands_table_row_runs(row, scratch):
    await perform(ROW_RUNS[row], scratch)


def runnable_blocks() -> list[list[Run]]:
    """Each ```sh block's runs, in order (blocks whose every line is in NOT_RUN left out)."""
    blocks = []
    for block in sh_blocks():
        runs: list[Run] = []
        for line in block:
            run = SH_RUNS.get(line)
            if run is not None and run not in runs:
                assert line in run.command, (line, run.command)   # run as written
                runs.append(run)
        if runs:
            blocks.append(runs)
    return blocks


@pytest.mark.parametrize("runs", runnable_blocks(), ids=lambda runs: runs[0].command.split()[0].split("=")[0])
async def test_sh_block_runs(runs, scratch):
    await perform(runs, scratch)
