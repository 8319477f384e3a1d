"""Commands of the default process: capture the payment, queue the customer's mails."""
from panel import hookimpl
from panel.models.base import utcnow
from panel.services import outbox


def capture_payment(*, order, items, event, actor):
    """Record the order's payment as captured (once, whichever items are paid first)."""
    if order.payment_captured_at is None:
        order.payment_captured_at = utcnow()


def send_order_confirmation(*, order, items, event, actor):
    outbox.queue_order_mail(order, "order confirmation", actor=actor)


def send_order_shipped(*, order, items, event, actor):
    outbox.queue_order_mail(order, "order shipped", actor=actor)


@hookimpl(trylast=True)
def items_transitioned(order_id, event, transitions, actor):
    """Deliver the mails that the transition queued, now that it is committed."""
    outbox.deliver_queued(order_id)


@hookimpl(trylast=True)
def register_commands():
    return {
        "Payment/Capture": capture_payment,
        "Oms/SendOrderConfirmation": send_order_confirmation,
        "Oms/SendOrderShipped": send_order_shipped,
    }
