"""In-chat moderation and the report button on Telegram, end to end: the real adapter and
python-telegram-bot against the local Bot API server (tests/bot/telegram_fake.py)."""

from __future__ import annotations

from bot.conversation.josa import attach_particles

import asyncio
import re

from sqlalchemy import select

from bot.conversation.replies import say
from bot.telegram.adapter import TelegramAdapter
from dreamface.app import open_app
from ground.config import Settings
from storage.models import ModerationEvent
from telegram_fake import BOT_USERNAME, FakeTelegram, wait_until
from test_telegram import RENDER_SIZE, _group_result, acknowledged


async def test_a_group_member_reports_a_face_and_an_admin_hides_it(tmp_path):
    async with FakeTelegram() as fake:
        alice, bob = fake.user("Alice", language_code="en"), fake.user("Bob", language_code="en")
        admin = fake.user("관리자", language_code="ko")
        settings = Settings.from_env({**fake.env, "DREAMFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}",
                                      "DREAMFACE_WORKER_POLL_SECONDS": "0.05",
                                      "DREAMFACE_TELEGRAM_ADMIN_IDS": f"{admin.id}, 1"})
        async with open_app(settings, with_worker=True, size=RENDER_SIZE) as app:
            stop = asyncio.Event()
            task = asyncio.create_task(TelegramAdapter(settings, app, poll_timeout=2, courier_poll_seconds=0.05,
                                                       progress_poll_seconds=0.1).run(stop))
            try:
                await wait_until(lambda: fake.commands, 30)
                group = fake.group("친구들")
                await asyncio.gather(acknowledged(alice), acknowledged(bob), acknowledged(admin))
                await alice.send(f"@{BOT_USERNAME} new", chat=group)
                face = await _group_result(alice, group)
                assert [[b["text"] for b in row] for row in face.keyboard] == [
                    ["Eyes", "Nose", "Mouth", "Variations"], ["Remix", "🚩 Report"]]

                # bob's report is answered with a toast only he sees: nothing is posted in the group
                # (counted once the result's uncompressed file has followed its photo)
                await wait_until(lambda: any(m.document_name == "dreamface-1.png" for m in fake.bot_messages(group)), 10)
                before = len(fake.bot_messages(group))
                assert await bob.answer(await bob.press(face, "🚩 Report")) == say("en", "report_thanks")
                assert await bob.answer(await bob.press(face, "🚩 Report")) == say("en", "report_thanks")
                ids = await admin.answer(await admin.press(face, "🚩 Report"))
                face_id = int(re.match(r"얼굴 (\d+) ", ids)[1])
                assert len(fake.bot_messages(group)) == before

                await bob.send(f"/hide {face_id}", chat=group)
                await wait_until(lambda: any(m.words == say("en", "only_moderators") for m in fake.bot_messages(group)), 10)
                await admin.send(f"/hide {face_id} 신고 확인", chat=group)   # Telegram's /hide reaches the core as "hide …"
                await wait_until(lambda: any(m.words.startswith(attach_particles(f"얼굴 {face_id}을(를) 숨겼어요"))
                                             for m in fake.bot_messages(group)), 10)
            finally:
                stop.set()
                await task
            async with app.conversation.sessions() as session:
                events = (await session.execute(select(ModerationEvent).order_by(ModerationEvent.id))).scalars().all()
            assert [(e.actor, e.action, e.target_face_id) for e in events][-2:] == [
                (events[-2].actor, "report", face_id), (f"telegram:{admin.id}", "hide", face_id)]
            assert events[-1].reason == "신고 확인"
