"""The Telegram bot (python-telegram-bot): `bot.telegram.adapter.TelegramAdapter`."""
