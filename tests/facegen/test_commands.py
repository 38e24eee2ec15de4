"""The operator commands, run the way an operator runs them: `dreamface …` as a process."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

DATA = Path(__file__).resolve().parent.parent / "data"
DREAMFACE = [sys.executable, "-m", "dreamface.cli"]


def dreamface(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*DREAMFACE, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_generate_from_a_seed_is_deterministic(tmp_path):
    for name in ("a.png", "b.png"):
        assert dreamface("generate", "--seed", "42", "--size", "256", "--out", str(tmp_path / name)).returncode == 0
    a, b = Image.open(tmp_path / "a.png"), Image.open(tmp_path / "b.png")
    assert a.size == (256, 256) and np.array_equal(np.asarray(a), np.asarray(b))
    dreamface("generate", "--seed", "43", "--size", "256", "--out", str(tmp_path / "c.png"))
    assert not np.array_equal(np.asarray(a), np.asarray(Image.open(tmp_path / "c.png")))


def test_generate_truncation_pulls_any_seed_to_the_average_face_at_the_backends_own_size(tmp_path):
    for seed, trunc in (("1", "0"), ("2", "0"), ("1", "1")):
        done = dreamface("generate", "--seed", seed, "--trunc", trunc, "--out", str(tmp_path / f"{seed}-{trunc}.png"))
        assert done.returncode == 0, done.stderr
    average, same, face = (np.asarray(Image.open(tmp_path / name)) for name in ("1-0.png", "2-0.png", "1-1.png"))
    assert average.shape == (512, 512, 3)   # the montage draws at 512 px unless --size says otherwise
    assert np.array_equal(average, same) and not np.array_equal(average, face)


def test_generate_from_a_description_reports_what_it_did_not_understand(tmp_path):
    done = dreamface("generate", "--describe", "안경을 쓴 남자, 보라색 뿔", "--size", "128", "--out", str(tmp_path / "d.png"))
    assert done.returncode == 0, done.stderr
    assert "보라색" in done.stderr and "뿔" in done.stderr
    assert Image.open(tmp_path / "d.png").size == (128, 128)


def test_parse_prints_attributes_and_unknown_words_as_json():
    done = dreamface("parse", "a bald old man with round glasses and purple horns")
    parsed = json.loads(done.stdout)
    assert parsed["attributes"]["hair_style"] == "bald" and parsed["attributes"]["glasses"] is True
    assert {"purple", "horns"} <= set(parsed["unknown"])


def test_parse_shows_marks_with_their_places_and_the_beard_colour():
    done = dreamface("parse", "눈 밑에 점이 있고 주근깨가 많은 할아버지, 흰 수염")
    attributes = json.loads(done.stdout)["attributes"]
    assert attributes["moles"] == ["under_eye"] and attributes["freckles"] == 1.0
    assert attributes["beard"] == "full" and attributes["beard_colour"] == "white"


def test_grid_is_a_numbered_sheet_of_ten_close_ups(tmp_path):
    from facegen.montage.regions import region_box
    from facegen.sheet import close_up_layout
    done = dreamface("grid", "--region", "eyes", "--seed", "42", "--size", "128", "--out", str(tmp_path / "g.png"))
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "g.png").size == close_up_layout(10, region_box("eyes")).size   # 2 across, 5 down


def test_morph_a_photo_with_a_seed(tmp_path):
    photo = str(DATA / "obama_official_portrait.jpg")
    outs = {}
    for ratio in ("1", "0"):
        out = tmp_path / f"m{ratio}.png"
        done = dreamface("morph", photo, "7", "--ratio", ratio, "--mode", "style", "--size", "128", "--out", str(out))
        assert done.returncode == 0, done.stderr
        outs[ratio] = np.asarray(Image.open(out))
    assert not np.array_equal(outs["1"], outs["0"])


def test_generate_from_a_photo_is_the_pure_fit_that_morph_at_ratio_one_gives(tmp_path):
    photo = str(DATA / "biden_official_portrait.jpg")
    made = dreamface("generate", "--photo", photo, "--size", "128", "--out", str(tmp_path / "g.png"))
    assert made.returncode == 0, made.stderr
    assert "likeness to the photo: 0." in made.stderr
    morphed = dreamface("morph", photo, "1", "--ratio", "1.0", "--size", "128", "--out", str(tmp_path / "m.png"))
    assert morphed.returncode == 0, morphed.stderr
    assert np.array_equal(np.asarray(Image.open(tmp_path / "g.png")), np.asarray(Image.open(tmp_path / "m.png")))


@pytest.mark.parametrize("args, message", [
    (["morph", "1", "2", "--ratio", "1.5"], "ratio must be between 0 and 1, got 1.5"),
    (["morph", "1", "2", "--mode", "sideways"], "invalid choice"),
    (["morph", "1", "nobody.jpg"], "neither a seed nor a photo"),
    (["morph", "1", str(DATA / "two_faces.jpg")], "faces"),
    (["morph", "1", str(DATA / "tiny_face.jpg")], "small"),
    (["grid", "--region", "tail"], "unknown region 'tail'"),
    (["generate", "--seed", "1", "--size", "5000"], "1024"),
    (["generate", "--seed", "1", "--noise-mode", "random"], "--noise-mode does not apply to the montage backend"),
    (["generate", "--seed", "1", "--ckpt", "ffhq.pkl"], "--ckpt does not apply to the montage backend (only to stylegan)"),
    (["generate", "--describe", "a smiling man", "--trunc", "0.5"], "--trunc applies to a face from --seed"),
    (["generate", "--seed", "1", "--caricature", "0.5"], "--caricature applies to a face made from --photo"),
    (["morph", str(DATA / "obama_official_portrait.jpg"), "1", "--caricature", "-1"], "--caricature must be 0 or more"),
])
def test_bad_input_gets_one_clear_line(tmp_path, args, message):
    done = dreamface(*args, "--out", str(tmp_path / "x.png"))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.png").exists()


def test_dreamface_worker_runs_the_shipped_handlers_and_stops_on_sigterm(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    env = {**os.environ, "DREAMFACE_DATABASE_URL": url, "DREAMFACE_WORKER_POLL_SECONDS": "0.1"}
    enqueue = """
import asyncio
from ground.config import Settings
from facegen.handlers import MAKE, job_kinds
from storage.faces import FaceRepository
from storage.db import session_factory
from storage.migrate import open_database
from storage.queue import Queue

async def main():
    engine = await open_database(Settings.from_env())
    async with session_factory(engine)() as s, s.begin():
        user = await FaceRepository(s).get_or_create_user("cli", "op")
    job = await Queue(engine, job_kinds()).enqueue(MAKE, {"user_id": user.id, "operation": "new",
        "params": {"seed": 5}, "size": 64, "reply_to": {"platform": "cli", "chat_id": "op"}})
    print(job.id)
    await engine.dispose()
asyncio.run(main())
"""
    job_id = int(subprocess.run([sys.executable, "-c", enqueue], env=env, capture_output=True, text=True,
                                check=True).stdout)
    worker = subprocess.Popen([*DREAMFACE, "worker"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        state = ""
        check = ("import asyncio, sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
                 "'select state from jobs where id=?', (int(sys.argv[2]),)).fetchone()[0])")
        deadline = time.monotonic() + 60
        while state != "done" and time.monotonic() < deadline:
            time.sleep(0.3)
            state = subprocess.run([sys.executable, "-c", check, str(tmp_path / "w.db"), str(job_id)],
                                   capture_output=True, text=True).stdout.strip()
        assert state == "done"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        worker.kill()
