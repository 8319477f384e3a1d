"""Property test: after-the-order numbers add up, whatever happens to an order.

Hypothesis places random orders (1 to 3 shipments of 1 to 3 lines, random quantities, prices,
discounts, tax rates and shipping costs), pays them, and plays a random sequence of partial
cancels, ships, returns (``returns.create_return``), refunds (``refunds.create_refund`` then
``refunds.send_refund``, some left pending and sent later, some asking too much), the
process's own ``refund`` event on returned items, and invoices. After every step it checks,
on what the database holds:

- refunded never exceeds paid: per item (succeeded and holding refund lines within its price
  to pay) and per order (succeeded and holding refunds within the captured payment);
- the order's credit notes' gross totals add up to ``Order.refund_total``, one credit note
  per succeeded refund, and no item is credited above its price to pay or more than its
  refund lines gave back (nothing refunded twice);
- every document's net, tax and gross totals are the sums of its lines;
- the quantities View Order shows (``panel.services.quantities``) add up (ordered = canceled
  + open + shipped, paid = refunded + pending + refundable) and agree with what the test
  itself saw happen (which items it canceled, shipped, returned).

Orders run the default process and are paid with "dummyPayment": the bundled payment plugin
records their refunds. Deterministic (derandomize) and modest in size, for CI.
"""
from __future__ import annotations

import copy
from collections import Counter

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel.extensions import db
from panel.models import Document, Order, OrderItem, Refund, RefundLine, User
from panel.models.document import CREDIT_NOTE
from panel.models.refund import HOLDING, PENDING, SUCCEEDED
from panel.oms import engine
from panel.services import documents, quantities, refunds, returns
from panel.services.quantities import CANCELED, OPEN, SHIPPED
from panel.services.refund_amounts import held_amounts, refundable
from panel.services.refunds import RefundRefused, RefundRequest
from panel.services.returns import ReturnLine, ReturnRefused
from tests.conftest import ADDRESS

ACTOR = "Admin User <admin@example.org>"
ORDER_SETTINGS = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture])
# Weighted by repetition: shipping and refunding are what most steps do.
ACTIONS = ("cancel", "ship", "ship", "return", "return", "refund", "refund", "refund",
           "send pending", "refund event", "invoice")

# --- random orders ---------------------------------------------------------------------------

ITEM_LINES = st.builds(
    lambda quantity, price, discount_share, rate: {
        "quantity": quantity, "unit_price": price,
        "discount": price * discount_share // 4, "tax_rate": rate},
    st.integers(1, 3), st.integers(1, 5000), st.integers(0, 2), st.sampled_from((0, 7, 19)))
SHIPMENTS = st.lists(st.tuples(st.integers(0, 990), st.lists(ITEM_LINES, min_size=1,
                                                              max_size=3)),
                     min_size=1, max_size=3)


def payload_of(shipments) -> dict:
    grand_total = 0
    shipment_payloads = []
    for number, (price, lines) in enumerate(shipments):
        items = []
        for index, line in enumerate(lines):
            items.append({"sku": f"SKU-{number}-{index}", "name": f"Product {number}.{index}",
                          **line})
            grand_total += line["quantity"] * (line["unit_price"] - line["discount"])
        grand_total += price
        shipment_payloads.append({"method": "Standard", "carrier": "DHL", "price": price,
                                  "address": copy.deepcopy(ADDRESS), "items": items})
    return {
        "store": "DE", "currency": "EUR", "locale": "de_DE",
        "customer": {"email": "anna@example.com", "salutation": "Mrs", "first_name": "Anna",
                     "last_name": "Schmidt"},
        "billing_address": copy.deepcopy(ADDRESS),
        "shipments": shipment_payloads,
        "payment": {"method": "dummyPayment", "amount": grand_total},
    }


# --- the checks ------------------------------------------------------------------------------


def check(order_id: int, seen: dict[int, str], returned: set[int]) -> None:
    """Every invariant of the module docstring, on what the database holds now."""
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    items = {item.id: item for item in order.items}
    refund_rows = db.session.scalars(sa.select(Refund).where(Refund.order_id == order_id)).all()
    lines = db.session.execute(
        sa.select(RefundLine.order_item_id, RefundLine.amount, Refund.status)
        .join(Refund, Refund.id == RefundLine.refund_id).where(Refund.order_id == order_id)
    ).all()
    succeeded, holding = Counter(), Counter()
    for item_id, amount, status in lines:
        assert amount > 0
        if status == SUCCEEDED:
            succeeded[item_id] += amount
        if status in HOLDING:
            holding[item_id] += amount
    for item_id, item in items.items():
        assert succeeded[item_id] <= holding[item_id] <= item.price_to_pay, item_id
    for refund in refund_rows:  # a refund's total is its parts
        assert refund.total == (sum(line.amount for line in refund.lines)
                                + refund.shipping_amount + refund.adjustment_amount)
    refund_total = sum(r.total for r in refund_rows if r.status == SUCCEEDED)
    assert order.refund_total == refund_total
    assert sum(r.total for r in refund_rows if r.status in HOLDING) <= order.payment_amount

    docs = db.session.scalars(sa.select(Document).where(Document.order_id == order_id)).all()
    for doc in docs:
        doc_lines = doc.content["lines"]
        assert doc.gross_total == sum(line["gross"] for line in doc_lines), doc.number
        assert doc.tax_total == sum(line["tax"] for line in doc_lines), doc.number
        assert doc.net_total == sum(line["net"] for line in doc_lines), doc.number
        assert doc.net_total + doc.tax_total == doc.gross_total
    credit_notes = [doc for doc in docs if doc.kind == CREDIT_NOTE]
    assert sum(doc.gross_total for doc in credit_notes) == order.refund_total
    assert sorted(doc.refund_id for doc in credit_notes) == \
        sorted(r.id for r in refund_rows if r.status == SUCCEEDED)
    credited = Counter()
    for doc in credit_notes:
        for line in doc.content["lines"]:
            if line["kind"] == "item":
                (item_id,) = line["item_ids"]
                credited[item_id] += line["gross"]
    assert credited == succeeded  # each item credited exactly what was refunded, once

    q = quantities.load(order)
    shown = Counter()
    for line in q.lines:
        assert line.ordered == line.canceled + line.open + line.shipped
        assert line.paid == line.refunded_amount + line.pending_amount + line.refundable
        assert line.refundable >= 0
        assert line.refunded + line.partly_refunded <= line.ordered
        assert line.returned <= line.ordered
        assert line.paid == sum(items[i].price_to_pay for i in line.item_ids)
        assert line.refunded_amount == sum(succeeded[i] for i in line.item_ids)
        assert line.pending_amount == sum(holding[i] - succeeded[i] for i in line.item_ids)
        assert line.returned == len(returned & set(line.item_ids))
        assert line.refunded == sum(1 for i in line.item_ids
                                    if succeeded[i] == items[i].price_to_pay)
        for bucket in (CANCELED, OPEN, SHIPPED):
            shown[bucket] += getattr(line, bucket)
    assert shown == Counter(seen.get(item_id, OPEN) for item_id in items)
    assert q.total("ordered") == len(items)
    assert q.total("refunded_amount") == sum(succeeded.values())


# --- the steps --------------------------------------------------------------------------------


def items_in(order_id: int, *states: str) -> list[int]:
    return list(db.session.scalars(
        sa.select(OrderItem.id).where(OrderItem.order_id == order_id,
                                      OrderItem.state_name.in_(states))
        .order_by(OrderItem.id).execution_options(populate_existing=True)))


def some(data, ids: list[int]) -> list[int]:
    if not ids:
        return []
    return sorted(data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids),
                                     unique=True)))


def move(order_id: int, event: str, ids: list[int], seen: dict[int, str], bucket):
    if not ids:
        return
    result = engine.trigger_event(order_id, event, actor=ACTOR, item_ids=ids)
    assert result.error is None, result.error
    for item_id, _, _ in result.transitions:
        if bucket:
            seen[item_id] = bucket


def refund_some(data, order_id: int) -> None:
    """A refund of some items (all that is left of each, or a part), maybe their shipping
    and an adjustment; one time in five a request that must be refused (more than is left
    of an item, or shipping that is not offered), which must change nothing."""
    order = db.session.get(Order, order_id, populate_existing=True)
    held = held_amounts(order_id)
    left = {item.id: amount for item, amount in
            ((item, refundable(order, held, [item.id]).items[item.id]) for item in order.items)}
    ids = some(data, [item_id for item_id, amount in left.items() if amount])
    wrong = data.draw(st.integers(0, 4)) == 0
    request = RefundRequest(items={item_id: data.draw(st.sampled_from(
        (None, max(1, left[item_id] // 2)))) for item_id in ids})
    offer = refundable(order, held, ids)
    for shipment_id, amount in offer.shipping.items():
        if amount and data.draw(st.booleans()):
            request.shipping[shipment_id] = None
    if data.draw(st.integers(0, 3)) == 0:
        request.adjustment, request.adjustment_reason = data.draw(st.integers(1, 300)), "Sorry"
    if wrong:
        item_id = data.draw(st.sampled_from(sorted(left)))
        request.items[item_id] = left[item_id] + 1
    if not request.items and not request.shipping and not request.adjustment:
        return
    before = refunds_saved(order_id)
    try:
        made = refunds.create_refund(order_id, request, actor=ACTOR)
    except RefundRefused:
        assert refunds_saved(order_id) == before  # refused: nothing changed
        if not wrong:  # the amounts came from the offer and the payment covers them
            assert request.adjustment or offer.shipping, "a refund of what was offered"
        return
    assert not wrong, f"{request} asked more than is left, and was made"
    if data.draw(st.integers(0, 3)):  # mostly sent at once; else left pending for now
        assert refunds.send_refund(made.id).status == SUCCEEDED


def refunds_saved(order_id: int):
    db.session.expire_all()
    return (db.session.get(Order, order_id).refund_total,
            db.session.execute(sa.select(Refund.id, Refund.status, Refund.total)
                               .where(Refund.order_id == order_id).order_by(Refund.id)).all())


def test_after_the_order_the_numbers_always_add_up(app, accounts, post_order):
    @ORDER_SETTINGS
    @given(shipments=SHIPMENTS, data=st.data())
    def play(shipments, data):
        response = post_order(payload_of(shipments))
        assert response.status_code == 201, response.json
        order_id = response.json["id"]
        seen: dict[int, str] = {}
        returned: set[int] = set()
        with app.app_context():
            agent = db.session.scalar(sa.select(User).where(User.role == "agent"))
            assert engine.trigger_event(order_id, "pay", actor=ACTOR).moved
            check(order_id, seen, returned)
            for action in data.draw(st.lists(st.sampled_from(ACTIONS), min_size=2, max_size=10)):
                if action == "cancel":
                    move(order_id, "cancel", some(data, items_in(order_id, "new", "paid")),
                         seen, CANCELED)
                elif action == "ship":
                    move(order_id, "ship", some(data, items_in(order_id, "paid")), seen,
                         SHIPPED)
                elif action == "return":
                    order = db.session.get(Order, order_id)
                    ids = some(data, [r.item.id for r in returns.returnable_items(order)
                                      if r.returnable])
                    if ids:
                        try:
                            returns.create_return(order_id, [ReturnLine(i, note="does not fit")
                                                             for i in ids], agent)
                        except ReturnRefused as exc:
                            raise AssertionError(f"returnable items were refused: {exc}") \
                                from None
                        returned.update(ids)
                elif action == "refund":
                    refund_some(data, order_id)
                elif action == "send pending":
                    for refund_id in db.session.scalars(sa.select(Refund.id).where(
                            Refund.order_id == order_id, Refund.status == PENDING)).all():
                        refunds.send_refund(refund_id)
                elif action == "refund event":
                    move(order_id, "refund", some(data, items_in(order_id, "returned")), seen,
                         None)
                elif action == "invoice":
                    documents.issue_invoice(db.session.get(Order, order_id), actor=ACTOR)
                    db.session.commit()
                check(order_id, seen, returned)

    play()
