"""The intake's bulk path: many new orders in one transaction, for imports and demo data.

It writes the same rows as ``intake.receive_order`` from the same ``OrderPlan``, with ids
reserved up front so that every table takes one multi-row INSERT per batch.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select, text

from panel.extensions import db
from panel.models import (
    Customer,
    CustomerAddress,
    EventTimeout,
    Order,
    OrderAddress,
    OrderItem,
    Shipment,
)
from panel.oms.registry import current_registry
from panel.services.intake import (
    OrderPlan,
    ReservedIds,
    _address_book_row,
    _new_customer_row,
    customer_reference_for,
    fingerprint,
    lay_out_rows,
    next_references,
    plan_order,
    select_process,
)
from panel.services.intake_schema import OrderIn


@dataclass
class BulkResult:
    created: int
    skipped: list[tuple[int, str]]  # (index in the input, reason)


def receive_orders_in_bulk(payloads: list[OrderIn], adjust=None) -> BulkResult:
    """Store many new orders with a handful of multi-row INSERTs, in one transaction.

    For imports and demo data at scale. Orders whose reference already exists are skipped
    and reported (the single-order path decides between "same order" and conflict).
    """
    skipped: list[tuple[int, str]] = []
    wanted = [p.order_reference for p in payloads if p.order_reference]
    taken = set()
    for chunk in _chunks(wanted, 500):
        taken.update(db.session.scalars(select(Order.order_reference).where(Order.order_reference.in_(chunk))))
    accepted: list[OrderIn] = []
    seen: set[str] = set()
    for index, payload in enumerate(payloads):
        ref = payload.order_reference
        if ref and (ref in taken or ref in seen):
            skipped.append((index, f"an order with the reference {ref} already exists"))
            continue
        if ref:
            seen.add(ref)
        accepted.append(payload)
    if not accepted:
        return BulkResult(0, skipped)

    customers = _link_customers_in_bulk(accepted)
    references = _references_in_bulk(accepted)
    plans = [
        plan_order(p, ref, fingerprint(p), select_process(p))
        for p, ref in zip(accepted, references, strict=True)
    ]
    if adjust is not None:
        for plan, payload in zip(plans, accepted, strict=True):
            adjust(plan, payload)
    _insert_plans(plans, [customers.get(_customer_key(p)) for p in accepted])
    db.session.commit()
    return BulkResult(len(plans), skipped)


def _chunks(seq, size):
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def _customer_key(payload: OrderIn):
    data = payload.customer
    if data.is_guest:
        return None
    return (data.customer_reference, data.email)


def _link_customers_in_bulk(payloads: list[OrderIn]) -> dict:
    """Resolve every non-guest customer to (id, reference), creating the missing ones."""
    refs = {p.customer.customer_reference for p in payloads if p.customer.customer_reference}
    emails = {p.customer.email for p in payloads if not p.customer.is_guest}
    by_ref, by_email = {}, {}
    for chunk in _chunks(sorted(refs), 500):
        for row in db.session.execute(
            select(Customer.id, Customer.customer_reference, Customer.email).where(
                Customer.customer_reference.in_(chunk)
            )
        ):
            by_ref[row.customer_reference] = (row.id, row.customer_reference)
    for chunk in _chunks(sorted(emails), 500):
        for row in db.session.execute(
            select(Customer.id, Customer.customer_reference, Customer.email).where(
                Customer.email.in_(chunk)
            )
        ):
            by_email[row.email] = (row.id, row.customer_reference)

    result: dict = {}
    new_rows: dict[str, dict] = {}
    for p in payloads:
        key = _customer_key(p)
        if key is None or key in result:
            continue
        ref, email = key
        found = by_ref.get(ref) if ref else None
        found = found or by_email.get(email)
        if found:
            result[key] = found
        elif email not in new_rows:
            new_rows[email] = {**_new_customer_row(p), "_store": p.store, "_keys": [key],
                               "_address": _address_book_row(p)}
        else:
            new_rows[email]["_keys"].append(key)
    if new_rows:
        rows = list(new_rows.values())
        _lock_for_writing()
        customer_rows = []
        for row, customer_id in zip(rows, reserve_ids(Customer, len(rows)), strict=True):
            if row["customer_reference"].startswith("pending-"):
                row["customer_reference"] = customer_reference_for(row["_store"], customer_id)
            customer_rows.append({k: v for k, v in row.items() if not k.startswith("_")}
                                 | {"id": customer_id})
            for key in row["_keys"]:
                result[key] = (customer_id, row["customer_reference"])
        _insert(Customer, customer_rows)
        _insert(CustomerAddress, [dict(row["_address"], customer_id=c["id"])
                                  for row, c in zip(rows, customer_rows, strict=True)])
    return result


def _references_in_bulk(payloads: list[OrderIn]) -> list[str]:
    needed = defaultdict(int)
    for p in payloads:
        if not p.order_reference:
            needed[p.store] += 1
    pools = {store: iter(next_references(store, n)) for store, n in needed.items()}
    return [p.order_reference or next(pools[p.store]) for p in payloads]


def reserve_ids(model, count: int) -> list[int]:
    """Reserve ``count`` primary keys of ``model``'s table for explicit inserts.

    PostgreSQL hands them out from the table's sequence, safe beside concurrent inserts.
    SQLite has one writer at a time: once this transaction holds the write lock (taken by
    ``_lock_for_writing``), max(id) + 1 onwards is ours until commit.
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


def reserve_order_ids(plans: list[OrderPlan]) -> ReservedIds:
    """Ids for every row of the planned orders (see reserve_ids; on SQLite, call it under
    the write lock)."""
    shipments = sum(len(p.shipments) for p in plans)
    counts = {"addresses": len(plans) + shipments, "orders": len(plans),
              "shipments": shipments, "items": sum(len(u) for p in plans for u in p.items)}
    if db.session.get_bind().dialect.name == "postgresql":
        row = db.session.execute(_RESERVE_ORDER_IDS, counts).one()
        return ReservedIds(**dict(zip(_ORDER_TABLES, row, strict=True)))
    return ReservedIds(**{field: reserve_ids(model, counts[field])
                          for field, model in _ORDER_TABLES.items()})


def _lock_for_writing() -> None:
    """On SQLite, take the database write lock now, before max(id) is read."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("UPDATE reference_sequence SET last_value = last_value WHERE 0"))


def _insert(model, rows: list[dict]) -> None:
    if rows:
        db.session.execute(model.__table__.insert(), rows)


def _insert_plans(plans: list[OrderPlan], customers: list[tuple[int, str] | None]) -> None:
    _lock_for_writing()
    rows = lay_out_rows(plans, customers, reserve_order_ids(plans))
    for model, batch in rows.by_model():
        _insert(model, batch)
    _insert(EventTimeout, _timeouts(rows.items))


def _timeouts(item_rows: list[dict]) -> list[dict]:
    """The timeout rows of each item's current state, counted from when it entered it."""
    registry = current_registry()
    rows = []
    for item in item_rows:
        process = registry.process(item["process_name"])
        for event in process.timeout_events_from(item["state_name"]):
            if event.timeout_delta is None:  # a timeout processor's; intake starts those
                continue
            rows.append({"item_id": item["id"], "order_id": item["order_id"],
                         "state_name": item["state_name"], "event": event.name,
                         "due_at": item["state_entered_at"] + event.timeout_delta})
    return rows
