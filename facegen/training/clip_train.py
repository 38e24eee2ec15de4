"""`dreamface clip train`: a small text-image model (transformers' CLIPModel) trained from scratch
on a montage set's pictures and their English and Korean captions, with its own tokenizer: the
KoDALLE idea (a text encoder that knows Korean, tied to pictures) done with today's tools, and
the CLIP that text guidance (issue #17) measures and steers with on models trained here.

- Data: a set in stylegan2-ada-pytorch's layout (folder or zip, dataset.py) with the
  `captions.jsonl` that `dreamface dataset montage` writes (`file`, `params`, `text_en`,
  `text_ko` per picture). A tenth of the pictures (at least one), drawn by the seed, are held out.
- Tokenizer (`tokenizers`): byte-pair merges over the training captions of both languages,
  NFKC and lower case, split at spaces and punctuation, so Korean words stay whole where the
  captions use them (까무잡잡한, 안경) and anything else falls into [UNK]. Every text is
  [BOS] … [EOS]; CLIP's text side pools at the first [EOS] (its id is the config's
  `eos_token_id`, kept off 2, where transformers would pool at the highest id instead).
- Model: CLIPConfig with both sides `width` wide and `layers` deep, the vision side at the set's
  resolution in patches of `patch` px, text positions for the longest caption and some to spare.
- Training: CLIP's contrastive loss over each batch; every picture meets its English or its
  Korean caption, drawn per pair per step, so both languages land in one image space. Where the
  set gives a picture's montage parameters, a share `partial` of the pairs (half by default)
  say instead a random part of what the caption says (1 to all of its attributes, absent
  glasses and beard said as "no glasses" / "no beard"), worded by describe_back as the caption
  is: people describe a face in a few words, and prompts ("a face with glasses") are such
  part-captions, which whole captions alone never teach (see the README's figures). Pairs
  whose texts are the same word for word share their target in the loss. AdamW,
  linear warm-up over the first 10 % of the steps, then cosine decay to zero; the temperature
  clamped at 100 as in CLIP. On the CPU, the same seed and threads give the same weights.
- Output: what `facegen.stylegan.clip.load_clip` reads (config.json, model.safetensors, the
  tokenizer, preprocessor_config.json) plus training.json (the set, counts, settings, time and
  the evaluation), written under a temporary name beside OUT and renamed into place when done.
- Evaluation, through load_clip on the written files, on the held-out pictures: image→text top-1
  retrieval among batches of RETRIEVAL_BATCH pairs in each language, and zero-shot attribute
  accuracy (ATTRIBUTES): each picture against the prompts describe_back makes for each value of
  an attribute, its true value read from its montage parameters (attributes_of), beside the
  share of the commonest value.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from facegen.attributes import DEGREES, ENUMS, FLAGS, Attributes
from facegen.describe.back import LOCALES, SILENT_BELOW, describe_back
from facegen.montage.attributes import attributes_of
from facegen.montage.params import SPECS, MontageParams, from_position
from facegen.training.dataset import ImageDataset
from facegen.training.loop import duration
from facegen.training.montage_dataset import CAPTIONS_FILE

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[BOS]", "[EOS]")   # ids 0–3 in this order
HELD_OUT = 0.1
WARMUP = 0.1                  # share of the steps spent warming the learning rate up
MAX_LOGIT_SCALE = math.log(100)
RETRIEVAL_BATCH = 100
SPARE_POSITIONS = 8           # text positions beyond the longest caption, for prompts a little longer
# attribute → its values (prompted with describe_back(Attributes(attribute=value))); degrees are
# told apart by sign at ±0.7, faces within SILENT_BELOW of zero (said as neither) left out
ATTRIBUTES: dict[str, tuple] = {
    "glasses": (True, False),
    "beard": ("none", "stubble", "moustache", "goatee", "full"),
    "smile": (0.7, -0.7),
    "skin_tone": ("fair", "medium", "tan", "dark"),
    "hair_colour": ("black", "brown", "blond", "red", "grey", "white"),
    "eye_size": (0.7, -0.7),
    "gender": ("male", "female"),
}


class ClipTrainingError(ValueError):
    """A run that cannot start; the message says why in one line."""


@dataclass(frozen=True)
class ClipOptions:
    steps: int = 2000
    batch: int = 128              # pairs per step
    seed: int = 0                 # weights, the held-out split, the order and the languages
    lr: float = 1e-3              # peak learning rate
    weight_decay: float = 0.1     # on matrices only
    width: int = 128              # both sides' width and the joint space's size
    layers: int = 4               # both sides' depth
    vocab: int = 1000             # the most tokens; montage captions need about 350
    patch: int | None = None      # vision patch side in px; None: the resolution / 8 (4 at 32 px)
    partial: float = 0.5          # share of pairs whose text says a random part of the caption
    negatives: float = 0.0        # share of pairs that also meet their text with one fact flipped (see flip_fact)
    twins: float = 0.0            # twins added per pair of a batch: the same face drawn with one shape flipped (see twin_of)

    def check(self) -> None:
        for name in ("steps", "batch", "width", "layers", "vocab"):
            if getattr(self, name) < 1:
                raise ClipTrainingError(f"--{name} must be at least 1, not {getattr(self, name)}")
        if self.batch < 2:
            raise ClipTrainingError(f"--batch must be at least 2 (pairs are told apart within a batch), not {self.batch}")
        if self.lr <= 0:
            raise ClipTrainingError(f"--lr must be more than 0, not {self.lr}")
        for name in ("partial", "negatives", "twins"):
            if not 0 <= getattr(self, name) <= 1:
                raise ClipTrainingError(f"--{name} must be between 0 and 1, not {getattr(self, name)}")


def heads(width: int) -> int:
    """Attention heads of 32 channels each where the width splits so, else one."""
    return width // 32 if width % 32 == 0 else 1


# --- the data ---------------------------------------------------------------------------------

def read_captions(dataset: ImageDataset) -> list[dict]:
    """captions.jsonl's line for each image of the set, in the set's order; ClipTrainingError
    naming the file when it is missing, unreadable or lacks a picture's line."""
    where = f"{dataset.path}/{CAPTIONS_FILE}"
    data = dataset.sidecar(CAPTIONS_FILE)
    if data is None:
        raise ClipTrainingError(f"{dataset.path} has no {CAPTIONS_FILE}: a set made by `dreamface dataset montage`, "
                                f"or add {CAPTIONS_FILE} with text_en/text_ko for each picture")
    by_file = {}
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            by_file[row["file"]] = row
        except (ValueError, TypeError, KeyError):
            raise ClipTrainingError(f"{where}: line {number} is not a JSON object with \"file\"") from None
    rows = []
    for name in dataset.names:
        row = by_file.get(name)
        if row is None or not all(isinstance(row.get(f"text_{locale}"), str) for locale in LOCALES):
            raise ClipTrainingError(f"{where}: no text_en and text_ko for {name}")
        rows.append(row)
    return rows


def facts_of(row: dict) -> dict | None:
    """What a picture's caption says, as Attributes fields (attributes_of its montage parameters),
    with absent glasses and beard said as such; None when its line holds no montage parameters."""
    try:
        return said_of(MontageParams(**row["params"]))
    except (KeyError, TypeError, ValueError):
        return None


def said_of(params: MontageParams) -> dict:
    """What a caption of a montage face says (attributes_of), absent glasses and beard said too."""
    return {"glasses": False, "beard": "none", **attributes_of(params).specified()}


def _some(names: list[str], least: int, rng: torch.Generator) -> list[str]:
    """k of `names` at random, k from `least` to all at even odds."""
    k = int(torch.randint(least, len(names) + 1, (1,), generator=rng))
    return [names[i] for i in torch.randperm(len(names), generator=rng)[:k].tolist()]


def part_of(facts: dict, locale: str, rng: torch.Generator) -> str:
    """A random part of what `facts` say, in words: 1 to all of them."""
    return describe_back(Attributes(**{name: facts[name] for name in _some(sorted(facts), 1, rng)}), locale)


def flip_fact(name: str, value, rng: torch.Generator):
    """Another value of one fact (a flag, a degree or an enum), as a caption would say the
    opposite: glasses on ↔ off, a beard ↔ none, a degree's sign, another value of an enum."""
    if name in FLAGS:
        return not value
    if name in DEGREES:
        return -value
    if name == "beard":
        others = [kind for kind in ENUMS["beard"] if kind != "none"]
        return others[int(torch.randint(len(others), (1,), generator=rng))] if value == "none" else "none"
    others = [v for v in ENUMS[name] if v != value]
    return others[int(torch.randint(len(others), (1,), generator=rng))]


def part_and_negative(facts: dict, locale: str, rng: torch.Generator) -> tuple[str, str | None]:
    """A part-caption (as part_of) and the same words with one of its facts flipped: a hard
    negative that only the flipped fact tells apart, so neither side may read a caption as a bag
    of colours (NegCLIP's idea, Yuksekgonul et al. 2023). None where the flip says nothing new."""
    kept = {name: facts[name] for name in _some(sorted(facts), 1, rng)}
    flippable = [name for name in kept if name in FLAGS or name in DEGREES or name in ENUMS]
    positive = describe_back(Attributes(**kept), locale)
    if not flippable:
        return positive, None
    name = flippable[int(torch.randint(len(flippable), (1,), generator=rng))]
    negative = describe_back(Attributes(**{**kept, name: flip_fact(name, kept[name], rng)}), locale)
    return positive, None if negative == positive else negative


TWIN_FIELDS = ("glasses", "beard", "smile", "eye_size")   # the shapes a twin flips, one each


def twin_of(params: MontageParams, rng: torch.Generator) -> tuple[MontageParams, str]:
    """The same montage face with one shape of TWIN_FIELDS drawn the other way (glasses on ↔
    off, a beard ↔ none, a smile ↔ a frown, big ↔ small eyes), and which: a pair whose pictures
    differ in that shape alone, so colours cannot tell their captions apart."""
    name = TWIN_FIELDS[int(torch.randint(len(TWIN_FIELDS), (1,), generator=rng))]
    if name == "glasses":
        return replace(params, glasses=not params.glasses), name
    if name == "beard":
        kinds = [kind for kind in SPECS["beard"].choices if kind != "none"]
        pick = kinds[int(torch.randint(len(kinds), (1,), generator=rng))]
        return replace(params, beard="none" if params.beard != "none" else pick), name
    if name == "smile":
        return replace(params, smile=-0.8 if params.smile > 0 else 0.8), name
    bigger = attributes_of(params).eye_size is None or attributes_of(params).eye_size <= 0
    return replace(params, eye_size=from_position(SPECS["eye_size"], 0.8 if bigger else -0.8)), name


def make_twins(rows: list[dict], indices: list[int], resolution: int, seed: int
               ) -> dict[int, tuple[torch.Tensor, dict, str]]:
    """A twin (twin_of) of each picture of `indices` that has montage parameters: its picture
    (uint8 [3, H, W]), its facts (facts_of) and the shape flipped; drawn once, before training."""
    from facegen.training.montage_dataset import montage_picture
    rng = torch.Generator().manual_seed(seed + 3)
    out = {}
    for i in indices:
        if facts_of(rows[i]) is None:
            continue
        twin, name = twin_of(MontageParams(**rows[i]["params"]), rng)
        picture = torch.from_numpy(np.asarray(montage_picture(twin, resolution), dtype=np.uint8).copy()).permute(2, 0, 1)
        out[i] = (picture, said_of(twin), name)
    return out


def twin_captions(facts: dict, twin_facts: dict, name: str, locale: str, rng: torch.Generator) -> tuple[str, str]:
    """A part-caption of a picture and the same part of its twin's, both saying the flipped shape."""
    kept = _some(sorted(set(facts) & set(twin_facts) - {name}), 0, rng) + [name]
    return (describe_back(Attributes(**{n: facts[n] for n in kept if n in facts}), locale),
            describe_back(Attributes(**{n: twin_facts[n] for n in kept if n in twin_facts}), locale))


def tokenizer_texts(rows: list[dict], facts: list[dict | None], indices: list[int]) -> list[str]:
    """The captions of `indices` in both languages, then each fact of theirs said alone (the
    words part-captions and prompts add: "a face with", "no", "없음")."""
    alone = {describe_back(Attributes(**{name: value}), locale)
             for i in indices if facts[i] for name, value in facts[i].items() for locale in LOCALES}
    return [rows[i][f"text_{locale}"] for i in indices for locale in LOCALES] + sorted(alone)


def split(count: int, seed: int) -> tuple[list[int], list[int]]:
    """(training, held-out) indices: a tenth held out, at least one, drawn by the seed."""
    if count < 2:
        raise ClipTrainingError(f"the set has {count} picture; training needs at least 2 (one is held out)")
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed)).tolist()
    held = max(round(count * HELD_OUT), 1)
    return sorted(order[held:]), sorted(order[:held])


# --- tokenizer and model ----------------------------------------------------------------------

def train_tokenizer(texts: Sequence[str], vocab: int):
    """A byte-pair tokenizer over `texts` (see the module docstring), as a transformers fast
    tokenizer that AutoTokenizer loads back."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast
    pad, unk, bos, eos = SPECIAL_TOKENS
    tokenizer = Tokenizer(models.BPE(unk_token=unk))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab, special_tokens=list(SPECIAL_TOKENS),
                                                             show_progress=False))
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, tokenizer.token_to_id(bos)), (eos, tokenizer.token_to_id(eos))])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token=pad, unk_token=unk, bos_token=bos,
                                   eos_token=eos)


def build_model(options: ClipOptions, tokenizer, resolution: int, max_positions: int):
    """A fresh CLIPModel for `tokenizer`'s ids and pictures of `resolution` px, its initial
    weights drawn from torch's generator (seeded by the caller)."""
    from transformers import CLIPConfig, CLIPModel
    width = options.width
    config = CLIPConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=width, intermediate_size=4 * width,
                         num_hidden_layers=options.layers, num_attention_heads=heads(width),
                         max_position_embeddings=max_positions, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         projection_dim=width),
        vision_config=vision_config(options, resolution), projection_dim=width)
    return CLIPModel(config)


def vision_config(options: ClipOptions, resolution: int) -> dict:
    """The picture side's settings (transformers' CLIPVisionConfig fields) for `options`."""
    width = options.width
    return dict(image_size=resolution, patch_size=patch_of(options, resolution), hidden_size=width,
                intermediate_size=4 * width, num_hidden_layers=options.layers,
                num_attention_heads=heads(width), projection_dim=width)


def patch_of(options: ClipOptions, resolution: int) -> int:
    patch = options.patch if options.patch is not None else max(resolution // 8, 1)
    if patch < 1 or resolution % patch:
        raise ClipTrainingError(f"{resolution}-px pictures do not split into patches of {patch} px: "
                                f"--patch must divide the resolution")
    return patch


def image_processor(resolution: int):
    """The processor load_clip reads the input side, mean and std from (CLIP's own mean and std)."""
    from transformers import CLIPImageProcessor
    return CLIPImageProcessor(size={"shortest_edge": resolution}, crop_size={"height": resolution, "width": resolution})


def pixels(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 [N, 3, H, W] → the model's input, as facegen.stylegan.clip.Clip.image_features makes it."""
    return (images.float() / 255 - mean) / std


# --- training ---------------------------------------------------------------------------------

def contrastive_loss(logits_per_text: torch.Tensor, captions: Sequence[str],
                     negatives: Sequence[str] = ()) -> torch.Tensor:
    """CLIP's symmetric cross-entropy, with pictures whose texts are the same word for word
    sharing the target (short part-captions repeat within a batch): without repeats or
    negatives it is transformers' CLIP loss exactly. `logits_per_text` has a row for each
    caption, then one for each of `negatives`: texts no picture of the batch goes with unless
    its own caption reads the same, which only the picture → text half sees."""
    texts = [*captions, *negatives]
    dtype = logits_per_text.dtype
    same = torch.tensor([[a == b for b in captions] for a in captions], dtype=dtype)
    per_picture = torch.tensor([[caption == text for text in texts] for caption in captions], dtype=dtype)
    text_to_picture = torch.nn.functional.cross_entropy(logits_per_text[:len(captions)],
                                                        same / same.sum(dim=1, keepdim=True))
    picture_to_text = torch.nn.functional.cross_entropy(logits_per_text.T,
                                                        per_picture / per_picture.sum(dim=1, keepdim=True))
    return (text_to_picture + picture_to_text) / 2


def learning_rate(step: int, options: ClipOptions) -> float:
    """Linear warm-up over the first WARMUP of the steps, then cosine decay to 0 (step from 0)."""
    warmup = max(round(options.steps * WARMUP), 1)
    if step < warmup:
        return options.lr * (step + 1) / warmup
    done = (step - warmup) / max(options.steps - warmup, 1)
    return options.lr * 0.5 * (1 + math.cos(math.pi * done))


def progress_line(step: int, steps: int, loss: float, sec_per_step: float, lr: float) -> str:
    return "  ".join([f"step {step}/{steps}", f"loss {loss:.3f}", f"lr {lr:.2e}", f"{sec_per_step:.2f} s/step",
                      f"ETA {duration((steps - step) * sec_per_step)}"])


def check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ClipTrainingError(f"{out} exists and is not an empty folder; name a new one for --out")


def train_clip(data: Path, out: Path, options: ClipOptions = ClipOptions(), progress_every: int = 50,
               log: Callable[[str], None] = print) -> dict:
    """Train on `data` and write the model to `out` (see the module docstring); returns what
    training.json holds. ClipTrainingError / DatasetError with one line when it cannot run."""
    options.check()
    check_out(out)
    started, load_start = time.monotonic(), os.getloadavg()[0]
    with ImageDataset(data) as dataset:
        if dataset.channels != 3:
            raise ClipTrainingError(f"{data} holds grey pictures; CLIP training takes RGB")
        patch_of(options, dataset.resolution)
        rows = read_captions(dataset)
        train, held = split(len(dataset), options.seed)
        texts = {locale: [row[f"text_{locale}"] for row in rows] for locale in LOCALES}
        facts = [facts_of(row) for row in rows]
        tokenizer = train_tokenizer(tokenizer_texts(rows, facts, train), options.vocab)
        longest = max(len(ids) for locale in LOCALES for ids in tokenizer(texts[locale])["input_ids"])
        torch.manual_seed(options.seed)
        tokenizer.model_max_length = longest + SPARE_POSITIONS
        model = build_model(options, tokenizer, dataset.resolution, tokenizer.model_max_length)
        processor = image_processor(dataset.resolution)
        log(f"training a {dataset.resolution}-px CLIP on {len(train)} pictures with their English and Korean "
            f"captions ({len(held)} held out): width {options.width}, {options.layers} layers a side, patches of "
            f"{patch_of(options, dataset.resolution)} px, {len(tokenizer)} tokens, batch {options.batch}, "
            f"{options.steps} steps, {torch.get_num_threads()} thread(s), into {out}")
        twins = make_twins(rows, train, dataset.resolution, options.seed) if options.twins else {}
        curve = _run(model, tokenizer, processor, dataset, texts, facts, train, options, progress_every, log, twins)
        seconds = time.monotonic() - started
        partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
        try:
            partial.mkdir(parents=True)
            model.save_pretrained(partial)
            tokenizer.save_pretrained(partial)
            processor.save_pretrained(partial)
            from facegen.stylegan.clip import load_clip
            clip = load_clip(partial)   # the figures are the written files', read the way workers read them
            evaluation = evaluate(clip, dataset, texts, facts, held)
            record = {"data": str(data), "digest": dataset.digest, "pictures": len(dataset),
                      "training_pictures": len(train), "held_out": len(held), "resolution": dataset.resolution,
                      "options": asdict(options) | {"patch": patch_of(options, dataset.resolution)},
                      "tokens": len(tokenizer), "max_positions": tokenizer.model_max_length,
                      "threads": torch.get_num_threads(), "training_seconds": round(seconds, 1),
                      "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)],
                      "final_loss": curve[-1][1], "losses": curve, "evaluation": evaluation,
                      "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            (partial / "training.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
            os.replace(partial, out)   # over an empty folder too
        finally:
            if partial.exists():
                shutil.rmtree(partial)
    for line in report(evaluation):
        log(line)
    log(f"model: {out} ({duration(seconds)} of training)")
    return record


def _run(model, tokenizer, processor, dataset: ImageDataset, texts: dict[str, list[str]], facts: list[dict | None],
         train: list[int], options: ClipOptions, progress_every: int, log: Callable[[str], None],
         twins: dict[int, tuple[torch.Tensor, dict, str]] | None = None) -> list[list]:
    """The training steps; returns [step, mean loss since the last line] at each progress line."""
    mean = torch.tensor(processor.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(processor.image_std).view(1, 3, 1, 1)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    rest = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": options.weight_decay},
                                   {"params": rest, "weight_decay": 0.0}], lr=options.lr, betas=(0.9, 0.98), eps=1e-6)
    order_rng = torch.Generator().manual_seed(options.seed + 1)
    text_rng = torch.Generator().manual_seed(options.seed + 2)   # languages and part-captions
    batch = min(options.batch, len(train))
    queue: list[int] = []
    losses: list[float] = []
    curve: list[list] = []
    model.train()
    tick_start = time.monotonic()
    for step in range(options.steps):
        if len(queue) < batch:   # every training picture once per epoch
            queue += [train[i] for i in torch.randperm(len(train), generator=order_rng).tolist()]
        chosen, queue = queue[:batch], queue[batch:]
        captions, negatives, twin_pictures, twin_texts = [], [], [], []
        twinned = set([i for i in chosen if i in (twins or {})][:round(options.twins * batch)])
        for i in chosen:
            if i in twinned:   # the pair and its twin, each with the same part of its caption
                picture, twin_facts, name = twins[i]
                locale = "ko" if torch.rand(1, generator=text_rng) < 0.5 else "en"
                caption, twin_caption = twin_captions(facts[i], twin_facts, name, locale, text_rng)
                captions.append(caption)
                twin_pictures.append(picture)
                twin_texts.append(twin_caption)
                continue
            locale, part = ("ko" if torch.rand(1, generator=text_rng) < 0.5 else "en",
                            bool(torch.rand(1, generator=text_rng) < options.partial))
            if options.negatives and facts[i] and bool(torch.rand(1, generator=text_rng) < options.negatives):
                caption, negative = part_and_negative(facts[i], locale, text_rng)
                captions.append(caption)
                negatives += [negative] if negative is not None else []
            else:
                captions.append(part_of(facts[i], locale, text_rng) if part and facts[i] else texts[locale][i])
        captions += twin_texts   # the twins' pictures follow the batch's, in the same order
        # to its model_max_length
        tokens = tokenizer(captions + negatives, padding=True, truncation=True, return_tensors="pt")
        images = dataset.batch(chosen)
        if twin_pictures:
            images = torch.cat([images, torch.stack(twin_pictures)])
        lr = learning_rate(step, options)
        for group in optimizer.param_groups:
            group["lr"] = lr
        output = model(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"],
                       pixel_values=pixels(images, mean, std))
        loss = contrastive_loss(output.logits_per_text, captions, negatives)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
        losses.append(loss.item())
        done = step + 1
        if done == 1 or done % progress_every == 0 or done == options.steps:
            elapsed = time.monotonic() - tick_start
            count = len(losses)
            log(progress_line(done, options.steps, sum(losses) / count, elapsed / count, lr))
            curve.append([done, round(sum(losses) / count, 4)])
            losses, tick_start = [], time.monotonic()
    model.eval()
    return curve


# --- evaluation -------------------------------------------------------------------------------

def true_value(attribute: str, facts: dict | None):
    """The value of ATTRIBUTES[attribute] a face shows (facts_of); None where the caption says
    neither (no parameters, no gender, a bald head, a degree near zero)."""
    value = (facts or {}).get(attribute)
    if value is not None and attribute in ("smile", "eye_size"):
        return None if abs(value) < SILENT_BELOW else math.copysign(0.7, value)
    return value


@torch.no_grad()
def evaluate(clip, dataset: ImageDataset, texts: dict[str, list[str]], facts: list[dict | None],
             held: list[int]) -> dict:
    """Retrieval and zero-shot attribute accuracy of a loaded Clip on the pictures `held`
    (see the module docstring)."""
    images = torch.cat([clip.image_features(dataset.batch(chunk).float() / 127.5 - 1)
                        for chunk in _chunks(held, RETRIEVAL_BATCH)])
    size = min(RETRIEVAL_BATCH, len(held))
    whole = len(held) // size * size   # full batches only, so chance is 1 / size throughout
    result: dict = {"retrieval_top1": {}, "retrieval_batch": size, "retrieval_pictures": whole, "attributes": {}}
    for locale in LOCALES:
        captions = [texts[locale][i] for i in held[:whole]]
        text = torch.cat([clip.text_features(chunk) for chunk in _chunks(captions, size)])
        hits = 0
        for start in range(0, whole, size):
            best = (images[start:start + size] @ text[start:start + size].T).argmax(dim=1).tolist()
            # a caption worded exactly like the picture's own is as right as its own
            hits += sum(captions[start + j] == captions[start + i] for i, j in enumerate(best))
        result["retrieval_top1"][locale] = round(hits / whole, 4)
    for attribute, values in ATTRIBUTES.items():
        truth = [true_value(attribute, facts[i]) for i in held]
        said = [k for k, value in enumerate(truth) if value is not None]
        if not said:
            continue
        labels = [values.index(truth[k]) for k in said]
        entry = {"pictures": len(said), "majority": round(Counter(labels).most_common(1)[0][1] / len(said), 4)}
        for locale in LOCALES:
            prompts = [describe_back(Attributes(**{attribute: value}), locale) for value in values]
            features = clip.text_features(prompts)
            guess = (images[said] @ features.T).argmax(dim=1).tolist()
            entry[locale] = round(sum(g == t for g, t in zip(guess, labels)) / len(said), 4)
            entry[f"prompts_{locale}"] = prompts
            # how far apart the text side holds the values' prompts (1.00: it reads them as one)
            cosines = features @ features.T
            entry[f"prompt_cosine_{locale}"] = round(float(cosines[~torch.eye(len(values), dtype=torch.bool)].mean()), 4)
        result["attributes"][attribute] = entry
    return result


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def report(evaluation: dict) -> list[str]:
    """The evaluation as lines for the terminal."""
    retrieval = evaluation["retrieval_top1"]
    size = evaluation["retrieval_batch"]
    lines = [f"held-out image→text top-1 among {size} ({evaluation['retrieval_pictures']} pictures): "
             f"en {retrieval['en']:.1%}, ko {retrieval['ko']:.1%} (chance {1 / size:.1%})",
             "zero-shot attributes, held out:  en      ko      commonest value  its prompts' mean cosine en / ko"]
    for attribute, entry in evaluation["attributes"].items():
        lines.append(f"  {attribute:<12s} ({entry['pictures']:>4d})  {entry['en']:6.1%}  {entry['ko']:6.1%}  "
                     f"{entry['majority']:6.1%}           {entry['prompt_cosine_en']:.2f} / {entry['prompt_cosine_ko']:.2f}")
    return lines
