"""network bans: the web chat can block a network (an operator's CIDR, or a banned web user's
last address by its key) for a time; web users keep the key of the address they last wrote from

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'network_bans',
        sa.Column('id', Id, nullable=False),
        sa.Column('network', sa.String(length=64), nullable=True),
        sa.Column('address_key', sa.String(length=32), nullable=True),
        sa.Column('until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('actor', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('(network IS NULL) <> (address_key IS NULL)', name='ck_network_bans_one_target'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_network_bans_until', 'network_bans', ['until'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_key', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('address_key')
    op.drop_index('ix_network_bans_until', table_name='network_bans')
    op.drop_table('network_bans')
