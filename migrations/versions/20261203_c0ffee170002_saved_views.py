"""saved views of the orders list, and each user's default

Revision ID: c0ffee170002
Revises: c0ffee170001
Created: 2026-12-03 14:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c0ffee170002'
down_revision = 'c0ffee170001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'saved_view',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('owner_name', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('shared', sa.Boolean(), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'],
                                name=op.f('fk_saved_view_owner_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_view')),
        sa.UniqueConstraint('owner_id', 'name', name='uq_saved_view_owner_name'),
    )
    with op.batch_alter_table('saved_view', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_view_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_view_shared'), ['shared'], unique=False)
    op.create_table(
        'saved_view_default',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('view_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_saved_view_default_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['view_id'], ['saved_view.id'],
                                name=op.f('fk_saved_view_default_view_id_saved_view'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_saved_view_default')),
    )
    with op.batch_alter_table('saved_view_default', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_view_default_view_id'), ['view_id'],
                              unique=False)


def downgrade():
    op.drop_table('saved_view_default')
    op.drop_table('saved_view')
