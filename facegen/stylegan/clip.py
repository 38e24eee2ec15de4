"""A CLIP model from local directories, the text side of text guidance on the StyleGAN backend
(issue #17). Loaded on the workers that serve StyleGAN, never on the chat side, and never from a
hub: every file comes from the operator's directories (`local_files_only`), so a missing file is
a clear error naming the setting, not a download.

Two arrangements:

- `DREAMFACE_CLIP_MODEL` alone: a directory holding a transformers `CLIPModel` (config.json and
  model.safetensors or pytorch_model.bin), its tokenizer and its image processor's
  preprocessor_config.json, as `CLIPModel.save_pretrained` plus `CLIPProcessor.save_pretrained`
  write them (e.g. openai/clip-vit-base-patch32, a Korean or multilingual CLIPModel, or the
  montage-trained one). Text and images both go through it.
- With `DREAMFACE_CLIP_TEXT_MODEL` too: text goes through another text model (a directory with a
  transformers model and its tokenizer, e.g. a multilingual encoder) whose mean-pooled last
  hidden state `projection.safetensors` (tensor `weight` [clip_dim, hidden], optional `bias`)
  maps into the CLIP model's joint space: M-CLIP's arrangement, for Korean with an English-only
  CLIP. Images still go through the CLIP model.

Embeddings are unit vectors; `image_features` is differentiable (free-text edits optimise
through it) and takes generator output in [-1, 1], resized and normalised as the CLIP model's
processor would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

MODEL_SETTING = "DREAMFACE_CLIP_MODEL"
TEXT_MODEL_SETTING = "DREAMFACE_CLIP_TEXT_MODEL"
LANGUAGES_SETTING = "DREAMFACE_CLIP_LANGUAGES"
PROJECTION_FILE = "projection.safetensors"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "sentencepiece.bpe.model", "spiece.model", "vocab.txt")


class ClipError(ValueError):
    """A CLIP directory that cannot be used; the message names the setting and the file."""


def _check_dir(path: Path, setting: str, needs: Sequence[tuple[str, Sequence[str]]]) -> None:
    """ClipError unless `path` is a directory holding one of each group of files."""
    if not path.is_dir():
        raise ClipError(f"{setting}={path}: no such directory (a local directory holding a saved model)")
    for what, names in needs:
        if not any((path / name).is_file() for name in names):
            raise ClipError(f"{setting}={path}: {what} missing (expected {' or '.join(names)})")


def _features(output) -> torch.Tensor:
    """transformers 4 returns the projected features; 5 wraps them in a model output."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


class _ProjectedText(torch.nn.Module):
    """Another text model, mean-pooled and projected into CLIP's space (M-CLIP)."""

    def __init__(self, model: torch.nn.Module, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        self.model = model
        self.projection = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
        with torch.no_grad():
            self.projection.weight.copy_(weight)
            if bias is not None:
                self.projection.bias.copy_(bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return self.projection((hidden * mask).sum(1) / mask.sum(1).clamp(min=1))


@dataclass
class Clip:
    """A loaded CLIP: text → unit vectors, pictures → unit vectors in the same space."""

    model: torch.nn.Module                 # transformers CLIPModel
    tokenizer: object                      # the text side's tokenizer
    text_model: _ProjectedText | None      # the M-CLIP text side, when configured
    image_size: int
    image_mean: torch.Tensor               # [1, 3, 1, 1]
    image_std: torch.Tensor
    max_length: int
    source: str                            # the directories, for messages and cache keys
    languages: tuple[str, ...] | None = None   # DREAMFACE_CLIP_LANGUAGES (what its text side understands)

    @torch.no_grad()
    def text_features(self, texts: Sequence[str]) -> torch.Tensor:
        tokens = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                                return_tensors="pt")
        device = self.image_mean.device
        ids, mask = tokens["input_ids"].to(device), tokens["attention_mask"].to(device)
        if self.text_model is not None:
            features = self.text_model(ids, mask)
        else:
            features = _features(self.model.get_text_features(input_ids=ids, attention_mask=mask))
        return F.normalize(features.float(), dim=-1)

    def image_features(self, images: torch.Tensor) -> torch.Tensor:
        """Generator output [N, 3, H, W] in [-1, 1] → unit vectors, differentiable: resized to the
        model's input side (bicubic, as its processor resizes) and normalised with its mean and std."""
        x = (images.float() + 1) / 2
        if x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bicubic", align_corners=False)
        x = (x - self.image_mean) / self.image_std
        return F.normalize(_features(self.model.get_image_features(pixel_values=x)).float(), dim=-1)

    def to(self, device: torch.device | str) -> Clip:
        self.model.to(device)
        if self.text_model is not None:
            self.text_model.to(device)
        self.image_mean, self.image_std = self.image_mean.to(device), self.image_std.to(device)
        return self


def load_clip(model_dir: str | Path, text_model_dir: str | Path | None = None,
              languages: Sequence[str] | None = None) -> Clip:
    """The CLIP model (and optional M-CLIP text side) from local directories; ClipError when a
    file is missing or unreadable. Never reaches a network. `languages`: the operator's word on
    what its text side understands (text_directions.text_languages); None: whatever its
    tokenizer reads."""
    model_dir = Path(model_dir)
    _check_dir(model_dir, MODEL_SETTING, [("config.json", ["config.json"]), ("the weights", WEIGHT_FILES),
                                          ("the image processor", ["preprocessor_config.json"])])
    if text_model_dir is None:
        _check_dir(model_dir, MODEL_SETTING, [("the tokenizer", TOKENIZER_FILES)])
    from transformers import AutoModel, AutoTokenizer, CLIPImageProcessor, CLIPModel
    try:
        model = CLIPModel.from_pretrained(model_dir, local_files_only=True).eval().requires_grad_(False)
        processor = CLIPImageProcessor.from_pretrained(model_dir, local_files_only=True)
    except Exception as exc:   # noqa: BLE001 - transformers and safetensors raise many kinds for a bad file
        raise ClipError(f"{MODEL_SETTING}={model_dir}: not a CLIPModel directory ({_first_line(exc)})") from None
    text_model, tokenizer_dir, source = None, model_dir, str(model_dir)
    if text_model_dir is not None:
        text_model_dir = Path(text_model_dir)
        _check_dir(text_model_dir, TEXT_MODEL_SETTING, [("config.json", ["config.json"]), ("the weights", WEIGHT_FILES),
                                                        ("the tokenizer", TOKENIZER_FILES),
                                                        (PROJECTION_FILE, [PROJECTION_FILE])])
        text_model = _projected_text(text_model_dir, model.config.projection_dim, AutoModel)
        tokenizer_dir, source = text_model_dir, f"{model_dir} + {text_model_dir}"
    try:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)
    except Exception as exc:   # noqa: BLE001 - transformers and safetensors raise many kinds for a bad file
        setting = TEXT_MODEL_SETTING if text_model_dir is not None else MODEL_SETTING
        raise ClipError(f"{setting}={tokenizer_dir}: the tokenizer cannot be read ({_first_line(exc)})") from None
    side = _side(processor.crop_size if getattr(processor, "do_center_crop", False) else processor.size)
    text_config = model.config.text_config
    max_length = (text_model.model.config.max_position_embeddings if text_model is not None
                  else text_config.max_position_embeddings)
    return Clip(model=model, tokenizer=tokenizer, text_model=text_model, image_size=side,
                image_mean=torch.tensor(processor.image_mean).view(1, 3, 1, 1),
                image_std=torch.tensor(processor.image_std).view(1, 3, 1, 1),
                max_length=int(max_length), source=source,
                languages=None if languages is None else tuple(languages))


def _projected_text(directory: Path, clip_dim: int, auto_model) -> _ProjectedText:
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    try:
        model = auto_model.from_pretrained(directory, local_files_only=True).eval().requires_grad_(False)
    except Exception as exc:   # noqa: BLE001 - transformers and safetensors raise many kinds for a bad file
        raise ClipError(f"{TEXT_MODEL_SETTING}={directory}: not a text model directory ({_first_line(exc)})") from None
    try:
        tensors = load_file(directory / PROJECTION_FILE)
    except (SafetensorError, OSError) as exc:
        raise ClipError(f"{TEXT_MODEL_SETTING}={directory}: {PROJECTION_FILE} cannot be read ({_first_line(exc)})") from None
    weight, bias = tensors.get("weight"), tensors.get("bias")
    hidden = model.config.hidden_size
    if weight is None or tuple(weight.shape) != (clip_dim, hidden) or (bias is not None and tuple(bias.shape) != (clip_dim,)):
        raise ClipError(f"{TEXT_MODEL_SETTING}={directory}: {PROJECTION_FILE} must hold `weight` of shape "
                        f"[{clip_dim}, {hidden}] (CLIP's projection size × the text model's width) and an optional "
                        f"`bias` [{clip_dim}]")
    return _ProjectedText(model, weight.float(), None if bias is None else bias.float()).eval().requires_grad_(False)


def _side(size) -> int:
    """The square input side from an image processor's size (a dict, a SizeDict or a number)."""
    if isinstance(size, (int, float)):
        return int(size)
    get = size.get if isinstance(size, dict) else lambda key: getattr(size, key, None)
    return int(get("height") or get("shortest_edge"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
