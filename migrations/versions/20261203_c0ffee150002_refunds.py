"""refunds: a refund per order and payment attempt, its item lines and shipping parts

Revision ID: c0ffee150002
Revises: c0ffee150001
Created: 2026-12-03 07:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c0ffee150002'
down_revision = 'c0ffee150001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('refund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('shipping_amount', sa.Integer(), nullable=False),
    sa.Column('adjustment_amount', sa.Integer(), nullable=False),
    sa.Column('adjustment_reason', sa.String(length=255), nullable=True),
    sa.Column('payment_method', sa.String(length=64), nullable=False),
    sa.Column('provider_reference', sa.String(length=255), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('succeeded_at', sa.DateTime(), nullable=True),
    sa.Column('discarded_by', sa.String(length=120), nullable=True),
    sa.Column('discarded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_refund_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund'))
    )
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.create_index('ix_refund_created_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_refund_order_status', ['order_id', 'status'], unique=False)
        batch_op.create_index('ix_refund_status_created_id', ['status', 'created_at', 'id'], unique=False)

    op.create_table('refund_shipping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refund_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['refund_id'], ['refund.id'], name=op.f('fk_refund_shipping_refund_id_refund')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_refund_shipping_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_shipping')),
    sa.UniqueConstraint('refund_id', 'shipment_id', name=op.f('uq_refund_shipping_refund_id'))
    )
    with op.batch_alter_table('refund_shipping', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_shipping_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('refund_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refund_id', sa.Integer(), nullable=False),
    sa.Column('order_item_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_item_id'], ['order_item.id'], name=op.f('fk_refund_line_order_item_id_order_item')),
    sa.ForeignKeyConstraint(['refund_id'], ['refund.id'], name=op.f('fk_refund_line_refund_id_refund')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_line')),
    sa.UniqueConstraint('refund_id', 'order_item_id', name=op.f('uq_refund_line_refund_id'))
    )
    with op.batch_alter_table('refund_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_line_order_item_id'), ['order_item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('refund_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refund_line_order_item_id'))

    op.drop_table('refund_line')
    with op.batch_alter_table('refund_shipping', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refund_shipping_shipment_id'))

    op.drop_table('refund_shipping')
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.drop_index('ix_refund_status_created_id')
        batch_op.drop_index('ix_refund_order_status')
        batch_op.drop_index('ix_refund_created_id')

    op.drop_table('refund')
