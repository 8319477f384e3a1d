"""View Order's quantities and amounts per order line (panel/services/quantities.py): each
rule through the services on a real database, and the figures on the order page.

Orders run the default process (DefaultOrder01) and are paid with "dummyPayment", whose
bundled plugin carries refunds out at once.
"""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Order, OrderItem, Refund, Return, User
from panel.oms import engine
from panel.services import quantities, refunds, returns
from panel.services.quantities import CANCELED, OPEN, SHIPPED, fulfilment
from panel.services.refunds import RefundRequest
from panel.services.returns import ReturnLine
from tests.conftest import order_payload
from tests.test_order_page import count_queries

ADMIN = "Admin User <admin@example.org>"
SHOE, SOCKS = 1999, 999


@pytest.fixture
def order(app, accounts, post_order):
    """A paid order: shoe, shoe, socks (one shipment); its id and item ids."""
    payload = order_payload()
    payload["payment"]["method"] = "dummyPayment"
    response = post_order(payload)
    assert response.status_code == 201, response.json
    order_id = response.json["id"]
    with app.app_context():
        assert engine.trigger_event(order_id, "pay", actor=ADMIN).moved
        ids = db.session.scalars(sa.select(OrderItem.id).where(OrderItem.order_id == order_id)
                                 .order_by(OrderItem.id)).all()
    return order_id, list(ids)


def lines(app, order_id) -> dict[str, quantities.OrderLine]:
    with app.app_context():
        return {line.sku: line
                for line in quantities.load(db.session.get(Order, order_id)).lines}


def cells(row: str) -> dict[str, str]:
    """{q-name: the cell's text} of one row of the Quantities box."""
    return {name: " ".join(re.sub(r"<[^>]+>", " ", text).split())
            for name, text in re.findall(r'<td class="[^"]*\b(q-[a-z-]+)">(.*?)</td>', row, re.S)}


def trigger(app, order_id, event, item_ids):
    with app.app_context():
        assert engine.trigger_event(order_id, event, actor=ADMIN, item_ids=item_ids).moved


def refund(app, order_id, items, send=True):
    with app.app_context():
        made = refunds.create_refund(order_id, RefundRequest(items=items), actor=ADMIN)
        if send:
            refunds.send_refund(made.id)


def make_return(app, order_id, item_ids):
    with app.app_context():
        agent = db.session.scalar(sa.select(User).where(User.role == "agent"))
        returns.create_return(order_id, [ReturnLine(i, note="too small") for i in item_ids],
                              agent)


def test_the_last_cancel_or_ship_event_decides():
    cancel, ship = {"cancel"}, {"ship", "hand-over"}
    assert fulfilment([None, "pay"], cancel, ship) == OPEN
    assert fulfilment([None, "pay", "cancel"], cancel, ship) == CANCELED
    assert fulfilment([None, "pay", "hand-over", "deliver"], cancel, ship) == SHIPPED
    assert fulfilment([None, "ship", "cancel"], cancel, ship) == CANCELED
    assert fulfilment([None, "cancel", "ship"], cancel, ship) == SHIPPED


def test_a_new_order_is_ordered_and_open_with_all_of_it_refundable(app, order):
    order_id, _ = order
    by_sku = lines(app, order_id)
    shoe, socks = by_sku["SHOE-1"], by_sku["SOCK-1"]
    assert (shoe.ordered, shoe.open, shoe.canceled, shoe.shipped) == (2, 2, 0, 0)
    assert (socks.ordered, socks.open) == (1, 1)
    assert (shoe.paid, shoe.refunded_amount, shoe.pending_amount, shoe.refundable) == \
        (2 * SHOE, 0, 0, 2 * SHOE)


def test_partial_cancel_and_ship_split_the_ordered_units(app, order):
    order_id, (shoe1, shoe2, socks) = order
    trigger(app, order_id, "cancel", [shoe1])
    trigger(app, order_id, "ship", [shoe2])
    shoe = lines(app, order_id)["SHOE-1"]
    assert (shoe.ordered, shoe.canceled, shoe.shipped, shoe.open) == (2, 1, 1, 0)
    assert lines(app, order_id)["SOCK-1"].open == 1
    trigger(app, order_id, "deliver", [shoe2])  # delivered is still shipped
    assert lines(app, order_id)["SHOE-1"].shipped == 1


def test_the_settings_name_the_cancel_and_ship_events(app, order):
    order_id, (shoe1, _, _) = order
    trigger(app, order_id, "ship", [shoe1])
    app.config["PANEL_SHIP_EVENTS"] = ("deliver",)
    assert lines(app, order_id)["SHOE-1"].shipped == 0
    trigger(app, order_id, "deliver", [shoe1])
    assert lines(app, order_id)["SHOE-1"].shipped == 1
    app.config["PANEL_CANCEL_EVENTS"] = ("pay",)
    assert lines(app, order_id)["SOCK-1"].canceled == 1


def test_returned_counts_items_in_open_and_closed_returns_once(app, order):
    order_id, (shoe1, shoe2, socks) = order
    trigger(app, order_id, "ship", [shoe1, shoe2, socks])
    make_return(app, order_id, [shoe1])
    assert lines(app, order_id)["SHOE-1"].returned == 1
    with app.app_context():
        agent = db.session.scalar(sa.select(User).where(User.role == "agent"))
        returns.close_return(db.session.scalar(sa.select(Return.id)), agent)
    assert lines(app, order_id)["SHOE-1"].returned == 1  # closed: still returned
    assert lines(app, order_id)["SOCK-1"].returned == 0


def test_refunds_count_whole_and_partial_units_and_amounts(app, order):
    order_id, (shoe1, shoe2, socks) = order
    refund(app, order_id, {shoe1: None})
    refund(app, order_id, {shoe2: 500})
    shoe = lines(app, order_id)["SHOE-1"]
    assert (shoe.refunded, shoe.partly_refunded) == (1, 1)
    assert (shoe.paid, shoe.refunded_amount, shoe.pending_amount, shoe.refundable) == \
        (2 * SHOE, SHOE + 500, 0, SHOE - 500)
    refund(app, order_id, {shoe2: None})  # the rest: now whole
    shoe = lines(app, order_id)["SHOE-1"]
    assert (shoe.refunded, shoe.partly_refunded, shoe.refundable) == (2, 0, 0)


def test_a_pending_refund_holds_its_amount_and_a_discarded_one_nothing(app, order):
    order_id, (_, _, socks) = order
    refund(app, order_id, {socks: 300}, send=False)  # pending: not sent yet
    sock = lines(app, order_id)["SOCK-1"]
    assert (sock.refunded, sock.partly_refunded) == (0, 0)
    assert (sock.refunded_amount, sock.pending_amount, sock.refundable) == (0, 300, SOCKS - 300)
    with app.app_context():
        # Only a refused refund can be discarded, and the bundled provider refuses none:
        # the row is set as discard_refund leaves it.
        pending = db.session.scalar(sa.select(Refund))
        pending.status = "discarded"
        db.session.commit()
    sock = lines(app, order_id)["SOCK-1"]
    assert (sock.pending_amount, sock.refundable) == (0, SOCKS)


def test_the_numbers_add_up_after_everything(app, order):
    order_id, (shoe1, shoe2, socks) = order
    trigger(app, order_id, "cancel", [socks])
    trigger(app, order_id, "ship", [shoe1, shoe2])
    make_return(app, order_id, [shoe2])
    refund(app, order_id, {shoe2: None, socks: 400})
    with app.app_context():
        q = quantities.load(db.session.get(Order, order_id))
        refund_total = db.session.get(Order, order_id).refund_total
    for line in q.lines:
        assert line.ordered == line.canceled + line.open + line.shipped
        assert line.paid == line.refunded_amount + line.pending_amount + line.refundable
    assert q.total("refunded_amount") == refund_total == SHOE + 400


def test_the_order_page_shows_the_figures(app, as_role, order):
    order_id, (shoe1, shoe2, socks) = order
    trigger(app, order_id, "cancel", [shoe1])
    trigger(app, order_id, "ship", [shoe2, socks])
    make_return(app, order_id, [socks])
    refund(app, order_id, {socks: 499})
    page = as_role("viewer").get(f"/sales/orders/{order_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    box = html[html.index('id="order-quantities"'):]
    box = box[:box.index("</table>")]

    rows = {sku: cells(row) for sku, row in re.findall(
        r'<tr class="quantity-line" data-sku="([^"]*)">(.*?)</tr>', box, re.S)}
    assert rows["SHOE-1"] == {
        "q-ordered": "2", "q-canceled": "1", "q-open": "0", "q-shipped": "1",
        "q-returned": "0", "q-refunded": "0", "q-paid": "€39.98",
        "q-refunded-amount": "€0.00", "q-pending-amount": "€0.00",
        "q-refundable": "€39.98"}
    assert rows["SOCK-1"]["q-returned"] == "1"
    assert rows["SOCK-1"]["q-refunded"] == "0 (+1 partly)"
    assert rows["SOCK-1"]["q-refunded-amount"] == "€4.99"
    assert rows["SOCK-1"]["q-refundable"] == "€5.00"
    total = cells(re.search(r'<tr class="[^"]*quantity-total">(.*?)</tr>', box, re.S)[1])
    assert (total["q-ordered"], total["q-shipped"], total["q-paid"],
            total["q-refunded-amount"]) == ("3", "2", "€49.97", "€4.99")


def test_the_page_asks_as_often_for_1_as_for_20_returned_and_refunded_items(app, as_role,
                                                                             post_order):
    def placed(count: int) -> int:
        payload = order_payload(payment={"method": "dummyPayment",
                                         "amount": count * 1999 + 490})
        payload["shipments"][0]["items"] = [
            {"sku": f"SKU-{n}", "name": f"Product {n}", "quantity": 1, "unit_price": 1999,
             "tax_rate": 19} for n in range(count)]
        order_id = post_order(payload).json["id"]
        with app.app_context():
            ids = db.session.scalars(sa.select(OrderItem.id).where(
                OrderItem.order_id == order_id)).all()
        trigger(app, order_id, "pay", ids)
        trigger(app, order_id, "ship", ids)
        make_return(app, order_id, ids)
        refund(app, order_id, {item_id: 1000 for item_id in ids})
        refund(app, order_id, {item_id: None for item_id in ids}, send=False)
        return order_id

    one, twenty = placed(1), placed(20)
    sku7 = lines(app, twenty)["SKU-7"]
    assert (sku7.returned, sku7.refunded_amount, sku7.pending_amount) == (1, 1000, 999)
    agent = as_role("agent")
    agent.get(f"/sales/orders/{one}")  # warm up the session
    assert count_queries(app, agent, f"/sales/orders/{one}") == \
        count_queries(app, agent, f"/sales/orders/{twenty}")
