"""Which items may be claimed: not twice at once, and (when set) within a claim window."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, g
from sqlalchemy import func, select

from panel import hookimpl
from panel.extensions import db
from panel.models import ItemStateHistory, OrderItem
from panel.services.reclamations import open_claims_of

DELIVERED = "delivered"


def _per_evaluation(key: str, order, now, load):
    """Load something once per order and evaluation (claimable_items passes one ``now``)."""
    cache = g.setdefault("claim_rule_cache", {})
    cache_key = (key, order.id, now)
    if cache_key not in cache:
        cache[cache_key] = load()
    return cache[cache_key]


def not_already_claimed(*, order, item, now):
    """An item in an open reclamation cannot be claimed again until that one is closed."""
    claims = _per_evaluation("open", order, now, lambda: open_claims_of(order.id))
    if item.id in claims:
        return f"already in open reclamation #{claims[item.id]}"
    return None


def within_claim_window(*, order, item, now):
    """Items delivered more than PANEL_CLAIM_WINDOW_DAYS days ago cannot be claimed."""
    days = current_app.config["PANEL_CLAIM_WINDOW_DAYS"]

    def delivered_at():
        return dict(db.session.execute(
            select(ItemStateHistory.item_id, func.max(ItemStateHistory.created_at))
            .join(OrderItem, OrderItem.id == ItemStateHistory.item_id)
            .where(OrderItem.order_id == order.id, ItemStateHistory.to_state == DELIVERED)
            .group_by(ItemStateHistory.item_id)
        ).all())

    delivered = _per_evaluation("delivered", order, now, delivered_at).get(item.id)
    if delivered is not None and now - delivered > timedelta(days=days):
        return (f"delivered on {delivered:%Y-%m-%d}, more than {days} days ago "
                f"(the claim window)")
    return None


@hookimpl(trylast=True)
def register_claim_rules():
    rules = [not_already_claimed]
    if current_app.config["PANEL_CLAIM_WINDOW_DAYS"]:
        rules.append(within_claim_window)
    return rules
