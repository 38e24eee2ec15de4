"""Where discord.py sends its requests. It keeps the REST base and the first gateway URL on
classes (`discord.http.Route.BASE`, `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`), so an
override applies to the whole process: one process talks to one Discord (the real one, a
proxy, or the test stand-in)."""

from __future__ import annotations

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


def point_at(api_base: str, gateway_url: str) -> None:
    """Send REST calls to `api_base` (e.g. http://127.0.0.1:8000/api/v10) and open the gateway
    at `gateway_url`; an empty value keeps discord.py's default."""
    if api_base:
        Route.BASE = api_base.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
