"""reclamations

Revision ID: 6bbbfd37845f
Revises: 52e255f6b00a
Created: 2026-11-26 06:54:31.663907
"""
from alembic import op
import sqlalchemy as sa


revision = '6bbbfd37845f'
down_revision = '52e255f6b00a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reclamation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('customer_name', sa.String(length=255), nullable=False),
    sa.Column('customer_reference', sa.String(length=64), nullable=True),
    sa.Column('customer_email', sa.String(length=254), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by_name', sa.String(length=100), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('close_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_reclamation_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_reclamation_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reclamation'))
    )
    with op.batch_alter_table('reclamation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reclamation_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reclamation_customer_email'), ['customer_email'], unique=False)
        batch_op.create_index(batch_op.f('ix_reclamation_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reclamation_state'), ['state'], unique=False)

    op.create_table('reclamation_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reclamation_id', sa.Integer(), nullable=False),
    sa.Column('order_item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_item_id'], ['order_item.id'], name=op.f('fk_reclamation_item_order_item_id_order_item')),
    sa.ForeignKeyConstraint(['reclamation_id'], ['reclamation.id'], name=op.f('fk_reclamation_item_reclamation_id_reclamation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reclamation_item')),
    sa.UniqueConstraint('reclamation_id', 'order_item_id', name=op.f('uq_reclamation_item_reclamation_id'))
    )
    with op.batch_alter_table('reclamation_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reclamation_item_order_item_id'), ['order_item_id'], unique=False)

    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_reclamations', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_sales_order_open_reclamations'), ['open_reclamations'], unique=False)



def downgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_open_reclamations'))
        batch_op.drop_column('open_reclamations')

    with op.batch_alter_table('reclamation_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reclamation_item_order_item_id'))

    op.drop_table('reclamation_item')
    with op.batch_alter_table('reclamation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reclamation_state'))
        batch_op.drop_index(batch_op.f('ix_reclamation_order_id'))
        batch_op.drop_index(batch_op.f('ix_reclamation_customer_email'))
        batch_op.drop_index(batch_op.f('ix_reclamation_created_at'))

    op.drop_table('reclamation')
