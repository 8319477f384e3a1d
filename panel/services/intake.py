"""Order intake: turn a validated incoming order into rows, once and only once, and start it.

The API, the import command and the demo data all come through here. ``receive_order``
writes one order: on PostgreSQL with two statements (``intake_postgresql``), on SQLite with
one INSERT ... RETURNING per table; ``intake_bulk`` writes many with a few multi-row INSERTs
each. All of them lay out the rows ``order_plan`` plans. Once the rows are committed, the
items start in their process's initial state: its timeouts are written and its onEnter event
fires (``panel.oms.starts``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Row, bindparam, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError

from panel.extensions import db
from panel.models import (
    Customer,
    CustomerAddress,
    ItemStateHistory,
    Order,
    OrderAddress,
    OrderItem,
    ReferenceSequence,
    Shipment,
)
from panel.oms.definitions import Process
from panel.oms.registry import current_registry
from panel.oms.starts import needs_start, start_orders
from panel.plugins import plugin_manager
from panel.services.intake_postgresql import insert_order_rows
from panel.services.intake_schema import OrderIn
from panel.services.order_plan import (
    INTAKE_ACTOR,
    OrderPlan,
    address_book_row,
    customer_reference_for,
    fingerprint,
    history_rows,
    item_columns,
    new_customer_row,
    plan_order,
)
from panel.services.sequences import advance


class IntakeConflict(Exception):
    """An order with this reference exists with different content."""

    def __init__(self, order_reference: str):
        super().__init__(
            f"an order with the reference {order_reference} already exists with other content"
        )
        self.order_reference = order_reference


@dataclass
class IntakeResult:
    created: bool
    summary: dict  # what the API answers with: id, order_reference, currency, totals
    # Why the new order's items could not start (their initial state's onEnter command
    # failed); the order is stored all the same. None when it started, or was stored before.
    start_error: str | None = None

    @property
    def order(self) -> Order:
        return db.session.get(Order, self.summary["id"])


SUMMARY = ("id", "order_reference", "currency", "grand_total", "item_count")


def select_process(payload: OrderIn) -> Process:
    """The process a new order's items start in: the first plugin that decides."""
    name = plugin_manager().hook.select_process(order=payload)
    return current_registry().process(name)  # a plugin naming an unknown process fails loudly


def receive_order(payload: OrderIn) -> IntakeResult:
    """Store an incoming order and start its items, or return the identical one already
    stored.

    Raises IntakeConflict when the reference is taken by an order with other content.
    """
    digest = fingerprint(payload)
    for attempt in (1, 2):
        known = _look_up(payload)
        if known.id is not None:  # an order with this reference is stored
            if known.intake_fingerprint != digest:
                raise IntakeConflict(payload.order_reference)
            return IntakeResult(created=False,
                                summary={name: getattr(known, name) for name in SUMMARY})
        try:
            customer = _link_customer(payload, known)
            reference = payload.order_reference or next_references(payload.store, 1)[0]
            process = select_process(payload)
            plan = plan_order(payload, reference, digest, process)
            order_id = _insert_plan(plan, customer)
            db.session.commit()
        except IntegrityError:
            # A concurrent request stored the same reference or created the same customer
            # a moment ago: look again, now that its rows are visible.
            db.session.rollback()
            if attempt == 2:
                raise
            continue
        start_error = None
        if needs_start(process):
            start_error = start_orders([order_id], actor=INTAKE_ACTOR).get(order_id)
        summary = {"id": order_id, **{k: plan.order[k] for k in SUMMARY[1:]}}
        return IntakeResult(created=True, summary=summary, start_error=start_error)
    raise AssertionError("unreachable")


def _known_rows_statement():
    """One row: the order stored under the reference, the customer with the customer
    reference and the customer with the email, each column NULL where there is none. One
    statement instead of three, built once: building and cache-keying a statement on every
    request cost as much as running it (profiled on SQLite)."""
    orders, customers = Order.__table__, Customer.__table__
    by_reference, by_email = customers.alias("by_reference"), customers.alias("by_email")
    one_row = select(literal_column("1").label("one")).subquery("one_row")
    return (
        select(orders.c.intake_fingerprint, *(orders.c[name] for name in SUMMARY),
               by_reference.c.id.label("reference_customer_id"),
               by_reference.c.customer_reference.label("reference_customer_reference"),
               by_email.c.id.label("email_customer_id"),
               by_email.c.customer_reference.label("email_customer_reference"))
        .select_from(
            one_row
            .outerjoin(orders, orders.c.order_reference == bindparam("order_reference"))
            .outerjoin(by_reference,
                       by_reference.c.customer_reference == bindparam("customer_reference"))
            .outerjoin(by_email, by_email.c.email == bindparam("email"))))


_KNOWN_ROWS = _known_rows_statement()


def _look_up(payload: OrderIn) -> Row:
    """What is stored already of this order and its customer (see _known_rows_statement);
    a guest's or a reference-less order's lookups match nothing."""
    customer = payload.customer
    return db.session.connection().execute(_KNOWN_ROWS, {
        "order_reference": payload.order_reference or None,
        "customer_reference": None if customer.is_guest else customer.customer_reference or None,
        "email": None if customer.is_guest else customer.email,
    }).one()


def _link_customer(payload: OrderIn, known: Row) -> tuple[int, str] | None:
    """The (id, reference) of the order's customer (by customer reference, else by email),
    created with an address book entry when new; None for a guest."""
    data = payload.customer
    if data.is_guest:
        return None
    if known.reference_customer_id is not None:
        return known.reference_customer_id, known.reference_customer_reference
    if known.email_customer_id is not None:
        return known.email_customer_id, known.email_customer_reference
    connection = db.session.connection()
    customer_id = _insert_returning_ids(Customer, [new_customer_row(payload)])[0]
    reference = data.customer_reference
    if not reference:
        reference = customer_reference_for(payload.store, customer_id)
        connection.execute(update(Customer).where(Customer.id == customer_id)
                           .values(customer_reference=reference))
    connection.execute(_inserting(CustomerAddress.__table__),
                       dict(address_book_row(payload), customer_id=customer_id))
    return customer_id, reference


def next_references(store: str, count: int) -> list[str]:
    """Hand out ``count`` order references for ``store`` (DE--1, DE--2, ...), never twice."""
    last = advance(ReferenceSequence, store, count)
    candidates = [f"{store}--{n}" for n in range(last - count + 1, last + 1)]
    # A storefront may have sent one of these references itself; skip those.
    taken = set(
        db.session.scalars(select(Order.order_reference).where(Order.order_reference.in_(candidates)))
    )
    free = [ref for ref in candidates if ref not in taken]
    if len(free) < count:
        free += next_references(store, count - len(free))
    return free


def _insert_plan(plan: OrderPlan, customer: tuple[int, str] | None) -> int:
    """Write one planned order and return its id.

    PostgreSQL: ids reserved in one statement, every row written by a second one
    (``intake_postgresql``). SQLite: one INSERT per table, ids coming back from RETURNING.
    Core statements on the session's connection: the ORM's flush was half the request."""
    if db.session.get_bind().dialect.name == "postgresql":
        return insert_order_rows(plan, customer)
    addresses = [plan.billing_address, *plan.shipment_addresses]
    address_ids = _insert_returning_ids(OrderAddress, addresses)
    order = dict(plan.order, billing_address_id=address_ids[0], customer_id=None)
    if customer is not None:
        order["customer_id"], order["customer_reference"] = customer
    order_id = _insert_returning_ids(Order, [order])[0]
    shipment_ids = _insert_returning_ids(Shipment, [
        dict(row, order_id=order_id, address_id=address_id)
        for row, address_id in zip(plan.shipments, address_ids[1:], strict=True)])
    units = [(unit, shipment_id) for units, shipment_id in zip(plan.items, shipment_ids,
                                                                strict=True) for unit in units]
    item_ids = _insert_returning_ids(OrderItem, [
        dict(item_columns(unit), order_id=order_id, shipment_id=shipment_id)
        for unit, shipment_id in units])
    db.session.connection().execute(_inserting(ItemStateHistory.__table__), [
        row for (unit, _), item_id in zip(units, item_ids, strict=True)
        for row in history_rows(unit, item_id)])
    return order_id


@cache
def _inserting(table, returning_ids: bool = False):
    stmt = insert(table)
    return stmt.returning(table.c.id, sort_by_parameter_order=True) if returning_ids else stmt


def _insert_returning_ids(model, rows: list[dict]) -> list[int]:
    """INSERT the rows (one statement, however many) and return their ids in row order."""
    stmt = _inserting(model.__table__, returning_ids=True)
    connection = db.session.connection()
    if len(rows) == 1:
        return [connection.execute(stmt, rows[0]).scalar_one()]
    return list(connection.execute(stmt, rows).scalars())
