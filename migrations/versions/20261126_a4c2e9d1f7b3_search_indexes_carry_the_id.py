"""search indexes carry the order id

Revision ID: a4c2e9d1f7b3
Revises: 0d1e2a7b9c3f
Created: 2026-11-26 09:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a4c2e9d1f7b3'
down_revision = '0d1e2a7b9c3f'
branch_labels = None
depends_on = None

COLUMNS = ('email', 'search_last_name', 'search_full_name')


def upgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.drop_index(f'ix_sales_order_{column}')
            batch_op.create_index(f'ix_sales_order_{column}_id', [column, 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.drop_index(f'ix_sales_order_{column}_id')
            batch_op.create_index(f'ix_sales_order_{column}', [column], unique=False)
