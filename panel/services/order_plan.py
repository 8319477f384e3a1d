"""An incoming order's rows, planned as plain values before anything is written.

Every write path of the intake lays out the same rows from the same plan: the single order
on SQLite (``intake``) and on PostgreSQL (``intake_postgresql``), and many orders at once
(``intake_bulk``). Nothing here touches the database.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from panel.models import ItemStateHistory, Order, OrderAddress, OrderItem, Shipment
from panel.models.base import utcnow
from panel.oms.definitions import Process
from panel.services.addresses import CUSTOMER_ADDRESS_FIELDS
from panel.services.intake_schema import OrderIn, order_totals, unit_tax

INTAKE_ACTOR = "system (intake)"


def fingerprint(payload: OrderIn) -> str:
    """The digest that tells a repeated order from another one with the same reference."""
    return hashlib.sha256(payload.model_dump_json().encode()).hexdigest()


@dataclass
class OrderPlan:
    """Every row of one incoming order, as plain values, before any id is known."""

    order: dict
    billing_address: dict
    shipments: list[dict] = field(default_factory=list)
    shipment_addresses: list[dict] = field(default_factory=list)
    items: list[list[dict]] = field(default_factory=list)  # per shipment, one row per unit


def plan_order(payload: OrderIn, reference: str, digest: str, process: Process) -> OrderPlan:
    """Price every unit and lay out the rows of an order whose items start in ``process``.

    Each unit starts in the process's initial state, with one history row saying so.
    """
    created_at = payload.created_at or utcnow()
    customer = payload.customer
    start = process.initial_state
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
            "payment_captured_at": None,  # the capture command sets it
            **order_totals(payload),
        },
        billing_address=payload.billing_address.model_dump(),
    )
    unit_count = 0
    for shipment in payload.shipments:
        plan.shipment_addresses.append(shipment.address.model_dump())
        plan.shipments.append({
            "method": shipment.method,
            "carrier": shipment.carrier,
            "price": shipment.price,
            "requested_delivery_date": shipment.requested_delivery_date,
        })
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
                "process_name": process.name,
                "state_name": start,
                "state_entered_at": created_at,
                "order_created_at": created_at,
            }
            units.extend(dict(row, history=[(None, start, None, INTAKE_ACTOR, created_at)])
                         for _ in range(item.quantity))
        unit_count += len(units)
        plan.items.append(units)
    plan.order["item_count"] = unit_count
    refresh_item_states(plan)
    return plan


def refresh_item_states(plan: OrderPlan) -> None:
    """Recompute the order row's distinct item states from the planned units."""
    states = {unit["state_name"] for units in plan.items for unit in units}
    plan.order["item_states"] = " ".join(sorted(states))


def new_customer_row(payload: OrderIn) -> dict:
    """The customer row of an order's customer who is not stored yet."""
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


def address_book_row(payload: OrderIn) -> dict:
    """A new customer's billing address, copied into their address book."""
    billing = payload.billing_address
    return {name: getattr(billing, name) for name in CUSTOMER_ADDRESS_FIELDS}


def customer_reference_for(store: str, customer_id: int) -> str:
    """The reference a new customer gets when the storefront sent none."""
    return f"{store}--C{customer_id}"


@dataclass
class ReservedIds:
    """Primary keys reserved for new rows, one list per table, in the order rows are laid
    out."""

    addresses: list[int]
    orders: list[int]
    shipments: list[int]
    items: list[int]


def id_counts(plans: list[OrderPlan]) -> dict[str, int]:
    """How many ids of each table (the fields of ReservedIds) the planned orders need."""
    shipments = sum(len(p.shipments) for p in plans)
    return {"addresses": len(plans) + shipments, "orders": len(plans),
            "shipments": shipments, "items": sum(len(u) for p in plans for u in p.items)}


@dataclass
class OrderRows:
    """The rows of one or more planned orders, ids in place, per table."""

    addresses: list[dict] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    shipments: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many rows of each table that takes reserved ids (the fields of ReservedIds)."""
        return {"addresses": len(self.addresses), "orders": len(self.orders),
                "shipments": len(self.shipments), "items": len(self.items)}

    def by_model(self):
        """(model, rows) in an order that satisfies the foreign keys."""
        return ((OrderAddress, self.addresses), (Order, self.orders), (Shipment, self.shipments),
                (OrderItem, self.items), (ItemStateHistory, self.history))


def lay_out_rows(plans: list[OrderPlan], customers: list[tuple[int, str] | None],
                 ids: ReservedIds) -> OrderRows:
    """Every row of the planned orders with reserved ids: billing address, order, then per
    shipment its address, the shipment and its units with their history."""
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
                rows.items.append(dict(item_columns(unit), id=item_id, order_id=order_id,
                                       shipment_id=shipment_id))
                rows.history.extend(history_rows(unit, item_id))
    return rows


def item_columns(unit: dict) -> dict:
    """A planned unit's order_item columns (the plan keeps its history beside them)."""
    return {name: value for name, value in unit.items() if name != "history"}


def history_rows(unit: dict, item_id: int) -> list[dict]:
    """The item_state_history rows of a planned unit, once its item id is known."""
    return [{"item_id": item_id, "from_state": source, "to_state": target, "event": event,
             "actor": actor, "created_at": at}
            for source, target, event, actor, at in unit["history"]]
