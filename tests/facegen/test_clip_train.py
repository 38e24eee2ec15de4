"""`dreamface clip train` (facegen/training/clip_train.py): a tiny CLIP trained on a tiny montage
set at 16 px, read back through the workers' loader with every network connection refused; its
tokenizer and where CLIP's text side pools; the same seed giving the same weights; a failed run
leaving nothing; the command's refusals; and a short run that learns."""

from __future__ import annotations

import json
import math
import shutil
import socket
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from dreamface.cli import main
from facegen.stylegan.clip import load_clip
from facegen.training import clip_train
from facegen.training.clip_train import ClipOptions, contrastive_loss, train_clip
from facegen.training.montage_dataset import CAPTIONS_FILE, write_montage_dataset

TINY = ClipOptions(steps=3, batch=8, width=32, layers=1, seed=5)


def _refuse(*args, **kwargs):
    raise OSError("networking is disabled in this test")


@pytest.fixture(scope="module", autouse=True)
def no_network():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _refuse)
        patch.setattr(socket, "create_connection", _refuse)
        yield


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small tensors: more threads only contend (the suite runs a worker per core)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "faces"
    write_montage_dataset(path, 32, 16)
    return path


@pytest.fixture(scope="module")
def trained(faces, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "clip"
    train_clip(faces, out, TINY, log=lambda line: None)
    return out


def test_the_saved_model_loads_through_the_workers_loader_and_embeds_both_languages(trained):
    clip = load_clip(trained)
    assert clip.image_size == 16
    text = clip.text_features(["a woman with long black hair and glasses", "긴 검은 머리 여자, 안경", "까무잡잡한 피부"])
    images = clip.image_features(torch.rand(2, 3, 16, 16) * 2 - 1)
    assert text.shape == (3, 32) and images.shape == (2, 32)
    assert torch.allclose(text.norm(dim=-1), torch.ones(3)) and torch.allclose(images.norm(dim=-1), torch.ones(2))
    assert not torch.allclose(text[0], text[1])
    record = json.loads((trained / "training.json").read_text())
    assert record["pictures"] == 32 and record["training_pictures"] + record["held_out"] == 32
    assert record["options"]["steps"] == 3 and record["options"]["patch"] == 2
    assert set(record["evaluation"]["retrieval_top1"]) == {"en", "ko"}
    glasses = record["evaluation"]["attributes"]["glasses"]
    assert glasses["prompts_en"] == ["a face with glasses", "a face with no glasses"]
    assert glasses["prompts_ko"] == ["안경", "안경 없음"]


def test_the_tokenizer_ends_every_text_with_its_end_token_and_clip_pools_there(trained):
    from transformers import AutoTokenizer, CLIPModel
    tokenizer = AutoTokenizer.from_pretrained(trained, local_files_only=True)
    model = CLIPModel.from_pretrained(trained, local_files_only=True).eval()
    eos = tokenizer.eos_token_id
    assert model.config.text_config.eos_token_id == eos != 2   # 2 makes transformers pool at the highest id
    assert tokenizer.tokenize("까무잡잡한 피부") == ["까무잡잡한", "피부"]   # whole words, as the captions use them
    assert tokenizer.tokenize("안경") == ["안경"]
    assert tokenizer.tokenize("A Man WITH Glasses") == ["a", "man", "with", "glasses"]
    tokens = tokenizer(["a man", "a woman with long black hair and glasses"], padding=True, return_tensors="pt")
    ids = tokens["input_ids"]
    assert ids[0, 0] == tokenizer.bos_token_id and ids[0, 3] == eos and ids[0, 4:].eq(tokenizer.pad_token_id).all()
    assert ids[1, -1] == eos
    with torch.no_grad():
        out = model.text_model(input_ids=ids, attention_mask=tokens["attention_mask"])
        alone = model.text_model(input_ids=ids[:1, :4]).pooler_output[0]
    assert torch.equal(out.pooler_output[0], out.last_hidden_state[0, 3])   # the end token, not a pad
    assert torch.equal(out.pooler_output[1], out.last_hidden_state[1, -1])
    assert torch.allclose(out.pooler_output[0], alone, atol=1e-5)   # padding changes nothing


def test_the_same_seed_gives_the_same_weights(faces, trained, tmp_path):
    train_clip(faces, tmp_path / "again", TINY, log=lambda line: None)
    first, again = load_file(trained / "model.safetensors"), load_file(tmp_path / "again" / "model.safetensors")
    assert first.keys() == again.keys()
    assert all(torch.equal(first[name], again[name]) for name in first)
    assert (trained / "tokenizer.json").read_text() == (tmp_path / "again" / "tokenizer.json").read_text()
    train_clip(faces, tmp_path / "other", ClipOptions(**{**TINY.__dict__, "seed": 6}), log=lambda line: None)
    other = load_file(tmp_path / "other" / "model.safetensors")
    assert not torch.equal(first["text_projection.weight"], other["text_projection.weight"])


def test_the_loss_is_clips_and_lets_word_for_word_repeats_share_their_target():
    from transformers.models.clip.modeling_clip import image_text_contrastive_loss
    logits = torch.randn(4, 4, generator=torch.Generator().manual_seed(0)) * 3
    assert torch.allclose(contrastive_loss(logits, ["a", "b", "c", "d"]), image_text_contrastive_loss(logits))
    # texts 0 and 2 are the same words: either picture is as right for either, so swapping them costs nothing
    swapped = logits[[2, 1, 0, 3]]
    assert torch.allclose(contrastive_loss(logits, ["a", "b", "a", "d"]), contrastive_loss(swapped, ["a", "b", "a", "d"]))
    assert not torch.allclose(contrastive_loss(logits, ["a", "b", "c", "d"]), contrastive_loss(swapped, ["a", "b", "c", "d"]))


def test_a_hard_negative_is_the_same_words_with_one_fact_said_otherwise():
    from facegen.describe import parse_description
    facts = {"glasses": True, "beard": "none", "smile": 0.8, "hair_colour": "black", "gender": "female",
             "skin_tone": "dark"}
    rng, differing = torch.Generator().manual_seed(3), set()
    for _ in range(60):
        for locale in ("en", "ko"):
            positive, negative = clip_train.part_and_negative(facts, locale, rng)
            if negative is None:
                continue
            said = parse_description(positive, locale).attributes.specified()
            flipped = parse_description(negative, locale).attributes.specified()
            changed = {name for name in said.keys() | flipped.keys() if said.get(name) != flipped.get(name)}
            assert len(changed) == 1, (positive, negative)
            differing |= changed
    assert {"glasses", "smile", "hair_colour", "gender", "skin_tone"} <= differing


def test_a_twin_is_the_same_face_with_one_shape_drawn_the_other_way_and_said_so():
    import numpy as np
    from dataclasses import asdict
    from facegen.montage.attributes import attributes_of
    from facegen.training.montage_dataset import montage_face, montage_picture
    rng, flipped = torch.Generator().manual_seed(2), set()
    for seed in range(24):
        picture, params = montage_face(seed, 32)
        twin, name = clip_train.twin_of(params, rng)
        flipped.add(name)
        changed = {k for k, v in asdict(params).items() if asdict(twin)[k] != v}
        assert len(changed) == 1 and attributes_of(twin) != attributes_of(params)
        assert not np.array_equal(np.asarray(montage_picture(twin, 32)), np.asarray(picture))
        said, said_twin = clip_train.twin_captions(clip_train.said_of(params), clip_train.said_of(twin), name, "ko", rng)
        assert said != said_twin
    assert flipped == set(clip_train.TWIN_FIELDS)


def test_a_negative_text_costs_the_picture_it_was_made_against():
    logits = torch.tensor([[5.0, 0.0], [0.0, 5.0]])   # two captions, each nearest its own picture
    plain = contrastive_loss(logits, ["a", "b"])
    far = contrastive_loss(torch.cat([logits, torch.tensor([[-5.0, 0.0]])]), ["a", "b"], ["not a"])
    near = contrastive_loss(torch.cat([logits, torch.tensor([[5.0, 0.0]])]), ["a", "b"], ["not a"])
    assert plain < far < near   # a negative read as the picture's own caption is what the loss punishes most
    # a negative worded like another picture's caption counts as right for that picture
    with_b = torch.cat([logits, torch.tensor([[0.0, 8.0]])])   # the extra text reads as picture b, closer still
    assert contrastive_loss(with_b, ["a", "b"], ["b"]) < contrastive_loss(with_b, ["a", "b"], ["not b"])


def test_a_failed_run_leaves_nothing_behind(faces, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(clip_train, "evaluate", broken)
    with pytest.raises(OSError, match="disk full"):
        train_clip(faces, tmp_path / "clip", TINY, log=lambda line: None)
    assert list(tmp_path.iterdir()) == []


def _refusal(capsys, *argv: str) -> str:
    assert main(["clip", "train", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    return captured.err


def test_the_command_refuses_in_one_line(faces, trained, tmp_path, capsys):
    assert "nowhere: no such folder or zip file" in _refusal(capsys, "--data", str(tmp_path / "nowhere"),
                                                             "--out", str(tmp_path / "a"))
    bare = tmp_path / "bare"
    shutil.copytree(faces, bare)
    (bare / CAPTIONS_FILE).unlink()
    assert f"has no {CAPTIONS_FILE}: a set made by `dreamface dataset montage`" in _refusal(
        capsys, "--data", str(bare), "--out", str(tmp_path / "b"))
    assert "exists and is not an empty folder" in _refusal(capsys, "--data", str(faces), "--out", str(trained))
    assert "16-px pictures do not split into patches of 3 px" in _refusal(
        capsys, "--data", str(faces), "--out", str(tmp_path / "c"), "--patch", "3")
    assert "--batch must be at least 2" in _refusal(capsys, "--data", str(faces), "--out", str(tmp_path / "d"),
                                                    "--batch", "1")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_a_short_run_learns_to_match_pictures_and_captions(tmp_path):
    data = tmp_path / "faces"
    write_montage_dataset(data, 64, 16)
    batch = 32
    options = ClipOptions(steps=80, batch=batch, width=64, layers=2, lr=2e-3, patch=4, partial=0)
    record = train_clip(data, tmp_path / "clip", options, progress_every=10, log=lambda line: None)
    first, last = record["losses"][0][1], record["final_loss"]   # the first step's, the last 10 steps' mean
    assert first > 0.95 * math.log(batch) and last < 0.5 * math.log(batch), record["losses"]
