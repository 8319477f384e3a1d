"""Spryker's classic DummyPayment01 runs unchanged: timeouts, conditions, onEnter chains and
subprocesses, with the demo commands of plugins/dummy_payment.py."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import EventTimeout, Order, OrderItem, OutboundEmail
from panel.models.base import utcnow
from panel.oms import engine, sweeps
from tests.conftest import order_payload

ACTOR = "Agent User <agent@example.org>"


@pytest.fixture
def app_config():
    return {"PANEL_PAYMENT_PROCESSES": {"dummypayment": "DummyPayment01",
                                        "dummypaymentdeclined": "DummyPayment01"}}


def place(post_order, method="dummyPayment"):
    payload = order_payload(payment={"method": method, "amount": 5487 + 5000})
    payload["shipments"][0]["items"] = [
        {"sku": "SHOE-1", "name": "Running shoe", "quantity": 1, "unit_price": 4997,
         "tax_rate": 19},
        {"sku": "GIFT-50", "name": "Gift card 50", "quantity": 1, "unit_price": 5000,
         "tax_rate": 0},
    ]
    response = post_order(payload)
    assert response.status_code == 201, response.json
    return response.json["id"]


def states(app, order_id):
    with app.app_context():
        return dict(db.session.execute(
            sa.select(OrderItem.sku, OrderItem.state_name).where(OrderItem.order_id == order_id)
        ).all())


def test_dummy_payment_happy_path_with_gift_card_subprocess(app, post_order):
    order_id = place(post_order)
    assert states(app, order_id) == {"SHOE-1": "new", "GIFT-50": "new"}
    with app.app_context():
        # new -> (authorize, timeout 1 second): intake wrote the timeouts
        assert {t.event for t in db.session.scalars(sa.select(EventTimeout))} == {"authorize"}
        result = sweeps.check_timeouts(now=utcnow() + timedelta(seconds=2))
        assert result.moved == 2
    assert states(app, order_id) == {"SHOE-1": "payment pending", "GIFT-50": "payment pending"}
    with app.app_context():
        pay_timeouts = db.session.scalars(sa.select(EventTimeout)).all()
        assert {t.event for t in pay_timeouts} == {"pay"}  # from OmsTimeout/Initiation
        result = engine.trigger_event(order_id, "pay", actor=ACTOR)
        # pay -> paid (IsPayed holds after DummyPayment/Pay) -> onEnter confirm -> confirmed
        assert result.moved == 2
        assert db.session.get(Order, order_id).payment_captured_at is not None
        mails = db.session.scalars(sa.select(OutboundEmail)).all()
        assert [m.template for m in mails] == ["order confirmation"]
    assert set(states(app, order_id).values()) == {"confirmed"}
    with app.app_context():
        engine.trigger_event(order_id, "skip timeout", actor=ACTOR)
    # waiting -> onEnter "check giftcard purchase": the gift card takes the conditional
    # branch of the CreateGiftCard subprocess and ends up shipped; the shoe is exported.
    assert states(app, order_id) == {"SHOE-1": "exported", "GIFT-50": "shipped"}
    with app.app_context():
        result = engine.trigger_event(order_id, "ship", actor=ACTOR)
        assert (result.moved, result.skipped) == (1, 1)
        engine.trigger_event(order_id, "stock-update", actor=ACTOR)
        engine.trigger_event(order_id, "close", actor=ACTOR)
        assert [m.template for m in db.session.scalars(
            sa.select(OutboundEmail).order_by(OutboundEmail.id))] == [
            "order confirmation", "order shipped"]
    assert set(states(app, order_id).values()) == {"closed"}


def test_declined_authorisation_takes_the_else_branch(app, post_order):
    order_id = place(post_order, method="dummyPaymentDeclined")
    with app.app_context():
        sweeps.check_timeouts(now=utcnow() + timedelta(seconds=2))
    assert set(states(app, order_id).values()) == {"invalid"}


def test_invoice_subprocess_returns_to_the_main_flow(app, post_order):
    order_id = place(post_order)
    with app.app_context():
        sweeps.check_timeouts(now=utcnow() + timedelta(seconds=2))
        engine.trigger_event(order_id, "pay", actor=ACTOR)
        engine.trigger_event(order_id, "invoice-generate", actor=ACTOR)
    # invoice generated -> onEnter invoice-generated -> waiting -> onEnter check giftcard
    assert states(app, order_id) == {"SHOE-1": "exported", "GIFT-50": "shipped"}
