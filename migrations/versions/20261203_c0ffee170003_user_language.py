"""each back-office user's language (none: the browser's)

Revision ID: c0ffee170003
Revises: c0ffee170002
Created: 2026-12-03 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c0ffee170003'
down_revision = 'c0ffee170002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account') as batch:
        batch.drop_column('locale')
