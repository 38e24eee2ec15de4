"""Moderator passwords, hashed with scrypt (memory-hard) and a random salt per password.

Stored form: "scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>", so the cost can be raised later
and old hashes still verify. The default cost follows OWASP's scrypt advice (n = 2^17, r = 8,
p = 1: 128 MiB and about half a second on one core here).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
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
