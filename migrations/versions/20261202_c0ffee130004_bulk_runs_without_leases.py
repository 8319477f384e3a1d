"""bulk runs without leases: an order is pending until its outcome, who ran each order

An order's report row now leaves "pending" in the same transaction as its move, so the
"running" claims and their lease time go: claims still marked running become pending again
(nothing of theirs was reported, so nothing of theirs was counted). The run's actor goes
too: every batch is run, and named in the history, as whoever runs it, which each report
row now keeps.

Revision ID: c0ffee130004
Revises: e5e551013a01
Created: 2026-11-27 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c0ffee130004'
down_revision = 'e5e551013a01'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE bulk_run_order SET outcome = 'pending' WHERE outcome = 'running'")
    with op.batch_alter_table('bulk_run_order', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
        batch_op.add_column(sa.Column('actor', sa.String(length=120), nullable=True))
    with op.batch_alter_table('bulk_run', schema=None) as batch_op:
        batch_op.drop_column('actor')


def downgrade():
    # The run's actor comes back as the name of whoever started it: the email is not kept.
    with op.batch_alter_table('bulk_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor', sa.String(length=120), nullable=True))
    op.execute("UPDATE bulk_run SET actor = created_by_name")
    with op.batch_alter_table('bulk_run', schema=None) as batch_op:
        batch_op.alter_column('actor', existing_type=sa.String(length=120), nullable=False)
    with op.batch_alter_table('bulk_run_order', schema=None) as batch_op:
        batch_op.drop_column('actor')
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
