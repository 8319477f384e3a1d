"""What the refund tests share: the settings of an app with the fixture plugin of
tests/plugins/refund_fixture.py, its provider reset for every test, and a paid order."""
from __future__ import annotations

import sqlalchemy as sa

from panel.extensions import db
from panel.models import OrderItem, Shipment
from panel.oms import engine
from tests.conftest import order_payload
from tests.plugins import refund_fixture

ADMIN = "Admin User <admin@example.org>"


APP_CONFIG = {"PANEL_PLUGINS": (refund_fixture.NAME,),
              "PANEL_PAYMENT_PROCESSES": {"dummypayment": "DummyPayment01"}}


def fresh_provider():
    """For a test module's autouse ``provider`` fixture (``yield from``): the fixture
    provider's switch, reset; set ``provider["refusal"]`` to a message to have it refuse."""
    refund_fixture.PROVIDER["refusal"] = None
    refund_fixture.CALLS.clear()
    yield refund_fixture.PROVIDER
    refund_fixture.PROVIDER["refusal"] = None


def paid_order(app, post_order, payload=None, method="psp", pay=True
               ) -> tuple[int, list[int], list[int]]:
    """Place an order (default: shoe 19.99, shoe 19.99, socks 9.99, 4.90 shipping) paid
    with ``method``, capture its payment; return its id, item ids and shipment ids."""
    payload = payload or order_payload()
    payload["payment"] = {"method": method, "amount": payload["payment"]["amount"]}
    response = post_order(payload)
    assert response.status_code == 201, response.json
    order_id = response.json["id"]
    with app.app_context():
        if pay:
            assert engine.trigger_event(order_id, "pay", actor=ADMIN).moved
        items = db.session.scalars(sa.select(OrderItem.id).where(
            OrderItem.order_id == order_id).order_by(OrderItem.id)).all()
        shipments = db.session.scalars(sa.select(Shipment.id).where(
            Shipment.order_id == order_id).order_by(Shipment.id)).all()
    return order_id, list(items), list(shipments)
