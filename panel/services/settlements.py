"""A reclamation settled by a return or a refund made from its page.

The return or refund names the reclamation (``reclamation_id``), and the reclamation is
closed with a note that names them, in the transaction that saves them: a reclamation is
never closed by a return or refund that was not saved, nor settled twice.
"""
from __future__ import annotations

from sqlalchemy import select

from panel.extensions import db
from panel.i18n import _
from panel.models import Order, Reclamation, Refund, Return
from panel.models.base import utcnow
from panel.models.reclamation import CLOSED
from panel.params import ParameterError, read_id


class SettleRefused(ValueError):
    """The reclamation cannot be settled by this order's return or refund."""


def reclamation_to_settle(order: Order, reclamation_id: int | None) -> Reclamation | None:
    """The open reclamation of ``order`` that ``reclamation_id`` names (None for none); call
    it under the order's lock. SettleRefused when it is not the order's, or closed."""
    if reclamation_id is None:
        return None
    reclamation = db.session.get(Reclamation, reclamation_id, populate_existing=True)
    if reclamation is None or reclamation.order_id != order.id:
        raise SettleRefused(_("reclamation #%(id)s is not a reclamation of order %(reference)s",
                              id=reclamation_id, reference=order.order_reference))
    if not reclamation.is_open:
        raise SettleRefused(_("reclamation #%(id)s is closed already", id=reclamation_id))
    return reclamation


def settle(reclamation: Reclamation, order: Order, by: str, user_name: str) -> None:
    """Close ``reclamation`` as settled ``by`` ("return DE--R-3", "refund #12"). The note is
    kept as it is written, in English, like a note a person writes: it is not translated."""
    reclamation.state = CLOSED
    reclamation.closed_at = utcnow()
    reclamation.closed_by_name = user_name[:100]
    reclamation.close_note = f"Settled by {by}."
    order.open_reclamations = max(0, order.open_reclamations - 1)


def settled_by(reclamation_id: int) -> tuple[list[Return], list[Refund]]:
    """The returns and refunds made to settle the reclamation."""
    returns = list(db.session.scalars(select(Return).where(
        Return.reclamation_id == reclamation_id).order_by(Return.id)))
    refunds = list(db.session.scalars(select(Refund).where(
        Refund.reclamation_id == reclamation_id).order_by(Refund.id)))
    return returns, refunds


def requested_reclamation(order: Order, raw: str | None) -> Reclamation | None:
    """The open reclamation of ``order`` that a page's ``reclamation`` parameter names, for
    Create Return and Create Refund opened from its page (None when none is named).
    SettleRefused when the value is not such a reclamation."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        reclamation_id = read_id("reclamation", raw)
    except ParameterError as exc:
        raise SettleRefused(str(exc)) from None
    return reclamation_to_settle(order, reclamation_id)


def claimed_item_ids(reclamation: Reclamation | None) -> list[int]:
    return [] if reclamation is None else [item.order_item_id for item in reclamation.items]
