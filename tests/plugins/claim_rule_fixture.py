"""A project's claim rules: gift wrapping cannot be claimed (asked item by item), and
returned items are claimed through their return (asked once per order, with one query)."""
from sqlalchemy import select

from panel import hookimpl
from panel.extensions import db
from panel.models import ItemStateHistory, OrderItem
from panel.services.reclamations import by_order

RETURN_CALLS: list[tuple[int, list[int]]] = []  # (order id, [item ids]) per call


def no_gift_wrap(*, order, item, now):
    if item.sku == "WRAP":
        return "gift wrapping cannot be claimed"
    return None


@by_order
def not_returned(*, order, items, now):
    RETURN_CALLS.append((order.id, [item.id for item in items]))
    returned = set(db.session.scalars(
        select(ItemStateHistory.item_id).join(OrderItem, OrderItem.id == ItemStateHistory.item_id)
        .where(OrderItem.order_id == order.id, ItemStateHistory.to_state == "returned")))
    return {item.id: "returned: it is claimed through its return"
            for item in items if item.id in returned}


@hookimpl
def register_claim_rules():
    return [no_gift_wrap, not_returned]
