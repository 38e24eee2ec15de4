"""model routing: jobs name the backend/model that must run them, workers announce what they
serve, faces name the worker that rendered them

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('served_models',
    sa.Column('backend', sa.String(length=16), nullable=False),
    sa.Column('model_id', sa.String(length=80), nullable=False),
    sa.Column('info', sa.JSON(), nullable=False),
    sa.Column('last_seen', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('backend', 'model_id', name=op.f('pk_served_models'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('route', sa.String(length=160), nullable=True))
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('routes', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.alter_column('routes', server_default=None)
    with op.batch_alter_table('faces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker_id', sa.String(length=64), nullable=True))
    # face jobs queued before routing carry their backend's name only: a worker of that backend
    # (any model) takes them, never a worker of another backend
    backend = ("json_extract(payload, '$.backend')" if op.get_bind().dialect.name == "sqlite"
               else "(payload::json ->> 'backend')")
    op.execute(f"UPDATE jobs SET route = coalesce({backend}, 'montage') "
               "WHERE kind LIKE 'face.%' AND state IN ('queued', 'running')")


def downgrade() -> None:
    with op.batch_alter_table('faces', schema=None) as batch_op:
        batch_op.drop_column('worker_id')
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_column('routes')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('route')
    op.drop_table('served_models')
