"""python-telegram-bot's AIORateLimiter (messages per second overall, 20/min per group, retry
after a 429) plus the limit it leaves out: about one message per second in a private chat. Telegram
allows short bursts there, so each private chat gets a bucket of a few messages that refills
at one per second; a chatty user then waits for their own replies without stalling anyone
else (a 429 would pause every request of the bot)."""

from __future__ import annotations

from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

OVERALL_PER_SECOND = 25  # Telegram allows about 30; the rest is headroom for network jitter
CHAT_BURST = 8           # messages one private chat may get at once
CHAT_PER_SECOND = 1.0    # then this many per second
MAX_CHAT_LIMITERS = 4096


class ChatRateLimiter(AIORateLimiter):
    def __init__(self, *, max_retries: int = 3, chat_burst: int = CHAT_BURST,
                 chat_per_second: float = CHAT_PER_SECOND) -> None:
        super().__init__(overall_max_rate=OVERALL_PER_SECOND, max_retries=max_retries)
        self._chat_burst = chat_burst
        self._chat_period = chat_burst / chat_per_second
        self._chats: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if chat_id not in self._chats:
            if len(self._chats) >= MAX_CHAT_LIMITERS:   # forget chats whose bucket is full again
                self._chats = {k: v for k, v in self._chats.items() if not v.has_capacity(v.max_rate)}
            self._chats[chat_id] = AsyncLimiter(self._chat_burst, self._chat_period)
        return self._chats[chat_id]

    async def process_request(self, callback: Any, args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: int | None) -> Any:
        try:
            chat_id = int(data.get("chat_id"))
        except (TypeError, ValueError):
            chat_id = 0
        if chat_id <= 0:   # no chat, or a group (AIORateLimiter counts groups)
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        async with self._chat_limiter(chat_id):
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
