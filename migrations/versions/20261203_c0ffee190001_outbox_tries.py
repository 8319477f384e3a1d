"""the outbox keeps trying: when a message was last tried and until when it is tried

Revision ID: c0ffee190001
Revises: c0ffee150004
Created: 2026-12-03 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c0ffee190001'
down_revision = 'c0ffee150004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_attempt_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('give_up_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_outbound_email_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_outbound_email_status_id', ['status', 'id'], unique=False)
    # Messages that ran out of tries under the old schedule (failed, no next try) are
    # undeliverable now, which is what they were; a person's retry sends them.
    op.execute("UPDATE outbound_email SET status = 'undeliverable' "
               "WHERE status = 'failed' AND next_attempt_at IS NULL")


def downgrade():
    op.execute("UPDATE outbound_email SET status = 'failed' WHERE status = 'undeliverable'")
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_email_status_id')
        batch_op.drop_index('ix_outbound_email_created_at')
        batch_op.drop_column('give_up_at')
        batch_op.drop_column('last_attempt_at')
