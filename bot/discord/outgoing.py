"""A core Reply as the parts of a Discord message: text, files within the size limit, and a
view of buttons whose custom_id is the core's payload.

The buttons are dynamic items: discord.py recognises them by their custom_id alone, so a
button keeps working after a restart without any per-message state in memory. Discord does not
recompress attachments, so every picture is attached once, at full resolution
(`Picture.as_file` needs no second copy here)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import discord
from PIL import Image

from bot.messages import Menu, Picture, Reply, menu_payload

MAX_CONTENT = 2000          # characters in a message
DEFAULT_FILE_LIMIT = discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES   # where no interaction says otherwise
MAX_NONCE = 25              # characters Discord accepts in a message nonce
MAX_DESCRIPTION = 1024      # characters in an attachment's description (its alt text)


MENU_PREFIX = "menu|"       # a multi-select menu's custom_id: this, then the menu's payload (bot.messages.Menu)


class PayloadButton(discord.ui.DynamicItem[discord.ui.Button],
                    template=re.compile(rf"(?!{re.escape(MENU_PREFIX)})(?P<payload>.+)", re.S)):
    """A button whose custom_id is a core payload. Every custom_id but a menu's matches, so a
    press on a garbled or forged button still reaches the core, which says why it cannot be used."""

    def __init__(self, label: str, payload: str, row: int | None = None) -> None:
        super().__init__(discord.ui.Button(label=label, custom_id=payload), row=row)
        self.payload = payload

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> "PayloadButton":
        return cls(item.label or "", match["payload"], item.row)

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.on_press(interaction, self.payload)


class PayloadMenu(discord.ui.DynamicItem[discord.ui.Select],
                  template=re.compile(rf"{re.escape(MENU_PREFIX)}(?P<payload>.+)", re.S)):
    """A multi-select menu (a breeding array's faces): choosing sends the core the menu's payload
    with the numbers chosen (bot.messages.menu_payload)."""

    def __init__(self, menu: Menu, row: int | None = None) -> None:
        options = [discord.SelectOption(label=str(k), value=str(k), default=k in menu.chosen)
                   for k in range(1, menu.size + 1)]
        select = discord.ui.Select(custom_id=MENU_PREFIX + menu.payload, placeholder=menu.placeholder, min_values=0,
                                   max_values=min(menu.most, menu.size), options=options)
        super().__init__(select, row=row)
        self.payload = menu.payload

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Select,
                             match: re.Match[str]) -> "PayloadMenu":
        size = max(1, len(item.options))
        return cls(Menu(match["payload"], size, (), item.placeholder or "", 1, item.max_values or size), item.row)

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.on_press(interaction, menu_payload(self.payload, self.item.values))


@dataclass
class Outgoing:
    """Keyword arguments for send / edit calls (`attachments` replaces an edited message's files)."""
    content: str
    files: list[discord.File] = field(default_factory=list)
    view: discord.ui.View | None = None

    def for_send(self) -> dict[str, Any]:
        parts: dict[str, Any] = {"content": self.content, "files": self.files}
        if self.view is not None:
            parts["view"] = self.view
        return parts

    def for_edit(self) -> dict[str, Any]:
        return {"content": self.content, "attachments": self.files, "view": self.view}


def outgoing(reply: Reply, file_limit: int = DEFAULT_FILE_LIMIT) -> Outgoing:
    text = reply.text if len(reply.text) <= MAX_CONTENT else reply.text[:MAX_CONTENT - 1] + "…"
    files = [_file(fit_picture(p, file_limit)) for p in reply.pictures]
    return Outgoing(text, files, _view(reply))


def _view(reply: Reply) -> discord.ui.View | None:
    """The reply's buttons; a menu in place of the toggle rows it stands for (bot.messages.Menu)."""
    if not reply.buttons:
        return None
    view = discord.ui.View(timeout=None)
    rows = reply.buttons
    if reply.menu is not None:
        view.add_item(PayloadMenu(reply.menu, row=0))
        rows = ((),) + rows[reply.menu.rows:]
    for row, buttons in enumerate(rows):
        for button in buttons:
            view.add_item(PayloadButton(button.label, button.payload, row=row))
    return view


def _file(picture: Picture) -> discord.File:
    """The picture as an attachment; its words (a face's) are the attachment's description."""
    return discord.File(io.BytesIO(picture.data), filename=picture.filename,
                        description=picture.alt[:MAX_DESCRIPTION] or None)


def fit_picture(picture: Picture, limit: int) -> Picture:
    """The picture as it is if it fits `limit` bytes; otherwise a JPEG, halved in size until it
    fits, keeping the picture's provenance (its XMP packet and EXIF: facegen/provenance.py)."""
    if len(picture.data) <= limit:
        return picture
    source = Image.open(io.BytesIO(picture.data))
    provenance = {key: source.info[key] for key in ("xmp", "exif") if source.info.get(key)}
    image = source.convert("RGB")
    stem = picture.filename.rsplit(".", 1)[0]
    while True:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85, **provenance)
        if buffer.tell() <= limit or min(image.size) <= 16:
            return Picture(buffer.getvalue(), f"{stem}.jpg", "image/jpeg", picture.as_file, picture.sheet, picture.alt)
        image = image.resize((image.width // 2, image.height // 2), Image.LANCZOS)


def message_nonce(delivery_nonce: str, index: int) -> str:
    """A nonce for the index-th message of one delivery, within Discord's 25 characters: a
    repeat of the same delivery after a crash carries the same nonces, and Discord drops it."""
    suffix = f"-{index}"
    return delivery_nonce[:MAX_NONCE - len(suffix)] + suffix
