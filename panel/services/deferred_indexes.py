"""Secondary indexes left out while a large batch of rows is loaded, and built at the end.

Each index of the orders list (by email, names, totals, dates ...) takes every new order
at a random place in its tree, and keeping a dozen such trees up to date was a third of
SQLite's writing when demo orders are seeded. Building an index once over the loaded
table sorts its rows instead, which is several times cheaper. The indexes are those the
models declare, so a run that was killed before it could build them again leaves nothing
that ``restore_missing_indexes`` (called before every seed) cannot put back.
"""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import Index, inspect, text

from panel.extensions import db

# The tables whose secondary indexes a large seed builds at the end.
DEFERRABLE_TABLES = ("sales_order", "order_item", "customer")
# Kept while loading: the engine finds an order's items (and a shipment's) with them when
# new items start, and their keys grow with the rows, so keeping them costs little.
KEPT_WHILE_LOADING = frozenset({"ix_order_item_order_id", "ix_order_item_shipment_id"})


def deferrable_indexes() -> list[Index]:
    """The declared, non-unique indexes of DEFERRABLE_TABLES that loading leaves out."""
    tables = db.metadata.tables
    return sorted((index for name in DEFERRABLE_TABLES for index in tables[name].indexes
                   if not index.unique and index.name not in KEPT_WHILE_LOADING),
                  key=lambda index: index.name)


def missing_indexes() -> list[Index]:
    """The deferrable indexes the database lacks."""
    inspector = inspect(db.session.connection())
    present = {index["name"] for name in DEFERRABLE_TABLES
               for index in inspector.get_indexes(name)}
    return [index for index in deferrable_indexes() if index.name not in present]


def restore_missing_indexes() -> list[str]:
    """Build the deferrable indexes that are missing (a seed was killed before it built
    them again); return their names."""
    missing = missing_indexes()
    connection = db.session.connection()
    for index in missing:
        index.create(connection)
    db.session.commit()
    return [index.name for index in missing]


@contextmanager
def indexes_deferred(enabled: bool = True, note=None):
    """Drop the deferrable indexes for the block and build them again after it, whether it
    ends or fails (a killed process leaves them to ``restore_missing_indexes``);
    ``note(text)`` is told before they are built, which takes a while on a large table."""
    if not enabled:
        yield
        return
    connection = db.session.connection()
    quote = connection.dialect.identifier_preparer.quote
    for index in deferrable_indexes():
        connection.execute(text(f"DROP INDEX IF EXISTS {quote(index.name)}"))
    db.session.commit()
    try:
        yield
    finally:
        db.session.rollback()
        if note:
            note("Building the orders list's indexes ...")
        restore_missing_indexes()
