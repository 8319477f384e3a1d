"""How much of an order may still be refunded: per item, per shipment's shipping, in all.

What the customer paid for an item is its ``price_to_pay`` (the unit price with tax, less
the item's share of discounts, as intake computes it). What was refunded is held by every
refund that is not discarded: succeeded, pending, or refused and waiting for a retry. The
rule that turns the two into the amounts offered is the hook ``select_refundable_amounts``;
the bundled default (``paid_less_held``) offers an item's price to pay less what is held,
and a shipment's shipping once the refund takes the last of that shipment's items that
still have something to refund, as Spryker's ExpenseRefundCalculator does.

Whatever a plugin answers, ``refundable`` never offers more than that default's bounds,
and never more in all than is left of the captured payment: nothing is refunded twice or
above what was captured.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select

from panel.extensions import db
from panel.models import Order, Refund, RefundLine, RefundShipping
from panel.models.refund import HOLDING
from panel.plugins import plugin_manager


@dataclass(frozen=True)
class Held:
    """What the order's refunds that are not discarded hold: per item id, per shipment id,
    and in all (adjustments included), in minor units."""

    items: dict[int, int] = field(default_factory=dict)
    shipping: dict[int, int] = field(default_factory=dict)
    total: int = 0


@dataclass(frozen=True)
class Refundable:
    """What may be refunded now: per item id, and per shipment id the shipping offered with
    the items asked about (a shipment left out is not offered)."""

    items: dict[int, int] = field(default_factory=dict)
    shipping: dict[int, int] = field(default_factory=dict)


def held_amounts(order_id: int) -> Held:
    """Sum what the order's holding refunds take (three grouped queries). Call it under the
    order's lock when the answer decides a new refund."""
    holding = (Refund.order_id == order_id) & Refund.status.in_(HOLDING)
    items = db.session.execute(
        select(RefundLine.order_item_id, func.sum(RefundLine.amount))
        .join(Refund, Refund.id == RefundLine.refund_id).where(holding)
        .group_by(RefundLine.order_item_id)).all()
    shipping = db.session.execute(
        select(RefundShipping.shipment_id, func.sum(RefundShipping.amount))
        .join(Refund, Refund.id == RefundShipping.refund_id).where(holding)
        .group_by(RefundShipping.shipment_id)).all()
    total = db.session.scalar(select(func.coalesce(func.sum(Refund.total), 0)).where(holding))
    return Held(items={i: int(a) for i, a in items}, shipping={s: int(a) for s, a in shipping},
                total=int(total))


def captured_amount(order: Order) -> int:
    """What the customer's payment brought in: nothing until it is captured."""
    return order.payment_amount if order.payment_captured_at is not None else 0


def left_of_payment(order: Order, held: Held) -> int:
    """What may still go back in all: the captured payment less every holding refund."""
    return max(0, captured_amount(order) - held.total)


def paid_less_held(order: Order, held: Held, item_ids: Collection[int]) -> Refundable:
    """The default rule: each item's price to pay less what is held; a shipment's shipping
    (its price less what is held) when none of its items outside ``item_ids`` has anything
    left to refund."""
    items = {item.id: max(0, item.price_to_pay - held.items.get(item.id, 0))
             for item in order.items}
    chosen = set(item_ids)
    left_behind: dict[int, int] = {shipment.id: 0 for shipment in order.shipments}
    for item in order.items:
        if item.id not in chosen:
            left_behind[item.shipment_id] = left_behind.get(item.shipment_id, 0) + items[item.id]
    shipping = {shipment.id: max(0, shipment.price - held.shipping.get(shipment.id, 0))
                for shipment in order.shipments if left_behind[shipment.id] == 0}
    return Refundable(items=items, shipping=shipping)


def refundable(order: Order, held: Held, item_ids: Collection[int]) -> Refundable:
    """Ask the plugins (``select_refundable_amounts``) what may be refunded of ``order`` in
    a refund of ``item_ids``, and keep each answer within the default's bounds."""
    answer = plugin_manager().hook.select_refundable_amounts(
        order=order, held=held, item_ids=frozenset(item_ids))
    bounds = paid_less_held(order, held, [item.id for item in order.items])
    if answer is None:
        return paid_less_held(order, held, item_ids)
    items = {item_id: _within(answer.items.get(item_id, 0), bound)
             for item_id, bound in bounds.items.items()}
    shipping = {shipment_id: _within(amount, bounds.shipping[shipment_id])
                for shipment_id, amount in answer.shipping.items()
                if shipment_id in bounds.shipping}
    return Refundable(items=items, shipping=shipping)


def _within(amount, bound: int) -> int:
    return max(0, min(int(amount or 0), bound))
