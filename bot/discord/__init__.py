"""The Discord bot: slash commands, plain text in DMs and mentions, and buttons, translated to
and from the conversation core (bot/conversation). adapter.py holds the entry point."""
