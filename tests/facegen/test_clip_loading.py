"""CLIP from local directories (facegen/stylegan/clip.py): tiny random CLIPModels and tokenizers
built here, saved to a temporary directory and loaded through the real path with every network
connection refused; the M-CLIP arrangement (another text model plus a projection); and the
errors an operator sees for a wrong directory."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch

from facegen.stylegan.clip import MODEL_SETTING, PROJECTION_FILE, TEXT_MODEL_SETTING, ClipError, load_clip

CAPTIONS = ["a man with glasses", "a woman with blond hair", "a smiling old man with a beard",
            "안경을 쓴 남자", "금발 머리 여자", "수염이 있는 웃는 노인"]
SPECIALS = ["[PAD]", "[BOS]", "[EOS]", "[UNK]"]


def _tokenizer(out: Path, captions: list[str] = CAPTIONS) -> int:
    """A word-piece-free BPE tokenizer trained on the captions; returns its vocabulary size."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(captions, trainers.BpeTrainer(vocab_size=200, special_tokens=SPECIALS))
    tok.post_processor = processors.TemplateProcessing(single="[BOS] $A [EOS]",
                                                       special_tokens=[("[BOS]", 1), ("[EOS]", 2)])
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", bos_token="[BOS]", eos_token="[EOS]",
                            unk_token="[UNK]").save_pretrained(out)
    return tok.get_vocab_size()


def _tiny_clip(out: Path, seed: int = 0, captions: list[str] = CAPTIONS) -> None:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel
    vocab = _tokenizer(out, captions)
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config=dict(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=32, pad_token_id=0, bos_token_id=1,
                         eos_token_id=2),
        vision_config=dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2),
        projection_dim=16)
    CLIPModel(config).save_pretrained(out)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(out)


def _tiny_text_model(out: Path, clip_dim: int, projection_shape: tuple[int, int] | None = None) -> None:
    from safetensors.torch import save_file
    from transformers import BertConfig, BertModel
    vocab = _tokenizer(out)
    torch.manual_seed(1)
    BertModel(BertConfig(vocab_size=vocab, hidden_size=24, intermediate_size=48, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=32)).save_pretrained(out)
    save_file({"weight": torch.randn(projection_shape or (clip_dim, 24)), "bias": torch.zeros(clip_dim)},
              str(out / PROJECTION_FILE))


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("networking is disabled in this test")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clip")
    _tiny_clip(out)
    return out


def test_a_saved_clip_loads_from_its_directory_and_embeds_text_and_pictures(clip_dir):
    clip = load_clip(clip_dir)
    text = clip.text_features(["a man with glasses", "안경을 쓴 남자", "a man with glasses"])
    assert text.shape == (3, 16)
    assert torch.allclose(text.norm(dim=-1), torch.ones(3))
    assert torch.equal(text[0], text[2]) and not torch.allclose(text[0], text[1])
    pictures = (torch.rand(2, 3, 64, 64) * 2 - 1).requires_grad_(True)   # resized to the model's 32 px
    images = clip.image_features(pictures)
    assert images.shape == (2, 16) and torch.allclose(images.norm(dim=-1), torch.ones(2))
    (images @ text[0]).sum().backward()   # free-text edits optimise through the image side
    assert pictures.grad is not None and pictures.grad.abs().sum() > 0


def test_the_m_clip_arrangement_sends_text_through_the_other_model(clip_dir, tmp_path):
    text_dir = tmp_path / "text"
    _tiny_text_model(text_dir, clip_dim=16)
    clip = load_clip(clip_dir, text_dir)
    alone = load_clip(clip_dir)
    both = clip.text_features(["금발 머리 여자"])
    assert both.shape == (1, 16) and not torch.allclose(both, alone.text_features(["금발 머리 여자"]))
    assert torch.allclose(clip.image_features(torch.zeros(1, 3, 32, 32)), alone.image_features(torch.zeros(1, 3, 32, 32)))


def test_errors_name_the_setting_and_the_missing_file(clip_dir, tmp_path):
    with pytest.raises(ClipError, match=f"^{MODEL_SETTING}=.*nowhere: no such directory"):
        load_clip(tmp_path / "nowhere")
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "config.json").write_text((clip_dir / "config.json").read_text())
    with pytest.raises(ClipError, match=f"^{MODEL_SETTING}=.*partial: the weights missing \\(expected model.safetensors"):
        load_clip(partial)
    (partial / "model.safetensors").write_bytes(b"not safetensors")
    (partial / "preprocessor_config.json").write_text((clip_dir / "preprocessor_config.json").read_text())
    (partial / "tokenizer.json").write_text((clip_dir / "tokenizer.json").read_text())
    with pytest.raises(ClipError, match=f"^{MODEL_SETTING}=.*partial: not a CLIPModel directory"):
        load_clip(partial)
    wrong = tmp_path / "wrong"
    _tiny_text_model(wrong, clip_dim=16, projection_shape=(16, 99))
    with pytest.raises(ClipError, match=f"^{TEXT_MODEL_SETTING}=.*wrong: {PROJECTION_FILE} must hold `weight` of shape \\[16, 24\\]"):
        load_clip(clip_dir, wrong)
