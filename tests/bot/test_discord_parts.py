"""The Discord adapter's pure parts (command text, message parts, nonces) and the fake's own
refusals, which the end-to-end tests rely on to catch what Discord would reject."""

from __future__ import annotations

import json

import aiohttp
import pytest
from PIL import Image

from bot.discord.outgoing import MAX_NONCE, fit_picture, message_nonce, outgoing
from bot.discord.slash import command_text
from bot.grammar import parse
from bot import commands as c
from bot.messages import Button, Picture, Reply
from facegen.provenance import encode_picture, read_provenance
from discord_fake import FakeDiscord


def test_slash_commands_become_text_the_grammar_reads_as_the_same_command():
    assert parse(command_text("pick", region="eyes", number=3), "en") == c.Pick(3, "eyes")
    assert parse(command_text("pick", region=None, number=7), "en") == c.Pick(7)
    morph = parse(command_text("morph", name="배소라", ratio=0.7, mode="style"), "ko")
    assert morph == c.Morph(c.GalleryName("배소라"), 0.7, "style")
    assert parse(command_text("morph", name="#2", ratio=None, mode=None), "en") == c.Morph(c.FaceRef(2))
    assert isinstance(parse(command_text("describe", text="눈이 큰 둥근 얼굴"), "ko"), c.Describe)
    assert parse(command_text("show", region="nose"), "en") == c.ShowCandidates("nose")
    assert isinstance(parse(command_text("words"), "en"), c.DescribeFace)


def test_a_picture_over_the_limit_is_sent_smaller_and_a_grid_keeps_its_rows():
    image = Image.effect_noise((512, 512), 80).convert("RGB")
    png = encode_picture(image, photoreal=False, kind="face", face_id="df-k3j9qa7fz2mcab12")
    big = Picture(png.data, "dreamface-3.png", as_file=True)
    fitted = fit_picture(big, 20_000)
    assert len(fitted.data) <= 20_000 < len(big.data) and fitted.filename == "dreamface-3.jpg"
    assert read_provenance(fitted.data) == read_provenance(big.data)   # the smaller file keeps its provenance
    assert fit_picture(big, len(big.data)) is big

    picks = tuple(Button(str(k), f"d1:abcdef:pk:1:r.eyes.10.5:{k}") for k in range(1, 11))
    out = outgoing(Reply("Pick 1–10", (big,), (picks[:5], picks[5:])), file_limit=20_000)
    rows = out.view.to_components()
    assert [len(r["components"]) for r in rows] == [5, 5]
    assert rows[1]["components"][0]["custom_id"] == "d1:abcdef:pk:1:r.eyes.10.5:6"
    assert out.files[0].filename == "dreamface-3.jpg"


def test_message_nonces_fit_discord_and_stay_the_same_for_a_repeat():
    nonce = "0123456789abcdef0123456789abcdef"
    assert len(message_nonce(nonce, 0)) <= MAX_NONCE and len(message_nonce(nonce, 12)) <= MAX_NONCE
    assert message_nonce(nonce, 0) == message_nonce(nonce, 0) != message_nonce(nonce, 1)


def _row(n: int, custom_id=lambda i: f"b{i}") -> dict:
    return {"type": 1, "components": [{"type": 2, "style": 1, "label": str(i), "custom_id": custom_id(i)}
                                      for i in range(n)]}


@pytest.mark.parametrize("components, expected", [
    ([_row(5)] * 1, 200),
    ([_row(6)], 400),                                    # six buttons in a row
    ([_row(1, lambda i: f"r{r}{i}") for r in range(6)], 400),  # six rows
    ([_row(1, lambda i: "x" * 101)], 400),               # custom_id over 100 characters
])
async def test_the_fake_refuses_components_discord_refuses(components, expected):
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        channel = fake.add_user("ann").dm.id
        async with http.post(f"{fake.api_base}/channels/{channel}/messages", json={"content": "hi",
                             "components": components}, headers={"Authorization": f"Bot {fake.token}"}) as r:
            assert r.status == expected, await r.text()


async def test_the_fake_refuses_big_files_and_answers_429_beyond_a_bucket():
    async with FakeDiscord(attachment_limit=1000) as fake, aiohttp.ClientSession() as http:
        url = f"{fake.api_base}/channels/{fake.add_user('ann').dm.id}/messages"
        headers = {"Authorization": f"Bot {fake.token}"}
        form = aiohttp.FormData()
        form.add_field("payload_json", json.dumps({"content": "big"}))
        form.add_field("files[0]", b"x" * 1001, filename="big.png")
        async with http.post(url, data=form, headers=headers) as r:
            assert r.status == 413
        statuses = []
        for i in range(6):
            async with http.post(url, json={"content": str(i)}, headers=headers) as r:
                statuses.append(r.status)
                if r.status == 429:
                    body = await r.json()
                    assert 0 < body["retry_after"] <= 5 and r.headers["Via"]
        assert statuses == [200] * 4 + [429] * 2      # 5 per 5 s, and the refused upload was one of them
        assert fake.limits.refused["channel-messages"] == 2
