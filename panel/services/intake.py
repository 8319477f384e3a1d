"""Order intake: turn a validated incoming order into rows, once and only once.

The API, the import command and the demo data all come through here. ``receive_order``
writes one order: on PostgreSQL with two statements (``intake_postgresql``), on SQLite with
one INSERT ... RETURNING per table; ``receive_orders_in_bulk`` writes many with a few
multi-row INSERTs each, from the same plan and row layout, for imports and demo data at
scale.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import Row, bindparam, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
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
from panel.models.base import utcnow
from panel.oms.engine import start_items
from panel.services.addresses import CUSTOMER_ADDRESS_FIELDS as ADDRESS_BOOK_FIELDS
from panel.services.intake_schema import OrderIn, order_totals, unit_tax

INITIAL_STATE = "new"
INTAKE_ACTOR = "system (intake)"


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

    @property
    def order(self) -> Order:
        return db.session.get(Order, self.summary["id"])


SUMMARY = ("id", "order_reference", "currency", "grand_total", "item_count")


def fingerprint(payload: OrderIn) -> str:
    return hashlib.sha256(payload.model_dump_json().encode()).hexdigest()


def select_process(payload: OrderIn) -> str:
    """The process a new order's items start in: the first plugin that decides."""
    from panel.oms.registry import current_registry
    from panel.plugins import plugin_manager

    name = plugin_manager().hook.select_process(order=payload)
    current_registry().process(name)  # a plugin naming an unknown process fails loudly
    return name


def receive_order(payload: OrderIn) -> IntakeResult:
    """Store an incoming order, or return the identical one already stored.

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
            if _initial_state_acts(process):
                start_items(order_id, actor=INTAKE_ACTOR)
            summary = {"id": order_id, **{k: plan.order[k] for k in SUMMARY[1:]}}
            return IntakeResult(created=True, summary=summary)
        except IntegrityError:
            # A concurrent request stored the same reference or created the same customer
            # a moment ago: look again, now that its rows are visible.
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _initial_state_acts(process_name: str) -> bool:
    """Whether new items have something to do at once: an onEnter event or timeouts."""
    from panel.oms.registry import current_registry

    process = current_registry().process(process_name)
    state = process.initial_state
    return bool(process.on_enter_event(state) or process.timeout_events_from(state))


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
    customer_id = _insert_returning_ids(Customer, [_new_customer_row(payload)])[0]
    reference = data.customer_reference
    if not reference:
        reference = customer_reference_for(payload.store, customer_id)
        connection.execute(update(Customer).where(Customer.id == customer_id)
                           .values(customer_reference=reference))
    connection.execute(_inserting(CustomerAddress.__table__),
                       dict(_address_book_row(payload), customer_id=customer_id))
    return customer_id, reference


def customer_reference_for(store: str, customer_id: int) -> str:
    return f"{store}--C{customer_id}"


def _new_customer_row(payload: OrderIn) -> dict:
    data = payload.customer
    return {
        # A placeholder until the id is known; replaced before commit.
        "customer_reference": data.customer_reference or f"pending-{data.email}",
        "email": data.email,
        "salutation": data.salutation,
        "first_name": data.first_name,
        "last_name": data.last_name,
        "phone": data.phone,
        "created_at": payload.created_at or utcnow(),
    }


def _address_book_row(payload: OrderIn) -> dict:
    """A new customer's billing address, copied into their address book."""
    billing = payload.billing_address
    return {name: getattr(billing, name) for name in ADDRESS_BOOK_FIELDS}


def next_references(store: str, count: int) -> list[str]:
    """Hand out ``count`` order references for ``store`` (DE--1, DE--2, ...), never twice."""
    dialect = db.session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        dialect_insert(ReferenceSequence)
        .values(store=store, last_value=count)
        .on_conflict_do_update(
            index_elements=[ReferenceSequence.store],
            set_={"last_value": ReferenceSequence.last_value + count},
        )
        .returning(ReferenceSequence.last_value)
    )
    last = db.session.execute(stmt).scalar_one()
    candidates = [f"{store}--{n}" for n in range(last - count + 1, last + 1)]
    # A storefront may have sent one of these references itself; skip those.
    taken = set(
        db.session.scalars(select(Order.order_reference).where(Order.order_reference.in_(candidates)))
    )
    free = [ref for ref in candidates if ref not in taken]
    if len(free) < count:
        free += next_references(store, count - len(free))
    return free


@dataclass
class OrderPlan:
    """Every row of one incoming order, as plain values, before any id is known."""

    order: dict
    billing_address: dict
    shipments: list[dict] = field(default_factory=list)
    shipment_addresses: list[dict] = field(default_factory=list)
    items: list[list[dict]] = field(default_factory=list)  # per shipment, one row per unit


def plan_order(payload: OrderIn, reference: str, digest: str, process: str) -> OrderPlan:
    """Price every unit and lay out the rows of an order (the same for both write paths)."""
    created_at = payload.created_at or utcnow()
    customer = payload.customer
    totals = order_totals(payload)
    unit_count = 0
    plan = OrderPlan(
        order={
            "order_reference": reference,
            "store": payload.store,
            "currency": payload.currency,
            "locale": payload.locale,
            "created_at": created_at,
            "customer_reference": None if customer.is_guest else customer.customer_reference,
            "email": customer.email,
            "salutation": customer.salutation,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "search_last_name": customer.last_name.lower(),
            "search_full_name": f"{customer.first_name} {customer.last_name}".lower(),
            "payment_method": payload.payment.method,
            "payment_amount": payload.payment.amount,
            "cart_note": payload.cart_note,
            "intake_fingerprint": digest,
            "refund_total": 0,
            "canceled_total": 0,
            **totals,
        },
        billing_address=payload.billing_address.model_dump(),
    )
    for shipment in payload.shipments:
        plan.shipment_addresses.append(shipment.address.model_dump())
        plan.shipments.append(
            {
                "method": shipment.method,
                "carrier": shipment.carrier,
                "price": shipment.price,
                "requested_delivery_date": shipment.requested_delivery_date,
            }
        )
        units = []
        for item in shipment.items:
            price_to_pay = item.unit_price - item.discount
            row = {
                "sku": item.sku,
                "name": item.name,
                "unit_price": item.unit_price,
                "discount": item.discount,
                "tax_rate": item.tax_rate,
                "tax_amount": unit_tax(price_to_pay, item.tax_rate),
                "price_to_pay": price_to_pay,
                "process_name": process,
                "state_name": INITIAL_STATE,
                "state_entered_at": created_at,
                "order_created_at": created_at,
            }
            units.extend(dict(row) for _ in range(item.quantity))
        for unit in units:
            unit["history"] = [(None, INITIAL_STATE, None, INTAKE_ACTOR, created_at)]
        unit_count += len(units)
        plan.items.append(units)
    plan.order["item_count"] = unit_count
    refresh_item_states(plan)
    return plan


def refresh_item_states(plan: OrderPlan) -> None:
    """Recompute the order row's distinct item states from the planned units."""
    states = {unit["state_name"] for units in plan.items for unit in units}
    plan.order["item_states"] = " ".join(sorted(states))


@dataclass
class ReservedIds:
    """Primary keys reserved for new rows, one list per table, in the order rows are laid
    out."""

    addresses: list[int]
    orders: list[int]
    shipments: list[int]
    items: list[int]


@dataclass
class OrderRows:
    """The rows of one or more planned orders, ids in place, per table."""

    addresses: list[dict] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    shipments: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)

    def by_model(self):
        """(model, rows) in an order that satisfies the foreign keys."""
        return ((OrderAddress, self.addresses), (Order, self.orders), (Shipment, self.shipments),
                (OrderItem, self.items), (ItemStateHistory, self.history))


def lay_out_rows(plans: list[OrderPlan], customers: list[tuple[int, str] | None],
                 ids: ReservedIds) -> OrderRows:
    """Every row of the planned orders with reserved ids (the bulk path's and PostgreSQL's
    single-order path's layout): billing address, order, then per shipment its address,
    the shipment and its units."""
    rows = OrderRows()
    address_ids, order_ids = iter(ids.addresses), iter(ids.orders)
    shipment_ids, item_ids = iter(ids.shipments), iter(ids.items)
    for plan, customer in zip(plans, customers, strict=True):
        billing_id = next(address_ids)
        rows.addresses.append(dict(plan.billing_address, id=billing_id))
        order_id = next(order_ids)
        order = dict(plan.order, id=order_id, billing_address_id=billing_id, customer_id=None)
        if customer is not None:
            order["customer_id"], order["customer_reference"] = customer
        rows.orders.append(order)
        parts = zip(plan.shipments, plan.shipment_addresses, plan.items, strict=True)
        for shipment, address, units in parts:
            address_id, shipment_id = next(address_ids), next(shipment_ids)
            rows.addresses.append(dict(address, id=address_id))
            rows.shipments.append(dict(shipment, id=shipment_id, order_id=order_id,
                                       address_id=address_id))
            for unit in units:
                item_id = next(item_ids)
                columns = {k: v for k, v in unit.items() if k != "history"}
                rows.items.append(dict(columns, id=item_id, order_id=order_id,
                                       shipment_id=shipment_id))
                rows.history.extend(
                    {"item_id": item_id, "from_state": source, "to_state": target,
                     "event": event, "actor": actor, "created_at": at}
                    for source, target, event, actor, at in unit["history"])
    return rows


def _insert_plan(plan: OrderPlan, customer: tuple[int, str] | None) -> int:
    """Write one planned order and return its id.

    PostgreSQL: ids reserved in one statement, every row written by a second one
    (``intake_postgresql``). SQLite: one INSERT per table, ids coming back from RETURNING.
    Core statements on the session's connection: the ORM's flush was half the request."""
    if db.session.get_bind().dialect.name == "postgresql":
        from panel.services.intake_postgresql import insert_order_rows

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
        {**{k: v for k, v in unit.items() if k != "history"}, "order_id": order_id,
         "shipment_id": shipment_id} for unit, shipment_id in units])
    db.session.connection().execute(_inserting(ItemStateHistory.__table__), [
        {"item_id": item_id, "from_state": source, "to_state": target, "event": event,
         "actor": actor, "created_at": at}
        for (unit, _), item_id in zip(units, item_ids, strict=True)
        for source, target, event, actor, at in unit["history"]])
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
