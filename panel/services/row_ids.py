"""Primary keys reserved before rows are written, so that related rows go in together.

The bulk intake and the single-order intake on PostgreSQL lay out every row of an order with
its id in place and write each table with one statement; these functions hand them the ids.
"""
from __future__ import annotations

from sqlalchemy import func, select, text

from panel.extensions import db
from panel.models import Order, OrderAddress, OrderItem, Shipment
from panel.services.order_plan import ReservedIds


def reserve_ids(model, count: int) -> list[int]:
    """Reserve ``count`` primary keys of ``model``'s table for explicit inserts.

    PostgreSQL hands them out from the table's sequence, safe beside concurrent inserts.
    SQLite has one writer at a time: once this transaction holds the write lock (taken by
    ``lock_for_writing``), max(id) + 1 onwards is ours until commit.
    """
    if count == 0:
        return []
    table = model.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.execute(text(f"SELECT {_next_ids(table.name, 'n')}"),
                                  {"n": count}).scalar_one()
    start = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(start, start + count))


def _next_ids(table_name: str, count_parameter: str) -> str:
    """SQL for an array of the next ids from the table's sequence (PostgreSQL)."""
    return (f"ARRAY(SELECT nextval(pg_get_serial_sequence('{table_name}', 'id'))"
            f" FROM generate_series(1, :{count_parameter}))")


_ORDER_TABLES = {"addresses": OrderAddress, "orders": Order, "shipments": Shipment,
                 "items": OrderItem}
# One round trip for all four tables, which the single-order intake on PostgreSQL takes per
# order.
_RESERVE_ORDER_IDS = text("SELECT " + ", ".join(
    _next_ids(model.__tablename__, field) for field, model in _ORDER_TABLES.items()))


def reserve_order_ids(counts: dict[str, int]) -> ReservedIds:
    """``counts`` ids of each table of an order's rows (see reserve_ids and id_counts; on
    SQLite, call it under the write lock)."""
    if db.session.get_bind().dialect.name == "postgresql":
        row = db.session.execute(_RESERVE_ORDER_IDS, counts).one()
        return ReservedIds(**dict(zip(_ORDER_TABLES, row, strict=True)))
    return ReservedIds(**{field: reserve_ids(model, counts[field])
                          for field, model in _ORDER_TABLES.items()})


def lock_for_writing() -> None:
    """On SQLite, take the database write lock now, before max(id) is read."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("UPDATE reference_sequence SET last_value = last_value WHERE 0"))
