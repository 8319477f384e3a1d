"""A project plugin for the refund tests: a payment provider and refund rules of its own.

- ``refund_payment``: the provider "psp" pays refunds of orders paid with "psp", unless
  ``PROVIDER["refusal"]`` holds a message, which it raises as the provider's refusal (after
  changing the order's cart note, which must not be saved); for "psp-silent" it answers with
  a blank reference. Every call is recorded in CALLS as (refund id, status at the time).
- ``select_refundable_amounts``: for orders paid with "no-gift-refunds", gift cards (SKU
  GIFT...) are not refundable; for "greedy" orders it offers ten times the price of every
  item and shipment, which the panel must cut down to what was paid. Other orders: None,
  the bundled default decides.
"""
from panel import hookimpl
from panel.services.refund_amounts import Refundable, paid_less_held

NAME = __name__
PROVIDER: dict = {"refusal": None}
CALLS: list[tuple[int, str]] = []


@hookimpl
def refund_payment(refund):
    if refund.payment_method == "psp-silent":
        return "  "
    if refund.payment_method != "psp":
        return None
    CALLS.append((refund.id, refund.status))
    if PROVIDER["refusal"]:
        refund.order.cart_note = "written by a provider that then refused"
        raise RuntimeError(PROVIDER["refusal"])
    return f"PSP-{refund.id}-{len(CALLS)}"


@hookimpl
def select_refundable_amounts(order, held, item_ids):
    if order.payment_method == "no-gift-refunds":
        default = paid_less_held(order, held, item_ids)
        items = {item.id: 0 if item.sku.startswith("GIFT") else default.items[item.id]
                 for item in order.items}
        return Refundable(items=items, shipping=default.shipping)
    if order.payment_method == "greedy":
        return Refundable(items={item.id: item.price_to_pay * 10 for item in order.items},
                          shipping={s.id: s.price * 10 for s in order.shipments})
    return None
