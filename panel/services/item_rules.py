"""Rules that say why an item may not take part in something (a claim, a return).

A rule is asked about one item at a time, ``rule(order=, item=, now=)``, and returns a reason
a person can read, or None. A rule marked ``@by_order`` is asked once per order about all of
the items still in question, ``rule(order=, items=, now=)``, and returns ``{item id: reason}``
for those it refuses: a rule that needs a query makes it once, without a cache of its own.
"""
from __future__ import annotations

from datetime import datetime


def by_order(rule):
    """Mark a rule to be called once per order with its items: ``rule(order=order,
    items=items, now=now)`` returns ``{item id: reason}`` for the items it refuses."""
    rule.panel_by_order = True
    return rule


def refusals(rules, order, items, now: datetime) -> dict[int, str]:
    """``{item id: reason}``: for each refused item the first reason a rule gives, asking
    the rules in their order, each about the items no rule before it refused."""
    reasons: dict[int, str] = {}
    for rule in rules:
        open_items = [item for item in items if item.id not in reasons]
        if not open_items:
            break
        if getattr(rule, "panel_by_order", False):
            refused = rule(order=order, items=open_items, now=now) or {}
            given = ((item.id, refused.get(item.id)) for item in open_items)
        else:
            given = ((item.id, rule(order=order, item=item, now=now)) for item in open_items)
        reasons.update((item_id, reason) for item_id, reason in given if reason)
    return reasons
