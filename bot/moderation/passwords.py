"""Moderator passwords, hashed with scrypt (memory-hard) and a random salt per password.

Stored form: "scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>", so the cost can be raised later
and old hashes still verify. The default cost follows OWASP's scrypt advice (n = 2^17, r = 8,
p = 1: 128 MiB and about half a second on one core here).

The dashboard checks passwords through `PasswordChecks`: a small thread pool of its own with a
bounded queue, so a flood of logins neither waits in the thread pool the in-process worker
renders with nor piles up memory; one login past the queue is refused at once (`ChecksBusy`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024       # scrypt reads the whole password; a megabyte "password" is an attack
SALT_BYTES = 16
KEY_BYTES = 32


@dataclass(frozen=True)
class ScryptCost:
    log2_n: int = 17
    r: int = 8
    p: int = 1

    @property
    def memory_bytes(self) -> int:
        return 128 * self.r * (2 ** self.log2_n) * self.p


DEFAULT_COST = ScryptCost()


class WeakPassword(ValueError):
    """A password too short (or too long) to accept."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"use at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise WeakPassword(f"use at most {MAX_PASSWORD_CHARS} characters")


def _derive(password: str, salt: bytes, cost: ScryptCost) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2 ** cost.log2_n, r=cost.r, p=cost.p,
                          maxmem=2 * cost.memory_bytes, dklen=KEY_BYTES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str, cost: ScryptCost = DEFAULT_COST) -> str:
    check_password_rules(password)
    salt = secrets.token_bytes(SALT_BYTES)
    return f"scrypt${cost.log2_n}${cost.r}${cost.p}${_b64(salt)}${_b64(_derive(password, salt, cost))}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; compares in constant time."""
    try:
        scheme, log2_n, r, p, salt, expected = stored.split("$")
        cost = ScryptCost(int(log2_n), int(r), int(p))
        salt_bytes, expected_bytes = base64.b64decode(salt), base64.b64decode(expected)
    except ValueError:
        return False
    if scheme != "scrypt" or len(password) > MAX_PASSWORD_CHARS or not 10 <= cost.log2_n <= 22:
        return False
    return hmac.compare_digest(_derive(password, salt_bytes, cost), expected_bytes)


def burn_verification_time(password: str) -> None:
    """Spend what a real check costs, for a login name that does not exist, so response time
    does not tell which names are moderators."""
    verify_password(password, _DUMMY_HASH)


_DUMMY_HASH = f"scrypt${DEFAULT_COST.log2_n}${DEFAULT_COST.r}${DEFAULT_COST.p}${_b64(b'0' * SALT_BYTES)}${_b64(b'0' * KEY_BYTES)}"


class ChecksBusy(RuntimeError):
    """Every password-check thread is busy and the queue is full: answer 429 now."""


class PasswordChecks:
    """Password checks on `threads` threads of their own, at most `queue` more waiting.

    A login takes a place (`place()`) before anything else, so a flood is refused before it
    costs the database a write; the place is held until its check's thread finishes (even when
    the request that asked went away), so the bound is on real work, and memory stays under
    threads × 128 MiB. scrypt runs outside the GIL: the event loop keeps serving meanwhile."""

    def __init__(self, threads: int = 1, queue: int = 4) -> None:
        if threads < 1 or queue < 0:
            raise ValueError(f"need at least one thread and a queue of 0 or more, got {threads} and {queue}")
        self.limit = threads + queue
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="password-check")
        self._lock = threading.Lock()
        self._taken = 0

    @property
    def in_flight(self) -> int:
        """Places taken now: checks running or waiting, and logins about to ask for one."""
        return self._taken

    def place(self) -> "CheckPlace":
        """A place for one check; raises ChecksBusy at once when none is free."""
        with self._lock:
            if self._taken >= self.limit:
                raise ChecksBusy(f"{self._taken} password checks running or waiting")
            self._taken += 1
        return CheckPlace(self)

    def _release(self) -> None:
        with self._lock:
            self._taken -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class CheckPlace:
    """One taken place: `verify` uses it (given back when the thread finishes); leaving the
    `with` block without verifying gives it back at once."""

    def __init__(self, checks: PasswordChecks) -> None:
        self._checks = checks
        self._used = False

    def __enter__(self) -> "CheckPlace":
        return self

    def __exit__(self, *exc) -> None:
        if not self._used:
            self._used = True
            self._checks._release()

    async def _run(self, check: Callable[..., bool], *args) -> bool:
        if self._used:
            raise RuntimeError("a check place is used once")
        self._used = True
        try:
            future = self._checks._executor.submit(check, *args)
        except BaseException:
            self._checks._release()
            raise
        future.add_done_callback(lambda _: self._checks._release())
        return await asyncio.wrap_future(future)

    async def verify(self, password: str, stored: str | None) -> bool:
        """verify_password, or the same work for a name that does not exist (`stored` None)."""
        if stored is None:
            await self._run(burn_verification_time, password)
            return False
        return await self._run(verify_password, password, stored)
