"""The dashboard's pages, rendered from storage records (storage/moderation.py). Pure functions:
data in, HTML out; bot/moderation/app.py does the requests, sessions and database."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlencode

from aiohttp import web

from bot.moderation.html import esc, frame, hidden_field, post_form, when
from facegen.identity import SAME_PERSON, STRANGERS, likeness_level
from storage.faces import UserRecord
from storage.moderation import ACTIONS, REPORT, AuditEntry, LogEntry, Page
from storage.platforms import PLATFORMS, WEB

OPERATIONS = ("new", "describe", "pick", "morph", "remix", "edit", "photo", "text", "gallery")
AUDIT_ACTIONS = (*ACTIONS, REPORT, "morph_real_person")
YES_NO = (("", "any"), ("yes", "yes"), ("no", "no"))


class Links:
    """URLs of the dashboard's routes, with the prefix it is mounted under."""

    def __init__(self, router: web.UrlDispatcher) -> None:
        self._router = router

    def _url(self, name: str, query: Mapping[str, str] | None = None, **parts: object) -> str:
        url = str(self._router[name].url_for(**{k: str(v) for k, v in parts.items()}))
        return f"{url}?{urlencode(query)}" if query else url

    def log(self, query: Mapping[str, str] | None = None) -> str:
        return self._url("log", query)

    def audit(self, query: Mapping[str, str] | None = None) -> str:
        return self._url("audit", query)

    def login(self) -> str:
        return self._url("login")

    def logout(self) -> str:
        return self._url("logout")

    def face(self, face_id: int) -> str:
        return self._url("face", face_id=face_id)

    def picture(self) -> str:
        return self._url("picture")

    def face_image(self, face_id: int) -> str:
        return self._url("face_image", face_id=face_id)

    def face_thumb(self, face_id: int) -> str:
        return self._url("face_thumb", face_id=face_id)

    def face_action(self, face_id: int, action: str) -> str:
        return self._url("face_action", face_id=face_id, action=action)

    def user(self, user_id: int) -> str:
        return self._url("user", user_id=user_id)

    def user_ban(self, user_id: int, action: str) -> str:
        return self._url("user_ban", user_id=user_id, action=action)

    def user_delete(self, user_id: int) -> str:
        return self._url("user_delete", user_id=user_id)

    def nav(self) -> dict[str, str]:
        return {"generations": self.log(), "audit log": self.audit(), "logout": self.logout()}


class Viewer:
    """Who is looking (for the header and the forms)."""

    def __init__(self, name: str, csrf: str, links: Links) -> None:
        self.name, self.csrf, self.links = name, csrf, links

    def frame(self, title: str, body: str) -> str:
        return frame(title, body, moderator=self.name, csrf=self.csrf, nav=self.links.nav())


# --- login ---------------------------------------------------------------------------------------

def login_page(action: str, csrf: str, *, error: str | None = None, name: str = "", next_url: str = "") -> str:
    problem = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    form = (f'<form method="post" class="action" action="{esc(action)}">{hidden_field("csrf", csrf)}'
            f'{hidden_field("next", next_url)}'
            f'<p><label>name<br><input id="name" name="name" autocomplete="username" value="{esc(name)}" required></label></p>'
            f'<p><label>password<br><input id="password" name="password" type="password" '
            f'autocomplete="current-password" required></label></p>'
            f'<p><button id="login" type="submit">log in</button></p></form>')
    return frame("Log in", problem + form)


def message_page(viewer: Viewer | None, title: str, text: str) -> str:
    body = f'<p class="error">{esc(text)}</p>'
    return viewer.frame(title, body) if viewer is not None else frame(title, body)


# --- pieces ----------------------------------------------------------------------------------------

def _badges(entry: LogEntry) -> str:
    out = []
    if entry.hidden:
        out.append('<span class="badge hidden">hidden</span>')
    if entry.flagged:
        out.append('<span class="badge flagged">flagged</span>')
    if entry.reports:
        out.append(f'<span class="badge reported">reported ×{entry.reports}</span>')
    return "".join(out)


def _likeness(entry: LogEntry) -> str:
    """A face made from a photo: how near it came to the photo, the number and the level the
    user was told ("0.57 (high)"); "" for other faces."""
    distance = entry.params.get("likeness")
    return "" if distance is None else f"{distance:.2f} ({likeness_level(distance)})"


def _free_text(entry: LogEntry) -> str:
    """A free-text edit: the words asked for, the CLIP similarity before → after, and how far the
    face moved from its parent as the face recogniser sees it (where it found a face); "" for
    other faces."""
    if entry.operation != "text":
        return ""
    p = entry.params
    clip = p.get("text_edit") or {}
    parts = [f"“{p.get('text', '')}”"]
    if "similarity_before" in clip:
        parts.append(f"CLIP similarity {clip['similarity_before']:.3f} → {clip['similarity_after']:.3f}")
    if "identity_distance" in p:
        parts.append(f"moved {p['identity_distance']:.2f} from its parent ({likeness_level(p['identity_distance'])})")
    return " · ".join(parts)


def _user_label(entry: LogEntry) -> str:
    name = f" ({entry.display_name})" if entry.display_name else ""
    banned = ' <span class="badge banned">banned</span>' if entry.user_banned else ""
    return f"{esc(entry.platform)}:{esc(entry.platform_user_id)}{esc(name)}{banned}"


def _select(name: str, options, chosen: str) -> str:
    items = "".join(f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(label)}</option>'
                    for v, label in options)
    return f'<select name="{esc(name)}" id="filter-{esc(name)}">{items}</select>'


def _filters_form(links: Links, query: Mapping[str, str]) -> str:
    def value(key: str) -> str:
        return esc(query.get(key, ""))
    fields = [
        ("platform", _select("platform", [("", "any"), *((p, p) for p in PLATFORMS)], query.get("platform", ""))),
        ("user", f'<input name="user" id="filter-user" size="14" placeholder="id or telegram:42" '
                 f'value="{value("user")}">'),
        ("operation", _select("operation", [("", "any"), *((o, o) for o in OPERATIONS)], query.get("operation", ""))),
        ("from (UTC)", f'<input type="date" name="since" id="filter-since" value="{value("since")}">'),
        ("to (UTC)", f'<input type="date" name="until" id="filter-until" value="{value("until")}">'),
        ("flagged", _select("flagged", YES_NO, query.get("flagged", ""))),
        ("reported", _select("reported", YES_NO, query.get("reported", ""))),
        ("hidden", _select("hidden", YES_NO, query.get("hidden", ""))),
    ]
    inner = "".join(f"<label>{esc(label)}{field}</label>" for label, field in fields)
    return (f'<form method="get" class="filters" action="{esc(links.log())}">{inner}'
            f'<button type="submit" id="apply-filters">filter</button> <a href="{esc(links.log())}">clear</a></form>')


NETWORK_BLOCK_CHOICES = {0: "no time (user only)", 24: "24 hours", 168: "7 days", 720: "30 days"}   # hours


def _reason_input(required: bool = False) -> str:
    return (f'<input name="reason" maxlength="500" placeholder="reason{"" if required else " (optional)"}"'
            f'{" required" if required else ""}>')


# --- the generation log ------------------------------------------------------------------------------

def log_page(viewer: Viewer, page: Page[LogEntry], query: Mapping[str, str]) -> str:
    links = viewer.links
    rows = []
    for e in page.rows:
        thumb = (f'<img class="thumb" alt="face {e.face_id}" src="{esc(links.face_thumb(e.face_id))}" loading="lazy">'
                 if e.has_image else "")
        rows.append(
            f'<tr class="generation" data-face="{e.face_id}"><td>{thumb}</td>'
            f'<td><a href="{esc(links.face(e.face_id))}">face {e.face_id}</a> · #{e.number}</td>'
            f'<td><a href="{esc(links.user(e.user_id))}">{_user_label(e)}</a></td>'
            f'<td>{esc(e.operation)}{" · likeness " + _likeness(e) if _likeness(e) else ""}</td>'
            f'<td>{esc(when(e.created_at))}</td><td>{_badges(e)}</td></tr>')
    table = ('<table id="generations"><thead><tr><th></th><th>face</th><th>user</th><th>operation</th>'
             '<th>made</th><th>status</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")
    if not rows:
        table = '<p class="note" id="no-generations">No generations match these filters.</p>'
    pager = ""
    if page.next is not None:
        more = {k: v for k, v in query.items() if k != "after"} | {"after": page.next.encode()}
        pager = f'<p class="pager"><a id="older" href="{esc(links.log(more))}">older →</a></p>'
    lookup = (f'<form method="get" class="filters" action="{esc(links.picture())}"><label>picture id'
              f'<input name="id" id="picture-id" size="24" maxlength="64" placeholder="df-…"></label>'
              '<button type="submit" id="find-picture">find</button></form>')
    return viewer.frame("Generations", _filters_form(links, query) + lookup + table + pager)


# --- one face -----------------------------------------------------------------------------------------

def face_page(viewer: Viewer, entry: LogEntry, audit: list[AuditEntry], *, error: str | None = None) -> str:
    links = viewer.links
    image = (f'<img class="full" alt="face {entry.face_id}" src="{esc(links.face_image(entry.face_id))}">'
             if entry.has_image else '<p class="note">no picture</p>')
    parents = " ".join(f'<a href="{esc(links.face(p))}">face {p}</a>'
                       for p in (entry.parent_id, entry.other_parent_id) if p is not None) or "—"
    facts = (f'<table class="facts"><tr><th>user</th><td><a href="{esc(links.user(entry.user_id))}">'
             f'{_user_label(entry)}</a> · #{entry.number}</td></tr>'
             f'<tr><th>operation</th><td>{esc(entry.operation)}</td></tr>'
             + (f'<tr><th>likeness to the photo</th><td id="likeness">{_likeness(entry)} <span class="note">'
                f'(face descriptor distance: under {SAME_PERSON} the recogniser takes it for the person, from '
                f'{STRANGERS} it is as far as a stranger)</span></td></tr>' if _likeness(entry) else "")
             + (f'<tr><th>free text</th><td id="free-text">{esc(_free_text(entry))}</td></tr>'
                if _free_text(entry) else "")
             + f'<tr><th>parameters</th><td><code>{esc(json.dumps(entry.params, ensure_ascii=False))}</code></td></tr>'
             f'<tr><th>parents</th><td>{parents}</td></tr>'
             f'<tr><th>backend</th><td>{esc(entry.backend)} / {esc(entry.checkpoint_id)}</td></tr>'
             f'<tr><th>made</th><td>{esc(when(entry.created_at))}</td></tr>'
             f'<tr><th>picture id</th><td><code>{esc(entry.public_id or str(entry.face_id))}</code></td></tr>'
             f'<tr><th>status</th><td id="face-status">{_badges(entry) or "visible"}</td></tr></table>')
    hide = "unhide" if entry.hidden else "hide"
    flag = "unflag" if entry.flagged else "flag"
    actions = (post_form(links.face_action(entry.face_id, hide), viewer.csrf,
                         f'{_reason_input()} <button type="submit" id="{hide}">{hide} this face</button>')
               + post_form(links.face_action(entry.face_id, flag), viewer.csrf,
                           f'{_reason_input()} <button type="submit" id="{flag}">{flag} for review</button>'))
    problem = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    body = problem + image + facts + "<h2>Actions</h2>" + actions + "<h2>History</h2>" + audit_table(links, audit)
    return viewer.frame(f"Face {entry.face_id}", body)


# --- one user ------------------------------------------------------------------------------------------

def _tree(links: Links, faces: list[LogEntry]) -> str:
    """The user's faces as their history tree: each face under the face it was made from."""
    ids = {f.face_id for f in faces}
    children: dict[int | None, list[LogEntry]] = {}
    for f in faces:
        children.setdefault(f.parent_id if f.parent_id in ids else None, []).append(f)

    def branch(parent: int | None, css: str) -> str:
        items = []
        for f in children.get(parent, []):
            thumb = (f'<img class="thumb" alt="face {f.face_id}" src="{esc(links.face_thumb(f.face_id))}" '
                     f'loading="lazy">' if f.has_image else "")
            other = (f' with <a href="{esc(links.face(f.other_parent_id))}">face {f.other_parent_id}</a>'
                     if f.other_parent_id is not None else "")
            items.append(f'<li>{thumb} <a href="{esc(links.face(f.face_id))}">#{f.number}</a> '
                         f'{esc(f.operation)}{other} {_badges(f)}{branch(f.face_id, "tree")}</li>')
        return f'<ul class="{css}">{"".join(items)}</ul>' if items else ""

    return branch(None, "tree root") or '<p class="note">No faces.</p>'


def user_page(viewer: Viewer, user: UserRecord, faces: list[LogEntry], audit: list[AuditEntry], *,
              error: str | None = None) -> str:
    links = viewer.links
    status = '<span class="badge banned" id="user-status">banned</span>' if user.banned \
        else '<span id="user-status">active</span>'
    facts = (f'<table class="facts"><tr><th>platform</th><td>{esc(user.platform)}</td></tr>'
             f'<tr><th>platform id</th><td>{esc(user.platform_user_id)}</td></tr>'
             f'<tr><th>display name</th><td>{esc(user.display_name or "—")}</td></tr>'
             f'<tr><th>faces made</th><td>{user.face_count}</td></tr>'
             f'<tr><th>first seen</th><td>{esc(when(user.created_at))}</td></tr>'
             f'<tr><th>status</th><td>{status}</td></tr></table>')
    ban = "unban" if user.banned else "ban"
    # a web user can drop their cookie and come back: a ban may also close the web chat to their network
    block = ("" if ban == "unban" or user.platform != WEB else
             ' <label>and block their network for <select name="block_hours" id="block-hours">'
             + "".join(f'<option value="{hours}">{label}</option>' for hours, label in NETWORK_BLOCK_CHOICES.items())
             + "</select></label>")
    actions = (post_form(links.user_ban(user.id, ban), viewer.csrf,
                         f'{_reason_input(required=ban == "ban")}{block} <button type="submit" id="{ban}">{ban} this user</button>')
               + post_form(links.user_delete(user.id), viewer.csrf,
                           f'{_reason_input(required=True)} <label><input type="checkbox" name="confirm" value="yes" '
                           f'id="confirm-delete"> yes, delete every face, picture and saved name of this user</label> '
                           f'<button type="submit" id="delete-data">delete their data</button>'))
    problem = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    body = (problem + facts + "<h2>Actions</h2>" + actions + "<h2>History tree</h2>" + _tree(links, faces)
            + "<h2>Moderation history</h2>" + audit_table(links, audit))
    return viewer.frame(f"User {user.id}", body)


# --- the audit log ---------------------------------------------------------------------------------------

def audit_table(links: Links, entries: list[AuditEntry]) -> str:
    if not entries:
        return '<p class="note">Nothing recorded.</p>'
    rows = []
    for e in entries:
        target = []
        if e.target_user_id is not None:
            target.append(f'<a href="{esc(links.user(e.target_user_id))}">{esc(e.target_user or e.target_user_id)}</a>')
        if e.target_face_id is not None:
            number = f" (#{e.target_face_number})" if e.target_face_number is not None else ""
            target.append(f'<a href="{esc(links.face(e.target_face_id))}">face {e.target_face_id}</a>{number}')
        rows.append(f'<tr class="audit" data-action="{esc(e.action)}"><td>{esc(when(e.created_at))}</td>'
                    f'<td class="actor">{esc(e.actor)}</td><td class="action">{esc(e.action)}</td>'
                    f'<td>{" · ".join(target) or "—"}</td><td class="reason">{esc(e.reason)}</td></tr>')
    return ('<table class="audit-log"><thead><tr><th>when</th><th>who</th><th>what</th><th>target</th><th>why</th>'
            '</tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def audit_page(viewer: Viewer, page: Page[AuditEntry], query: Mapping[str, str]) -> str:
    links = viewer.links
    chooser = (f'<form method="get" class="filters" action="{esc(links.audit())}"><label>action'
               f'{_select("action", [("", "any"), *((a, a) for a in AUDIT_ACTIONS)], query.get("action", ""))}'
               f'</label><button type="submit">filter</button></form>')
    pager = ""
    if page.next is not None:
        more = {k: v for k, v in query.items() if k != "after"} | {"after": page.next.encode()}
        pager = f'<p class="pager"><a id="older" href="{esc(links.audit(more))}">older →</a></p>'
    return viewer.frame("Audit log", chooser + audit_table(links, page.rows) + pager)
