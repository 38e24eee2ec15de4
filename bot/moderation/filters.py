"""The generation log's filters as they arrive in a URL query, turned into a LogFilter.
One place says what each parameter may hold; a bad value is a BadQuery naming it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone

from storage.models import MAX_ID
from storage.moderation import Cursor, LogFilter
from storage.platforms import PLATFORMS

FILTER_KEYS = ("platform", "user", "operation", "since", "until", "flagged", "reported", "hidden")
MAX_WORD_CHARS = 32


class BadQuery(ValueError):
    """A query parameter the dashboard cannot use."""


def _word(query: Mapping[str, str], key: str) -> str | None:
    value = query.get(key, "").strip()
    if len(value) > MAX_WORD_CHARS:
        raise BadQuery(f"{key}: at most {MAX_WORD_CHARS} characters")
    return value or None


def _day(query: Mapping[str, str], key: str) -> datetime | None:
    value = query.get(key, "").strip()
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=timezone.utc)
    except ValueError:
        raise BadQuery(f"{key}: a date like 2026-11-21, not {value[:20]!r}") from None


def _yes_no(query: Mapping[str, str], key: str) -> bool | None:
    value = query.get(key, "").strip().lower()
    if value in ("", "any"):
        return None
    if value in ("yes", "no"):
        return value == "yes"
    raise BadQuery(f"{key}: yes, no or empty, not {value[:20]!r}")


def _user(query: Mapping[str, str]) -> dict[str, object]:
    """The user filter, as either the dashboard's user id or the "platform:id" the log shows
    beside each face (telegram:42, web:Xy…)."""
    value = query.get("user", "").strip()
    if not value:
        return {}
    platform, colon, platform_user_id = value.split()[0].partition(":")   # "discord:42 (cy)": the name is not needed
    if colon:
        if platform not in PLATFORMS or not platform_user_id or len(platform_user_id) > 64:
            raise BadQuery(f"user: a user id, or platform:id as the log shows it ({', '.join(PLATFORMS)}), "
                           f"not {value[:40]!r}")
        return {"platform": platform, "platform_user_id": platform_user_id}
    number = parse_id(value)
    if number is None:
        raise BadQuery(f"user: a user id (a number up to {MAX_ID}) or platform:id, not {value[:20]!r}")
    return {"user_id": number}


def parse_id(text: str) -> int | None:
    """A database id written in a URL, or None for anything else: not ASCII digits, or a number
    no 64-bit key holds (read before int() sees it, so a 10,000-digit "id" costs nothing)."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def log_filter(query: Mapping[str, str]) -> LogFilter:
    """`until` names a day and includes it: the filter ends at the next midnight (UTC)."""
    until = _day(query, "until")
    user = _user(query)
    platform = _word(query, "platform")
    if platform is not None and user.get("platform", platform) != platform:
        raise BadQuery(f"user {query['user'].strip()[:40]!r} is not on platform {platform!r}")
    return LogFilter(**{"platform": platform, **user}, operation=_word(query, "operation"),
                     since=_day(query, "since"), until=None if until is None else until + timedelta(days=1),
                     flagged=_yes_no(query, "flagged"), reported=_yes_no(query, "reported"),
                     hidden=_yes_no(query, "hidden"))


def page_cursor(query: Mapping[str, str]) -> Cursor | None:
    value = query.get("after", "").strip()
    if not value:
        return None
    try:
        cursor = Cursor.decode(value)
    except ValueError:
        raise BadQuery("after: not a page link this dashboard made") from None
    if not 0 <= cursor.id <= MAX_ID:
        raise BadQuery("after: not a page link this dashboard made")
    return cursor


def kept(query: Mapping[str, str], keys: tuple[str, ...] = FILTER_KEYS) -> dict[str, str]:
    """The query's non-empty filter values, to carry over to the next page's link."""
    return {k: query[k] for k in keys if query.get(k, "").strip()}
