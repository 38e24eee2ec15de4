"""Bringing a database to the current schema. Replaced by Alembic migrations (see
storage/migrate.py); kept for tests that only need the tables."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import models  # noqa: F401 - registers the tables
from storage.base import Base


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
