"""Small helpers for the dashboard's server-rendered HTML: escaping, the page frame and forms.
Every value placed in a page goes through `esc`; the style sheet is inline and allowed by its
hash in the Content-Security-Policy, so the pages load nothing from anywhere and run no script."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone
from html import escape
from typing import Any

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f6f7}
header{display:flex;gap:1.2em;align-items:center;padding:.6em 1.2em;background:#23232a;color:#eee}
header a{color:#eee;text-decoration:none}header .who{margin-left:auto}
header form{display:inline}header button{background:none;border:1px solid #888;color:#eee;border-radius:4px}
main{padding:1em 1.2em;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:.35em .5em;border-bottom:1px solid #e3e3e6;text-align:left;vertical-align:middle}
img.thumb{width:64px;height:64px;border-radius:4px;background:#ddd}
img.full{max-width:384px;border-radius:6px}
.badge{display:inline-block;padding:0 .45em;border-radius:3px;font-size:12px;margin-right:.3em}
.hidden{background:#555;color:#fff}.flagged{background:#e8a200;color:#000}.reported{background:#c62828;color:#fff}
.banned{background:#c62828;color:#fff}
form.filters{display:flex;flex-wrap:wrap;gap:.6em;align-items:end;margin-bottom:1em}
form.filters label{display:flex;flex-direction:column;font-size:12px}
form.action{margin:.4em 0;padding:.6em;background:#fff;border:1px solid #e3e3e6;border-radius:6px}
.error{color:#b00020;font-weight:600}.note{color:#666}
ul.tree{list-style:none;padding-left:1.4em;border-left:1px dashed #bbb}ul.tree.root{border:none;padding:0}
ul.tree li{margin:.3em 0}
.pager{margin:1em 0}
"""
STYLE_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (f"default-src 'none'; img-src 'self'; style-src 'sha256-{STYLE_HASH}'; "
                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def esc(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def hidden_field(name: str, value: str) -> str:
    return f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'


def post_form(action: str, csrf: str, inner: str, *, css: str = "action") -> str:
    """A POST form carrying the session's CSRF token (the only way the dashboard changes anything)."""
    return f'<form method="post" class="{esc(css)}" action="{esc(action)}">{hidden_field("csrf", csrf)}{inner}</form>'


def frame(title: str, body: str, *, moderator: str | None = None, csrf: str | None = None,
          nav: dict[str, str] | None = None) -> str:
    """The whole page: header with navigation and logout (when logged in), then `body`."""
    header = '<strong>dreamface moderation</strong>'
    if moderator is not None and nav is not None and csrf is not None:
        links = "".join(f'<a href="{esc(url)}">{esc(label)}</a>' for label, url in nav.items() if label != "logout")
        logout = post_form(nav["logout"], csrf, '<button type="submit" id="logout">log out</button>', css="logout")
        header += f'{links}<span class="who">{esc(moderator)}</span>{logout}'
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{esc(title)} · dreamface moderation</title><style>{CSS}</style></head>'
            f'<body><header>{header}</header><main><h1>{esc(title)}</h1>{body}</main></body></html>')
