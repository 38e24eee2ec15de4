"""The dashboard's cookies: signed random tokens, never data.

    dreamface_mod        the session: a random token whose SHA-256 names a row in
                         moderator_sessions (logout or expiry deletes the row, so an old cookie
                         is worth nothing). A new token is minted at every login.
    dreamface_mod_login  before login: a random nonce; the login form's CSRF token is an HMAC of it,
                         so a page on another site cannot post a login form (login CSRF).

Both are signed with HMAC-SHA256 under the web chat's key with their own context, HttpOnly,
SameSite=Strict, limited to the dashboard's path, and Secure when the request came over https
(directly, or through a trusted proxy that says so: bot/web/forwarded.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from aiohttp import web

SESSION_COOKIE = "dreamface_mod"
LOGIN_COOKIE = "dreamface_mod_login"
LOGIN_COOKIE_SECONDS = 3600
MIN_SECRET_BYTES = 16
_SESSION_CONTEXT = b"dreamface moderation session v1:"
_LOGIN_CONTEXT = b"dreamface moderation login csrf v1:"


def _mac(secret: bytes, context: bytes, value: str) -> str:
    digest = hmac.new(secret, context + value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


class CookieKeys:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the dashboard's cookie secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def new_token(self) -> tuple[str, str]:
        """A fresh random token and the signed cookie value carrying it."""
        token = secrets.token_urlsafe(32)
        return token, f"{token}.{_mac(self._secret, _SESSION_CONTEXT, token)}"

    def token(self, cookie_value: str | None) -> str | None:
        """The token a cookie carries, or None when it is missing, malformed or forged."""
        if not cookie_value or cookie_value.count(".") != 1:
            return None
        token, signature = cookie_value.split(".")
        if not token or not hmac.compare_digest(signature, _mac(self._secret, _SESSION_CONTEXT, token)):
            return None
        return token

    def login_csrf(self, login_token: str) -> str:
        """The CSRF token of the login form shown to the holder of `login_token`."""
        return _mac(self._secret, _LOGIN_CONTEXT, login_token)


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str, path: str,
               max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="Strict",
                        secure=request.secure)


def clear_cookie(response: web.StreamResponse, name: str, path: str) -> None:
    response.del_cookie(name, path=path)
