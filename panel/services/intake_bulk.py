"""The intake's bulk path: many new orders in one transaction, for imports and demo data.

It writes the same rows as ``intake.receive_order`` from the same ``OrderPlan``, with ids
reserved up front so that every table takes one multi-row INSERT per batch; then the new
items start in their initial state, as the single-order path's do.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from panel.extensions import db
from panel.models import Customer, CustomerAddress, EventTimeout, Order
from panel.models.copy_insert import insert_rows
from panel.oms.registry import current_registry
from panel.oms.starts import needs_start, start_orders
from panel.services.intake import next_references, select_process
from panel.services.intake_schema import OrderIn
from panel.services.order_plan import (
    INTAKE_ACTOR,
    OrderRows,
    address_book_row,
    customer_reference_for,
    fingerprint,
    lay_out_rows,
    new_customer_row,
    plan_order,
)
from panel.services.row_ids import lock_for_writing, reserve_ids, reserve_order_ids


@dataclass
class BulkResult:
    created: int
    skipped: list[tuple[int, str]]  # (index in the input, reason)
    # (index in the input, error) of stored orders whose items could not start
    not_started: list[tuple[int, str]] = field(default_factory=list)


def receive_orders_in_bulk(payloads: list[OrderIn], adjust=None) -> BulkResult:
    """Store many new orders with a handful of multi-row INSERTs, in one transaction, then
    start their items.

    For imports and demo data at scale. Orders whose reference already exists are skipped
    and reported (the single-order path decides between "same order" and conflict).
    ``adjust(plan, payload)`` may change each plan before it is written (demo data moves
    older orders along their process); items it moved out of their initial state are not
    started again.
    """
    return write_prepared(prepare_orders_in_bulk(payloads, adjust))


@dataclass
class PreparedBatch:
    """New orders with every row laid out and its ids reserved, not written yet."""

    skipped: list[tuple[int, str]]
    positions: list[int] = field(default_factory=list)  # each order's index in the input
    customers: list[dict] = field(default_factory=list)
    customer_addresses: list[dict] = field(default_factory=list)
    rows: OrderRows | None = None
    timeouts: list[dict] = field(default_factory=list)


def prepare_orders_in_bulk(payloads: list[OrderIn], adjust=None,
                           known_customers: dict | None = None) -> PreparedBatch:
    """Everything of ``receive_orders_in_bulk`` before the writing: the references and
    customers looked up, the orders planned (and adjusted), every id reserved.

    On SQLite the ids are max(id) + 1 onwards under the write lock this takes: write the
    batch in the same transaction. On PostgreSQL they come from the sequences, so a caller
    may commit here and write the batch in another transaction (demo data prepares the next
    batch while this one is written); ``known_customers`` then carries the customers of
    batches prepared but perhaps not yet committed ((reference, email) -> (id, reference)),
    and is updated with this batch's new ones.
    """
    skipped: list[tuple[int, str]] = []
    wanted = [p.order_reference for p in payloads if p.order_reference]
    taken = set()
    for chunk in _chunks(wanted, 500):
        taken.update(db.session.scalars(select(Order.order_reference).where(Order.order_reference.in_(chunk))))
    accepted: list[OrderIn] = []
    batch = PreparedBatch(skipped)
    seen: set[str] = set()
    for index, payload in enumerate(payloads):
        ref = payload.order_reference
        if ref and (ref in taken or ref in seen):
            skipped.append((index, f"an order with the reference {ref} already exists"))
            continue
        if ref:
            seen.add(ref)
        accepted.append(payload)
        batch.positions.append(index)
    if not accepted:
        return batch

    customers = _link_customers_in_bulk(accepted, batch, known_customers)
    references = _references_in_bulk(accepted)
    plans = [
        plan_order(p, ref, fingerprint(p), select_process(p))
        for p, ref in zip(accepted, references, strict=True)
    ]
    if adjust is not None:
        for plan, payload in zip(plans, accepted, strict=True):
            adjust(plan, payload)
    lock_for_writing()
    batch.rows = lay_out_rows(plans, [customers.get(_customer_key(p)) for p in accepted],
                              reserve_order_ids(plans))
    batch.timeouts = _timeouts_of_moved_items(batch.rows.items)
    return batch


def write_prepared(batch: PreparedBatch) -> BulkResult:
    """Write a prepared batch, commit, and start its new items."""
    if batch.rows is None:
        return BulkResult(0, batch.skipped)
    _insert(Customer, batch.customers)
    _insert(CustomerAddress, batch.customer_addresses)
    for model, rows in batch.rows.by_model():
        _insert(model, rows)
    _insert(EventTimeout, batch.timeouts)
    db.session.commit()
    starting = _orders_to_start(batch.rows)
    failures = start_orders(starting, actor=INTAKE_ACTOR) if starting else {}
    position_of = {row["id"]: position for row, position in zip(batch.rows.orders,
                                                                  batch.positions, strict=True)}
    not_started = sorted((position_of[order_id], error) for order_id, error in failures.items())
    return BulkResult(len(batch.rows.orders), batch.skipped, not_started)


def _chunks(seq, size):
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def _customer_key(payload: OrderIn):
    data = payload.customer
    if data.is_guest:
        return None
    return (data.customer_reference, data.email)


def _link_customers_in_bulk(payloads: list[OrderIn], batch: PreparedBatch,
                            known: dict | None = None) -> dict:
    """Resolve every non-guest customer to (id, reference): from ``known``, else looked up,
    else a new customer, whose rows go into ``batch`` (and into ``known``)."""
    known = {} if known is None else known
    wanted = [p for p in payloads if _customer_key(p) is not None
              and _customer_key(p) not in known]
    refs = {p.customer.customer_reference for p in wanted if p.customer.customer_reference}
    emails = {p.customer.email for p in wanted}
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
        if key in known:
            result[key] = known[key]
            continue
        ref, email = key
        found = by_ref.get(ref) if ref else None
        found = found or by_email.get(email)
        if found:
            result[key] = found
        elif email not in new_rows:
            new_rows[email] = {**new_customer_row(p), "_store": p.store, "_keys": [key],
                               "_address": address_book_row(p)}
        else:
            new_rows[email]["_keys"].append(key)
    if new_rows:
        rows = list(new_rows.values())
        lock_for_writing()
        for row, customer_id in zip(rows, reserve_ids(Customer, len(rows)), strict=True):
            if row["customer_reference"].startswith("pending-"):
                row["customer_reference"] = customer_reference_for(row["_store"], customer_id)
            batch.customers.append({k: v for k, v in row.items() if not k.startswith("_")}
                                   | {"id": customer_id})
            batch.customer_addresses.append(dict(row["_address"], customer_id=customer_id))
            for key in row["_keys"]:
                result[key] = known[key] = (customer_id, row["customer_reference"])
    return result


def _references_in_bulk(payloads: list[OrderIn]) -> list[str]:
    needed = defaultdict(int)
    for p in payloads:
        if not p.order_reference:
            needed[p.store] += 1
    pools = {store: iter(next_references(store, n)) for store, n in needed.items()}
    return [p.order_reference or next(pools[p.store]) for p in payloads]


def _insert(model, rows: list[dict]) -> None:
    insert_rows(model.__table__, rows)


def _orders_to_start(rows: OrderRows) -> list[int]:
    """The new orders with items in an initial state that has something to do at once."""
    registry = current_registry()
    ids = {}
    for item in rows.items:
        process = registry.process(item["process_name"])
        if item["state_name"] == process.initial_state and needs_start(process):
            ids[item["order_id"]] = True
    return list(ids)


def _timeouts_of_moved_items(item_rows: list[dict]) -> list[dict]:
    """The timeout rows of items that ``adjust`` moved on, counted from when each entered
    its current state (items in their initial state get theirs when they start)."""
    registry = current_registry()
    rows = []
    for item in item_rows:
        process = registry.process(item["process_name"])
        if item["state_name"] == process.initial_state:
            continue
        for event in process.timeout_events_from(item["state_name"]):
            # A timeout processor answers for an item the engine holds; items that demo
            # data placed in such a state wait for an event instead.
            if event.timeout_delta is None:
                continue
            rows.append({"item_id": item["id"], "order_id": item["order_id"],
                         "state_name": item["state_name"], "event": event.name,
                         "due_at": item["state_entered_at"] + event.timeout_delta})
    return rows
