"""fair turns: jobs carry their user's turn (the claim orders by it) and their crowd (the web
users of one address, the users of one group chat), whose unfinished jobs share a cap

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = sa.text("state = 'queued'")
UNFINISHED = sa.text("state IN ('queued', 'running')")


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        # jobs already waiting keep their order among themselves: all of them are in turn 1
        batch_op.add_column(sa.Column('turn', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('crowd', sa.String(length=32), nullable=True))
        batch_op.drop_index('ix_jobs_claim', sqlite_where=QUEUED, postgresql_where=QUEUED)
        batch_op.create_index('ix_jobs_claim', ['queue', 'priority', 'turn', 'run_at', 'id'], unique=False,
                              sqlite_where=QUEUED, postgresql_where=QUEUED)
        batch_op.create_index('ix_jobs_crowd_unfinished', ['crowd'], unique=False,
                              sqlite_where=UNFINISHED, postgresql_where=UNFINISHED)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_crowd_unfinished', sqlite_where=UNFINISHED, postgresql_where=UNFINISHED)
        batch_op.drop_index('ix_jobs_claim', sqlite_where=QUEUED, postgresql_where=QUEUED)
        batch_op.create_index('ix_jobs_claim', ['queue', 'priority', 'run_at', 'id'], unique=False,
                              sqlite_where=QUEUED, postgresql_where=QUEUED)
        batch_op.drop_column('crowd')
        batch_op.drop_column('turn')
