"""comments and outbox retries

Revision ID: 78e9e3462a53
Revises: 6bbbfd37845f
Created: 2026-11-26 06:58:39.617875
"""
from alembic import op
import sqlalchemy as sa


revision = '78e9e3462a53'
down_revision = '6bbbfd37845f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('order_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=100), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_order_comment_author_id_user_account')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_order_comment_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_comment'))
    )
    with op.batch_alter_table('order_comment', schema=None) as batch_op:
        batch_op.create_index('ix_order_comment_order_created', ['order_id', 'created_at'], unique=False)

    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbound_email_next_attempt_at'), ['next_attempt_at'], unique=False)



def downgrade():
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_email_next_attempt_at'))
        batch_op.drop_column('next_attempt_at')

    with op.batch_alter_table('order_comment', schema=None) as batch_op:
        batch_op.drop_index('ix_order_comment_order_created')

    op.drop_table('order_comment')
