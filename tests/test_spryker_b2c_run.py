"""One order runs through the current b2c demo shop's DummyPayment01, verbatim, from "new" to
"closed": event-less transitions by the condition sweep, onEnter events by themselves,
timeouts by the timeout sweep with the clock moved on, manual events by hand; subprocesses
(order amendment, warehouse allocation, picking) included. Commands and conditions are
stubs (tests/plugins/b2c_dummy_payment.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import EventTimeout, ItemStateHistory, OrderItem
from panel.models.base import utcnow
from panel.oms import engine, sweeps
from tests.conftest import order_payload
from tests.plugins import b2c_dummy_payment
from tests.plugins.spryker_stubs import SAMPLES

ACTOR = "Agent User <agent@example.org>"


@pytest.fixture
def app_config():
    if not SAMPLES.is_dir():
        pytest.fail(f"the Spryker samples are missing: {SAMPLES} (CI has ../shared)")
    return {"PANEL_PLUGINS": ("tests.plugins.b2c_dummy_payment",),
            "PANEL_PAYMENT_PROCESSES": {"dummypayment": "DummyPayment01"}}


@pytest.fixture
def calls():
    b2c_dummy_payment.PLUGIN.calls.clear()
    yield b2c_dummy_payment.PLUGIN.calls
    b2c_dummy_payment.PLUGIN.calls.clear()


def the_item(app, order_id) -> tuple[str, list[str]]:
    """The item's state and the events of its pending timeouts."""
    with app.app_context():
        item = db.session.scalars(sa.select(OrderItem).where(OrderItem.order_id == order_id)).one()
        due = db.session.scalars(sa.select(EventTimeout.event)
                                 .where(EventTimeout.item_id == item.id)
                                 .order_by(EventTimeout.event)).all()
        return item.state_name, list(due)


def test_an_order_runs_through_b2c_dummy_payment_from_new_to_closed(app, post_order, calls):
    payload = order_payload(payment={"method": "dummyPayment", "amount": 1999 + 490})
    payload["shipments"][0]["items"] = [
        {"sku": "SHOE-1", "name": "Running shoe", "quantity": 1, "unit_price": 1999,
         "tax_rate": 19}]
    response = post_order(payload)
    assert response.status_code == 201, response.json
    order_id = response.json["id"]
    clock = utcnow()
    assert the_item(app, order_id) == ("new", [])

    with app.app_context():
        # new -> grace period pending has no event: the condition sweep takes it; then
        # onEnter "unreserve deleted items" and "start grace period" (DummyOrderAmendment01).
        assert sweeps.check_conditions(now=clock).moved == 1
    assert the_item(app, order_id) == ("grace period started", ["skip grace period"])

    with app.app_context():
        clock += timedelta(hours=2, seconds=1)  # skip grace period: timeout 2 hour
        assert sweeps.check_timeouts(now=clock).moved == 1
    # ... -> grace period finished -> onEnter "allocate warehouse" (WarehouseAllocation01)
    assert the_item(app, order_id) == ("warehouse allocated", ["authorize"])

    with app.app_context():
        clock += timedelta(seconds=2)  # authorize: timeout 1 second, DummyPayment/IsAuthorized
        assert sweeps.check_timeouts(now=clock).moved == 1
    assert the_item(app, order_id) == ("payment pending", ["pay"])  # OmsTimeout/Initiation

    with app.app_context():
        clock += timedelta(minutes=5)
        result = engine.trigger_event(order_id, "pay", actor=ACTOR, now=clock)
        assert (result.error, result.moved) == (None, 1)
    # pay -> paid -> onEnter submit tax invoice -> request product review -> confirm
    assert the_item(app, order_id) == ("confirmed", ["skip timeout"])

    with app.app_context():
        clock += timedelta(minutes=31)  # skip timeout: manual, or after 30 minute
        assert sweeps.check_timeouts(now=clock).moved == 1
    # waiting: onEnter "check giftcard purchase" (CreateGiftCard01) finds no gift card and the
    # item stays, with "skip picking" ahead and picking to schedule by hand
    assert the_item(app, order_id) == ("waiting", ["skip picking"])

    with app.app_context():
        result = engine.trigger_event(order_id, "picking list generation schedule",
                                      actor=ACTOR, now=clock)
        assert (result.error, result.moved) == (None, 1)
    # -> scheduled -> onEnter "generate picking lists" (DummyPicking01)
    assert the_item(app, order_id) == ("picking list generation started",
                                       ["prepare for picking"])
    for state, timeout in (("ready for picking", "start picking"),
                           ("picking started", "finish picking"),
                           ("picking finished", "finish picking"),
                           ("exported", None)):
        with app.app_context():
            clock += timedelta(seconds=2)  # each a timeout of 1 second, its condition holds
            assert sweeps.check_timeouts(now=clock).moved == 1
        assert the_item(app, order_id) == (state, [timeout] if timeout else [])

    with app.app_context():
        for event in ("ship", "stock-update", "close"):
            clock += timedelta(hours=1)
            result = engine.trigger_event(order_id, event, actor=ACTOR, now=clock)
            assert (result.error, result.moved) == (None, 1), event
    assert the_item(app, order_id) == ("closed", [])

    with app.app_context():
        history = db.session.execute(
            sa.select(ItemStateHistory.from_state, ItemStateHistory.to_state,
                      ItemStateHistory.event, ItemStateHistory.actor)
            .join(OrderItem, OrderItem.id == ItemStateHistory.item_id)
            .where(OrderItem.order_id == order_id).order_by(ItemStateHistory.id)).all()
    sweep, timeout = "condition check", "timeout"
    assert [tuple(row) for row in history] == [
        (None, "new", None, "system (intake)"),
        ("new", "grace period pending", None, sweep),
        ("grace period pending", "deleted item unreserved", "unreserve deleted items", sweep),
        ("deleted item unreserved", "grace period started", "start grace period", sweep),
        ("grace period started", "grace period finished", "skip grace period", timeout),
        ("grace period finished", "warehouse allocated", "allocate warehouse", timeout),
        ("warehouse allocated", "payment pending", "authorize", timeout),
        ("payment pending", "paid", "pay", ACTOR),
        ("paid", "tax invoice submitted", "submit tax invoice", ACTOR),
        ("tax invoice submitted", "product review requested", "request product review", ACTOR),
        ("product review requested", "confirmed", "confirm", ACTOR),
        ("confirmed", "waiting", "skip timeout", timeout),
        ("waiting", "picking list generation scheduled", "picking list generation schedule",
         ACTOR),
        ("picking list generation scheduled", "picking list generation started",
         "generate picking lists", ACTOR),
        ("picking list generation started", "ready for picking", "prepare for picking", timeout),
        ("ready for picking", "picking started", "start picking", timeout),
        ("picking started", "picking finished", "finish picking", timeout),
        ("picking finished", "exported", "finish picking", timeout),
        ("exported", "shipped", "ship", ACTOR),
        ("shipped", "delivered", "stock-update", ACTOR),
        ("delivered", "closed", "close", ACTOR),
    ]
    # The stub commands ran once each, in this order, for the item.
    assert [(command, event) for command, event, _ in calls] == [
        ("OrderAmendment/UnreserveDeletedItems", "unreserve deleted items"),
        ("OrderAmendment/StartGracePeriod", "start grace period"),
        ("WarehouseAllocation/WarehouseAllocate", "allocate warehouse"),
        ("DummyPayment/Pay", "pay"),
        ("TaxApp/SubmitPaymentTaxInvoice", "submit tax invoice"),
        ("Order/RequestProductReviews", "request product review"),
        ("Oms/SendOrderConfirmation", "confirm"),
        ("PickingList/GeneratePickingLists", "generate picking lists"),
        ("Oms/SendOrderShipped", "ship"),
    ]
