"""The web chat end to end on the real conversation core and worker: faces arrive with live
status; nobody can act as someone else through the socket, a forged button or a face number."""

from __future__ import annotations

import asyncio
import base64

import pytest

from bot.web.client import ChatClient, button_payloads, has_image, is_final
from conftest import TESTDATA
from ground.config import Settings
from web_served import POLL, acknowledge_notice, served


@pytest.fixture
def settings(migrated_database_url):
    """On SQLite and on PostgreSQL (where results wake the courier by NOTIFY)."""
    return Settings(database_url=migrated_database_url, worker_poll_seconds=POLL)


def texts(frames: list[dict]) -> list[str]:
    return [f["text"] for f in frames]


async def test_a_new_face_arrives_after_its_progress_message(settings):
    async with served(settings) as server, ChatClient(str(server.make_url("/")), accept_language="ko") as me:
        await acknowledge_notice(me, "새 얼굴")
        frames = await me.until(is_final)
        progress, result = frames[0], frames[-1]
        assert progress["kind"] == "progress" and progress["job_id"] == result["job_id"]
        # the page's own opaque token of the job (bot.web.identity.CookieSigner.job_token), not the global id
        assert isinstance(result["job_id"], str) and len(result["job_id"]) == 16 and not result["job_id"].isdigit()
        assert has_image(result) and result["kind"] == "result"
        png = base64.b64decode(result["images"][0]["data"])
        assert png.startswith(b"\x89PNG")
        assert "#1" in result["text"]
        assert any(":sh:1:eyes" in p for p in button_payloads(result))   # the eyes-grid button


async def test_nobody_acts_as_another_user_through_the_web_chat(settings):
    async with served(settings) as server:
        url = str(server.make_url("/"))
        async with ChatClient(url) as alice, ChatClient(url) as bob:
            await acknowledge_notice(alice, "new")
            alice_face = (await alice.until(is_final))[-1]
            await acknowledge_notice(bob, "help")
            assert "undo" in (await bob.receive())["text"]   # the help text, held until the notice was acknowledged

            # a socket message naming alice is still bob's: he has no face to show eyes of
            await bob.send_json({"type": "text", "text": "show eyes", "user_id": alice.user_key,
                                  "chat_id": alice.user_key, "target": alice.user_key})
            reply = await bob.receive()
            assert reply["kind"] == "error" and "face first" in reply["text"].lower()

            # alice's button, pressed by bob as it is, and with the owner edited to his own
            eyes = next(p for p in button_payloads(alice_face) if p.endswith(":eyes"))
            await bob.press(eyes)
            assert (await bob.receive())["kind"] == "error"
            bob_tag = next(iter(bob_own_tags(bob)))
            forged = ":".join([eyes.split(":")[0], bob_tag, *eyes.split(":")[2:]])
            await bob.press(forged)
            assert (await bob.receive())["kind"] == "error"

            # alice's face number, typed by bob
            await bob.say("back to 1")
            refused = await bob.receive()
            assert refused["kind"] == "error" and "#1" in refused["text"]

            # and alice heard none of it
            with pytest.raises(asyncio.TimeoutError):
                await alice.receive(timeout=0.5)


async def test_a_photo_cut_off_in_its_header_gets_a_clear_reply_and_loses_nothing(settings):
    cut = (TESTDATA / "obama_official_portrait.jpg").read_bytes()[:600]   # ends inside the EXIF segment
    async with served(settings) as server, ChatClient(str(server.make_url("/")), accept_language="ko") as me:
        await acknowledge_notice(me, "새 얼굴")
        first = (await me.until(is_final))[-1]
        await me.send_photo(cut)
        refused = await me.receive()
        assert refused["kind"] == "error" and refused["text"] == "그림 파일이 아니거나 손상됐어요."
        await me.say("기록")
        history = await me.receive()
        assert first["text"].split(":")[0] in history["text"]   # the face made before is still there


def bob_own_tags(client: ChatClient) -> set[str]:
    """The owner tags on buttons the core made for this client."""
    return {p.split(":")[1] for f in client.frames for p in button_payloads(f)}
