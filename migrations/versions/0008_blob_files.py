"""blob files: a blob's bytes may live in a file under DREAMFACE_BLOB_ROOT (storage/blobs.py)

`location` names the file (NULL: the bytes are in `data`, as for every blob before), so `data`
may now be NULL. Rows written before keep their bytes and stay readable.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', sa.String(length=128), nullable=True))
        batch_op.alter_column('data', existing_type=sa.LargeBinary(), nullable=True)
        batch_op.create_index('uq_blobs_location', ['location'], unique=True)


def downgrade() -> None:
    # fails while a row's bytes are a file: copy them back into `data` first
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.drop_index('uq_blobs_location')
        batch_op.alter_column('data', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column('location')
