"""state machine: timeouts, transition log, outbox

Revision ID: 52e255f6b00a
Revises: c71feee17e71
Created: 2026-11-26 06:43:29.237357
"""
from alembic import op
import sqlalchemy as sa


revision = '52e255f6b00a'
down_revision = 'c71feee17e71'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbound_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('template', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_outbound_email_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_email'))
    )
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_email_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_email_status'), ['status'], unique=False)

    op.create_table('event_timeout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('state_name', sa.String(length=100), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['order_item.id'], name=op.f('fk_event_timeout_item_id_order_item')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_event_timeout_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_timeout')),
    sa.UniqueConstraint('item_id', 'event', name=op.f('uq_event_timeout_item_id'))
    )
    with op.batch_alter_table('event_timeout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_timeout_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_timeout_order_id'), ['order_id'], unique=False)

    op.create_table('transition_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('process_name', sa.String(length=100), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=True),
    sa.Column('source_state', sa.String(length=100), nullable=False),
    sa.Column('target_state', sa.String(length=100), nullable=True),
    sa.Column('command', sa.String(length=200), nullable=True),
    sa.Column('condition', sa.String(length=200), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('is_error', sa.Boolean(), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['order_item.id'], name=op.f('fk_transition_log_item_id_order_item')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_transition_log_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transition_log'))
    )
    with op.batch_alter_table('transition_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transition_log_event'), ['event'], unique=False)
        batch_op.create_index(batch_op.f('ix_transition_log_is_error'), ['is_error'], unique=False)
        batch_op.create_index('ix_transition_log_order_created', ['order_id', 'created_at'], unique=False)

    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_captured_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_column('payment_captured_at')

    with op.batch_alter_table('transition_log', schema=None) as batch_op:
        batch_op.drop_index('ix_transition_log_order_created')
        batch_op.drop_index(batch_op.f('ix_transition_log_is_error'))
        batch_op.drop_index(batch_op.f('ix_transition_log_event'))

    op.drop_table('transition_log')
    with op.batch_alter_table('event_timeout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_timeout_order_id'))
        batch_op.drop_index(batch_op.f('ix_event_timeout_due_at'))

    op.drop_table('event_timeout')
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_email_status'))
        batch_op.drop_index(batch_op.f('ix_outbound_email_order_id'))

    op.drop_table('outbound_email')
