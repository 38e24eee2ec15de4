"""The plain data that crosses between chat adapters and the conversation core.

Adapters turn platform objects into `Incoming` and `Reply` objects into platform calls; they
hold no behaviour of their own. Button payloads are short strings the core writes and checks:
they must fit Telegram's 64-byte callback_data and Discord's 100-character custom_id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_BUTTON_PAYLOAD_BYTES = 64


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: a message, a photo, or a button press."""
    platform: str                     # telegram | discord | web | cli
    user_id: str                      # the platform's id for the sender
    chat_id: str                      # where replies go (a DM, a group, a web session)
    text: str | None = None
    photo: bytes | None = None        # the largest size the platform offers
    button: str | None = None         # payload of a pressed button (written by the core)
    locale: str | None = None         # the platform's language hint ("ko", "en-US", …)
    display_name: str | None = None
    target: str | None = None         # for replies that must reach one process (the web chat: the user key)
    in_group: bool = False            # groups: only the face's owner may press its buttons
    roles: tuple[str, ...] = ()       # Discord: the sender's role ids and names in this guild (in-chat moderators)
    address: str | None = None        # web: the client's address (through trusted proxies); its users share a job cap
    group_id: str | None = None       # a Telegram group's or Discord guild's id; its users share a job cap
    from_menu: bool = False           # the text stands for a menu command (a Telegram /command, a Discord slash
                                      # command): its words say nothing of the user's language
    process: str | None = None        # the chat process answering (bot/delivery.py Deliveries.answering): its
                                      # courier alone delivers the results of the jobs queued here while it lives


@dataclass(frozen=True)
class Button:
    label: str
    payload: str

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > MAX_BUTTON_PAYLOAD_BYTES:
            raise ValueError(f"button payload over {MAX_BUTTON_PAYLOAD_BYTES} bytes: {self.payload!r}")


@dataclass(frozen=True)
class Picture:
    data: bytes
    filename: str                      # e.g. "dreamface-12.png"
    content_type: str = "image/png"
    as_file: bool = False              # also offer it uncompressed (chat platforms recompress photos)
    sheet: bool = False                # a numbered sheet to pick from: shown as wide as the chat allows
    alt: str = ""                      # what it shows, in words (a face's words): alt text, captions


@dataclass(frozen=True)
class Tile:
    """One face of a history shown as pictures: its thumbnail, what the step did, and the button
    that goes back there. Chats that show a picture per button (the web chat) show tiles; the
    others send the reply's one contact sheet and its buttons instead."""
    caption: str                       # "#8 눈 3번 고르기"
    button: Button
    picture: Picture | None = None     # None: hidden by a moderator
    current: bool = False              # the face the user is on now


@dataclass(frozen=True)
class Menu:
    """Several numbered items chosen at once (a breeding array's faces), for chats that have a
    multi-select menu (Discord): shown in place of the reply's first `rows` rows of buttons, which
    toggle one item each where there is no menu. Choosing sends `menu_payload(payload, numbers)`."""
    payload: str                       # the press, less the numbers chosen
    size: int                          # items 1…size
    chosen: tuple[int, ...]            # in the order chosen
    placeholder: str                   # what the menu says while nothing is chosen
    rows: int                          # the toggle rows it stands for
    most: int                          # items chosen at once, at most


def menu_payload(payload: str, numbers: list[str] | tuple[int, ...]) -> str:
    """A menu's press: its payload and the numbers chosen, "…:3.5.7" ("…:-" for none)."""
    return f"{payload}:{'.'.join(str(n) for n in numbers) or '-'}"


@dataclass(frozen=True)
class Reply:
    text: str
    pictures: tuple[Picture, ...] = ()
    buttons: tuple[tuple[Button, ...], ...] = ()   # rows of buttons
    job_id: int | None = None           # a progress message the adapter may edit in place
    # message | progress | result | error | notice | update: the new text and buttons of the message
    # whose button was pressed (a toggle ticked), edited in place; shown as a new message where
    # nothing was pressed
    kind: str = "message"
    extra: dict = field(default_factory=dict, compare=False)
    tiles: tuple[Tile, ...] = ()        # a history's faces, each with its button (see Tile)
    menu: Menu | None = None            # the first rows of buttons as one multi-select menu (see Menu)

    @property
    def private(self) -> bool:
        """For the sender's eyes only where the platform can do that (a button's toast, an
        ephemeral message): refusals, and notices such as the thanks for a report."""
        return self.kind in ("error", "notice")
