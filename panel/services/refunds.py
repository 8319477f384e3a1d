"""Refunds: make one for some of an order's items (from the Create Refund page, or from the
state machine's ``refund`` command), have the payment plugin carry it out, and retry or
discard one the provider refused.

Two transactions, so that no money leaves without a record of it:

1. ``create_refund``: under the order's row lock, read what earlier refunds hold, check the
   amounts against what is refundable (``panel.services.refund_amounts``), and save the
   refund ``pending`` with its lines; commit.
2. ``send_refund``: take the order's lock again, re-read the refund, ask its payment plugin
   (``refund_payment``) while holding the lock, so that a retry pressed meanwhile waits and
   then finds the outcome, and save the outcome; commit. A plugin that raises leaves the
   refund ``refused`` with the provider's message; it still holds its amounts until it is
   retried (``retry_refund``) or discarded (``discard_refund``).

A refund the provider accepted goes through ``refund_succeeded``: the one place where that
moment is recorded, in the transaction of step 2, with the order row locked.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from panel.extensions import db
from panel.formatting import format_money, format_number
from panel.i18n import _, _l, in_language
from panel.models import Order, Refund, RefundLine, RefundShipping
from panel.models.base import utcnow
from panel.models.refund import DISCARDED, PENDING, REFUSED, SUCCEEDED
from panel.models.user import ROLE_RANK
from panel.oms.engine import lock_order
from panel.oms.registry import current_registry
from panel.plugins import plugin_manager
from panel.services import documents, settlements
from panel.services.paging import fetch_page
from panel.services.refund_amounts import (
    Held,
    Refundable,
    captured_amount,
    held_amounts,
    left_of_payment,
    refundable,
)
from panel.services.text_fields import readable, single_line

REFUND_EVENT = "refund"
MAX_REASON = 255
MAX_ERROR = 2000

log = logging.getLogger(__name__)


class RefundRefused(ValueError):
    """The refund was not made, retried or discarded; the message says why. Nothing changed."""


@dataclass
class RefundRequest:
    """What to refund, in minor units: per item id and per shipment id an amount, or None for
    all that is refundable; and an adjustment with its reason."""

    items: dict[int, int | None] = field(default_factory=dict)
    shipping: dict[int, int | None] = field(default_factory=dict)
    adjustment: int = 0
    adjustment_reason: str = ""


def refusal(user) -> str | None:
    """Why ``user`` may not refund money, or None when they may: refunding needs the role of
    the ``refund`` event (``register_event_roles``; the bundled process says admin), and at
    least an agent's."""
    needed = current_registry().event_roles.get(REFUND_EVENT, "agent")
    if ROLE_RANK.get(user.role, 0) >= ROLE_RANK[needed]:
        return None
    # Translators: the role is a role's own name, untranslated: "only admins may refund".
    return _("only %(role)ss may refund", role=needed)


# -- making a refund ---------------------------------------------------------------------

def create_refund(order_id: int, request: RefundRequest, *, actor: str,
                  reclamation_id: int | None = None, user_name: str | None = None) -> Refund:
    """Check and save a pending refund of the order (committed); RefundRefused says why not.
    Carry it out with ``send_refund``. With ``reclamation_id``, the refund settles that open
    reclamation of the order, closed in the same transaction by ``user_name``."""
    reason = _checked_reason(request)
    order = lock_order(order_id)
    if order is None:
        db.session.rollback()
        raise RefundRefused(_("there is no order #%(id)s", id=order_id))
    try:
        reclamation = settlements.reclamation_to_settle(order, reclamation_id)
        refund = add_refund(order, request, actor=actor, reason=reason)
        if reclamation is not None:
            refund.reclamation_id = reclamation.id
            settlements.settle(reclamation, order, f"refund #{refund.id}", user_name or actor)
    except settlements.SettleRefused as exc:
        db.session.rollback()
        raise RefundRefused(str(exc)) from None
    except RefundRefused:
        db.session.rollback()
        raise
    db.session.commit()
    return refund


def add_refund(order: Order, request: RefundRequest, *, actor: str, event: str | None = None,
               reason: str | None = None) -> Refund:
    """Check ``request`` against what is refundable now and add the pending refund (flushed,
    not committed). The caller holds the order's lock and commits."""
    if reason is None:
        reason = _checked_reason(request)
    held = held_amounts(order.id)
    offer = refundable(order, held, request.items.keys())
    money = _money(order)
    items = {item.id: item for item in order.items}
    lines = []
    for item_id, asked in request.items.items():
        item = items.get(item_id)
        if item is None:
            raise RefundRefused(_("item #%(id)s is not an item of order %(reference)s",
                                  id=item_id, reference=order.order_reference))
        what = _("%(name)s (item #%(id)s)", name=item.name, id=item.id)
        amount = _amount(what, asked, offer.items.get(item_id, 0), money)
        lines.append(RefundLine(order_item_id=item_id, amount=amount))
    shipments = {shipment.id: number for number, shipment in enumerate(order.shipments, 1)}
    shipping = []
    for shipment_id, asked in request.shipping.items():
        if shipment_id not in shipments:
            raise RefundRefused(_("shipment #%(id)s is not a shipment of order %(reference)s",
                                  id=shipment_id, reference=order.order_reference))
        what = _("the shipping of shipment %(number)s", number=shipments[shipment_id])
        if shipment_id not in offer.shipping:
            raise RefundRefused(_("%(what)s is refunded only together with the last of its "
                                  "items that still have something to refund", what=what))
        amount = _amount(what, asked, offer.shipping[shipment_id], money)
        shipping.append(RefundShipping(shipment_id=shipment_id, amount=amount))
    shipping_amount = sum(part.amount for part in shipping)
    total = sum(line.amount for line in lines) + shipping_amount + request.adjustment
    if total <= 0:
        raise RefundRefused(_("there is nothing to refund: tick an item or give an adjustment"))
    left = left_of_payment(order, held)
    if total > left:
        captured = captured_amount(order)
        if not captured:
            raise RefundRefused(_("the payment of order %(reference)s has not been captured, "
                                  "so there is nothing to refund",
                                  reference=order.order_reference))
        raise RefundRefused(_("the refund of %(total)s is more than the %(left)s left of the "
                              "captured payment of %(captured)s", total=money(total),
                              left=money(left), captured=money(captured)))
    refund = Refund(
        order_id=order.id, status=PENDING, total=total, shipping_amount=shipping_amount,
        adjustment_amount=request.adjustment, adjustment_reason=reason,
        payment_method=order.payment_method, attempts=0, event=event, created_by=actor,
        created_at=utcnow(), lines=lines, shipping=shipping,
    )
    db.session.add(refund)
    db.session.flush()
    return refund


def _checked_reason(request: RefundRequest) -> str | None:
    """Check what needs no database: something asked, no negative amount, an adjustment
    with a reason a person can read and no reason without one. Return the reason."""
    reason = (request.adjustment_reason or "").strip()
    if reason and not request.adjustment:
        raise RefundRefused(_("an adjustment reason needs an adjustment amount"))
    if not request.items and not request.shipping and not request.adjustment:
        raise RefundRefused(_("there is nothing to refund: tick an item or give an adjustment"))
    if any(amount is not None and amount < 0
           for amount in (*request.items.values(), *request.shipping.values())):
        raise RefundRefused(_("an amount to refund must not be negative"))
    if request.adjustment < 0:
        raise RefundRefused(_("the adjustment must not be negative"))
    if request.adjustment and not reason:
        raise RefundRefused(_("say why the adjustment is given (the adjustment reason)"))
    if len(reason) > MAX_REASON:
        raise RefundRefused(_("the adjustment reason is %(length)s characters long; at most "
                              "%(most)s are allowed", length=format_number(len(reason)),
                              most=format_number(MAX_REASON)))
    if reason:
        try:
            readable(single_line(reason))
        except ValueError as exc:
            # Translators: the problem comes from the check of text fields ("contains ...").
            raise RefundRefused(_("the adjustment reason %(problem)s", problem=exc)) from None
    return reason or None


def _amount(what: str, asked: int | None, available: int, money) -> int:
    """The amount to refund of one item or shipping: ``asked``, or all that is available."""
    if available <= 0:
        raise RefundRefused(_("%(what)s has nothing left to refund", what=what))
    amount = available if asked is None else asked
    if amount <= 0:
        raise RefundRefused(_("%(what)s: the amount must be more than %(zero)s, or leave it out",
                              what=what, zero=money(0)))
    if amount > available:
        raise RefundRefused(_("%(what)s: %(amount)s is more than the %(available)s still "
                              "refundable", what=what, amount=money(amount),
                              available=money(available)))
    return amount


def _money(order: Order):
    return lambda amount: format_money(amount, order.currency)


def refund_moved_items(order: Order, items, *, event: str, actor: str) -> Refund | None:
    """The state machine's refund: all that is refundable of ``items``, with the shipping
    this offers (the last items of a shipment bring its shipping along). Items with nothing
    left get nothing; None when nothing at all is left. Added inside the engine's run (its
    lock and transaction); RefundRefused when the captured payment does not cover it, in
    English: the engine keeps the message in the Transition Log, which reads the same for
    everyone."""
    offer = refundable(order, held_amounts(order.id), [item.id for item in items])
    request = RefundRequest(
        items={item.id: offer.items[item.id] for item in items if offer.items.get(item.id)},
        shipping={sid: amount for sid, amount in offer.shipping.items() if amount})
    if not request.items and not request.shipping:
        return None
    with in_language("en"):
        return add_refund(order, request, actor=actor, event=event)


# -- carrying it out -----------------------------------------------------------------------

def send_refund(refund_id: int) -> Refund:
    """Have the payment plugin carry out a pending or refused refund, and save its answer
    (committed). RefundRefused when the refund is not there or not waiting to be sent."""
    order_id = db.session.scalar(select(Refund.order_id).where(Refund.id == refund_id))
    if order_id is None:
        raise RefundRefused(_("there is no refund #%(id)s", id=refund_id))
    lock_order(order_id)
    refund = db.session.get(Refund, refund_id, populate_existing=True)
    if not refund.can_retry:
        db.session.rollback()
        raise RefundRefused(_("refund #%(id)s is %(status)s already", id=refund_id,
                              status=status_name(refund.status)))
    refund.attempts += 1
    try:
        with db.session.begin_nested():  # what a failing plugin wrote goes; the lock stays
            reference = plugin_manager().hook.refund_payment(refund=refund)
            if reference is None:
                raise LookupError(f"no payment plugin carries out refunds of the payment "
                                  f"method {refund.payment_method}")
            if not str(reference).strip():
                raise ValueError("the payment plugin answered without a reference")
    except Exception as exc:  # a plugin's failure of any kind is the provider's refusal
        refund.status = REFUSED
        refund.error = (str(exc).strip() or type(exc).__name__)[:MAX_ERROR]
    else:
        refund_succeeded(refund, str(reference).strip()[:255])
    db.session.commit()
    return refund


def refund_succeeded(refund: Refund, reference: str) -> None:
    """Record that the provider carried ``refund`` out: the one place where a refund
    succeeds, inside the transaction that saves it, with the order row locked. The order's
    refund total becomes the sum of its succeeded refunds."""
    refund.status = SUCCEEDED
    refund.provider_reference = reference
    refund.error = None
    refund.succeeded_at = utcnow()
    db.session.flush()
    refund.order.refund_total = db.session.scalar(
        select(func.coalesce(func.sum(Refund.total), 0))
        .where(Refund.order_id == refund.order_id, Refund.status == SUCCEEDED))
    credit(refund)


def credit(refund: Refund) -> None:
    """Issue the succeeded refund's credit note, in the same transaction: the credit notes of
    an order add up to its refund total. The provider has paid by now, so a credit note the
    documents refuse (which the refund's own checks rule out) does not undo the refund: it
    is logged and noted on the refund for someone to look at."""
    try:
        with db.session.begin_nested():
            documents.issue_credit_note(
                refund.order, [(line.order_item, line.amount) for line in refund.lines],
                shipping=sum(part.amount for part in refund.shipping),
                adjustment=refund.adjustment_amount,
                adjustment_reason=refund.adjustment_reason, refund_id=refund.id,
                actor=refund.created_by)
    except documents.DocumentRefused as exc:
        log.error("refund #%s succeeded but its credit note was refused: %s", refund.id, exc)
        refund.error = f"no credit note was issued: {exc}"[:MAX_ERROR]


def retry_refund(order_id: int, refund_id: int) -> Refund:
    """Send a refused (or never answered) refund of the order again."""
    _refund_of(order_id, refund_id)
    return send_refund(refund_id)


def discard_refund(order_id: int, refund_id: int, *, actor: str) -> Refund:
    """Give up a refused refund: its amounts become refundable again (committed)."""
    _refund_of(order_id, refund_id)
    lock_order(order_id)
    refund = db.session.get(Refund, refund_id, populate_existing=True)
    if not refund.can_discard:
        db.session.rollback()
        if refund.status == PENDING:
            raise RefundRefused(_("refund #%(id)s is %(status)s; only a refused refund can be "
                                  "discarded (retry it first)", id=refund_id,
                                  status=status_name(refund.status)))
        raise RefundRefused(_("refund #%(id)s is %(status)s; only a refused refund can be "
                              "discarded", id=refund_id, status=status_name(refund.status)))
    refund.status = DISCARDED
    refund.discarded_by = actor
    refund.discarded_at = utcnow()
    db.session.commit()
    return refund


def _refund_of(order_id: int, refund_id: int) -> None:
    found = db.session.scalar(select(Refund.order_id).where(Refund.id == refund_id))
    if found is None or found != order_id:
        raise RefundRefused(_("refund #%(id)s is not a refund of this order", id=refund_id))


# -- reading -------------------------------------------------------------------------------

@dataclass
class RefundOffer:
    """What the Create Refund page offers: per item what is held and refundable, per
    shipment the shipping that comes with its last items, and what is left of the payment."""

    order: Order
    held: Held
    refundable: Refundable  # asked for every item: each shipment's shipping at its most
    captured: int
    left: int

    @property
    def items_total(self) -> int:
        return sum(self.refundable.items.values())

    @property
    def shipping_total(self) -> int:
        return sum(self.refundable.shipping.values())


def offer_for(order: Order) -> RefundOffer:
    """What may be refunded of ``order`` now, as the Create Refund page shows it."""
    held = held_amounts(order.id)
    offer = refundable(order, held, [item.id for item in order.items])
    return RefundOffer(order, held, offer, captured_amount(order), left_of_payment(order, held))


def refunds_of(order_id: int) -> list[Refund]:
    """The order's refunds, newest first, with their lines and shipping parts."""
    return list(db.session.scalars(
        select(Refund).where(Refund.order_id == order_id)
        .options(selectinload(Refund.lines).joinedload(RefundLine.order_item),
                 selectinload(Refund.shipping))
        .order_by(Refund.created_at.desc(), Refund.id.desc())))


STATUSES = (PENDING, SUCCEEDED, REFUSED, DISCARDED)
# What the pages call each status (the template global ``refund_statuses``).
STATUS_NAMES = {PENDING: _l("pending"), SUCCEEDED: _l("succeeded"), REFUSED: _l("refused"),
                DISCARDED: _l("discarded")}


def status_name(status: str) -> str:
    """A refund status as the pages name it, in the request's language."""
    return str(STATUS_NAMES.get(status, status))


@dataclass
class RefundQuery:
    status: str = ""  # "" or one of STATUSES
    page: int = 1
    per_page: int = 10


def find_refunds(query: RefundQuery):
    """Sales > Refunds: newest first, all of them or those of one status."""
    stmt = select(Refund).options(selectinload(Refund.order))
    if query.status:
        stmt = stmt.where(Refund.status == query.status)
    return fetch_page(stmt, (Refund.created_at.desc(), Refund.id.desc()), Refund.id,
                      query.page, query.per_page)
