"""The bad-input corpus: over a hundred hostile or broken inputs (photos, texts, button
payloads) sent through the chat core in Korean and in English, on SQLite and PostgreSQL.
Each must get a clear reply in the user's language, nothing may crash, and nothing may be
half-stored: a refused input leaves no job, blob or upload behind; an accepted photo is one
upload tied to its job. The pictures are made here with Pillow (nothing big is committed)."""

from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass
from functools import cache

import pytest
from PIL import Image
from sqlalchemy import func, select

from facegen.montage import MontageBackend
from bot.conversation import Conversation, payloads
from conftest import TESTDATA
from bot.conversation.replies import TEXTS
from bot.gallery import ensure_default_gallery
from bot.messages import Incoming
from ground.limits import PHOTO_MAX_BYTES, Blocklist, Limits
from storage.db import session_factory
from storage.models import Blob, Job, Upload

HANGUL = re.compile("[가-힣]")
OWN = "{own}"   # in a button case: replaced by the sender's own owner tag


@dataclass(frozen=True)
class Case:
    name: str
    text: str | None = None
    photo: bytes | None = None
    button: str | None = None
    expect: str | None = None        # the reply key it must be; None: any clear reply


# --- pictures -----------------------------------------------------------------------------------

def _save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _face_like(size=(320, 400), mode="RGB") -> Image.Image:
    image = Image.new("RGB", size, (200, 170, 150))
    return image.convert(mode)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be enormous (a decompression bomb's header)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows) + _png_chunk(b"IEND", b"")


def _animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (64, 64), colour) for colour in ("red", "green", "blue")]
    return _save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def header_cut_jpegs() -> list[Case]:
    """JPEGs cut off inside their header, before any image data: a real photo's EXIF segment,
    its quantization tables, just before its scan; and Pillow's own JPEG inside its EXIF."""
    photo = (TESTDATA / "obama_official_portrait.jpg").read_bytes()
    scan = photo.index(b"\xff\xda")
    tables = photo.index(b"\xff\xdb")
    exif = Image.Exif()
    exif[0x010F] = "a camera maker " * 40
    with_exif = _save(_face_like(), "JPEG", exif=exif)
    return [Case("photo cut inside its EXIF header (600 bytes)", photo=photo[:600], expect="error_not_an_image"),
            Case("photo cut inside its quantization tables", photo=photo[:tables + 30], expect="error_not_an_image"),
            Case("photo cut just before its image data", photo=photo[:scan], expect="error_not_an_image"),
            Case("JPEG cut inside its EXIF segment", photo=with_exif[:200], expect="error_not_an_image")]


@cache
def photo_cases() -> list[Case]:
    jpeg = _save(_face_like(), "JPEG")
    png = _save(_face_like(), "PNG")
    broken_crc = bytearray(png)
    broken_crc[40] ^= 0xFF                                           # inside IHDR/IDAT: a CRC mismatch
    sixteen_bit = Image.new("I;16", (256, 256))
    exif = Image.Exif()
    exif[0x0112] = 6                                                 # "rotate 90°" orientation
    return [
        Case("zero-byte file", photo=b"", expect="error_not_an_image"),
        Case("truncated JPEG", photo=jpeg[: len(jpeg) // 2], expect="error_not_an_image"),
        Case("JPEG header only", photo=jpeg[:20], expect="error_not_an_image"),
        Case("truncated PNG", photo=png[: len(png) // 2], expect="error_not_an_image"),
        Case("PNG with a broken CRC", photo=bytes(broken_crc), expect="error_not_an_image"),
        Case("PNG decompression bomb 100k×100k", photo=_png_bomb(100_000, 100_000), expect="error_too_large"),
        Case("PNG bomb 12k×12k", photo=_png_bomb(12_000, 12_000), expect="error_too_large"),
        Case("50-megapixel JPEG", photo=_save(Image.new("L", (10_000, 5_000), 128), "JPEG", quality=20),
             expect="error_too_large"),
        Case("45-megapixel bilevel PNG", photo=_save(Image.new("1", (9_000, 5_000)), "PNG"), expect="error_too_large"),
        Case("over the byte limit", photo=jpeg + bytes(PHOTO_MAX_BYTES), expect="error_too_large"),
        Case("animated GIF", photo=_animated("GIF"), expect="error_unsupported_format"),
        Case("still GIF", photo=_save(_face_like(), "GIF"), expect="error_unsupported_format"),
        Case("BMP", photo=_save(_face_like(), "BMP"), expect="error_unsupported_format"),
        Case("TIFF", photo=_save(_face_like(), "TIFF"), expect="error_unsupported_format"),
        Case("ICO", photo=_save(_face_like((64, 64)), "ICO"), expect="error_unsupported_format"),
        Case("PCX", photo=_save(_face_like(), "PCX"), expect="error_unsupported_format"),
        Case("SVG", photo=b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
             expect="error_unsupported_format"),
        Case("PDF", photo=b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", expect="error_unsupported_format"),
        Case("HEIC-like bytes", photo=b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
             expect="error_unsupported_format"),
        Case("AVIF-like bytes", photo=b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1" + bytes(64),
             expect="error_unsupported_format"),
        Case("plain text", photo="안녕하세요 hello".encode(), expect="error_not_an_image"),
        Case("ZIP archive", photo=b"PK\x03\x04" + bytes(100), expect="error_not_an_image"),
        Case("random bytes", photo=bytes(range(256)) * 8, expect="error_not_an_image"),
        Case("HTML", photo=b"<html><script>alert(1)</script></html>", expect="error_not_an_image"),
        Case("CMYK JPEG", photo=_save(_face_like(mode="CMYK"), "JPEG"), expect="queued"),
        Case("16-bit PNG", photo=_save(sixteen_bit, "PNG"), expect="queued"),
        Case("greyscale JPEG", photo=_save(_face_like(mode="L"), "JPEG"), expect="queued"),
        Case("PNG with alpha", photo=_save(_face_like(mode="RGBA"), "PNG"), expect="queued"),
        Case("palette PNG", photo=_save(_face_like(mode="P"), "PNG", transparency=0), expect="queued"),
        Case("WebP", photo=_save(_face_like(), "WEBP"), expect="queued"),
        Case("animated WebP (first frame)", photo=_animated("WEBP"), expect="queued"),
        Case("animated PNG (first frame)", photo=_animated("PNG"), expect="queued"),
        Case("1×1 PNG", photo=_save(Image.new("RGB", (1, 1)), "PNG"), expect="queued"),
        Case("JPEG with EXIF rotation", photo=_save(_face_like(), "JPEG", exif=exif), expect="queued"),
        Case("JPEG with trailing garbage", photo=jpeg + b"\x00garbage" * 50, expect="queued"),
        *header_cut_jpegs(),
    ]


# --- texts and buttons --------------------------------------------------------------------------

TEXT_CASES = [
    Case("10 000 characters", text="눈이 큰 " * 2500, expect="too_long"),
    Case("10 000 latin characters", text="a" * 10_000, expect="too_long"),
    Case("1001 characters", text="x" * 1001, expect="too_long"),
    Case("NFKC that grows past the limit", text="ﷺ" * 100, expect="too_long"),
    Case("empty text", text="", expect="empty"),
    Case("only spaces", text="   \n\t ", expect="empty"),
    Case("only zero-width characters", text="\u200b\u200c\u200d\ufeff"),
    Case("zero-width inside a command", text="new\u200b 1", expect="queued"),
    Case("right-to-left override", text="\u202enew 1\u202c"),
    Case("right-to-left Arabic", text="وجه جديد"),
    Case("Hebrew with marks", text="\u200fפנים חדשות\u200e"),
    Case("emoji only", text="😀🙈👩‍👩‍👧‍👦"),
    Case("NUL character", text="describe a round face\x00 with big eyes"),
    Case("control characters", text="\x1b[31mnew\x07 1"),
    Case("lone surrogate", text="describe a round face \ud800 with big eyes"),
    Case("combining marks pile", text="e" + "\u0301" * 500),
    Case("ratio NaN", text="morph me with Sora at NaN"),
    Case("ratio -1", text="morph me with Sora at -1", expect="invalid_ratio_out_of_range"),
    Case("ratio 1e9", text="morph me with Sora at 1e9"),
    Case("ratio 0,7", text="morph me with Sora at 0,7", expect="need_photo"),
    Case("ratio inf", text="morph me with Sora at inf"),
    Case("ratio 150%", text="morph me with Sora at 150%", expect="invalid_ratio_out_of_range"),
    Case("ratio -0.0", text="morph me with Sora at -0.0"),
    Case("shares not adding up", text="me 70% Sora 70%", expect="invalid_shares_do_not_add_up"),
    Case("Korean ratio NaN", text="나랑 소라 NaN로 합성"),
    Case("Korean ratio -1", text="나랑 소라 -1로 합성", expect="invalid_ratio_out_of_range"),
    Case("Korean ratio 0,7", text="나랑 소라 0,7로 합성", expect="need_photo"),
    Case("huge seed", text="new 99999999999999999999", expect="seed_too_big"),
    Case("huge face number in text", text="back to 99999999999999999999999", expect="no_face_number"),
    Case("face number 0", text="back to 0"),
    Case("morph with #-1", text="morph me with #-1 at 0.5"),
    Case("pick with nothing shown", text="3", expect="no_set"),
    Case("huge variation count", text="remix 1000000", expect="count_too_big"),
    Case("SQL in a saved name", text="save '; DROP TABLE users;--", expect="need_face"),
    Case("SQL in a load", text="load ' OR '1'='1", expect="no_saved"),
    Case("HTML in a load", text="load <script>alert(1)</script>", expect="no_saved"),
    Case("HTML in a gallery name", text="morph me with <img src=x onerror=alert(1)> at 0.5"),
    Case("SQL in a gallery name", text="morph me with Robert'); DROP TABLE faces;-- at 0.5"),
    Case("format placeholders", text="load {name}{0.__class__}%s%n"),
    Case("very long saved name", text="load " + "n" * 900, expect="no_saved"),
    Case("blocked description", text="describe a face with blockedword scars", expect="blocked"),
    Case("blocked saved name", text="save blockedword", expect="blocked"),
    Case("blocked behind zero-width", text="describe blocked\u200bword eyes", expect="blocked"),
]

BUTTON_CASES = [
    Case("empty payload", button="", expect="bad_button"),
    Case("garbage payload", button="hello there", expect="bad_button"),
    Case("SQL payload", button="'; DELETE FROM faces;--", expect="bad_button"),
    Case("10 000-character payload", button="d1:" + "x" * 10_000, expect="bad_button"),
    Case("someone else's tag", button="d1:aaaaaa:un:1", expect="not_your_button"),
    Case("unknown verb", button=f"d1:{OWN}:zz:1", expect="bad_button"),
    Case("too many arguments", button=f"d1:{OWN}:un:1:2:3", expect="bad_button"),
    Case("a face that is not there", button=f"d1:{OWN}:un:7", expect="no_face_number"),
    Case("huge face number", button=f"d1:{OWN}:rx:9999999999", expect="no_face_number"),
    Case("11-digit face number", button=f"d1:{OWN}:rx:99999999999", expect="bad_button"),
    Case("negative number", button=f"d1:{OWN}:un:-1", expect="bad_button"),
    Case("path in a region", button=f"d1:{OWN}:sh:1:../../etc", expect="bad_button"),
    Case("forged candidate set", button=f"d1:{OWN}:pk:1:r.eyes.999999.1:3", expect="no_face_number"),
    Case("morph ratio 101%", button=f"d1:{OWN}:mr:1:101", expect="no_face_number"),
    Case("non-ASCII payload", button=f"d1:{OWN}:un:١", expect="bad_button"),
    Case("yes with nothing asked", button=f"d1:{OWN}:yes"),
]


def _corpus() -> list[Case]:
    return photo_cases() + TEXT_CASES + BUTTON_CASES


def test_the_corpus_is_big_enough():
    assert len(_corpus()) * 2 >= 100   # each case runs in Korean and in English
    assert len({c.name for c in _corpus()}) == len(_corpus())


async def _counts(engine) -> tuple[int, int, int]:
    async with session_factory(engine)() as session:
        return tuple([(await session.execute(select(func.count()).select_from(m))).scalar()
                      for m in (Job, Blob, Upload)])


async def _uploads_without_a_job(engine) -> int:
    async with session_factory(engine)() as session:
        return (await session.execute(select(func.count()).select_from(Upload).where(Upload.job_id.is_(None)))).scalar()


async def _run_corpus(engine, locale: str) -> list[str]:
    await ensure_default_gallery(engine, MontageBackend())
    conversation = Conversation(engine, size=64, user_job_cap=50,
                                limits=Limits(user_rate_per_minute=0, blocklist=Blocklist(("blockedword",))))
    problems = []
    for i, case in enumerate(_corpus()):
        user = f"{locale}-{i}"

        async def send(**what):
            return await conversation.handle(Incoming("telegram", user, f"chat-{user}", locale=locale, **what))

        await send(text="hi")
        await send(button=payloads.encode(payloads.owner_tag(conversation.owner_key("telegram", user)), "ack"))
        await send(text=f"lang {locale}")   # chosen: the language holds whatever script the input is in
        before = await _counts(engine)
        button = None if case.button is None else case.button.replace(OWN, payloads.owner_tag(conversation.owner_key("telegram", user)))
        try:
            replies = await send(text=case.text, photo=case.photo, button=button)
        except Exception as exc:   # noqa: BLE001 - a crash is what this corpus looks for
            problems.append(f"{case.name}: crashed with {type(exc).__name__}: {exc}")
            continue
        after = await _counts(engine)
        said = "\n".join(r.text for r in replies)
        kinds = {r.kind for r in replies}
        if case.name == "yes with nothing asked":
            ok = replies == []                      # a stray "yes" is ignored, as in the chat
        elif case.expect == "queued":
            ok = kinds == {"progress"} and after[0] == before[0] + 1
        elif case.expect is not None:
            wanted = TEXTS[case.expect][locale].split("{")[0]   # the text up to its first placeholder
            ok = said.startswith(wanted) and kinds == {"error"}
        else:
            ok = bool(replies) and all(r.text.strip() for r in replies)
        if not ok:
            problems.append(f"{case.name}: unexpected reply {[(r.kind, r.text[:80]) for r in replies]}")
        if replies and not (HANGUL.search(said) if locale == "ko" else not HANGUL.search(said.replace(case.text or "", ""))):
            problems.append(f"{case.name}: reply not in {locale}: {said[:80]!r}")
        if "Traceback" in said or "Error" in said:
            problems.append(f"{case.name}: reply shows an error's insides: {said[:120]!r}")
        refused = "progress" not in kinds
        if refused and after != before:
            problems.append(f"{case.name}: refused but stored something (jobs, blobs, uploads {before} → {after})")
        if not refused and (after[1] - before[1], after[2] - before[2]) != ((1, 1) if case.photo else (0, 0)):
            problems.append(f"{case.name}: accepted but stored {before} → {after}")
        if await _uploads_without_a_job(engine):
            problems.append(f"{case.name}: an upload is left without its job")
    return problems


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")   # refused right after the warning
async def test_bad_inputs_get_clear_korean_replies(engine):
    problems = await _run_corpus(engine, "ko")
    assert not problems, "\n".join(problems)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_bad_inputs_get_clear_english_replies(engine):
    problems = await _run_corpus(engine, "en")
    assert not problems, "\n".join(problems)


async def test_a_refused_photo_is_logged_in_one_line_without_a_stack(engine, caplog):
    """Expected bad input is no bug: one line saying what was refused, why, and whose (a
    pseudonym, never the platform id); stacks are for bugs."""
    conversation = Conversation(engine, size=64)
    owner = payloads.owner_tag(conversation.owner_key("telegram", "555123"))
    await conversation.handle(Incoming("telegram", "555123", "c", text="hi", locale="en"))
    await conversation.handle(Incoming("telegram", "555123", "c", button=payloads.encode(owner, "ack"), locale="en"))
    caplog.clear()
    with caplog.at_level("INFO"):
        for case in header_cut_jpegs():
            replies = await conversation.handle(Incoming("telegram", "555123", "c", photo=case.photo, locale="en"))
            assert [r.text for r in replies] == [TEXTS["error_not_an_image"]["en"]]
    refusals = [r for r in caplog.records if "refused a photo" in r.getMessage()]
    assert len(refusals) == len(header_cut_jpegs())
    for record in refusals:
        assert record.exc_info is None and record.levelname == "INFO"
        assert "not_an_image" in record.getMessage() and "damaged" in record.getMessage()
        assert " u-" in record.getMessage() and "555123" not in record.getMessage()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= 40]
