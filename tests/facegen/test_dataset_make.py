"""`dreamface dataset make SRC OUT --res R`: photos from a folder or a zip become FFHQ-aligned
faces in stylegan2-ada-pytorch's layout; each file that gives no usable face is reported with
its reason, nothing is half-written, and `dreamface train` reads the result."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import TESTDATA
from dreamface.cli import main
from facegen.landmarks import EYE_LEFT, EYE_RIGHT, find_faces
from facegen.stylegan.align import ffhq_quad
from facegen.training import commands
from facegen.training.dataset import ImageDataset
from facegen.training.photo_dataset import crop_coordinates

RES = 64
# what each file of the test folder becomes: written, or skipped with a reason
EXPECTED_SKIPS = {
    "corrupt.jpg": "unreadable",              # a JPEG cut short
    "notes.txt": "unreadable",                # not an image
    "one_face_copy.jpg": "duplicate",         # the same bytes as one_face.jpg
    "one_face_reencoded.jpeg": "duplicate",   # the same picture saved again, at JPEG quality 60
    "partial_face.jpg": "cut_off",
    "small_face.jpg": "too_small",            # a face found, but its crop is 52 px, under 64
    "tiny_face.jpg": "too_small",             # 48×60 px: no face found, and no 64 px face fits
    "two_faces.jpg": "several_faces",
}
WRITTEN = ["more/another.jpg", "one_face.jpg"]   # sorted by name, subfolders included


def shrunk(name: str, divisor: float) -> Image.Image:
    """A test photo made smaller (fast to search; these are large)."""
    image = Image.open(TESTDATA / name).convert("RGB")
    return image.resize((round(image.width / divisor), round(image.height / divisor)), Image.LANCZOS)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos") / "photos"
    (folder / "more").mkdir(parents=True)
    shrunk("obama_official_portrait.jpg", 2.5).save(folder / "one_face.jpg", quality=92)
    shrunk("biden_smiling.jpg", 3).save(folder / "more" / "another.jpg", quality=92)
    shrunk("two_faces.jpg", 2.5).save(folder / "two_faces.jpg", quality=92)
    shrunk("partial_face.jpg", 3).save(folder / "partial_face.jpg", quality=92)
    shrunk("obama_official_portrait.jpg", 8).save(folder / "small_face.jpg", quality=92)
    shutil.copy(TESTDATA / "tiny_face.jpg", folder / "tiny_face.jpg")
    shutil.copy(folder / "one_face.jpg", folder / "one_face_copy.jpg")
    Image.open(folder / "one_face.jpg").save(folder / "one_face_reencoded.jpeg", quality=60)
    (folder / "corrupt.jpg").write_bytes((folder / "one_face.jpg").read_bytes()[:3000])
    (folder / "notes.txt").write_text("not a photo\n")
    return folder


def zipped(folder: Path) -> Path:
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(folder).as_posix())
    return archive


def files(path: Path) -> dict[str, bytes]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist()}
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def jsonl(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines()]


@pytest.fixture(scope="module")
def made(photos, tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """The set made from the folder into a folder, and from a zip of it into a zip, with what
    each run printed."""
    out = {}
    for kind, src, name in (("folder", photos, "faces"), ("zip", zipped(photos), "faces.zip")):
        target = tmp_path_factory.mktemp(kind) / name
        capture = io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("sys.stdout", capture)
            assert main(["dataset", "make", str(src), str(target), "--res", str(RES)]) == 0
        out[kind] = (target, capture.getvalue())
    return out


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_each_photo_is_written_or_skipped_with_its_reason(made, kind):
    out, printed = made[kind]
    written = files(out)
    sources = jsonl(written["sources.jsonl"])
    assert [s["source"] for s in sources] == WRITTEN
    assert [s["file"] for s in sources] == ["00000/img00000000.png", "00000/img00000001.png"]
    skipped = {s["source"]: s["reason"] for s in jsonl(written["skipped.jsonl"])}
    assert skipped == EXPECTED_SKIPS
    assert json.loads(written["dataset.json"]) == {"labels": None}
    assert set(written) == {"00000/img00000000.png", "00000/img00000001.png", "dataset.json", "sources.jsonl",
                            "skipped.jsonl"}
    for name in ("00000/img00000000.png", "00000/img00000001.png"):
        with Image.open(io.BytesIO(written[name])) as picture:
            assert (picture.format, picture.mode, picture.size) == ("PNG", "RGB", (RES, RES))
    # the report a person reads
    first = printed.splitlines()[0]
    assert f"{out}: 2 faces at {RES} px from 10 files in " in first
    assert first.endswith("; 8 skipped (all in skipped.jsonl):")
    for line in ("unreadable (2): corrupt.jpg (", "several faces (1): two_faces.jpg (2 found)",
                 "face cut off (1): partial_face.jpg",
                 "tiny_face.jpg (the photo is 48×60 px, smaller than a 64 px crop)",
                 "duplicate (2): one_face_copy.jpg (the face of one_face.jpg), "
                 "one_face_reencoded.jpeg (the face of one_face.jpg)"):
        assert line in printed, printed
    assert re.search(r"too small \(2\): small_face.jpg \(a 5\d px crop, under 64 px\)", printed), printed


def test_a_folder_and_a_zip_give_the_same_pictures_and_train_reads_them(made):
    from_folder, from_zip = files(made["folder"][0]), files(made["zip"][0])
    assert from_folder == from_zip
    for out, _ in made.values():
        with ImageDataset(out) as ds:   # what `dreamface train --data` opens
            assert (len(ds), ds.channels, ds.resolution, ds.labels) == (2, 3, RES, None)
            assert ds.batch([0, 1]).float().std() > 20


def test_the_face_lands_where_ffhq_alignment_puts_it(made, photos):
    """Landmarks found again on the written picture (upscaled 4×) lie where the alignment sends
    the photo's landmarks; with the eyes setting the crop's size, the eyes sit at 37.5 % and
    62.5 % of the width, level, as in FFHQ."""
    out, _ = made["folder"]
    picture = Image.open(out / "00000" / "img00000001.png").resize((4 * RES, 4 * RES), Image.LANCZOS)
    (found,) = find_faces(picture)
    (source,) = find_faces(Image.open(photos / "one_face.jpg").convert("RGB"))
    expected = crop_coordinates(source.points, ffhq_quad(source.points).corners)
    again = found.points / (4 * RES)
    eyes = [again[EYE_LEFT].mean(axis=0), again[EYE_RIGHT].mean(axis=0)]
    for seen, target in zip(eyes, [expected[EYE_LEFT].mean(axis=0), expected[EYE_RIGHT].mean(axis=0)]):
        assert np.abs(seen - target).max() < 0.02
    assert eyes[0][0] == pytest.approx(0.375, abs=0.02) and eyes[1][0] == pytest.approx(0.625, abs=0.02)
    assert abs(eyes[0][1] - eyes[1][1]) < 0.02
    assert np.linalg.norm(again - expected, axis=1).mean() < 0.03   # the whole face, mouth and jaw too


def test_nothing_usable_is_exit_2_and_nothing_written(tmp_path, photos, capsys):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("notes.txt", "tiny_face.jpg", "two_faces.jpg"):
        shutil.copy(photos / name, src / name)
    for out in (tmp_path / "out", tmp_path / "out.zip"):
        assert main(["dataset", "make", str(src), str(out), "--res", str(RES)]) == 2
        captured = capsys.readouterr()
        assert f"no usable face in {src} (3 files, all skipped); nothing written" in captured.err
        assert "several faces (1): two_faces.jpg" in captured.out   # still told why
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]   # no partial set left behind


@pytest.mark.parametrize("argv, message", [
    (["SRC", "OUT", "--res", "48"], "--res must be a power of two"),
    (["missing", "OUT", "--res", "64"], "missing: no such folder or zip file"),
    (["notes.txt", "OUT", "--res", "64"], "notes.txt: neither a folder nor a zip file"),
    (["SRC", "full", "--res", "64"], "full exists and is not empty"),
    (["SRC", "OUT", "--res", "64", "--min-face", "0"], "--min-face must be at least 1"),
])
def test_refusals_are_one_line_and_touch_nothing(tmp_path, photos, capsys, argv, message):
    (tmp_path / "SRC").mkdir()
    shutil.copy(photos / "one_face.jpg", tmp_path / "SRC")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    argv = [str(tmp_path / a) if a in ("SRC", "OUT", "missing", "notes.txt", "full") else a for a in argv]
    assert main(["dataset", "make", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "OUT").exists() and (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_min_face_defaults_to_the_resolution_and_can_be_lowered(tmp_path, photos, capsys):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(photos / "one_face.jpg", src)   # its crop spans about 167 px of the photo
    assert main(["dataset", "make", str(src), str(tmp_path / "a"), "--res", "256"]) == 2
    assert re.search(r"too small \(1\): one_face.jpg \(a 16\d px crop, under 256 px\)", capsys.readouterr().out)
    assert main(["dataset", "make", str(src), str(tmp_path / "b"), "--res", "256", "--min-face", "128"]) == 0
    assert Image.open(tmp_path / "b" / "00000" / "img00000000.png").size == (256, 256)


def test_labels_follow_their_photos(tmp_path, photos, capsys):
    src = tmp_path / "src"
    (src / "more").mkdir(parents=True)
    shutil.copy(photos / "one_face.jpg", src)
    shutil.copy(photos / "more" / "another.jpg", src / "more")
    shutil.copy(photos / "notes.txt", src)   # no label needed: it is no photo
    (src / "dataset.json").write_text(json.dumps({"labels": [["one_face.jpg", 1], ["more/another.jpg", 0]]}))
    assert main(["dataset", "make", str(src), str(tmp_path / "out"), "--res", "32"]) == 0
    written = json.loads((tmp_path / "out" / "dataset.json").read_text())
    assert written == {"labels": [["00000/img00000000.png", 0], ["00000/img00000001.png", 1]]}
    with ImageDataset(tmp_path / "out") as ds:
        assert ds.labels.tolist() == [0, 1]

    other = tmp_path / "labels.json"   # --labels names another file; a photo without one is refused
    other.write_text(json.dumps({"labels": [["one_face.jpg", 3]]}))
    assert main(["dataset", "make", str(src), str(tmp_path / "out2"), "--res", "32", "--labels", str(other)]) == 2
    assert "no label for more/another.jpg" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()


def test_progress_lines_on_stderr(tmp_path, photos, capsys, monkeypatch):
    monkeypatch.setattr(commands, "PROGRESS_EVERY", 3)
    src = tmp_path / "src"
    shutil.copytree(photos, src)
    for name in ("two_faces.jpg", "partial_face.jpg", "small_face.jpg"):
        (src / name).unlink()   # the quick ones left: 7 files
    assert main(["dataset", "make", str(src), str(tmp_path / "out"), "--res", "32"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["dreamface dataset make: 3 of 7 files read, 1 written",
                   "dreamface dataset make: 6 of 7 files read, 2 written"]


def test_a_photo_stored_sideways_is_read_upright(tmp_path, photos, made):
    """A phone's photo: pixels stored turned, with the EXIF orientation saying how to show them;
    the face written is the upright photo's."""
    src = tmp_path / "src"
    src.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6   # "turn 90° clockwise to show"
    Image.open(photos / "one_face.jpg").rotate(90, expand=True).save(src / "phone.jpg", exif=exif, quality=92)
    assert main(["dataset", "make", str(src), str(tmp_path / "out"), "--res", str(RES)]) == 0
    written = np.asarray(Image.open(tmp_path / "out" / "00000" / "img00000000.png"), np.float32)
    upright = np.asarray(Image.open(made["folder"][0] / "00000" / "img00000001.png"), np.float32)
    assert np.abs(written - upright).mean() < 4
