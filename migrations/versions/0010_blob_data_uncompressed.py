"""blob data uncompressed: PostgreSQL stores `blobs.data` out of line without trying to compress it

Pictures are JPEG or PNG, already compressed: PostgreSQL's default (EXTENDED) tries pglz on every
value first, which costs about 2.5 ms per 1024-px JPEG and saves nothing (measured for issue #22:
a batch of 8 such inserts 31 → 10 ms). EXTERNAL keeps the out-of-line storage without that try.
It applies to rows written from now on; nothing is rewritten. SQLite has no such setting.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTENDED')
