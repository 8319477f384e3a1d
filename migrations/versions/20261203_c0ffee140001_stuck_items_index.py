"""an index for Stuck items: items by process, state and time in state

Revision ID: c0ffee140001
Revises: c0ffee130004
Created: 2026-12-03 07:00:00
"""
from alembic import op


revision = 'c0ffee140001'
down_revision = 'c0ffee130004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.create_index('ix_order_item_process_state_entered',
                              ['process_name', 'state_name', 'state_entered_at'], unique=False)


def downgrade():
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.drop_index('ix_order_item_process_state_entered')
