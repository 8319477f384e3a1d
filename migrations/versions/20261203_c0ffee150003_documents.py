"""documents: invoices and credit notes, their number counters, attachments in the outbox

Revision ID: c0ffee150003
Revises: c0ffee150002
Created: 2026-12-03 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c0ffee150003'
down_revision = 'c0ffee150002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('number', sa.String(length=48), nullable=False),
    sa.Column('store', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by', sa.String(length=120), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('net_total', sa.Integer(), nullable=False),
    sa.Column('tax_total', sa.Integer(), nullable=False),
    sa.Column('gross_total', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_document_order_id_sales_order')),
    sa.ForeignKeyConstraint(['refund_id'], ['refund.id'], name=op.f('fk_document_refund_id_refund')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document')),
    sa.UniqueConstraint('kind', 'store', 'year', 'sequence', name=op.f('uq_document_kind')),
    sa.UniqueConstraint('number', name=op.f('uq_document_number'))
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_refund_id'), ['refund_id'], unique=False)

    op.create_table('document_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('store', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_sequence', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_counter')),
    sa.UniqueConstraint('kind', 'store', 'year', name=op.f('uq_document_counter_kind'))
    )

    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbound_email_document_id_document'),
                                    'document', ['document_id'], ['id'])


def downgrade():
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbound_email_document_id_document'),
                                 type_='foreignkey')
        batch_op.drop_column('document_id')

    op.drop_table('document_counter')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_refund_id'))
        batch_op.drop_index(batch_op.f('ix_document_order_id'))

    op.drop_table('document')
