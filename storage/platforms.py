"""The platforms, by the names stored in users.platform, deliveries.platform and
progress_messages.platform. Each chat adapter writes its own name; the grammar reads them in
"ban telegram:123456" and the dashboard filters its log by them."""

from __future__ import annotations

TELEGRAM = "telegram"
DISCORD = "discord"
WEB = "web"
CLI = "cli"   # the terminal chat (`dreamface chat`)
CHAT_PLATFORMS = (TELEGRAM, DISCORD, WEB, CLI)   # where people chat from, and replies go to

GALLERY_PLATFORM = "gallery"   # the gallery's own user, who owns its named faces (storage/gallery.py)
PLATFORMS = (*CHAT_PLATFORMS, GALLERY_PLATFORM)   # every users.platform
