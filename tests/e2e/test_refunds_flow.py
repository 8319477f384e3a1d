"""End-to-end: refunding two items partly from View Order, in Chromium.

An admin opens a paid order, presses Refund, ticks two items and types smaller amounts,
sees the running total, refunds, and finds the refund in the order's Refunds box, the
order's refund total and the orders list; a second refund is offered only what is left.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from panel.extensions import db
from panel.models import Order, OrderItem, Refund, User
from panel.oms import engine
from tests.e2e.conftest import login, make_order

pytestmark = pytest.mark.e2e


def paid_order(app, reference: str) -> tuple[dict, list[int]]:
    """An order paid by invoice (captured): shoe 19.99, shoe 19.99, socks 9.99, 4.90 shipping."""
    order = make_order(app, order_reference=reference)
    with app.app_context():
        engine.trigger_event(order["id"], "pay", actor="Admin User <admin@example.org>")
        items = list(db.session.scalars(select(OrderItem.id).where(
            OrderItem.order_id == order["id"]).order_by(OrderItem.id)))
        db.session.remove()
    return order, items


def saved_refunds(app, order_id: int) -> list[tuple]:
    with app.app_context():
        rows = [(r.status, r.total, sorted((line.order_item_id, line.amount)
                                           for line in r.lines))
                for r in db.session.scalars(select(Refund).where(Refund.order_id == order_id)
                                            .order_by(Refund.id))]
        total = db.session.get(Order, order_id).refund_total
        db.session.remove()
    return rows, total


def item_row(page: Page, item_id: int):
    return page.locator(f'#refund-items tr[data-item-id="{item_id}"]')


def test_refund_two_items_partly_from_view_order(app, page, live_server, accounts):
    order, items = paid_order(app, "DE--701")
    shoe, _, socks = items

    login(page, live_server, accounts["admin"])
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    expect(page.locator("#order-refunds")).to_contain_text("No refunds.")
    page.click("#refund-order")
    page.wait_for_url(re.compile(rf"/sales/refunds/new/{order['id']}$"))
    expect(page.locator("h4")).to_have_text("Create Refund")
    expect(item_row(page, shoe).locator("td.refundable")).to_have_text("€19.99")
    expect(page.locator(f'input[name="amount-{shoe}"]')).to_have_value("19.99")
    expect(page.locator("#left-to-refund")).to_have_text("€54.87")

    item_row(page, shoe).locator("input[name=item]").check()
    page.fill(f'input[name="amount-{shoe}"]', "5.00")
    item_row(page, socks).locator("input[name=item]").check()
    page.fill(f'input[name="amount-{socks}"]', "2,50")
    expect(page.locator("#refund-total")).to_have_text("€7.50")
    page.click("#create-refund")

    page.wait_for_url(re.compile(rf"/sales/orders/{order['id']}#order-refunds$"))
    rows, total = saved_refunds(app, order["id"])
    assert rows == [("succeeded", 750, [(shoe, 500), (socks, 250)])] and total == 750
    expect(page.locator(".alert-success")).to_contain_text("of €7.50 succeeded")
    box = page.locator("#order-refunds tr.refund")
    expect(box).to_have_count(1)
    expect(box.locator(".refund-lines li")).to_have_text([
        f"Running shoe (item #{shoe}): €5.00", f"Socks (item #{socks}): €2.50"])
    expect(box.locator(".refund-amount")).to_have_text("€7.50")
    expect(box.locator(".refund-status")).to_have_text("succeeded")
    expect(box.locator(".refund-outcome")).to_have_text(re.compile(r"^RECORDED-\d+$"))
    expect(box).to_contain_text("Admin User <admin@example.org>")
    expect(page.locator("#refund-total")).to_have_text("€7.50")

    # The rest stays refundable: a second refund is offered what is left of each item.
    page.click("#refund-order")
    expect(item_row(page, shoe).locator("td.held")).to_have_text("€5.00")
    expect(item_row(page, shoe).locator("td.refundable")).to_have_text("€14.99")
    expect(item_row(page, socks).locator("td.refundable")).to_have_text("€7.49")
    expect(page.locator("#left-to-refund")).to_have_text("€47.37")
    item_row(page, shoe).locator("input[name=item]").check()
    page.fill(f'input[name="amount-{shoe}"]', "15.00")
    page.click("#create-refund")
    expect(page.locator(".alert-danger")).to_contain_text(
        f"The refund was not made: Running shoe (item #{shoe}): €15.00 is more than the "
        f"€14.99 still refundable.")
    expect(page.locator(f'input[name="amount-{shoe}"]')).to_have_value("15.00")
    page.fill(f'input[name="amount-{shoe}"]', "")
    expect(page.locator("#refund-total")).to_have_text("€14.99")
    page.click("#create-refund")
    page.wait_for_url(re.compile(rf"/sales/orders/{order['id']}#order-refunds$"))
    expect(page.locator("#order-refunds tr.refund")).to_have_count(2)
    expect(page.locator("#refund-total")).to_have_text("€22.49")
    rows, total = saved_refunds(app, order["id"])
    assert [r[1] for r in rows] == [750, 1499] and total == 2249

    page.goto(f"{live_server}/sales/orders/")
    row = page.locator('#orders-table tr[data-order-reference="DE--701"]')
    expect(row.locator(".refund-total")).to_have_text("€22.49 refunded")


def test_a_german_admin_sees_the_running_total_in_german_money(app, page, live_server,
                                                                accounts):
    """The total the page adds up as amounts are typed reads as the server writes money in
    the user's language; the amounts are typed as before (12.34 or 12,34)."""
    order, items = paid_order(app, "DE--702")
    _, _, socks = items
    with app.app_context():
        db.session.execute(update(User).where(User.email == accounts["admin"])
                           .values(locale="de"))
        db.session.commit()
        db.session.remove()

    login(page, live_server, accounts["admin"])
    page.goto(f"{live_server}/sales/refunds/new/{order['id']}")
    expect(page.locator("h4")).to_have_text("Erstattung anlegen")
    expect(item_row(page, socks).locator("td.refundable")).to_have_text(re.compile(r"^9,99\s€$"))
    expect(page.locator(f'input[name="amount-{socks}"]')).to_have_value("9.99")
    item_row(page, socks).locator("input[name=item]").check()
    page.fill(f'input[name="amount-{socks}"]', "2,50")
    expect(page.locator("#refund-total")).to_have_text(re.compile(r"^2,50\s€$"))
    page.click("#create-refund")

    page.wait_for_url(re.compile(rf"/sales/orders/{order['id']}#order-refunds$"))
    expect(page.locator(".alert-success")).to_contain_text(
        re.compile(r"über 2,50\s€ war erfolgreich"))
    expect(page.locator("#order-refunds .refund-status")).to_have_text("erfolgreich")
