"""orders, customers, users

Revision ID: c71feee17e71
Revises:
Created: 2026-11-26 06:12:14.090238
"""
import sqlalchemy as sa
from alembic import op

revision = 'c71feee17e71'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('name', name=op.f('uq_api_token_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_reference', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('salutation', sa.String(length=8), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('company', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer')),
    sa.UniqueConstraint('customer_reference', name=op.f('uq_customer_customer_reference')),
    sa.UniqueConstraint('email', name=op.f('uq_customer_email'))
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_last_name'), ['last_name'], unique=False)

    op.create_table('order_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('salutation', sa.String(length=8), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('middle_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('address1', sa.String(length=255), nullable=False),
    sa.Column('address2', sa.String(length=255), nullable=True),
    sa.Column('address3', sa.String(length=255), nullable=True),
    sa.Column('company', sa.String(length=100), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('zip_code', sa.String(length=15), nullable=False),
    sa.Column('po_box', sa.String(length=30), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('cell_phone', sa.String(length=40), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_address'))
    )
    op.create_table('reference_sequence',
    sa.Column('store', sa.String(length=16), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('store', name=op.f('pk_reference_sequence'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    op.create_table('customer_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('salutation', sa.String(length=8), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('address1', sa.String(length=255), nullable=False),
    sa.Column('address2', sa.String(length=255), nullable=True),
    sa.Column('address3', sa.String(length=255), nullable=True),
    sa.Column('company', sa.String(length=100), nullable=True),
    sa.Column('zip_code', sa.String(length=15), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_address_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_address'))
    )
    with op.batch_alter_table('customer_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_address_customer_id'), ['customer_id'], unique=False)

    op.create_table('sales_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_reference', sa.String(length=45), nullable=False),
    sa.Column('store', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('customer_reference', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('salutation', sa.String(length=8), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('search_last_name', sa.String(length=100), nullable=False),
    sa.Column('search_full_name', sa.String(length=201), nullable=False),
    sa.Column('billing_address_id', sa.Integer(), nullable=False),
    sa.Column('subtotal', sa.Integer(), nullable=False),
    sa.Column('expense_total', sa.Integer(), nullable=False),
    sa.Column('discount_total', sa.Integer(), nullable=False),
    sa.Column('tax_total', sa.Integer(), nullable=False),
    sa.Column('grand_total', sa.Integer(), nullable=False),
    sa.Column('refund_total', sa.Integer(), nullable=False),
    sa.Column('canceled_total', sa.Integer(), nullable=False),
    sa.Column('payment_method', sa.String(length=64), nullable=False),
    sa.Column('payment_amount', sa.Integer(), nullable=False),
    sa.Column('cart_note', sa.Text(), nullable=True),
    sa.Column('intake_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('item_states', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['billing_address_id'], ['order_address.id'], name=op.f('fk_sales_order_billing_address_id_order_address')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_sales_order_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order')),
    sa.UniqueConstraint('order_reference', name=op.f('uq_sales_order_order_reference'))
    )
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_payment_method'), ['payment_method'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_search_full_name'), ['search_full_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_search_last_name'), ['search_last_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_store'), ['store'], unique=False)

    op.create_table('address_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=False),
    sa.Column('address_role', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['order_address.id'], name=op.f('fk_address_change_address_id_order_address')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_address_change_order_id_sales_order')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_address_change_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_change'))
    )
    with op.batch_alter_table('address_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_change_order_id'), ['order_id'], unique=False)

    op.create_table('shipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=100), nullable=False),
    sa.Column('carrier', sa.String(length=100), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('requested_delivery_date', sa.Date(), nullable=True),
    sa.Column('address_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['order_address.id'], name=op.f('fk_shipment_address_id_order_address')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_shipment_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment'))
    )
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_order_id'), ['order_id'], unique=False)

    op.create_table('order_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('discount', sa.Integer(), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('tax_amount', sa.Integer(), nullable=False),
    sa.Column('price_to_pay', sa.Integer(), nullable=False),
    sa.Column('process_name', sa.String(length=100), nullable=False),
    sa.Column('state_name', sa.String(length=100), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_order_item_order_id_sales_order')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_order_item_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_item'))
    )
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_item_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_item_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_item_sku'), ['sku'], unique=False)
        batch_op.create_index('ix_order_item_state_order', ['state_name', 'order_id'], unique=False)

    op.create_table('item_state_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=100), nullable=True),
    sa.Column('to_state', sa.String(length=100), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['order_item.id'], name=op.f('fk_item_state_history_item_id_order_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_state_history'))
    )
    with op.batch_alter_table('item_state_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_state_history_item_id'), ['item_id'], unique=False)



def downgrade():
    with op.batch_alter_table('item_state_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_state_history_item_id'))

    op.drop_table('item_state_history')
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.drop_index('ix_order_item_state_order')
        batch_op.drop_index(batch_op.f('ix_order_item_sku'))
        batch_op.drop_index(batch_op.f('ix_order_item_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_order_item_order_id'))

    op.drop_table('order_item')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_order_id'))

    op.drop_table('shipment')
    with op.batch_alter_table('address_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_address_change_order_id'))

    op.drop_table('address_change')
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_store'))
        batch_op.drop_index(batch_op.f('ix_sales_order_search_last_name'))
        batch_op.drop_index(batch_op.f('ix_sales_order_search_full_name'))
        batch_op.drop_index(batch_op.f('ix_sales_order_payment_method'))
        batch_op.drop_index(batch_op.f('ix_sales_order_email'))
        batch_op.drop_index(batch_op.f('ix_sales_order_customer_id'))
        batch_op.drop_index(batch_op.f('ix_sales_order_created_at'))

    op.drop_table('sales_order')
    with op.batch_alter_table('customer_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_address_customer_id'))

    op.drop_table('customer_address')
    op.drop_table('user_account')
    op.drop_table('reference_sequence')
    op.drop_table('order_address')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_last_name'))
        batch_op.drop_index(batch_op.f('ix_customer_created_at'))

    op.drop_table('customer')
    op.drop_table('api_token')
