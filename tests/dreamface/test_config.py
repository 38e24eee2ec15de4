"""DREAMFACE_* settings: read once, typed, validated, with errors that name the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ground.config import ConfigError, Settings, describe


def test_the_embedded_default_needs_no_configuration():
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///dreamface.db"
    assert (settings.backend, settings.web_host, settings.web_port) == ("montage", "127.0.0.1", 8080)
    assert settings.queues == ("default", "slow")


def test_values_are_typed():
    settings = Settings.from_env({"DREAMFACE_WEB_PORT": "9000", "DREAMFACE_WORKER_LEASE_SECONDS": "2.5",
                                  "DREAMFACE_WORKER_QUEUES": " default , slow ,"})
    assert settings.web_port == 9000 and settings.worker_lease_seconds == 2.5
    assert settings.queues == ("default", "slow")


@pytest.mark.parametrize("name, value, message", [
    ("DREAMFACE_WEB_PORT", "eighty", "DREAMFACE_WEB_PORT must be a whole number, got 'eighty'"),
    ("DREAMFACE_WEB_PORT", "0", "DREAMFACE_WEB_PORT must be greater than 0"),
    ("DREAMFACE_USER_JOB_CAP", "-1", "DREAMFACE_USER_JOB_CAP must be greater than 0"),
    ("DREAMFACE_BACKEND", "dalle", "DREAMFACE_BACKEND must be"),
    ("DREAMFACE_LPIPS_VGG", "/nowhere/vgg16.pt", "DREAMFACE_LPIPS_VGG: no such file '/nowhere/vgg16.pt'"),
    ("DREAMFACE_INCEPTION", "/nowhere/inception.pt", "DREAMFACE_INCEPTION: no such file '/nowhere/inception.pt'"),
    ("DREAMFACE_STYLEGAN_PRECISION", "fp8", "DREAMFACE_STYLEGAN_PRECISION must be fp32, fp16 or bf16"),
    ("DREAMFACE_TELEGRAM_ADMIN_IDS", "12,alice", "DREAMFACE_TELEGRAM_ADMIN_IDS must be comma-separated numeric"),
    ("DREAMFACE_TELEGRAM_WEBHOOK_URL", "https://bot.example/tg", "DREAMFACE_TELEGRAM_WEBHOOK_SECRET must be set"),
    ("DREAMFACE_INVERSION_STEPS", "0", "DREAMFACE_INVERSION_STEPS must be greater than 0"),
    ("DREAMFACE_TEXT_EDIT_STEPS", "0", "DREAMFACE_TEXT_EDIT_STEPS must be between 1 and 1000, got 0"),
    ("DREAMFACE_PHOTO_FIT_EVALUATIONS", "-8", "DREAMFACE_PHOTO_FIT_EVALUATIONS must be 0 or more"),
    ("DREAMFACE_CLIP_LANGUAGES", "en,fr", "DREAMFACE_CLIP_LANGUAGES must name some of en, ko, comma-separated, got 'en,fr'"),
    ("DREAMFACE_CLIP_LANGUAGES", " , ", "DREAMFACE_CLIP_LANGUAGES must name some of en, ko"),
    ("DREAMFACE_RANK_POOL", "0", "DREAMFACE_RANK_POOL must be between 1 \\(no ranking\\) and 64, got 0"),
    ("DREAMFACE_RANK_POOL", "65", "DREAMFACE_RANK_POOL must be between 1"),
    ("DREAMFACE_OPS_PORT", "70000", "DREAMFACE_OPS_PORT must be a port"),
    ("DREAMFACE_OPS_TOKEN", "short", "DREAMFACE_OPS_TOKEN must be at least 16 visible ASCII characters"),
    ("DREAMFACE_OPS_TOKEN", "has a space in it, 16+ long", "DREAMFACE_OPS_TOKEN must be at least 16"),
])
def test_bad_values_name_the_variable(name, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value})


def test_every_setting_is_described():
    described = {name for name, _, _ in describe()}
    assert "DREAMFACE_DATABASE_URL" in described and all(help for _, _, help in describe())
    assert len(described) == len(Settings.__dataclass_fields__)


def test_a_bad_value_stops_a_command_with_one_line():
    done = subprocess.run([sys.executable, "-m", "dreamface.cli", "worker"], capture_output=True, text=True,
                          env={"DREAMFACE_WEB_PORT": "eighty", "PATH": ""}, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "dreamface: configuration error: DREAMFACE_WEB_PORT must be a whole number, got 'eighty'"


@pytest.mark.parametrize("command", [["worker"], ["run", "--port", "0"]])
def test_a_backend_that_cannot_start_stops_the_command_with_one_line(tmp_path, command):
    """Only processes that run a worker load a model (a --no-worker chat ignores the setting:
    tests/dreamface/test_chat_side.py)."""
    broken = tmp_path / "ffhq.pkl"
    broken.write_bytes(b"not a pickle at all")
    env = {"DREAMFACE_BACKEND": "stylegan", "DREAMFACE_STYLEGAN_CKPT": str(broken), "PATH": "",
           "DREAMFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'dreamface.db'}"}
    done = subprocess.run([sys.executable, "-m", "dreamface.cli", *command], capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("dreamface: the stylegan backend cannot start:") and "ffhq.pkl" in last
    assert "Traceback" not in done.stderr


def test_a_clip_directory_that_cannot_be_used_stops_the_worker_at_start_with_one_line(tmp_path):
    """Not at the first free-text edit: the worker builds the stylegan backend, CLIP included, first."""
    checkpoint = Path(__file__).resolve().parents[1] / "data" / "montage32.safetensors"
    env = {"DREAMFACE_BACKEND": "stylegan", "DREAMFACE_STYLEGAN_CKPT": str(checkpoint), "PATH": "",
           "DREAMFACE_CLIP_MODEL": str(tmp_path / "clip"), "DREAMFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'df.db'}",
           **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}}   # (a worktree's code)
    done = subprocess.run([sys.executable, "-m", "dreamface.cli", "worker"], capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"dreamface: the stylegan backend cannot start: DREAMFACE_CLIP_MODEL={tmp_path / 'clip'}: no such directory "
        "(a local directory holding a saved model)")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("env, shards", [
    ({}, None),
    ({"DREAMFACE_DISCORD_SHARD_COUNT": "8"}, None),
    ({"DREAMFACE_DISCORD_SHARD_COUNT": "8", "DREAMFACE_DISCORD_SHARD_IDS": "4-7"}, (4, 5, 6, 7)),
    ({"DREAMFACE_DISCORD_SHARD_COUNT": "8", "DREAMFACE_DISCORD_SHARD_IDS": " 6, 0-1,1 "}, (0, 1, 6)),
])
def test_discord_shard_ids_are_ids_and_ranges(env, shards):
    assert Settings.from_env(env).discord_shards == shards


@pytest.mark.parametrize("env, message", [
    ({"DREAMFACE_DISCORD_SHARD_IDS": "0-3"}, "DREAMFACE_DISCORD_SHARD_IDS needs DREAMFACE_DISCORD_SHARD_COUNT"),
    ({"DREAMFACE_DISCORD_SHARD_COUNT": "8", "DREAMFACE_DISCORD_SHARD_IDS": "4-8"},
     r"shard 8 does not exist with DREAMFACE_DISCORD_SHARD_COUNT=8 \(ids are 0 to 7\)"),
    ({"DREAMFACE_DISCORD_SHARD_COUNT": "8", "DREAMFACE_DISCORD_SHARD_IDS": "3-1"}, "ranges such as 0-3"),
    ({"DREAMFACE_DISCORD_SHARD_COUNT": "8", "DREAMFACE_DISCORD_SHARD_IDS": "a"}, "ranges such as 0-3"),
    ({"DREAMFACE_DISCORD_SHARD_COUNT": "8", "DREAMFACE_DISCORD_SHARD_IDS": "0-99999999999"}, "ranges such as 0-3"),
    ({"DREAMFACE_DISCORD_SHARD_COUNT": "-1"}, "DREAMFACE_DISCORD_SHARD_COUNT must be 0 or more"),
])
def test_bad_discord_shards_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)
