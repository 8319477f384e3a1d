"""Which items may be claimed: not twice at once, and (when set) within a claim window.

Both rules look at all of an order's items at once (``by_order``): one query each per order.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from panel import hookimpl
from panel.extensions import db
from panel.formatting import format_date, format_number
from panel.i18n import _, ngettext
from panel.models import ItemStateHistory, OrderItem
from panel.services.reclamations import by_order, open_claims_of

DELIVERED = "delivered"


@by_order
def not_already_claimed(*, order, items, now):
    """An item in an open reclamation cannot be claimed again until that one is closed."""
    claims = open_claims_of(order.id)
    return {item.id: _("already in open reclamation #%(id)s", id=claims[item.id])
            for item in items if item.id in claims}


@by_order
def within_claim_window(*, order, items, now):
    """Items delivered more than PANEL_CLAIM_WINDOW_DAYS days ago cannot be claimed."""
    days = current_app.config["PANEL_CLAIM_WINDOW_DAYS"]
    delivered = dict(db.session.execute(
        select(ItemStateHistory.item_id, func.max(ItemStateHistory.created_at))
        .join(OrderItem, OrderItem.id == ItemStateHistory.item_id)
        .where(OrderItem.order_id == order.id, ItemStateHistory.to_state == DELIVERED)
        .group_by(ItemStateHistory.item_id)
    ).all())
    reasons = {}
    for item in items:
        at = delivered.get(item.id)
        if at is not None and now - at > timedelta(days=days):
            reasons[item.id] = ngettext(
                "delivered on %(day)s, more than %(days)s day ago (the claim window)",
                "delivered on %(day)s, more than %(days)s days ago (the claim window)",
                days, day=format_date(at), days=format_number(days))
    return reasons


@hookimpl(trylast=True)
def register_claim_rules():
    rules = [not_already_claimed]
    if current_app.config["PANEL_CLAIM_WINDOW_DAYS"]:
        rules.append(within_claim_window)
    return rules
