"""gallery source photo: a photo entry keeps its photo, so any model's worker can fit it

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('gallery_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_blob_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_gallery_entries_source_blob_id_blobs'), 'blobs',
                                    ['source_blob_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('gallery_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_gallery_entries_source_blob_id_blobs'), type_='foreignkey')
        batch_op.drop_column('source_blob_id')
