"""an index for the dashboard: orders and revenue per day and store from the index alone

Revision ID: c0ffee170001
Revises: c0ffee160002
Created: 2026-12-03 14:00:00
"""
from alembic import op

revision = 'c0ffee170001'
down_revision = 'c0ffee160002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index('ix_sales_order_created_store_total',
                              ['created_at', 'store', 'currency', 'grand_total'], unique=False)


def downgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_created_store_total')
