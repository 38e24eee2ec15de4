"""The chat page: one server-rendered HTML document in the browser's language. Everything it
loads comes from this server (no CDN), so it works offline."""

from __future__ import annotations

from html import escape

from bot.commands import LOCALES
from bot.web.wire import MAX_PHOTO_BYTES
from ground.limits import MAX_TEXT_CHARS

TEXTS = {
    "en": {
        "title": "dreamface — build a face by chatting",
        "tagline": "Describe a face, pick eyes, nose and mouth from numbered grids, morph, undo.",
        "placeholder": "Describe a face, or type a command…",
        "send": "Send",
        "photo": "Photo",
        "photo_title": "Send a photo of your face",
        "connecting": "connecting…",
        "online": "online",
        "offline": "reconnecting…",
        "welcome": "Hi! Describe a face in your own words, or start from a random one. "
                   "Type \u201chelp\u201d for every command.",
        "chips": ["new face", "show eyes", "undo", "celebs", "help"],
        "closed": "This tab was closed",
        "too_many_new": "Too many new visitors from your network right now. Please try again in {minutes} min.",
        "blocked": "The web chat is closed to your network until {until} UTC.",
        "link_needed": "To use the web chat, message the dreamface bot on Telegram or Discord: send “web” "
                       "in a private chat and open the link it sends you.",
        "link_bad": "This login link has expired or is not valid. Send “web” to the bot for a new one.",
        "signed_in": "Signed in. Opening the chat…",
        "too_many_tabs": "Too many tabs of this chat are open. Close some and reload this one.",
        "blocked_socket": "The web chat is closed to your network for now.",
        "not_sent": "not sent yet: it goes when the connection is back",
        "photo_too_big": "That photo is too big: photos can be up to {mb} MB. Nothing was sent.",
        "text_too_long": "That message is too long: up to {chars} characters. Your text is still in the box.",
        "frame_too_big": "The last thing you sent was over {mb} MB, so the connection was closed. Reconnecting…",
    },
    "ko": {
        "title": "dreamface — 대화로 만드는 얼굴",
        "tagline": "얼굴을 묘사하고, 번호 격자에서 눈·코·입을 고르고, 합성하고, 되돌리세요.",
        "placeholder": "얼굴을 묘사하거나 명령을 입력하세요…",
        "send": "보내기",
        "photo": "사진",
        "photo_title": "내 얼굴 사진 보내기",
        "connecting": "연결 중…",
        "online": "연결됨",
        "offline": "다시 연결 중…",
        "welcome": "안녕하세요! 떠오르는 얼굴을 말로 묘사하거나 랜덤 얼굴로 시작해 보세요. "
                   "\u201c도움말\u201d을 입력하면 모든 명령을 볼 수 있어요.",
        "chips": ["새 얼굴", "눈 보여줘", "되돌리기", "연예인 목록", "도움말"],
        "closed": "이 탭은 닫혔어요",
        "too_many_new": "지금 같은 네트워크에서 새 방문이 너무 많아요. {minutes}분 뒤에 다시 와 주세요.",
        "blocked": "이 네트워크에서는 {until}(UTC)까지 웹 채팅을 쓸 수 없어요.",
        "link_needed": "웹 채팅을 쓰려면 텔레그램이나 디스코드에서 dreamface 봇에게 개인 메시지로 “웹”이라고 "
                       "보내고, 받은 링크를 열어 주세요.",
        "link_bad": "로그인 링크가 만료됐거나 올바르지 않아요. 봇에게 “웹”이라고 보내서 새 링크를 받아 주세요.",
        "signed_in": "로그인했어요. 채팅을 여는 중이에요…",
        "too_many_tabs": "이 채팅이 열린 탭이 너무 많아요. 몇 개를 닫고 이 탭을 새로 고쳐 주세요.",
        "blocked_socket": "지금은 이 네트워크에서 웹 채팅을 쓸 수 없어요.",
        "not_sent": "아직 안 보냈어요. 다시 연결되면 보낼게요",
        "photo_too_big": "사진이 너무 커요. {mb} MB까지 보낼 수 있어요. 아무것도 보내지 않았어요.",
        "text_too_long": "메시지가 너무 길어요. {chars}자까지 보낼 수 있어요. 쓴 글은 입력창에 그대로 있어요.",
        "frame_too_big": "보낸 것이 {mb} MB를 넘어서 연결이 끊겼어요. 다시 연결하고 있어요…",
    },
}


def preferred_locale(accept_language: str | None, default: str = "ko") -> str:
    """The first supported language in an Accept-Language header (q-values in order)."""
    if not accept_language:
        return default
    ranked = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower().split("-")[0]))
    for _, _, language in sorted(ranked):
        if language in LOCALES:
            return language
    return default


def render_notice(locale: str, key: str, *, refresh_to: str | None = None, **values: object) -> str:
    """A one-message page: why the chat is not shown (or, with `refresh_to`, where it goes next)."""
    t = TEXTS[locale]
    refresh = f'<meta http-equiv="refresh" content="0;url={escape(refresh_to)}">' if refresh_to else ""
    return f"""<!doctype html>
<html lang="{locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{refresh}
<title>{escape(t["title"])}</title>
<link rel="stylesheet" href="/static/chat.css">
</head>
<body>
<header class="top">
  <div class="brand"><span class="logo" aria-hidden="true">◐</span> dreamface</div>
</header>
<main class="log"><div class="notice">{escape(t[key].format(**values))}</div></main>
</body>
</html>
"""


def page_words(locale: str) -> dict[str, str]:
    """What the page says around the chat in `locale`, by the data attribute that carries it
    (chat.js reads them, and swaps them all when the user switches language with "lang en")."""
    t = TEXTS[locale]
    mb = MAX_PHOTO_BYTES // (1024 * 1024)
    return {"online": t["online"], "offline": t["offline"], "closed": t["closed"], "not-sent": t["not_sent"],
            "photo-too-big": t["photo_too_big"].format(mb=mb), "frame-too-big": t["frame_too_big"].format(mb=mb),
            "text-too-long": t["text_too_long"].format(chars=MAX_TEXT_CHARS)}


def chrome(locale: str) -> dict[str, object]:
    """Everything a language switch changes on an open page: its words and the chrome's texts."""
    t = TEXTS[locale]
    return {"lang": locale, "words": page_words(locale), "tagline": t["tagline"], "placeholder": t["placeholder"],
            "send": t["send"], "photo": t["photo"], "photo_title": t["photo_title"], "chips": t["chips"]}


def render_page(locale: str) -> str:
    """The chat page. Its limits (and what to say about them) travel as data attributes, so
    chat.js checks a message and a photo against the server's own numbers before sending."""
    t = TEXTS[locale]
    limits = {"photo-max": str(MAX_PHOTO_BYTES), **page_words(locale)}
    data = " ".join(f'data-{name}="{escape(value)}"' for name, value in limits.items())
    chips = "".join(f'<button type="button" class="chip" data-send="{escape(c)}">{escape(c)}</button>'
                    for c in t["chips"])
    return f"""<!doctype html>
<html lang="{locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t["title"])}</title>
<link rel="stylesheet" href="/static/chat.css">
<script src="/static/chat.js" defer></script>
</head>
<body {data}>
<header class="top">
  <div class="brand"><span class="logo" aria-hidden="true">◐</span> dreamface</div>
  <div class="tagline">{escape(t["tagline"])}</div>
  <div id="status" class="status" role="status">{escape(t["connecting"])}</div>
</header>
<main id="log" class="log" aria-live="polite">
  <div class="msg bot"><div class="bubble"><p>{escape(t["welcome"])}</p></div></div>
</main>
<footer class="composer">
  <div class="chips">{chips}</div>
  <form id="form" autocomplete="off">
    <label class="photo" title="{escape(t["photo_title"])}">
      <input id="photo" type="file" accept="image/*" hidden>
      <span><svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path fill="currentColor"
        d="M9 4 7.5 6H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V8a2 2 0 0 0-2-2h-3.5L15 4H9zm3 4.5a4.5 4.5 0 1 1 0 9 4.5 4.5 0 0 1 0-9zm0 2a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z"/></svg>
        <span id="photo-label">{escape(t["photo"])}</span></span>
    </label>
    <input id="text" name="text" type="text" maxlength="{MAX_TEXT_CHARS}" placeholder="{escape(t["placeholder"])}" autofocus>
    <button id="send" type="submit">{escape(t["send"])}</button>
  </form>
</footer>
</body>
</html>
"""
