"""Claiming orders: which items may be claimed (plugins' rules), opening and closing claims.

A reclamation changes no item state. Opening one runs under the order's row lock and checks
the rules again, so a tampered form or two people claiming the same item at once cannot put
an item into two open reclamations.

A claim rule is asked about one item at a time, ``rule(order=, item=, now=)``, or, marked
``@by_order``, about all of an order's items at once, ``rule(order=, items=, now=)``: one
call per order, so a rule that needs a query makes it once without a cache of its own
(``panel.services.item_rules``, which return rules share).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update

from panel.extensions import db
from panel.formatting import format_number
from panel.i18n import _
from panel.models import Order, OrderItem, Reclamation, ReclamationItem
from panel.models.base import utcnow
from panel.models.reclamation import CLOSED, OPEN
from panel.oms.engine import lock_order
from panel.plugins import plugin_manager
from panel.services.item_rules import by_order as by_order  # claim rules import it from here
from panel.services.item_rules import refusals
from panel.services.order_search import starts_with
from panel.services.paging import fetch_page
from panel.services.text_fields import multi_line

MAX_REASON = 5000
MAX_NOTE = 5000


class ClaimRefused(ValueError):
    """The claim cannot be made; the message says why, and nothing was saved."""


@dataclass
class ClaimableItem:
    item: OrderItem
    blocked_by: str | None  # the first rule's reason, or None when it may be claimed

    @property
    def claimable(self) -> bool:
        return self.blocked_by is None


def claim_rules() -> list:
    """The rules of every plugin, highest priority first."""
    return [rule for rules in plugin_manager().hook.register_claim_rules() for rule in rules]


def claimable_items(order: Order, now: datetime | None = None) -> list[ClaimableItem]:
    """Each of the order's items with the reason it may not be claimed, if any: the first
    reason a rule gives, asking the rules in priority order."""
    now = now or utcnow()
    items = db.session.scalars(
        select(OrderItem).where(OrderItem.order_id == order.id).order_by(OrderItem.id)
    ).all()
    reasons = refusals(claim_rules(), order, items, now)
    return [ClaimableItem(item, reasons.get(item.id)) for item in items]


def _customer_name(order: Order) -> str:
    return order.customer_full_name


def _check_text(what: str, text: str) -> None:
    """ClaimRefused when the reason or the note (``what``) is not text a person can read."""
    try:
        multi_line(text)
    except ValueError as exc:
        # Translators: the problem comes from the check of text fields ("contains ...").
        message = (_("the reason %(problem)s", problem=exc) if what == "reason"
                   else _("the note %(problem)s", problem=exc))
        raise ClaimRefused(message) from None


def open_reclamation(order_id: int, item_ids: list[int], reason: str, user) -> Reclamation:
    """Open a reclamation on some of the order's items; raise ClaimRefused naming why not."""
    reason = (reason or "").strip()
    if not item_ids:
        raise ClaimRefused(_("tick at least one item to claim"))
    if len(reason) > MAX_REASON:
        raise ClaimRefused(_("the reason is %(length)s characters long; at most %(most)s are "
                             "allowed", length=format_number(len(reason)),
                             most=format_number(MAX_REASON)))
    if reason:
        _check_text("reason", reason)
    order = lock_order(order_id)
    if order is None:
        db.session.rollback()
        raise ClaimRefused(_("there is no order #%(id)s", id=order_id))
    try:
        by_id = {c.item.id: c for c in claimable_items(order)}
        unknown = [i for i in item_ids if i not in by_id]
        if unknown:
            raise ClaimRefused(_("item #%(id)s is not an item of order %(reference)s",
                                 id=unknown[0], reference=order.order_reference))
        for item_id in item_ids:
            if not by_id[item_id].claimable:
                item = by_id[item_id].item
                raise ClaimRefused(_("%(name)s (item #%(id)s) cannot be claimed: %(why)s",
                                     name=item.name, id=item.id,
                                     why=by_id[item_id].blocked_by))
        reclamation = Reclamation(
            order_id=order.id, customer_name=_customer_name(order),
            customer_reference=order.customer_reference, customer_email=order.email,
            reason=reason, state=OPEN, item_count=len(set(item_ids)),
            created_by_id=user.id, created_by_name=user.name,
        )
        reclamation.items = [ReclamationItem(order_item_id=i) for i in sorted(set(item_ids))]
        db.session.add(reclamation)
        order.open_reclamations += 1
        db.session.commit()
    except ClaimRefused:
        db.session.rollback()
        raise
    return reclamation


def close_reclamation(reclamation_id: int, note: str, user) -> Reclamation:
    """Close an open reclamation for good; closing twice is refused."""
    note = (note or "").strip() or None
    if note:
        _check_text("note", note)
    if note and len(note) > MAX_NOTE:
        raise ClaimRefused(_("the note is %(length)s characters long; at most %(most)s are "
                             "allowed", length=format_number(len(note)),
                             most=format_number(MAX_NOTE)))
    reclamation = db.session.get(Reclamation, reclamation_id)
    if reclamation is None:
        raise ClaimRefused(_("there is no reclamation #%(id)s", id=reclamation_id))
    lock_order(reclamation.order_id)
    closed = db.session.execute(
        update(Reclamation)
        .where(Reclamation.id == reclamation_id, Reclamation.state == OPEN)
        .values(state=CLOSED, closed_at=utcnow(), closed_by_name=user.name, close_note=note)
    ).rowcount
    if not closed:
        db.session.rollback()
        raise ClaimRefused(_("reclamation #%(id)s is already closed", id=reclamation_id))
    db.session.execute(update(Order).where(Order.id == reclamation.order_id)
                       .values(open_reclamations=Order.open_reclamations - 1))
    db.session.commit()
    return db.session.get(Reclamation, reclamation_id, populate_existing=True)


def claimed_item_ids(reclamation: Reclamation) -> list[int]:
    return [ri.order_item_id for ri in reclamation.items]


def open_claims_of(order_id: int) -> dict[int, int]:
    """{order item id: open reclamation id} for one order (one query)."""
    rows = db.session.execute(
        select(ReclamationItem.order_item_id, Reclamation.id)
        .join(Reclamation, Reclamation.id == ReclamationItem.reclamation_id)
        .where(Reclamation.order_id == order_id, Reclamation.state == OPEN)
    ).all()
    return {item_id: reclamation_id for item_id, reclamation_id in rows}


@dataclass
class ReclamationQuery:
    search: str = ""
    state: str = ""  # "", "open" or "closed"
    page: int = 1
    per_page: int = 10


def find_reclamations(query: ReclamationQuery):
    """Newest first; search by customer name (any part), email (beginning) or order reference."""
    stmt = select(Reclamation)
    term = " ".join(query.search.split())
    if term:
        reference = select(Order.id).where(Order.order_reference == term).scalar_subquery()
        stmt = stmt.where(or_(
            func.lower(Reclamation.customer_name).contains(term.lower(), autoescape=True),
            starts_with(Reclamation.customer_email, term.lower()),
            Reclamation.order_id == reference,
        ))
    if query.state:
        stmt = stmt.where(Reclamation.state == query.state)
    return fetch_page(stmt, (Reclamation.created_at.desc(), Reclamation.id.desc()),
                      Reclamation.id, query.page, query.per_page)


def reclamations_of(order_id: int) -> list[Reclamation]:
    return list(db.session.scalars(
        select(Reclamation).where(Reclamation.order_id == order_id)
        .order_by(Reclamation.created_at.desc(), Reclamation.id.desc())
    ))
