"""End-to-end: the keyboard shortcuts in Chromium: search, rows, ticking, opening, the
order page's event buttons, going to pages, the list of shortcuts; none while typing."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.models import OrderItem
from tests.e2e.conftest import login, make_order

pytestmark = pytest.mark.e2e

ROWS = "#orders-table tbody tr[data-order-reference]"


def states(app, order_id: int) -> list[str]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(OrderItem.state_name).where(
            OrderItem.order_id == order_id)))
        db.session.remove()
    return found


def test_list_rows_by_keys_tick_and_open(app, accounts, page: Page, live_server):
    first = make_order(app, order_reference="DE--1")
    make_order(app, order_reference="DE--2")
    make_order(app, order_reference="DE--3")
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/")
    page.wait_for_load_state("load")

    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("jx")  # typing in the field: letters, not shortcuts
    expect(page.locator("#q")).to_have_value("jx")
    expect(page.locator("tr.row-current")).to_have_count(0)
    page.locator("#q").fill("")
    page.locator("h4").click()  # the focus leaves the field

    page.keyboard.press("j")
    rows = page.locator(ROWS)
    expect(rows.nth(0)).to_have_class(re.compile(r"\brow-current\b"))
    expect(rows.nth(0).locator("[data-row-open]")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(rows.nth(2)).to_have_class(re.compile(r"\brow-current\b"))
    expect(rows.nth(2)).to_have_attribute("data-order-reference", "DE--1")
    page.keyboard.press("j")  # the last row stays the current one
    expect(rows.nth(2)).to_have_class(re.compile(r"\brow-current\b"))
    page.keyboard.press("k")
    expect(rows.nth(1)).to_have_class(re.compile(r"\brow-current\b"))
    expect(page.locator("tr.row-current")).to_have_count(1)

    page.keyboard.press("x")
    expect(rows.nth(1).locator('input[name="order"]')).to_be_checked()
    expect(page.locator("#bulk-ticked")).to_have_text("1 order ticked:")
    page.keyboard.press("x")
    expect(rows.nth(1).locator('input[name="order"]')).not_to_be_checked()

    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/sales/orders/{first['id']}$"))
    expect(page.locator("h4")).to_have_text("View Order: DE--1")


def test_event_buttons_by_keys_on_the_order_page(app, accounts, page: Page, live_server):
    order = make_order(app, order_reference="DE--5")
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    page.wait_for_load_state("load")
    page.keyboard.press("e")
    focused = page.locator("button:focus")
    expect(focused).to_have_attribute("name", "event")
    expect(focused).to_have_attribute("value", "pay")
    page.keyboard.press("Enter")
    expect(page.locator(".alert-success")).to_contain_text('"pay" moved 3 items.')
    assert states(app, order["id"]) == ["paid"] * 3


def test_a_viewer_has_no_event_button_to_reach(app, accounts, page: Page, live_server):
    order = make_order(app, order_reference="DE--6")
    login(page, live_server, accounts["viewer"])
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    page.wait_for_load_state("load")
    page.keyboard.press("e")
    expect(page.locator("button:focus")).to_have_count(0)
    assert states(app, order["id"]) == ["new"] * 3


def test_go_to_pages_and_the_list_of_shortcuts(app, accounts, page: Page, live_server):
    login(page, live_server, accounts["agent"])
    page.wait_for_load_state("load")
    page.keyboard.press("g")
    page.keyboard.press("o")
    page.wait_for_url(re.compile(r"/sales/orders/$"))
    page.wait_for_load_state("load")
    page.keyboard.press("g")
    page.keyboard.press("r")
    page.wait_for_url(re.compile(r"/sales/reclamations/$"))
    page.wait_for_load_state("load")
    page.keyboard.press("g")
    page.keyboard.press("d")
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("h4")).to_have_text("Dashboard")
    page.wait_for_load_state("load")

    dialog = page.locator("#shortcuts")
    expect(dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Go to the reclamations")
    page.keyboard.press("j")  # no shortcut while the list is open
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
