"""breeding (issue #21): the breeding array a user is selecting in (its round, the faces selected,
the locks), kept with their chat state beside the last set shown, which a grid between rounds replaces

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chat_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('breeding', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chat_states', schema=None) as batch_op:
        batch_op.drop_column('breeding')
