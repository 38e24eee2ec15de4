"""The web chat on the real conversation core, served on a local port for tests: a copy of the
migrated SQLite template, an in-process worker unless asked otherwise, short polls."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp.test_utils import TestServer

from bot.web.app import WebConfig, create_app
from bot.web.client import ChatClient
from conftest import QUICK_PHOTO_FIT_EVALUATIONS
from dreamface.app import open_app
from ground.config import Settings

POLL = 0.05


def settings_for(tmp_path: Path, template: str, **overrides) -> Settings:
    path = tmp_path / "dreamface.db"
    shutil.copyfile(template, path)
    return Settings(database_url=f"sqlite:///{path}", worker_poll_seconds=POLL,
                    photo_fit_evaluations=QUICK_PHOTO_FIT_EVALUATIONS, **overrides)


@contextlib.asynccontextmanager
async def served(settings: Settings, *, with_worker: bool = True, size: int = 128) -> AsyncIterator[TestServer]:
    config = WebConfig(secret=b"web chat test secret of 32 bytes", courier_poll_seconds=POLL,
                       progress_poll_seconds=0.1, identities_per_hour=settings.web_identities_per_hour)
    app = create_app(config, lambda: open_app(settings, with_worker=with_worker, size=size))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def acknowledge_notice(client: ChatClient, first_message: str) -> list[dict]:
    """Send the first message and press the first-use notice's button; returns the "thanks"
    reply. The held first message's own replies follow it."""
    await client.say(first_message)
    notice = await client.receive()
    assert notice["buttons"], f"expected the first-use notice, got {notice!r}"
    await client.press(notice["buttons"][0][0]["payload"])
    return [await client.receive()]

