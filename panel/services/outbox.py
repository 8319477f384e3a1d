"""The outbox: mails to customers are written in the transaction that causes them.

Delivery comes with the email issue; until then a queued row is the record of the mail.
"""
from __future__ import annotations

from panel.extensions import db
from panel.models import Order, OutboundEmail

ORDER_MAILS = {
    "order confirmation": ("Your order {ref} is confirmed",
                           "Hello {name},\n\nthank you for your order {ref}. We are preparing it."),
    "order shipped": ("Your order {ref} is on its way",
                      "Hello {name},\n\nyour order {ref} has been shipped."),
}


def queue_order_mail(order: Order, kind: str, *, actor: str) -> OutboundEmail:
    """Queue one of the state machine's mails to the order's customer (no commit here)."""
    subject, body = ORDER_MAILS[kind]
    values = {"ref": order.order_reference, "name": order.customer_full_name}
    mail = OutboundEmail(order_id=order.id, to_address=order.email,
                         subject=subject.format(**values), body_text=body.format(**values),
                         template=kind, status="queued", created_by=actor)
    db.session.add(mail)
    return mail
