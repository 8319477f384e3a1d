"""indexes for the orders list sorts

Revision ID: f3cf3a4b8ee4
Revises: 5a86c5a7cb0c
Created: 2026-11-26 07:13:59.139780
"""
from alembic import op
import sqlalchemy as sa


revision = 'f3cf3a4b8ee4'
down_revision = '5a86c5a7cb0c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_created_at'))
        batch_op.create_index('ix_sales_order_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_sales_order_grand_total_id', ['grand_total', 'id'], unique=False)
        batch_op.create_index('ix_sales_order_item_count_id', ['item_count', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_item_count_id')
        batch_op.drop_index('ix_sales_order_grand_total_id')
        batch_op.drop_index('ix_sales_order_created_at_id')
        batch_op.create_index(batch_op.f('ix_sales_order_created_at'), ['created_at'], unique=False)

