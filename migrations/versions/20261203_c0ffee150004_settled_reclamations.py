"""a return or a refund may settle a reclamation: each names the one it settles

Revision ID: c0ffee150004
Revises: c0ffee150003
Created: 2026-12-03 08:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c0ffee150004'
down_revision = 'c0ffee150003'
branch_labels = None
depends_on = None

TABLES = ('sales_return', 'refund')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('reclamation_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(op.f(f'fk_{table}_reclamation_id_reclamation'),
                                        'reclamation', ['reclamation_id'], ['id'])
            batch_op.create_index(op.f(f'ix_{table}_reclamation_id'), ['reclamation_id'],
                                  unique=False)


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(op.f(f'ix_{table}_reclamation_id'))
            batch_op.drop_constraint(op.f(f'fk_{table}_reclamation_id_reclamation'),
                                     type_='foreignkey')
            batch_op.drop_column('reclamation_id')
