"""Spryker's classic DummyPayment01, loaded unchanged from its XML, with demo commands and
conditions so that it runs: authorisation and payment succeed unless the payment method is
"dummyPaymentDeclined"; items whose SKU starts with "GIFT" are gift cards; "invoice-generate"
(Spryker's Invoice/Generate) issues the order's invoice."""
from datetime import timedelta
from pathlib import Path

from panel import hookimpl
from plugins.default_commands import capture_payment
from plugins.default_documents import issue_invoice
from plugins.default_refunds import refund_items

PROCESSES = Path(__file__).parent / "processes"
DECLINED = "dummyPaymentDeclined"


def is_authorized(*, item):
    return item.order.payment_method != DECLINED


def is_payed(*, item):
    return item.order.payment_captured_at is not None


def is_gift_card(*, item):
    return item.sku.upper().startswith("GIFT")


def no_op(*, order, items, event, actor):
    """Demo stand-in for a command that talks to an outside system."""


def payment_initiation_timeout(*, item, event, now):
    """The time allowed to pay, counted from now (Spryker's OmsTimeout/Initiation)."""
    return now + (event.timeout_delta or timedelta(hours=1))


@hookimpl(trylast=True)
def register_processes():
    return [PROCESSES / "DummyPayment01.xml"]


@hookimpl(trylast=True)
def register_commands():
    return {
        "DummyPayment/Pay": capture_payment,
        "DummyPayment/Refund": refund_items,
        "Invoice/Generate": issue_invoice,
        "Return/StartReturn": no_op,
        "GiftCard/CreateGiftCard": no_op,
    }


@hookimpl(trylast=True)
def refund_payment(refund):
    """The dummy provider pays every refund of a dummy payment back at once."""
    if refund.payment_method.lower().startswith("dummypayment"):
        return f"DUMMY-REFUND-{refund.id}"
    return None


@hookimpl(trylast=True)
def register_conditions():
    return {
        "DummyPayment/IsAuthorized": is_authorized,
        "DummyPayment/IsPayed": is_payed,
        "GiftCard/IsGiftCard": is_gift_card,
    }


@hookimpl(trylast=True)
def register_timeout_processors():
    return {"OmsTimeout/Initiation": payment_initiation_timeout}
