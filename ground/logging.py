"""Logging for every entry point (`run`, `worker`, `chat`, `bot`), configured in one place.

Readable text by default; JSON lines (one object per record) when DREAMFACE_LOG_FORMAT=json.
Records carry, where the code knows them, the job id, the face id and a pseudonymous user id:

    with log_context(job_id=job.id, user=pseudonym(job.user_id)):
        log.info("…")     # → … job=12 user=u-3f9a…

A pseudonym is a keyed hash (HMAC-SHA256 under DREAMFACE_LOG_PSEUDONYM_KEY; a random key per
process when unset), so logs can follow one user without naming them. Every record passes a
filter that replaces configured secrets (bot tokens, the database password) wherever they
appear, and shortens any bytes argument to its length, so photo bytes never reach a log.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import hmac
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import TextIO

from sqlalchemy.engine import make_url

from ground.config import Settings

REDACTED = "[redacted]"
CONTEXT_FIELDS = ("job_id", "face_id", "user")
_context: dict[str, contextvars.ContextVar[str | None]] = {
    name: contextvars.ContextVar(f"dreamface_log_{name}", default=None) for name in CONTEXT_FIELDS}
_pseudonym_key = os.urandom(32)   # replaced by configure() when a key is configured
# attributes every LogRecord has; anything else a caller passed in `extra=` goes into the JSON
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


@contextlib.contextmanager
def log_context(**values: object) -> Iterator[None]:
    """Attach job_id / face_id / user to every record logged inside the block (this task only)."""
    unknown = set(values) - set(CONTEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown log context field(s): {', '.join(sorted(unknown))}")
    tokens = [(_context[name], _context[name].set(None if value is None else str(value)))
              for name, value in values.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def pseudonym(user_ref: object) -> str:
    """A stable stand-in for a user reference (a database id, or platform and platform id)."""
    digest = hmac.new(_pseudonym_key, str(user_ref).encode(), hashlib.sha256).hexdigest()
    return f"u-{digest[:12]}"


class ContextFilter(logging.Filter):
    """Copies the log context onto the record, so both formatters can show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, _context[name].get())
        return True


class RedactingFilter(logging.Filter):
    """Replaces each secret wherever it appears in a record (message, arguments, exception
    text), and replaces bytes arguments with their length."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # longest first, so a secret that contains another is replaced whole
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(f"<{len(a)} bytes>" if isinstance(a, (bytes, bytearray, memoryview)) else a
                                for a in record.args)
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        tags = " ".join(f"{name.removesuffix('_id')}={getattr(record, name)}" for name in CONTEXT_FIELDS
                        if getattr(record, name, None) is not None)
        if not tags:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} [{tags}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the context
    fields that are set, `extra=` fields, and the traceback as `exc`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def secrets_of(settings: Settings) -> list[str]:
    """The configured values that must never appear in a log."""
    secrets = [settings.telegram_token, settings.discord_token, settings.log_pseudonym_key, settings.ops_token]
    password = make_url(settings.database_url).password
    if password:
        secrets.append(str(password))
    return [s for s in secrets if s]


def configure(settings: Settings, *, stream: TextIO | None = None, minimum: str = "DEBUG") -> logging.Handler:
    """Install the one handler on the root logger (replacing earlier ones); returns it. The
    level is DREAMFACE_LOG_LEVEL, raised to `minimum` where an entry point wants fewer lines."""
    global _pseudonym_key
    if settings.log_pseudonym_key:
        _pseudonym_key = settings.log_pseudonym_key.encode()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    for log_filter in (RedactingFilter(secrets_of(settings)), ContextFilter()):
        handler.addFilter(log_filter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(max(logging.getLevelName(settings.log_level.upper()), logging.getLevelName(minimum)))
    return handler
