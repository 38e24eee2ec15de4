"""The moderator dashboard (bot/moderation/app.py, mounted at /mod by `dreamface run`) and
`dreamface mod` (bot/moderation/commands.py)."""
