"""A project's column for the orders list: the customer's loyalty tier, by how many orders
the customer's email has placed (one query per page, whatever its size: CALLS records each
call's orders). Hidden unless a list asks for it; its value is plain text, escaped."""
from sqlalchemy import func, select

from panel import hookimpl
from panel.extensions import db
from panel.models import Order
from panel.services.order_columns import OrderColumn

CALLS: list[int] = []  # how many orders each call got


def tiers(orders):
    CALLS.append(len(orders))
    emails = {order.email for order in orders}
    placed = dict(db.session.execute(
        select(Order.email, func.count()).where(Order.email.in_(emails))
        .group_by(Order.email)).all())
    return {order.id: ("Gold <3+ orders>" if placed.get(order.email, 0) >= 3 else "Silver")
            for order in orders}


@hookimpl
def register_order_columns():
    return [OrderColumn("loyalty", "Loyalty tier", values=tiers, shown=False)]
