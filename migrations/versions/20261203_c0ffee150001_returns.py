"""returns: return reasons (seeded), returns and their items, a reference sequence per store

Revision ID: c0ffee150001
Revises: c0ffee140001
Created: 2026-12-03 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c0ffee150001'
down_revision = 'c0ffee140001'
branch_labels = None
depends_on = None

# The reasons a new panel offers; admins rename, add and deactivate them afterwards.
SEEDED_REASONS = (
    "Damaged",
    "Wrong item sent",
    "Does not fit",
    "Not as described",
    "Arrived too late",
    "No longer wanted",
)


def upgrade():
    reasons = op.create_table('return_reason',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_reason')),
    sa.UniqueConstraint('name', name=op.f('uq_return_reason_name'))
    )
    op.bulk_insert(reasons, [{'name': name, 'active': True} for name in SEEDED_REASONS])

    op.create_table('return_sequence',
    sa.Column('store', sa.String(length=16), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('store', name=op.f('pk_return_sequence'))
    )

    op.create_table('sales_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_reference', sa.String(length=45), nullable=False),
    sa.Column('store', sa.String(length=16), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('customer_name', sa.String(length=255), nullable=False),
    sa.Column('customer_email', sa.String(length=254), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by_name', sa.String(length=100), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_sales_return_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_sales_return_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_return')),
    sa.UniqueConstraint('return_reference', name=op.f('uq_sales_return_return_reference'))
    )
    with op.batch_alter_table('sales_return', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_return_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_return_customer_email'), ['customer_email'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_return_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_return_state'), ['state'], unique=False)

    op.create_table('return_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('order_item_id', sa.Integer(), nullable=False),
    sa.Column('reason_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['order_item_id'], ['order_item.id'], name=op.f('fk_return_item_order_item_id_order_item')),
    sa.ForeignKeyConstraint(['reason_id'], ['return_reason.id'], name=op.f('fk_return_item_reason_id_return_reason')),
    sa.ForeignKeyConstraint(['return_id'], ['sales_return.id'], name=op.f('fk_return_item_return_id_sales_return')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_item')),
    sa.UniqueConstraint('return_id', 'order_item_id', name=op.f('uq_return_item_return_id'))
    )
    with op.batch_alter_table('return_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_item_order_item_id'), ['order_item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('return_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_item_order_item_id'))

    op.drop_table('return_item')
    with op.batch_alter_table('sales_return', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_return_state'))
        batch_op.drop_index(batch_op.f('ix_sales_return_order_id'))
        batch_op.drop_index(batch_op.f('ix_sales_return_customer_email'))
        batch_op.drop_index(batch_op.f('ix_sales_return_created_at'))

    op.drop_table('sales_return')
    op.drop_table('return_sequence')
    op.drop_table('return_reason')
