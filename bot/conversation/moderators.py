"""Who may moderate from the chat: one rule, built from the settings.

Telegram admins are named by their user ids (DREAMFACE_TELEGRAM_ADMIN_IDS); on Discord, members
holding the moderator role (DREAMFACE_DISCORD_MOD_ROLE, its id or its name) in the guild where
they write; the adapter puts the sender's role ids and names in `Incoming.roles`, so a DM (no
guild, no roles) never moderates. The web chat and the terminal have no in-chat moderators:
their moderators use the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import Incoming
from storage.platforms import DISCORD, TELEGRAM


@dataclass(frozen=True)
class Moderators:
    telegram_admins: frozenset[str] = frozenset()
    discord_role: str = ""             # a role id or name; empty: nobody

    @classmethod
    def from_settings(cls, settings) -> "Moderators":
        return cls(settings.telegram_admins, settings.discord_mod_role.strip())

    def allows(self, incoming: Incoming) -> bool:
        if incoming.platform == TELEGRAM:
            return incoming.user_id in self.telegram_admins
        if incoming.platform == DISCORD and self.discord_role:
            wanted = self.discord_role.casefold()
            return any(role.casefold() == wanted for role in incoming.roles)
        return False

    @staticmethod
    def actor(incoming: Incoming) -> str:
        """How the audit log names a moderator acting from the chat: "telegram:<id>"."""
        return f"{incoming.platform}:{incoming.user_id}"
