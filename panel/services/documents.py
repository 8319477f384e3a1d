"""Issuing an order's documents: its invoice, and a credit note for each refund.

Issuing runs under the order's row lock (the state machine's commands already hold it), so
an order gets one invoice however many people or events ask at once, and what is credited is
checked against what was credited before. The number comes from ``document_numbers`` in the
same transaction; the lines and totals from ``document_lines``. The document stores all it
shows as issued (seller, customer, addresses, lines, totals): nothing of it is read from the
order again. The functions add the document to the session; the caller commits.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from panel.extensions import db
from panel.formatting import format_money
from panel.i18n import _
from panel.locking import lock_row
from panel.models import Document, Order, OrderAddress, OrderItem, Shipment
from panel.models.base import utcnow
from panel.models.document import CREDIT_NOTE, INVOICE, KINDS
from panel.models.order import ADDRESS_FIELDS
from panel.services import document_lines
from panel.services.document_lines import ITEM, SHIPPING, Line
from panel.services.document_numbers import next_number
from panel.services.text_fields import one_line_of_text

MAX_REASON = 200


class DocumentRefused(ValueError):
    """The document cannot be issued; the message says why, and nothing was saved."""


def documents_of(order_id: int) -> list[Document]:
    """The order's documents, oldest first."""
    return list(db.session.scalars(select(Document).where(Document.order_id == order_id)
                                   .order_by(Document.issued_at, Document.id)))


def invoice_of(order_id: int) -> Document | None:
    return db.session.scalar(select(Document).where(Document.order_id == order_id,
                                                    Document.kind == INVOICE))


def issue_invoice(order: Order, *, actor: str, now: datetime | None = None) -> Document:
    """Issue the order's invoice for all of its items and shipping, or return the one it
    has: an order has one invoice (what changes later is credited by credit notes)."""
    order = _lock(order)
    existing = invoice_of(order.id)
    if existing is not None:
        return existing
    shipments = _shipments(order.id)
    return _issue(order, INVOICE, document_lines.invoice_lines(_items(order.id), shipments),
                  shipments, actor=actor, now=now)


def issue_invoice_now(order_id: int, *, actor: str) -> tuple[Document, bool]:
    """Issue the order's invoice and commit: (the invoice, whether it is new)."""
    order = lock_row(Order, order_id)
    if order is None:
        db.session.rollback()
        raise DocumentRefused(_("there is no order #%(id)s", id=order_id))
    existing = invoice_of(order.id)
    if existing is not None:
        db.session.rollback()
        return existing, False
    document = issue_invoice(order, actor=actor)
    db.session.commit()
    return document, True


def issue_credit_note(order: Order, lines: Iterable[tuple[OrderItem, int]], *,
                      shipping: int = 0, adjustment: int = 0,
                      adjustment_reason: str | None = None, refund_id: int | None = None,
                      actor: str, now: datetime | None = None) -> Document:
    """Issue a credit note for the order: ``lines`` are (order item, gross amount
    refunded) pairs, ``shipping`` the shipping cost refunded, ``adjustment`` an amount more
    (or, negative, less) with its reason; all in minor units of the order's currency.

    An item is credited at most what was paid for it (its price to pay) over all credit
    notes, and shipping at most the order's shipping costs. A refund has one credit note:
    asked again with the same ``refund_id``, the one issued is returned. DocumentRefused
    says what is wrong.
    """
    order = _lock(order)
    if refund_id is not None:
        existing = db.session.scalar(select(Document).where(Document.refund_id == refund_id,
                                                            Document.kind == CREDIT_NOTE))
        if existing is not None:
            if existing.order_id != order.id:
                raise DocumentRefused(_("refund #%(id)s was credited on another order",
                                        id=refund_id))
            return existing
    refunded = _checked_lines(order, lines)
    if not _is_amount(shipping):
        raise DocumentRefused(_("the shipping must be a whole number of minor units, not "
                                "%(value)s", value=repr(shipping)))
    if shipping < 0:
        raise DocumentRefused(_("the shipping cannot be negative"))
    if not _is_amount(adjustment):
        raise DocumentRefused(_("the adjustment must be a whole number of minor units, not "
                                "%(value)s", value=repr(adjustment)))
    reason = _checked_reason(adjustment, adjustment_reason)
    credited_items, credited_shipping = _credited(order.id)
    for item, amount in refunded:
        left = item.price_to_pay - credited_items[item.id]
        if amount > left:
            raise DocumentRefused(_(
                "item #%(id)s (%(sku)s) can be credited %(left)s more, not %(amount)s",
                id=item.id, sku=item.sku, left=_money(left, order),
                amount=_money(amount, order)))
    if shipping > order.expense_total - credited_shipping:
        raise DocumentRefused(_(
            "the shipping can be credited %(left)s more, not %(amount)s",
            left=_money(order.expense_total - credited_shipping, order),
            amount=_money(shipping, order)))
    new_lines = document_lines.credit_note_lines(
        refunded, shipping=shipping, adjustment=adjustment, adjustment_reason=reason,
        rate=document_lines.standard_rate(_items(order.id)))
    total = sum(line.gross for line in new_lines)
    if total <= 0:
        raise DocumentRefused(_("a credit note must credit more than nothing: its total is "
                                "%(total)s", total=_money(total, order)))
    invoice = invoice_of(order.id)
    return _issue(order, CREDIT_NOTE, new_lines, _shipments(order.id), actor=actor, now=now,
                  refund_id=refund_id, invoice_number=invoice.number if invoice else None,
                  adjustment_reason=reason)


def _lock(order: Order) -> Order:
    """The order, locked for the rest of the transaction (again, if the caller holds it)."""
    locked = lock_row(Order, order.id)
    if locked is None:
        raise DocumentRefused(_("there is no order #%(id)s", id=order.id))
    return locked


def _shipments(order_id: int) -> list[Shipment]:
    return list(db.session.scalars(select(Shipment).where(Shipment.order_id == order_id)
                                   .order_by(Shipment.id)))


def _items(order_id: int) -> list[OrderItem]:
    return list(db.session.scalars(select(OrderItem).where(OrderItem.order_id == order_id)
                                   .order_by(OrderItem.id)))


def _money(amount: int, order: Order) -> str:
    return format_money(amount, order.currency)


def _is_amount(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_lines(order: Order, lines) -> list[tuple[OrderItem, int]]:
    checked = []
    for line in lines:
        if not (isinstance(line, tuple | list) and len(line) == 2
                and isinstance(line[0], OrderItem)):
            raise DocumentRefused(_("each line of a credit note is (order item, amount)"))
        item, amount = line
        if item.order_id != order.id:
            raise DocumentRefused(_("item #%(id)s is not an item of order %(reference)s",
                                    id=item.id, reference=order.order_reference))
        if not _is_amount(amount):
            raise DocumentRefused(_("the amount for item #%(id)s must be a whole number of "
                                    "minor units, not %(value)s", id=item.id,
                                    value=repr(amount)))
        if amount <= 0:
            raise DocumentRefused(_("the amount for item #%(id)s must be more than zero",
                                    id=item.id))
        checked.append((item, amount))
    twice = [item_id for item_id, n in Counter(i.id for i, _n in checked).items() if n > 1]
    if twice:
        raise DocumentRefused(_("item #%(id)s is listed twice", id=twice[0]))
    return checked


def _checked_reason(adjustment: int, reason: str | None) -> str | None:
    if not adjustment:
        return None
    try:
        return one_line_of_text(reason, _("adjustment's reason"), MAX_REASON)
    except ValueError as exc:
        raise DocumentRefused(str(exc)) from None


def _credited(order_id: int) -> tuple[Counter, int]:
    """What the order's credit notes credited so far: per item id, and for shipping."""
    per_item, shipping = Counter(), 0
    for content in db.session.scalars(select(Document.content).where(
            Document.order_id == order_id, Document.kind == CREDIT_NOTE)):
        for line in content["lines"]:
            if line["kind"] == ITEM:
                per_item[line["item_ids"][0]] += line["gross"]
            elif line["kind"] == SHIPPING:
                shipping += line["gross"]
    return per_item, shipping


def _address(address: OrderAddress) -> dict:
    return {name: getattr(address, name) for name in ADDRESS_FIELDS}


def _issue(order: Order, kind: str, lines: list[Line], shipments: list[Shipment], *,
           actor: str, now: datetime | None, refund_id: int | None = None,
           invoice_number: str | None = None, adjustment_reason: str | None = None
           ) -> Document:
    # The year of the number is the UTC year, whatever time zone ``now`` was given in.
    now = (now or utcnow()).astimezone(UTC)
    sequence, number = next_number(kind, order.store, now.year)
    totals = document_lines.totals(lines)
    delivery_addresses = []  # each address once, in the order of the shipments
    for address in (_address(s.address) for s in shipments):
        if address not in delivery_addresses:
            delivery_addresses.append(address)
    content = {
        "kind": kind, "title": KINDS[kind], "number": number,
        "issued_at": now.isoformat(), "issued_on": now.date().isoformat(),
        "store": order.store, "locale": order.locale, "currency": order.currency,
        "order_reference": order.order_reference,
        "order_date": order.created_at.date().isoformat(),
        "seller": list(current_app.config["PANEL_SELLER"]),
        "customer": {"name": order.customer_full_name, "email": order.email,
                     "reference": order.customer_reference},
        "billing_address": _address(order.billing_address),
        "delivery_addresses": delivery_addresses,
        "lines": [line.as_content() for line in lines],
        "totals": totals,
        "tax_summary": document_lines.tax_summary(lines),
        "invoice_number": invoice_number,  # what a credit note corrects
        "adjustment_reason": adjustment_reason,
    }
    document = Document(kind=kind, number=number, store=order.store, year=now.year,
                        sequence=sequence, order_id=order.id, refund_id=refund_id,
                        issued_at=now, issued_by=actor, currency=order.currency,
                        net_total=totals["net"], tax_total=totals["tax"],
                        gross_total=totals["gross"], content=content)
    db.session.add(document)
    db.session.flush()
    return document
