"""What several bench scripts share: the PostgreSQL admin URL, whether it answers, and scratch
databases next to it. Imported as `_common` (a script's own folder is first on sys.path)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

ADMIN_URL = os.environ.get("DREAMFACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_unreachable(admin_url: str) -> str | None:
    """None when the server answers, else why not (for the line that says what was skipped)."""
    import psycopg
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"PostgreSQL unreachable at {admin_url} ({reason})"


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """An empty database next to the admin one, as a URL; dropped on leaving."""
    import psycopg
    from sqlalchemy.engine import make_url
    name = f"dreamface_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
