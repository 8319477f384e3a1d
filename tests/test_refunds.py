"""Refunds: what is refundable, the checks, the payment plugin's answer, the state machine's
refund command, and the order's refund total, through the services on a real database.

Orders are paid with "psp" unless a test says otherwise: the fixture plugin
tests/plugins/refund_fixture.py carries those refunds out, or refuses them on demand.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Order, OrderItem, Refund, RefundLine, RefundShipping
from panel.oms import engine
from panel.services import refunds
from panel.services.refund_amounts import Held, held_amounts, paid_less_held, refundable
from panel.services.refunds import RefundRefused, RefundRequest
from tests.conftest import ADDRESS, order_payload
from tests.plugins import refund_fixture
from tests.refund_support import ADMIN, APP_CONFIG, fresh_provider, paid_order

# order_payload(): 2 x Running shoe 19.99, 1 x Socks 9.99, shipping 4.90: 54.87 in all.
SHOE, SOCKS, SHIPPING, GRAND_TOTAL = 1999, 999, 490, 5487


@pytest.fixture
def app_config():
    return APP_CONFIG


@pytest.fixture(autouse=True)
def provider():
    yield from fresh_provider()


@dataclass
class Placed:
    id: int
    items: list[int]  # item ids: shoe, shoe, socks (in the default payload)
    shipments: list[int]


def place(app, post_order, method="psp", payload=None, pay=True) -> Placed:
    return Placed(*paid_order(app, post_order, payload=payload, method=method, pay=pay))


@dataclass
class Outcome:
    id: int
    status: str
    total: int
    reference: str | None
    error: str | None
    attempts: int


def outcome(refund: Refund) -> Outcome:
    return Outcome(refund.id, refund.status, refund.total, refund.provider_reference,
                   refund.error, refund.attempts)


def refund(app, order: Placed, items=None, shipping=None, adjustment=0, reason="",
           actor=ADMIN) -> Outcome:
    """Make a refund as the Create Refund page does: save it, then send it."""
    request = RefundRequest(items=dict(items or {}), shipping=dict(shipping or {}),
                            adjustment=adjustment, adjustment_reason=reason)
    with app.app_context():
        made = refunds.create_refund(order.id, request, actor=actor)
        return outcome(refunds.send_refund(made.id))


def refused(app, order: Placed, **kwargs) -> str:
    """Try a refund that must be refused; return the reason (nothing may have changed)."""
    before = saved(app, order)
    with pytest.raises(RefundRefused) as caught:
        refund(app, order, **kwargs)
    assert saved(app, order) == before
    return str(caught.value)


def saved(app, order: Placed) -> dict:
    """What the database holds about the order's refunds."""
    with app.app_context():
        return {
            "refund_total": db.session.get(Order, order.id).refund_total,
            "refunds": db.session.execute(
                sa.select(Refund.id, Refund.status, Refund.total).where(
                    Refund.order_id == order.id).order_by(Refund.id)).all(),
            "lines": db.session.execute(
                sa.select(RefundLine.order_item_id, RefundLine.amount).join(Refund)
                .where(Refund.order_id == order.id).order_by(RefundLine.id)).all(),
            "shipping": db.session.execute(
                sa.select(RefundShipping.shipment_id, RefundShipping.amount).join(Refund)
                .where(Refund.order_id == order.id).order_by(RefundShipping.id)).all(),
        }


def offer(app, order: Placed, chosen=None):
    """What may be refunded now, for a refund of ``chosen`` items (default: all)."""
    with app.app_context():
        row = db.session.get(Order, order.id)
        return refundable(row, held_amounts(order.id),
                          order.items if chosen is None else chosen)


def refund_total(app, order: Placed) -> int:
    with app.app_context():
        return db.session.get(Order, order.id).refund_total


def two_shipments() -> dict:
    """Shipment 1: a shoe (19.99) and socks (9.99), 4.90 shipping; shipment 2: a cap
    (15.00), 5.90 shipping."""
    payload = order_payload()
    payload["shipments"][0]["items"][0]["quantity"] = 1
    second = copy.deepcopy(payload["shipments"][0])
    second.update(method="Express", price=590, address=copy.deepcopy(ADDRESS),
                  items=[{"sku": "CAP-1", "name": "Cap", "quantity": 1, "unit_price": 1500,
                          "tax_rate": 19}])
    payload["shipments"].append(second)
    payload["payment"]["amount"] = 1999 + 999 + 490 + 1500 + 590
    return payload


# -- what is refundable ----------------------------------------------------------------------

def test_an_item_offers_what_was_paid_for_it_with_tax_less_its_discount(app, post_order):
    payload = order_payload()
    payload["shipments"][0]["items"][1]["discount"] = 250  # socks: 9.99 less 2.50
    payload["payment"]["amount"] = GRAND_TOTAL - 250
    order = place(app, post_order, payload=payload)

    offered = offer(app, order)
    assert [offered.items[i] for i in order.items] == [SHOE, SHOE, 749]
    assert offered.shipping == {order.shipments[0]: SHIPPING}
    with app.app_context():
        socks = db.session.get(OrderItem, order.items[2])
        assert socks.price_to_pay == 749 and socks.tax_amount == 120  # 19 % of 7.49 is in it


def test_partial_refunds_leave_the_rest_refundable_and_the_total_sums_them(app, post_order):
    order = place(app, post_order)

    first = refund(app, order, items={order.items[0]: 500})
    second = refund(app, order, items={order.items[0]: 1000, order.items[2]: 999})

    assert (first.status, second.status) == ("succeeded", "succeeded")
    assert refund_total(app, order) == 500 + 1000 + 999
    assert [offer(app, order).items[i] for i in order.items] == [SHOE - 1500, SHOE, 0]
    third = refund(app, order, items={order.items[0]: None})  # the rest: 4.99
    assert third.total == 499
    assert refund_total(app, order) == SHOE + 999
    assert f"Running shoe (item #{order.items[0]}) has nothing left to refund" in \
        refused(app, order, items={order.items[0]: 1})
    assert f"Socks (item #{order.items[2]}) has nothing left to refund" in \
        refused(app, order, items={order.items[2]: None})


def test_shipping_comes_only_with_the_last_items_of_its_shipment(app, post_order):
    order = place(app, post_order, payload=two_shipments())
    shoe, socks, cap = order.items
    first, second = order.shipments

    assert offer(app, order, chosen=[shoe]).shipping == {}
    assert offer(app, order, chosen=[cap]).shipping == {second: 590}
    assert offer(app, order, chosen=[shoe, socks]).shipping == {first: 490}
    assert ("the shipping of shipment 1 is refunded only together with the last of its items "
            "that still have something to refund") in refused(
        app, order, items={shoe: None}, shipping={first: None})

    refund(app, order, items={shoe: None})
    # the socks are now the last item of shipment 1 with something left
    assert offer(app, order, chosen=[socks]).shipping == {first: 490}
    done = refund(app, order, items={socks: None}, shipping={first: 400})
    assert done.total == 999 + 400
    # what is left of the shipping comes on its own: shipment 1 has no item left to refund
    assert offer(app, order, chosen=[]).shipping == {first: 90}
    assert refund(app, order, shipping={first: None}).total == 90
    assert "the shipping of shipment 1 has nothing left to refund" in refused(
        app, order, shipping={first: None})
    assert refund_total(app, order) == 1999 + 999 + 490


def test_the_default_rule_is_paid_less_held(app, post_order):
    order = place(app, post_order)
    with app.app_context():
        row = db.session.get(Order, order.id)
        held = Held(items={order.items[0]: 1999, order.items[1]: 1}, shipping={}, total=2000)
        rule = paid_less_held(row, held, [order.items[2]])
    assert rule.items == {order.items[0]: 0, order.items[1]: SHOE - 1, order.items[2]: SOCKS}
    assert rule.shipping == {}  # the second shoe still has something left


# -- bad input: named, and nothing changes ---------------------------------------------------

@pytest.mark.parametrize(("request_of", "reason"), [
    (lambda o: {"items": {o.items[0]: 2000}},
     "Running shoe (item #{0}): €20.00 is more than the €19.99 still refundable"),
    (lambda o: {"items": {o.items[0]: -5}}, "an amount to refund must not be negative"),
    (lambda o: {"items": {o.items[0]: 0}},
     "Running shoe (item #{0}): the amount must be more than €0.00, or leave it out"),
    (lambda o: {}, "there is nothing to refund: tick an item or give an adjustment"),
    (lambda o: {"adjustment": 500}, "say why the adjustment is given"),
    (lambda o: {"adjustment": -500, "reason": "fee"}, "the adjustment must not be negative"),
    (lambda o: {"items": {o.items[0]: 100}, "reason": "goodwill"},
     "an adjustment reason needs an adjustment amount"),
    (lambda o: {"adjustment": 100, "reason": "good\nwill"},
     "the adjustment reason contains a control character (U+000A, line feed)"),
    (lambda o: {"adjustment": 100, "reason": "x" * 256},
     "the adjustment reason is 256 characters long; at most 255 are allowed"),
    (lambda o: {"adjustment": 100, "reason": "\u200b\u200b"},
     "the adjustment reason contains only invisible characters"),
    (lambda o: {"items": {999999: None}}, "item #999999 is not an item of order"),
    (lambda o: {"shipping": {999999: None}}, "shipment #999999 is not a shipment of order"),
    (lambda o: {"adjustment": GRAND_TOTAL + 1, "reason": "too much"},
     "the refund of €54.88 is more than the €54.87 left of the captured payment of €54.87"),
])
def test_bad_input_is_named_and_changes_nothing(app, post_order, request_of, reason):
    order = place(app, post_order)
    asked = request_of(order)

    message = refused(app, order, items=asked.get("items"), shipping=asked.get("shipping"),
                      adjustment=asked.get("adjustment", 0), reason=asked.get("reason", ""))

    assert reason.format(order.items[0]) in message
    assert saved(app, order)["refunds"] == []


def test_an_item_of_another_order_is_refused(app, post_order):
    order, other = place(app, post_order), place(app, post_order)
    message = refused(app, order, items={other.items[0]: None})
    assert f"item #{other.items[0]} is not an item of order" in message


def test_nothing_is_refunded_before_the_payment_is_captured(app, post_order):
    order = place(app, post_order, pay=False)
    message = refused(app, order, items={order.items[0]: None})
    assert "has not been captured, so there is nothing to refund" in message


def test_nothing_is_refunded_above_the_captured_payment(app, post_order):
    order = place(app, post_order)
    goodwill = refund(app, order, adjustment=5000, reason="Parcel lost for three weeks")
    assert goodwill.total == 5000

    # the items are still refundable one by one, but the payment has only 4.87 left
    message = refused(app, order, items={order.items[0]: None})
    assert "the refund of €19.99 is more than the €4.87 left of the captured payment" in message
    assert refund(app, order, items={order.items[0]: 487}).total == 487
    assert refund_total(app, order) == GRAND_TOTAL


def test_a_plugin_rule_may_offer_less_but_never_more_than_was_paid(app, post_order):
    payload = order_payload()
    payload["shipments"][0]["items"][1].update(sku="GIFT-10", name="Gift card")
    gifts = place(app, post_order, method="no-gift-refunds", payload=payload)
    greedy = place(app, post_order, method="greedy")

    assert offer(app, gifts).items[gifts.items[2]] == 0
    assert f"Gift card (item #{gifts.items[2]}) has nothing left to refund" in refused(
        app, gifts, items={gifts.items[2]: None})
    assert [offer(app, greedy).items[i] for i in greedy.items] == [SHOE, SHOE, SOCKS]
    assert offer(app, greedy).shipping == {greedy.shipments[0]: SHIPPING}
    assert "€19.99 still refundable" in refused(app, greedy, items={greedy.items[0]: 2000})


# -- the payment plugin's answer ---------------------------------------------------------------

def test_a_refund_is_saved_before_the_provider_is_asked_and_its_answer_after(app, post_order):
    order = place(app, post_order)

    done = refund(app, order, items={order.items[0]: 1000})

    # the provider saw the refund saved and pending; the outcome was saved after its answer
    assert refund_fixture.CALLS == [(done.id, "pending")]
    assert (done.status, done.reference, done.error, done.attempts) == (
        "succeeded", f"PSP-{done.id}-1", None, 1)
    assert refund_total(app, order) == 1000


def test_a_refused_refund_is_kept_with_the_message_and_holds_its_amounts(app, post_order,
                                                                         provider):
    order = place(app, post_order)
    provider["refusal"] = "card expired (code 54)"

    first = refund(app, order, items={order.items[0]: None, order.items[2]: 500})

    assert (first.status, first.error, first.reference) == (
        "refused", "card expired (code 54)", None)
    assert refund_total(app, order) == 0
    assert saved(app, order)["lines"] == [(order.items[0], SHOE), (order.items[2], 500)]
    assert [offer(app, order).items[i] for i in order.items] == [0, SHOE, SOCKS - 500]
    with app.app_context():  # what the refusing provider wrote is not saved
        assert db.session.get(Order, order.id).cart_note is None

    provider["refusal"] = None
    with app.app_context():
        again = outcome(refunds.retry_refund(order.id, first.id))
    assert (again.status, again.reference, again.error, again.attempts) == (
        "succeeded", f"PSP-{first.id}-2", None, 2)
    assert refund_fixture.CALLS == [(first.id, "pending"), (first.id, "refused")]
    assert refund_total(app, order) == SHOE + 500


def test_a_discarded_refund_frees_its_amounts(app, post_order, provider):
    order = place(app, post_order)
    provider["refusal"] = "insufficient funds on the merchant account"
    first = refund(app, order, items={order.items[0]: None})
    assert offer(app, order).items[order.items[0]] == 0

    with app.app_context():
        discarded = refunds.discard_refund(order.id, first.id, actor=ADMIN)
        assert (discarded.status, discarded.discarded_by) == ("discarded", ADMIN)
    assert offer(app, order).items[order.items[0]] == SHOE
    with app.app_context():
        with pytest.raises(RefundRefused, match=f"refund #{first.id} is discarded already"):
            refunds.retry_refund(order.id, first.id)
        with pytest.raises(RefundRefused, match="only a refused refund can be discarded"):
            refunds.discard_refund(order.id, first.id, actor=ADMIN)
    provider["refusal"] = None
    assert refund(app, order, items={order.items[0]: None}).status == "succeeded"
    assert refund_total(app, order) == SHOE


def test_a_succeeded_refund_is_neither_retried_nor_discarded(app, post_order):
    order = place(app, post_order)
    done = refund(app, order, items={order.items[0]: None})
    with app.app_context():
        with pytest.raises(RefundRefused, match=f"refund #{done.id} is succeeded already"):
            refunds.retry_refund(order.id, done.id)
        with pytest.raises(RefundRefused, match="only a refused refund can be discarded"):
            refunds.discard_refund(order.id, done.id, actor=ADMIN)
    assert refund_fixture.CALLS == [(done.id, "pending")]


def test_a_refund_is_retried_only_through_its_own_order(app, post_order, provider):
    order, other = place(app, post_order), place(app, post_order)
    provider["refusal"] = "timeout"
    first = refund(app, order, items={order.items[0]: None})
    with app.app_context():
        with pytest.raises(RefundRefused, match=f"refund #{first.id} is not a refund of this"):
            refunds.retry_refund(other.id, first.id)
        with pytest.raises(RefundRefused, match=f"refund #{first.id} is not a refund of this"):
            refunds.discard_refund(other.id, first.id, actor=ADMIN)
    assert saved(app, order)["refunds"][0].status == "refused"


def test_a_blank_reference_counts_as_a_refusal(app, post_order):
    order = place(app, post_order, method="psp-silent")
    done = refund(app, order, items={order.items[0]: None})
    assert (done.status, done.error) == ("refused",
                                         "the payment plugin answered without a reference")
    assert refund_total(app, order) == 0


def test_other_payment_methods_are_recorded_by_the_bundled_plugin(app, post_order):
    order = place(app, post_order, method="invoice")
    done = refund(app, order, items={order.items[0]: None})
    assert (done.status, done.reference) == ("succeeded", f"RECORDED-{done.id}")
    assert refund_fixture.CALLS == []


# -- the state machine's refund command --------------------------------------------------------

def returned(app, order: Placed, item_ids=None) -> None:
    with app.app_context():
        for event in ("ship", "return"):
            assert engine.trigger_event(order.id, event, actor=ADMIN, item_ids=item_ids).moved


def states(app, order: Placed) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OrderItem.state_name).where(
            OrderItem.order_id == order.id).order_by(OrderItem.id)))


def test_the_refund_event_refunds_what_is_left_of_the_items_it_moves(app, post_order):
    order = place(app, post_order)
    returned(app, order)

    with app.app_context():
        result = engine.trigger_event(order.id, "refund", actor=ADMIN,
                                      item_ids=order.items[:2])
    assert result.moved == 2 and result.error is None
    assert states(app, order) == ["refunded", "refunded", "returned"]
    assert saved(app, order)["lines"] == [(order.items[0], SHOE), (order.items[1], SHOE)]
    assert saved(app, order)["shipping"] == []  # the socks are still to be refunded
    with app.app_context():
        made = db.session.scalar(sa.select(Refund))
        assert (made.status, made.event, made.created_by, made.provider_reference) == (
            "succeeded", "refund", ADMIN, f"PSP-{made.id}-1")

        engine.trigger_event(order.id, "refund", actor=ADMIN)  # the socks, with the shipping
    assert saved(app, order)["lines"][2:] == [(order.items[2], SOCKS)]
    assert saved(app, order)["shipping"] == [(order.shipments[0], SHIPPING)]
    assert refund_total(app, order) == GRAND_TOTAL


def test_a_refund_made_on_the_page_is_never_paid_again_by_the_event(app, post_order):
    order = place(app, post_order)
    refund(app, order, items={order.items[0]: None, order.items[1]: 500})
    returned(app, order)

    with app.app_context():
        assert engine.trigger_event(order.id, "refund", actor=ADMIN).moved == 3

    assert saved(app, order)["lines"] == [
        (order.items[0], SHOE), (order.items[1], 500),  # the page's refund
        (order.items[1], SHOE - 500), (order.items[2], SOCKS),  # the event's: what was left
    ]
    assert refund_total(app, order) == GRAND_TOTAL
    with app.app_context():  # fully refunded: the event's refund has no line for the shoe
        assert [len(r.lines) for r in refunds.refunds_of(order.id)] == [2, 2]


def test_the_refund_event_on_fully_refunded_items_makes_no_refund(app, post_order):
    order = place(app, post_order)
    refund(app, order, items={i: None for i in order.items}, shipping={order.shipments[0]: None})
    returned(app, order)
    with app.app_context():
        assert engine.trigger_event(order.id, "refund", actor=ADMIN).moved == 3
    assert len(saved(app, order)["refunds"]) == 1
    assert refund_total(app, order) == GRAND_TOTAL


def test_a_refusal_after_the_event_keeps_the_move_and_the_refund_to_retry(app, post_order,
                                                                          provider):
    order = place(app, post_order)
    returned(app, order)
    provider["refusal"] = "the provider is down for maintenance"

    with app.app_context():
        result = engine.trigger_event(order.id, "refund", actor=ADMIN)

    assert result.moved == 3 and result.error is None  # the move was committed first
    assert states(app, order) == ["refunded"] * 3
    [kept] = saved(app, order)["refunds"]
    assert (kept.status, kept.total) == ("refused", GRAND_TOTAL)
    assert refund_total(app, order) == 0
    provider["refusal"] = None
    with app.app_context():
        assert refunds.retry_refund(order.id, kept.id).status == "succeeded"
    assert refund_total(app, order) == GRAND_TOTAL


def test_the_refund_event_fails_when_the_payment_cannot_cover_it(app, post_order):
    order = place(app, post_order)
    refund(app, order, adjustment=5000, reason="Goodwill")
    returned(app, order)

    with app.app_context():
        result = engine.trigger_event(order.id, "refund", actor=ADMIN)

    assert result.error == ("Payment/Refund: the refund of €54.87 is more than the €4.87 left "
                            "of the captured payment of €54.87")
    assert states(app, order) == ["returned"] * 3  # the run was undone
    assert len(saved(app, order)["refunds"]) == 1


def test_dummy_payment_refunds_through_its_refund_subprocess(app, post_order):
    order = place(app, post_order, method="dummyPayment", pay=False)
    with app.app_context():
        for event in ("authorize", "pay", "skip timeout", "ship", "stock-update"):
            engine.trigger_event(order.id, event, actor=ADMIN)
    assert states(app, order) == ["delivered"] * 3

    with app.app_context():
        assert engine.trigger_event(order.id, "refund", actor=ADMIN).moved == 3
        made = db.session.scalar(sa.select(Refund))
        assert (made.status, made.total, made.provider_reference) == (
            "succeeded", GRAND_TOTAL, f"DUMMY-REFUND-{made.id}")
    assert states(app, order) == ["refunded"] * 3
    assert refund_total(app, order) == GRAND_TOTAL


# -- the hooks ---------------------------------------------------------------------------------

def test_hook_select_refundable_amounts(app, post_order):
    """A plugin's answer decides what is offered (within what was paid); None leaves it to
    the bundled default."""
    payload = order_payload()
    payload["shipments"][0]["items"][1].update(sku="GIFT-10", name="Gift card")
    gifts = place(app, post_order, method="no-gift-refunds", payload=payload)
    plain = place(app, post_order, payload=copy.deepcopy(payload))

    assert [offer(app, gifts).items[i] for i in gifts.items] == [SHOE, SHOE, 0]
    assert [offer(app, plain).items[i] for i in plain.items] == [SHOE, SHOE, SOCKS]


def test_hook_refund_payment(app, post_order, provider):
    """The plugin of the payment method answers with the provider's reference, or raises
    with its message; the panel saves either."""
    order = place(app, post_order)
    done = refund(app, order, items={order.items[0]: 100})
    provider["refusal"] = "declined by the bank"
    kept = refund(app, order, items={order.items[0]: 100})

    assert (done.status, done.reference) == ("succeeded", f"PSP-{done.id}-1")
    assert (kept.status, kept.error) == ("refused", "declined by the bank")
    with app.app_context():
        rows = {r.id: (r.status, r.provider_reference, r.error)
                for r in refunds.refunds_of(order.id)}
    assert rows == {done.id: ("succeeded", f"PSP-{done.id}-1", None),
                    kept.id: ("refused", None, "declined by the bank")}
