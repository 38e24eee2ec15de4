"""`dreamface dataset montage` writes stylegan2-ada-pytorch's layout (folder or zip), the same
bytes for the same seed, with captions.jsonl beside; the reader loads it and names bad files."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image

from dreamface.cli import main
from facegen.training.dataset import DatasetError, ImageDataset


def _files(path: Path) -> dict[str, bytes]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist()}
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", ["faces", "faces.zip"])
def test_montage_set_layout_and_determinism(tmp_path, name):
    out = tmp_path / name
    assert main(["dataset", "montage", str(out), "--count", "3", "--res", "16", "--seed", "5"]) == 0
    files = _files(out)
    assert set(files) == {"00000/img00000000.png", "00000/img00000001.png", "00000/img00000002.png",
                          "dataset.json", "captions.jsonl"}
    assert json.loads(files["dataset.json"]) == {"labels": None}
    captions = [json.loads(line) for line in files["captions.jsonl"].decode().splitlines()]
    assert [c["file"] for c in captions] == ["00000/img00000000.png", "00000/img00000001.png", "00000/img00000002.png"]
    assert [c["seed"] for c in captions] == [5, 6, 7]
    assert {"params", "text_en", "text_ko"} <= set(captions[0]) and "hair_style" in captions[0]["params"]

    again = tmp_path / ("again" + out.suffix)
    assert main(["dataset", "montage", str(again), "--count", "3", "--res", "16", "--seed", "5"]) == 0
    assert _files(again) == files
    if out.suffix == ".zip":
        assert again.read_bytes() == out.read_bytes()

    with ImageDataset(out) as ds:
        assert (len(ds), ds.channels, ds.resolution, ds.labels) == (3, 3, 16, None)
        batch = ds.batch([0, 2])
        assert batch.dtype == torch.uint8 and batch.shape == (2, 3, 16, 16)
        assert batch[0].float().std() > 10   # a drawn face, not a blank square


def test_montage_set_at_8_px(tmp_path):
    assert main(["dataset", "montage", str(tmp_path / "s"), "--count", "1", "--res", "8"]) == 0
    assert Image.open(tmp_path / "s" / "00000" / "img00000000.png").size == (8, 8)


@pytest.mark.parametrize("argv, message", [
    (["--count", "2", "--res", "24"], "--res must be a power of two"),
    (["--count", "2", "--res", "2048"], "--res must be a power of two"),
    (["--count", "0", "--res", "16"], "--count must be at least 1"),
])
def test_montage_set_bad_arguments(tmp_path, capsys, argv, message):
    assert main(["dataset", "montage", str(tmp_path / "s"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_montage_set_refuses_a_full_folder(tmp_path, capsys):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "keep.txt").write_text("mine")
    assert main(["dataset", "montage", str(tmp_path / "s"), "--count", "1", "--res", "16"]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "s").iterdir()] == ["keep.txt"]
    (tmp_path / "empty").mkdir()
    assert main(["dataset", "montage", str(tmp_path / "empty"), "--count", "1", "--res", "16"]) == 0


# --- the reader's errors ------------------------------------------------------------------------

def _png(size: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (size, size), 128).save(out, format="PNG")
    return out.getvalue()


def test_reader_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("no pictures")
    with pytest.raises(DatasetError, match="no images"):
        ImageDataset(tmp_path)


def test_reader_missing_path(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        ImageDataset(tmp_path / "nothing")


def test_reader_corrupt_image_is_named(tmp_path):
    (tmp_path / "a.png").write_bytes(_png(16))
    (tmp_path / "b.png").write_bytes(_png(16)[:60])   # truncated
    with pytest.raises(DatasetError, match=r"b\.png: not a readable image"):
        ImageDataset(tmp_path)


def test_reader_mixed_sizes_are_named(tmp_path):
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as z:
        z.writestr("a.png", _png(16))
        z.writestr("sub/b.png", _png(32))
    with pytest.raises(DatasetError, match=r"set\.zip:sub/b\.png: 32×32×3, but a\.png is 16×16×3"):
        ImageDataset(tmp_path / "set.zip")


def test_reader_mixed_channels_and_non_square(tmp_path):
    (tmp_path / "a.png").write_bytes(_png(16))
    (tmp_path / "b.png").write_bytes(_png(16, "L"))
    with pytest.raises(DatasetError, match=r"b\.png: 16×16×1"):
        ImageDataset(tmp_path)
    (tmp_path / "b.png").unlink()
    Image.new("RGB", (16, 8)).save(tmp_path / "c.png")
    with pytest.raises(DatasetError, match=r"c\.png: 16×8 pixels"):
        ImageDataset(tmp_path)


def test_reader_labels(tmp_path):
    (tmp_path / "a.png").write_bytes(_png(8))
    (tmp_path / "b.png").write_bytes(_png(8))
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": [["b.png", 1], ["a.png", 0]]}))
    assert ImageDataset(tmp_path).labels.tolist() == [0, 1]
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": [["a.png", 0]]}))
    with pytest.raises(DatasetError, match="no label for b.png"):
        ImageDataset(tmp_path)
