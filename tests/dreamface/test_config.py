"""DREAMFACE_* settings: read once, typed, validated, with errors that name the variable."""

import subprocess
import sys

import pytest

from dreamface.config import ConfigError, Settings, describe


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
