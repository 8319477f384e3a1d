"""Quantities and amounts per order line that add up by construction.

An order line is the units of one product at one price (sku, name, unit price, discount,
price to pay, tax rate) in one shipment. For each line View Order shows:

- **ordered**: its units; each unit is in exactly one of **canceled**, **shipped** or
  **open**, so ordered = canceled + shipped + open. Which bucket is read from the unit's
  state history, for any process: the last event of its history that is a cancel event
  (``PANEL_CANCEL_EVENTS``, default ``cancel``) or a ship event (``PANEL_SHIP_EVENTS``,
  default ``ship``) decides; a unit with neither is open.
- **returned**: its units found in a return, open or closed (a unit returned twice counts
  once), so returned <= ordered.
- **refunded**: its units whose succeeded refunds give back all of their price to pay, and
  **partly refunded**: those with some but not all of it back; refunded + partly refunded
  <= ordered.
- the amounts: **paid** (the units' prices to pay), **refunded** (what succeeded refunds
  gave back for them), **pending** (what pending refunds and refused refunds waiting for a
  retry hold) and **refundable** (what is left): paid = refunded + pending + refundable. A
  unit's refunded and pending amounts are capped at its price to pay, so nothing is shown
  refunded above what was paid (the refund services never let it happen; see
  ``refund_amounts``).

The figures are computed from rows already loaded (history, refunds) and one query for the
returned units, so the order page's query count does not grow with its items.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from panel.extensions import db
from panel.models import ItemStateHistory, Order, OrderItem, Refund, ReturnItem
from panel.models.refund import HOLDING, SUCCEEDED
from panel.models.sales_return import Return
from panel.services.refunds import refunds_of

CANCELED, SHIPPED, OPEN = "canceled", "shipped", "open"


@dataclass
class OrderLine:
    """One order line's quantities (units) and amounts (minor units)."""

    name: str
    sku: str
    shipment_id: int | None
    price_to_pay: int  # per unit
    item_ids: list[int] = field(default_factory=list)
    canceled: int = 0
    shipped: int = 0
    open: int = 0
    returned: int = 0
    refunded: int = 0
    partly_refunded: int = 0
    paid: int = 0
    refunded_amount: int = 0
    pending_amount: int = 0

    @property
    def ordered(self) -> int:
        return len(self.item_ids)

    @property
    def refundable(self) -> int:
        return self.paid - self.refunded_amount - self.pending_amount


@dataclass
class Quantities:
    lines: list[OrderLine]

    def total(self, attribute: str) -> int:
        return sum(getattr(line, attribute) for line in self.lines)


def fulfilment(events: Iterable[str | None], cancel_events: set[str],
               ship_events: set[str]) -> str:
    """CANCELED, SHIPPED or OPEN: the last cancel or ship event among a unit's history
    events (oldest first) decides."""
    bucket = OPEN
    for event in events:
        if event in cancel_events:
            bucket = CANCELED
        elif event in ship_events:
            bucket = SHIPPED
    return bucket


def compute(items: Sequence[OrderItem], events: Mapping[int, Iterable[str | None]],
            refunds: Iterable[Refund], returned_ids: set[int]) -> Quantities:
    """The order lines of ``items``: ``events`` are each item's history events oldest
    first, ``refunds`` the order's refunds with their lines, ``returned_ids`` the items
    found in any return."""
    cancel_events = set(current_app.config["PANEL_CANCEL_EVENTS"])
    ship_events = set(current_app.config["PANEL_SHIP_EVENTS"])
    refunded: dict[int, int] = {}
    pending: dict[int, int] = {}
    for refund in refunds:
        if refund.status not in HOLDING:
            continue
        into = refunded if refund.status == SUCCEEDED else pending
        for line in refund.lines:
            into[line.order_item_id] = into.get(line.order_item_id, 0) + line.amount
    lines: dict[tuple, OrderLine] = {}
    for item in sorted(items, key=lambda i: (i.shipment_id or 0, i.id)):
        key = (item.shipment_id, item.sku, item.name, item.unit_price, item.discount,
               item.price_to_pay, Decimal(item.tax_rate))
        line = lines.get(key)
        if line is None:
            line = lines[key] = OrderLine(item.name, item.sku, item.shipment_id,
                                          item.price_to_pay)
        line.item_ids.append(item.id)
        bucket = fulfilment(events.get(item.id, ()), cancel_events, ship_events)
        setattr(line, bucket, getattr(line, bucket) + 1)
        line.returned += item.id in returned_ids
        paid = item.price_to_pay
        back = min(refunded.get(item.id, 0), paid)
        line.paid += paid
        line.refunded_amount += back
        line.pending_amount += min(pending.get(item.id, 0), paid - back)
        if paid and back == paid:
            line.refunded += 1
        elif back:
            line.partly_refunded += 1
    return Quantities(list(lines.values()))


def returned_item_ids(order_id: int) -> set[int]:
    """The order's items found in a return, open or closed (one query)."""
    return set(db.session.scalars(
        select(ReturnItem.order_item_id).join(Return, Return.id == ReturnItem.return_id)
        .where(Return.order_id == order_id).distinct()))


def load(order: Order) -> Quantities:
    """The quantities of ``order``, read from the database (three queries): for callers that
    have not loaded its history and refunds already."""
    events: dict[int, list[str | None]] = {}
    for item_id, event in db.session.execute(
        select(ItemStateHistory.item_id, ItemStateHistory.event)
        .join(OrderItem, OrderItem.id == ItemStateHistory.item_id)
        .where(OrderItem.order_id == order.id).order_by(ItemStateHistory.id)
    ):
        events.setdefault(item_id, []).append(event)
    return compute(order.items, events, refunds_of(order.id), returned_item_ids(order.id))
