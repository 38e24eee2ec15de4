"""style choice: the style a user picked for new faces ("backend/model" route), kept with
their chat state

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chat_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('style', sa.String(length=160), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chat_states', schema=None) as batch_op:
        batch_op.drop_column('style')
