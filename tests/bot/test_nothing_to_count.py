"""Nothing to count (issue #23): the key naming a user's faces is an HMAC under the server
secret, not a hash anyone can compute from a public Telegram or Discord id; every report is
answered the same, so the button tells nothing about which faces exist; a key of before the
upgrade finds nobody, and a user's stored key follows the secret at their next message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from sqlalchemy import func, select, update

from bot.conversation import Conversation, payloads
from bot.conversation.moderators import Moderators
from bot.conversation.replies import say
from storage.db import session_factory
from storage.models import OWNER_KEY_CONTEXT, ModerationEvent, User, legacy_owner_key, owner_key
from test_moderation_chat import ADMIN, Group, _button

SECRET = b"the server secret, 32 bytes long"


def test_owner_keys_are_hmacs_under_the_server_secret_not_the_old_sha256():
    key = owner_key(SECRET, "telegram", "12345")
    expected = hmac.new(SECRET, OWNER_KEY_CONTEXT + b"telegram\x0012345", hashlib.sha256).digest()
    assert key == base64.b32encode(expected).decode().lower()[:12] and re.fullmatch(r"[a-z2-7]{12}", key)
    old = base64.b32encode(hashlib.sha256(b"telegram\x0012345").digest()).decode().lower()[:12]
    assert key != old == legacy_owner_key("telegram", "12345")          # anyone could compute that one
    assert owner_key(SECRET, "telegram", "12345") == key                 # stable for one secret
    assert owner_key(b"another secret, 32 bytes long...", "telegram", "12345") != key   # and per secret
    assert len({owner_key(SECRET, p, u) for p in ("telegram", "discord") for u in ("12345", "12346")}) == 4


async def _stored_key(engine, platform: str, user: str) -> str:
    async with session_factory(engine)() as session:
        return (await session.execute(select(User.owner_key).where(
            User.platform == platform, User.platform_user_id == user))).scalar_one()


async def _reports(engine) -> int:
    async with session_factory(engine)() as session:
        return (await session.execute(select(func.count()).select_from(ModerationEvent).where(
            ModerationEvent.action == "report"))).scalar()


def _group(engine, secret: bytes) -> Group:
    group = Group(engine)
    group.conversation = Conversation(engine, size=64, moderators=Moderators(frozenset({ADMIN}), "Moderators"),
                                      owner_secret=secret)
    return group


async def test_report_answers_are_identical_and_buttons_carry_the_hmac_key(engine):
    group = _group(engine, SECRET)
    await group.start("ann")
    made = await group.send("ann", text="new 1")
    report = _button(made, "🚩 Report")
    key = owner_key(SECRET, "telegram", "ann")
    assert report == payloads.report(key, 1) and legacy_owner_key("telegram", "ann")[6:] not in report
    assert await _stored_key(engine, "telegram", "ann") == key
    await group.start("bo")

    answers = []
    for payload in (report,                                              # the first report of a real face
                    report,                                              # the same again
                    payloads.report(key, 2),                             # ann has no #2
                    payloads.report(owner_key(SECRET, "telegram", "nobody"), 1),   # nobody's key
                    payloads.report(legacy_owner_key("telegram", "ann"), 1)):      # the key before the upgrade
        answers.append([(r.kind, r.text, r.private, r.buttons, r.pictures) for r in await group.send("bo", button=payload)])
    assert answers == [[("notice", say("en", "report_thanks"), True, (), ())]] * len(answers)
    assert await _reports(engine) == 1


async def test_a_key_of_before_the_upgrade_or_of_another_secret_finds_nobody_until_the_user_writes(engine):
    old = _group(engine, b"the secret before, 32 bytes long")
    await old.start("ann")
    report = _button(await old.send("ann", text="new 1"), "🚩 Report")

    # the upgrade: ann's row still holds the guessable key of before issue #23
    async with session_factory(engine)() as session, session.begin():
        await session.execute(update(User).where(User.platform_user_id == "ann")
                              .values(owner_key=legacy_owner_key("telegram", "ann")))
    new = _group(engine, SECRET)
    await new.start("bo")
    assert (await new.send("bo", button=payloads.report(legacy_owner_key("telegram", "ann"), 1)))[0].text == \
        say("en", "report_thanks")
    assert await _reports(engine) == 0                      # thanked, and nothing filed: the old key names nobody

    await new.send("ann", text="hello")                     # ann's next message rekeys her under the new secret
    assert await _stored_key(engine, "telegram", "ann") == owner_key(SECRET, "telegram", "ann")
    await new.send("bo", button=report)                     # a button sent before the new secret: stale
    assert await _reports(engine) == 0
    await new.send("bo", button=payloads.report(owner_key(SECRET, "telegram", "ann"), 1))
    assert await _reports(engine) == 1
