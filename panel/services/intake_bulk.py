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
    ReservedIds,
    address_book_row,
    customer_reference_for,
    fingerprint,
    id_counts,
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
    return write_prepared(anchor(plan_orders(payloads, adjust)))


@dataclass
class PlannedBatch:
    """New orders planned and laid out, before anything is reserved in the database: row
    ids are positions in the batch (the n-th address, order, shipment, item), references
    are missing, and orders point at their customer by key (reference, email) only.

    Planning touches the database only to read which supplied references exist, so it may
    run in another process while earlier batches are written (demo data does).
    """

    skipped: list[tuple[int, str]]
    positions: list[int] = field(default_factory=list)  # each order's index in the input
    rows: OrderRows | None = None
    timeouts: list[dict] = field(default_factory=list)
    customer_keys: list = field(default_factory=list)  # per order: (reference, email) or None
    # The customer and address-book rows of each key not offered before (see plan_orders):
    # used for keys that turn out to be new.
    new_customers: dict = field(default_factory=dict)


@dataclass
class PreparedBatch:
    """New orders with every row laid out and its ids reserved, not written yet."""

    skipped: list[tuple[int, str]]
    positions: list[int] = field(default_factory=list)  # each order's index in the input
    customers: list[dict] = field(default_factory=list)
    customer_addresses: list[dict] = field(default_factory=list)
    rows: OrderRows | None = None
    timeouts: list[dict] = field(default_factory=list)


def plan_orders(payloads: list[OrderIn], adjust=None,
                offered: set | None = None) -> PlannedBatch:
    """Plan (and adjust) new orders and lay out their rows, ids relative to the batch.

    Orders whose supplied reference exists, or comes twice, are skipped. ``offered`` holds
    the customer keys whose rows an earlier batch of the same run carried to ``anchor``:
    their rows are not made again (and the set is updated with this batch's keys).
    """
    skipped: list[tuple[int, str]] = []
    wanted = [p.order_reference for p in payloads if p.order_reference]
    taken = set()
    for chunk in _chunks(wanted, 500):
        taken.update(db.session.scalars(
            select(Order.order_reference).where(Order.order_reference.in_(chunk))))
    accepted: list[OrderIn] = []
    batch = PlannedBatch(skipped)
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

    offered = set() if offered is None else offered
    for payload in accepted:
        key = _customer_key(payload)
        batch.customer_keys.append(key)
        if key is not None and key not in offered:
            offered.add(key)
            batch.new_customers[key] = (new_customer_row(payload), address_book_row(payload),
                                        payload.store)
    plans = [
        plan_order(p, p.order_reference, fingerprint(p), select_process(p))
        for p in accepted
    ]
    if adjust is not None:
        for plan, payload in zip(plans, accepted, strict=True):
            adjust(plan, payload)
    counts = id_counts(plans)
    batch.rows = lay_out_rows(plans, [None] * len(plans),
                              ReservedIds(**{name: range(n) for name, n in counts.items()}))
    batch.timeouts = _timeouts_of_moved_items(batch.rows.items)
    return batch


def anchor(planned: PlannedBatch, known_customers: dict | None = None) -> PreparedBatch:
    """Give a planned batch its place in the database: customers looked up or reserved,
    references handed out, and the ids of every row reserved and put in place.

    On SQLite the ids are max(id) + 1 onwards under the write lock this takes: write the
    batch in the same transaction. On PostgreSQL they come from the sequences.
    ``known_customers`` ((reference, email) -> (id, reference)) carries the customers of
    the run's earlier batches, and is updated with this batch's new ones.
    """
    batch = PreparedBatch(planned.skipped, planned.positions)
    rows = planned.rows
    if rows is None:
        return batch
    customers = _link_customers_in_bulk(planned, batch, known_customers)
    needed = defaultdict(int)
    for order in rows.orders:
        if not order["order_reference"]:
            needed[order["store"]] += 1
    references = {store: iter(next_references(store, n)) for store, n in needed.items()}
    for order, key in zip(rows.orders, planned.customer_keys, strict=True):
        if not order["order_reference"]:
            order["order_reference"] = next(references[order["store"]])
        if key is not None:
            order["customer_id"], order["customer_reference"] = customers[key]
    lock_for_writing()
    place_rows(rows, planned.timeouts, reserve_order_ids(rows.counts()))
    batch.rows, batch.timeouts = rows, planned.timeouts
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


def _link_customers_in_bulk(planned: PlannedBatch, batch: PreparedBatch,
                            known: dict | None = None) -> dict:
    """Resolve every non-guest customer key to (id, reference): from ``known``, else looked
    up, else a new customer made of its planned rows, which go into ``batch`` (and into
    ``known``)."""
    known = {} if known is None else known
    wanted = {key for key in planned.customer_keys if key is not None and key not in known}
    refs = {ref for ref, _ in wanted if ref}
    emails = {email for _, email in wanted}
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
    for key in planned.customer_keys:
        if key is None or key in result:
            continue
        if key in known:
            result[key] = known[key]
            continue
        ref, email = key
        found = by_ref.get(ref) if ref else None
        found = found or by_email.get(email)
        if found:
            result[key] = known[key] = found
        elif email not in new_rows:
            customer, address, store = planned.new_customers[key]
            new_rows[email] = {**customer, "_store": store, "_keys": [key],
                               "_address": address}
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


def place_rows(rows: OrderRows, timeouts: list[dict], ids: ReservedIds) -> None:
    """Put reserved ids in place of the positions ``plan_orders`` laid the rows out with."""
    addresses, orders, shipments, items = ids.addresses, ids.orders, ids.shipments, ids.items
    for row in rows.addresses:
        row["id"] = addresses[row["id"]]
    for row in rows.orders:
        row["id"] = orders[row["id"]]
        row["billing_address_id"] = addresses[row["billing_address_id"]]
    for row in rows.shipments:
        row["id"] = shipments[row["id"]]
        row["order_id"] = orders[row["order_id"]]
        row["address_id"] = addresses[row["address_id"]]
    for row in rows.items:
        row["id"] = items[row["id"]]
        row["order_id"] = orders[row["order_id"]]
        row["shipment_id"] = shipments[row["shipment_id"]]
    for row in rows.history:
        row["item_id"] = items[row["item_id"]]
    for row in timeouts:
        row["item_id"] = items[row["item_id"]]
        row["order_id"] = orders[row["order_id"]]


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
