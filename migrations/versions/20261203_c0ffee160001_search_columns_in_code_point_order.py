"""search columns in code point order on PostgreSQL (collation "C"), whatever the database's

Revision ID: c0ffee160001
Revises: c0ffee190001
Created: 2026-12-03 11:00:00

Prefix search is a range over an ordinary index (panel.services.order_search.starts_with).
Under a database collation other than C the range is not "starts with" and the index does
not serve LIKE 'x%' either; the columns' own collation "C" makes both hold. SQLite compares
text in code point order already: nothing to do there.
"""
from alembic import op

revision = 'c0ffee160001'
down_revision = 'c0ffee190001'
branch_labels = None
depends_on = None

# (table, column, length): every column searched "starts with" on an index.
COLUMNS = (
    ('sales_order', 'order_reference', 45),
    ('sales_order', 'email', 254),
    ('sales_order', 'search_last_name', 100),
    ('sales_order', 'search_full_name', 201),
    ('sales_return', 'return_reference', 45),
    ('sales_return', 'customer_email', 254),
    ('reclamation', 'customer_email', 254),
    ('customer', 'email', 254),
)


def _collate(collation: str | None) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    clause = f' COLLATE "{collation}"' if collation else ' COLLATE "default"'
    for table, column, length in COLUMNS:
        # Rebuilds the column's indexes in the new order.
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} '
                   f'TYPE VARCHAR({length}){clause}')


def upgrade():
    _collate('C')


def downgrade():
    _collate(None)
