"""Alembic environment. storage/migrate.py hands over an open connection (the normal path:
`dreamface db upgrade` and the SQLite self-upgrade); run by the `alembic` tool instead, it
opens its own async engine from DREAMFACE_DATABASE_URL."""

from __future__ import annotations

import asyncio

from alembic import context
from alembic.operations import ops
from sqlalchemy import ForeignKeyConstraint, pool, text
from sqlalchemy.engine import Connection

from ground.config import Settings
from storage import models  # noqa: F401 - registers every table on Base.metadata
from storage.base import Base
from storage.db import create_engine, normalize_url
from storage.migrate import MIGRATION_LOCK_KEY

config = context.config


def defer_cyclic_foreign_keys(_context, _revision, directives: list) -> None:
    """Autogenerate hook. users.current_face_id and faces.user_id point at each other
    (use_alter=True); op.create_table leaves such a key out on PostgreSQL and nothing adds it
    later. Create it, and drop it first on the way down, as separate steps once both tables
    exist."""
    script = directives[0]
    created, dropped = [], []
    for op_ in script.upgrade_ops.ops:
        if not isinstance(op_, ops.CreateTableOp):
            continue
        table = op_.to_table()
        deferred = [c for c in table.constraints if isinstance(c, ForeignKeyConstraint) and c.use_alter]
        if not deferred:
            continue
        names = {c.name for c in deferred}
        op_.columns = [c for c in op_.columns if not (isinstance(c, ForeignKeyConstraint) and c.name in names)]
        for constraint in deferred:
            add = ops.CreateForeignKeyOp.from_constraint(constraint)
            add.kw.pop("use_alter", None)
            created.append(ops.ModifyTableOps(op_.table_name, [add]))
            dropped.append(ops.ModifyTableOps(op_.table_name, [add.reverse()]))
    script.upgrade_ops.ops.extend(created)
    script.downgrade_ops.ops[:0] = dropped


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,  # carries the constraint naming convention
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        process_revision_directives=defer_cyclic_foreign_keys,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two `db upgrade` runs at once: the second waits here, then finds the schema at head.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("dreamface migrations run against a live database; offline (--sql) mode is not supported")

connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    asyncio.run(run_with_own_engine(normalize_url(config.attributes.get("url") or Settings.from_env().database_url)))
