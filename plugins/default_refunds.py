"""Refunds by default: what is refundable (paid less refunded, shipping with the last item of
its shipment), the ``Payment/Refund`` command of the processes' ``refund`` event, and the
payment of refunds for every payment method that no other plugin handles: recorded as done,
the money being sent back outside the panel."""
from panel import hookimpl
from panel.services import refunds
from panel.services.refund_amounts import paid_less_held


def refund_items(*, order, items, event, actor, after_commit):
    """Refund all that is refundable of the items the event moves (nothing for items that
    have nothing left); the payment plugin is asked once the run has committed."""
    refund = refunds.refund_moved_items(order, items, event=event, actor=actor)
    if refund is not None:
        refund_id = refund.id
        after_commit.append(lambda: refunds.send_refund(refund_id))


@hookimpl(trylast=True)
def select_refundable_amounts(order, held, item_ids):
    return paid_less_held(order, held, item_ids)


@hookimpl(trylast=True)
def refund_payment(refund):
    """Record the refund as carried out by hand (a bank transfer, a voucher ...)."""
    return f"RECORDED-{refund.id}"


@hookimpl(trylast=True)
def register_commands():
    return {"Payment/Refund": refund_items}
