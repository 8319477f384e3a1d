"""bulk actions

Revision ID: 5a86c5a7cb0c
Revises: 78e9e3462a53
Created: 2026-11-26 07:11:15.933805
"""
from alembic import op
import sqlalchemy as sa


revision = '5a86c5a7cb0c'
down_revision = '78e9e3462a53'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulk_selection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('order_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_selection'))
    )
    op.create_table('bulk_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('selection_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=False),
    sa.Column('created_by_name', sa.String(length=100), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('done_orders', sa.Integer(), nullable=False),
    sa.Column('total_orders', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['selection_id'], ['bulk_selection.id'], name=op.f('fk_bulk_run_selection_id_bulk_selection')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_run'))
    )
    with op.batch_alter_table('bulk_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_run_selection_id'), ['selection_id'], unique=False)

    op.create_table('bulk_run_order',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('moved', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_bulk_run_order_order_id_sales_order')),
    sa.ForeignKeyConstraint(['run_id'], ['bulk_run.id'], name=op.f('fk_bulk_run_order_run_id_bulk_run')),
    sa.PrimaryKeyConstraint('run_id', 'order_id', name=op.f('pk_bulk_run_order'))
    )
    with op.batch_alter_table('bulk_run_order', schema=None) as batch_op:
        batch_op.create_index('ix_bulk_run_order_run_outcome', ['run_id', 'outcome', 'order_id'], unique=False)

    op.create_table('bulk_selection_order',
    sa.Column('selection_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_bulk_selection_order_order_id_sales_order')),
    sa.ForeignKeyConstraint(['selection_id'], ['bulk_selection.id'], name=op.f('fk_bulk_selection_order_selection_id_bulk_selection')),
    sa.PrimaryKeyConstraint('selection_id', 'order_id', name=op.f('pk_bulk_selection_order'))
    )


def downgrade():
    op.drop_table('bulk_selection_order')
    with op.batch_alter_table('bulk_run_order', schema=None) as batch_op:
        batch_op.drop_index('ix_bulk_run_order_run_outcome')

    op.drop_table('bulk_run_order')
    with op.batch_alter_table('bulk_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_run_selection_id'))

    op.drop_table('bulk_run')
    op.drop_table('bulk_selection')
