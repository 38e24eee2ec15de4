"""Login links: the Telegram or Discord bot vouches for a web chat user.

With DREAMFACE_WEB_LOGIN=link a browser gets no identity of its own: a user writes "web" / "웹"
to the bot in a private chat and is sent a link, valid for LINK_SECONDS, that opens the web
chat as the web identity of that platform account. An identity then costs a Telegram or
Discord account, and it is the same identity at every login, so a web ban holds.

    token = make_token(secret, "telegram", "12345", now)      # in the bot's reply
    identity_key(secret, token, now)  → "telegram~Xy…"  or None   # in the web chat's /login

The token is signed with the server secret (the one every chat process shares); it carries no
secret of the account, and a forged, edited or expired one opens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

LINK_SECONDS = 600
LOGIN_PATH = "login"
KEY_MARK = "~"   # in a login identity's key: "<platform>~<digest>"; a random cookie key never has it
_TOKEN_CONTEXT = b"dreamface login link v1:"
_KEY_CONTEXT = b"dreamface login identity v1:"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, _TOKEN_CONTEXT + body.encode(), hashlib.sha256).digest())


def make_token(secret: bytes, platform: str, platform_user_id: str, now: float) -> str:
    body = _b64(f"{platform}\0{platform_user_id}\0{int(now) + LINK_SECONDS}".encode())
    return f"{body}.{_sign(secret, body)}"


def link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/{LOGIN_PATH}?{urlencode({'t': token})}"


def login_key(secret: bytes, platform: str, platform_user_id: str) -> str:
    """The web identity of a platform account: the same at every login, telling nothing of the account."""
    digest = hmac.new(secret, _KEY_CONTEXT + f"{platform}\0{platform_user_id}".encode(), hashlib.sha256).digest()
    return f"{platform}{KEY_MARK}{_b64(digest)[:22]}"


def identity_key(secret: bytes, token: str | None, now: float) -> str | None:
    """The web identity key a login link's token opens, or None (missing, forged, expired)."""
    if not token or token.count(".") != 1 or len(token) > 400:
        return None
    body, signature = token.split(".")
    if not hmac.compare_digest(signature, _sign(secret, body)):
        return None
    try:
        platform, user_id, expires = _unb64(body).decode().split("\0")
        if now > int(expires):
            return None
    except ValueError:
        return None
    return login_key(secret, platform, user_id)


def is_login_key(user_key: str) -> bool:
    return KEY_MARK in user_key
