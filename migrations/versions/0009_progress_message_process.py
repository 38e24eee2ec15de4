"""progress messages name the chat process that follows them, so a process starting beside a
live one takes over only the messages of processes that are gone (two processes editing one
message could put a stale status over a result)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('progress_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('process', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('progress_messages', schema=None) as batch_op:
        batch_op.drop_column('process')
