"""face public ids: pictures carry an opaque random id of their face, not its database id

Faces made before keep NULL: their pictures already carry the database id, which the
dashboard still resolves.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('faces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.String(length=24), nullable=True))
        batch_op.create_index('uq_faces_public_id', ['public_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('faces', schema=None) as batch_op:
        batch_op.drop_index('uq_faces_public_id')
        batch_op.drop_column('public_id')
