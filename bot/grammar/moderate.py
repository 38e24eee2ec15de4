"""Moderator commands: hide / unhide a face, ban / unban a user, each with an optional reason.

    hide 1234 spam             숨기기 1234 스팸           1234번 숨겨 줘
    ban 56 abusive names       차단 56 욕설               사용자 56 차단해 줘
    ban telegram:123456        ban <@80351110224678912>  (a Discord mention)
    unhide 1234 / unban 56     숨김 해제 1234 / 차단 해제 56

A face is named by the id the dashboard and a moderator's report button show; a user by the
dashboard's user id, a "platform:id", or a Discord mention. The verb comes first when a reason
follows; Korean may also put the target first ("1234번 숨겨 줘"), without a reason. A verb
followed by no target is not taken here ("hide" alone may mean something else); a target
that looks like a name ("ban @ann") is answered with what a moderator can write instead.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot import commands as c
from bot.grammar import lexicon
from bot.grammar.text import words_regex
from storage.platforms import CHAT_PLATFORMS, DISCORD

_VERB = {re.sub(r"\s+", "", word.lower()): verb for verb, words in lexicon.MOD_VERBS.items() for word in words}
_VERBS = words_regex(w for words in lexicon.MOD_VERBS.values() for w in words)
_HEAD = re.compile(rf"^/?(?P<verb>{_VERBS})(?=\s|$)", re.IGNORECASE)
_VERB_LAST = re.compile(rf"^(?:{lexicon.MOD_USER_WORD}|{lexicon.MOD_FACE_WORD})?#?(?P<id>\d{{1,19}})\s*번?\s*"
                        rf"(?:을|를|은|는)?\s*(?P<verb>{_VERBS})(?:\s*(?:해|하기|시켜|처리))?$", re.IGNORECASE)
_FACE = re.compile(rf"^(?:{lexicon.MOD_FACE_WORD})?#?(?P<id>\d{{1,19}})번?(?=\s|$)", re.IGNORECASE)
_USER = re.compile(rf"^(?:(?:{lexicon.MOD_USER_WORD})?#?(?P<id>\d{{1,19}})번?"
                   rf"|(?P<platform>{'|'.join(CHAT_PLATFORMS)}):(?P<pid>[^\s:]{{1,64}})"
                   r"|<@!?(?P<discord>\d{1,20})>)(?=\s|$)", re.IGNORECASE)
_NAME_LIKE = re.compile(r"^<?@\S*")   # "@ann", "<@&role>": not a way to name a user here


def _intent(verb: str) -> str:
    return "hide" if verb in ("hide", "unhide") else "ban"


def _target(verb: str, rest: str) -> tuple[c.Command, str] | None:
    """The command for the target at the start of `rest`, and what follows it (the reason)."""
    if _intent(verb) == "hide":
        found = _FACE.match(rest)
        if found is None or int(found["id"]) < 1:
            return None
        return c.HideFace(int(found["id"]), hidden=verb == "hide"), rest[found.end():]
    found = _USER.match(rest)
    if found is None:
        return None
    if found["id"] is not None:
        if int(found["id"]) < 1:
            return None
        user = c.UserRef(user_id=int(found["id"]))
    elif found["discord"] is not None:
        user = c.UserRef(platform=DISCORD, platform_user_id=found["discord"])
    else:
        user = c.UserRef(platform=found["platform"].lower(), platform_user_id=found["pid"])
    return c.BanUser(user, banned=verb == "ban"), rest[found.end():]


def parse_moderation(text: str, core: str) -> c.Parsed | None:
    """`text` as normalized (a reason keeps its endings), `core` without politeness."""
    head = _HEAD.match(text)
    if head is not None:
        verb = _VERB[re.sub(r"\s+", "", head["verb"].lower())]
        rest = text[head.end():].strip()
        taken = _target(verb, rest) if rest else None
        if taken is not None:
            command, reason = taken
            return replace(command, reason=reason.strip())
        if rest and (_NAME_LIKE.match(rest) or re.match(r"^#?\d", rest)):
            return c.InvalidArgument(_intent(verb), "bad_target", rest.split(" ")[0])
    found = _VERB_LAST.match(core)
    if found is not None and int(found["id"]) >= 1:
        verb = _VERB[re.sub(r"\s+", "", found["verb"].lower())]
        taken = _target(verb, found["id"])
        return None if taken is None else taken[0]
    return None
