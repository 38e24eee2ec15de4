"""audit rows of real-person morphs name their request, so the audit log links the face it made;
faces are found by the job that made them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('moderation_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', Id, nullable=True))
    with op.batch_alter_table('faces', schema=None) as batch_op:
        batch_op.create_index('ix_faces_job_id', ['job_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('faces', schema=None) as batch_op:
        batch_op.drop_index('ix_faces_job_id')
    with op.batch_alter_table('moderation_events', schema=None) as batch_op:
        batch_op.drop_column('job_id')
