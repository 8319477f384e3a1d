"""Commands of the default process: capture the payment, queue the customer's mails
(sent after the transition's commit, from the run's after-commit work)."""
from panel import hookimpl
from panel.models.base import utcnow
from panel.services import outbox


def capture_payment(*, order, items, event, actor):
    """Record the order's payment as captured (once, whichever items are paid first)."""
    if order.payment_captured_at is None:
        order.payment_captured_at = utcnow()


def send_order_confirmation(*, order, items, event, actor, after_commit):
    """Queue the order confirmation; it goes out once the transition is committed."""
    outbox.queue_order_mail(order, "order confirmation", actor=actor, after_commit=after_commit)


def send_order_shipped(*, order, items, event, actor, after_commit):
    """Queue the shipping notice; it goes out once the transition is committed."""
    outbox.queue_order_mail(order, "order shipped", actor=actor, after_commit=after_commit)


@hookimpl(trylast=True)
def register_commands():
    return {
        "Payment/Capture": capture_payment,
        "Oms/SendOrderConfirmation": send_order_confirmation,
        "Oms/SendOrderShipped": send_order_shipped,
    }
