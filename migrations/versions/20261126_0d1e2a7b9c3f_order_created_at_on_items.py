"""order_created_at on items, for the orders list's state filter

Revision ID: 0d1e2a7b9c3f
Revises: f3cf3a4b8ee4
Created: 2026-11-26 08:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0d1e2a7b9c3f'
down_revision = 'f3cf3a4b8ee4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_created_at', sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('UPDATE order_item SET order_created_at = sales_order.created_at '
                   'FROM sales_order WHERE sales_order.id = order_item.order_id')
    else:
        op.execute('UPDATE order_item SET order_created_at = (SELECT created_at FROM sales_order '
                   'WHERE sales_order.id = order_item.order_id)')
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.alter_column('order_created_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.drop_index('ix_order_item_state_order')
        batch_op.create_index('ix_order_item_state_created_order',
                              ['state_name', 'order_created_at', 'order_id'], unique=False)


def downgrade():
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.drop_index('ix_order_item_state_created_order')
        batch_op.create_index('ix_order_item_state_order', ['state_name', 'order_id'], unique=False)
        batch_op.drop_column('order_created_at')
