"""Who is on the other end of a browser: a random user key in a signed cookie.

The cookie is the only source of identity. It is HttpOnly (page scripts cannot read or copy
it), SameSite=Strict (other sites cannot ride on it) and signed with HMAC-SHA256, so a browser
can neither invent a key nor edit one it was given. Nothing a websocket message says can change
whose messages they are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

COOKIE_NAME = "dreamface_id"
COOKIE_MAX_AGE = 365 * 24 * 3600
SECRET_BYTES = 32
DEFAULT_SECRET_FILE = Path("dreamface-web.key")   # the server secret's file, in the working directory
MIN_SECRET_BYTES = 16
_CONTEXT = b"dreamface web identity v1:"   # keeps these signatures apart from any other use of the key
_JOB_CONTEXT = b"dreamface job token v1:"
JOB_TOKEN_CHARS = 16   # 96 bits


@dataclass(frozen=True)
class Identity:
    user_key: str   # the web chat's user id: 22 URL-safe characters, never shown to other users


class CookieSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the cookie secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def _signature(self, user_key: str) -> str:
        digest = hmac.new(self._secret, _CONTEXT + user_key.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def new_identity(self) -> tuple[Identity, str]:
        """A fresh identity and the cookie value that carries it."""
        identity = Identity(secrets.token_urlsafe(16))
        return identity, self.cookie_value(identity)

    def cookie_value(self, identity: Identity) -> str:
        return f"{identity.user_key}.{self._signature(identity.user_key)}"

    def job_token(self, user_key: str, job_id: int) -> str:
        """What a user's page calls one of their jobs: stable for the job, different for every
        user, and telling nothing of the global job id without the secret."""
        digest = hmac.new(self._secret, _JOB_CONTEXT + f"{user_key}\0{job_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:JOB_TOKEN_CHARS]

    def verify(self, value: str | None) -> Identity | None:
        """The identity a cookie value carries, or None when it is missing, malformed or forged."""
        if not value or value.count(".") != 1:
            return None
        user_key, signature = value.split(".")
        if not user_key or not hmac.compare_digest(signature, self._signature(user_key)):
            return None
        return Identity(user_key)


def load_or_create_secret(path: Path) -> bytes:
    """The signing key kept in `path` (created with mode 0600 on first use), so identities survive
    a restart. Several web processes behind one address must share the same file."""
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        # written whole under a temporary name, then linked into place: a process starting at
        # the same moment either wins the link or reads the complete file of the one that did
        secret = secrets.token_bytes(SECRET_BYTES)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secret)
        try:
            os.link(temporary, path)
        except FileExistsError:
            secret = path.read_bytes()
        finally:
            temporary.unlink()
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"{path} holds {len(secret)} bytes; a cookie secret needs at least {MIN_SECRET_BYTES} "
                         "(delete the file to make a new one; every browser then gets a new identity)")
    return secret
