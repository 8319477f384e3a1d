"""search indexes with the order date: the newest matches of a broad prefix from the index

Revision ID: c0ffee160002
Revises: c0ffee160001
Created: 2026-12-03 11:00:00
"""
from alembic import op

revision = 'c0ffee160002'
down_revision = 'c0ffee160001'
branch_labels = None
depends_on = None

# (column, the old index's name or None, the new index's name)
COLUMNS = (
    ('order_reference', None, 'ix_sales_order_reference_created_id'),
    ('email', 'ix_sales_order_email_id', 'ix_sales_order_email_created_id'),
    ('search_last_name', 'ix_sales_order_search_last_name_id',
     'ix_sales_order_search_last_name_created_id'),
    ('search_full_name', 'ix_sales_order_search_full_name_id',
     'ix_sales_order_search_full_name_created_id'),
)


def upgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        for column, old, new in COLUMNS:
            batch_op.create_index(new, [column, 'created_at', 'id'], unique=False)
            if old:
                batch_op.drop_index(old)


def downgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        for column, old, new in COLUMNS:
            if old:
                batch_op.create_index(old, [column, 'id'], unique=False)
            batch_op.drop_index(new)
