"""Logs an operator can ship: text or JSON lines carrying job, face and a pseudonymous user,
with tokens, passwords and photo bytes kept out whatever a caller passes."""

from __future__ import annotations

import io
import json
import logging
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import process_env
from ground import logging as dflog
from ground.config import Settings

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456:AAH-telegram-token-XYZ"
PASSWORD = "s3cret-db-pass"


@pytest.fixture
def configured(monkeypatch):
    """configure() with the given settings into a buffer; the root logger is restored after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    monkeypatch.setattr(dflog, "_pseudonym_key", dflog._pseudonym_key)

    def configure(**env: str) -> io.StringIO:
        buffer = io.StringIO()
        dflog.configure(Settings.from_env({f"DREAMFACE_{k.upper()}": v for k, v in env.items()}), stream=buffer)
        return buffer

    yield configure
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def test_json_lines_carry_job_face_and_a_pseudonymous_user(configured):
    out = configured(log_format="json", log_pseudonym_key="k1")
    with dflog.log_context(job_id=12, face_id=34, user=dflog.pseudonym(5678)):
        logging.getLogger("dreamface.test").info("stored face %d", 7, extra={"queue": "default"})
    logging.getLogger("dreamface.test").warning("outside")
    first, second = [json.loads(line) for line in out.getvalue().splitlines()]
    assert first["message"] == "stored face 7" and first["level"] == "INFO" and first["logger"] == "dreamface.test"
    assert (first["job_id"], first["face_id"], first["queue"]) == ("12", "34", "default")
    assert first["user"].startswith("u-") and "5678" not in first["user"]
    assert "job_id" not in second and "user" not in second   # the context ended with the block


def test_pseudonyms_are_stable_under_one_key_and_differ_under_another(configured):
    configured(log_pseudonym_key="first key")
    one = dflog.pseudonym(42)
    assert dflog.pseudonym(42) == one and dflog.pseudonym(43) != one
    configured(log_pseudonym_key="second key")
    assert dflog.pseudonym(42) != one


def test_text_lines_are_readable_with_the_context_as_tags(configured):
    out = configured()
    with dflog.log_context(job_id=3):
        logging.getLogger("storage.worker").info("rendered")
    line = out.getvalue().strip()
    assert line.endswith("INFO storage.worker: rendered [job=3]") and not line.startswith("{")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_tokens_passwords_and_photo_bytes_never_reach_the_log(configured, log_format):
    out = configured(log_format=log_format, telegram_token=TOKEN,
                     database_url=f"postgresql://dreamface:{PASSWORD}@db:5432/dreamface")
    log = logging.getLogger("bot.telegram")
    log.info("calling https://api.telegram.org/bot%s/getUpdates", TOKEN)
    log.warning(f"connect failed for postgresql://dreamface:{PASSWORD}@db/dreamface")
    log.info("photo from user: %r", b"\x89PNG\r\n" + b"\x00" * 5000)
    try:
        raise RuntimeError(f"401 Unauthorized for token {TOKEN}")
    except RuntimeError:
        log.exception("request failed")
    text = out.getvalue()
    assert TOKEN not in text and PASSWORD not in text and "\\x00" not in text and "PNG" not in text
    assert text.count(dflog.REDACTED) == 3 and "<5006 bytes>" in text   # URL, DSN, the traceback's error line


def test_a_bad_log_format_names_the_variable():
    with pytest.raises(ValueError, match="DREAMFACE_LOG_FORMAT"):
        Settings.from_env({"DREAMFACE_LOG_FORMAT": "xml"})


def test_dreamface_worker_logs_json_and_serves_its_metrics_port(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = process_env()
    env.update(DREAMFACE_DATABASE_URL=f"sqlite:///{tmp_path / 'dreamface.db'}", DREAMFACE_LOG_FORMAT="json",
               DREAMFACE_WORKER_METRICS_PORT=str(port), PYTHONPATH=str(REPO))
    stderr = open(tmp_path / "worker.err", "w+")
    worker = subprocess.Popen([sys.executable, "-m", "dreamface.cli", "worker"], cwd=tmp_path, env=env,
                              stderr=stderr, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                    ready = json.load(response)
                break
            except OSError:
                assert worker.poll() is None, (tmp_path / "worker.err").read_text()
                assert time.monotonic() < deadline, "the worker's metrics port never answered"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(30)
    assert ready["ok"] and code == 0
    assert "# TYPE dreamface_jobs_finished_total counter" in metrics
    lines = [json.loads(line) for line in (tmp_path / "worker.err").read_text().splitlines()]
    assert any(line["logger"] == "dreamface.worker" and "serving" in line["message"] for line in lines)
