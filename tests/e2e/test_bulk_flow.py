"""End-to-end: bulk actions on Sales > Orders, in Chromium, with panel.js driving the batches
(and going on by itself after a batch that the database interrupted)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from panel.admin.bulk import BulkView
from panel.extensions import db
from panel.models import OrderItem
from tests.conftest import ON_POSTGRES
from tests.e2e.conftest import login, make_order
from tests.plugins.write_lock_fixture import WriteLock, shorten_busy_timeout

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_config():
    return {"PANEL_PLUGINS": ("tests.plugins.write_lock_fixture",)}


def item_states(app, order_id: int) -> list[str]:
    with app.app_context():
        found = db.session.scalars(select(OrderItem.state_name).where(
            OrderItem.order_id == order_id).order_by(OrderItem.id)).all()
        db.session.remove()
    return found


def row(page: Page, reference: str):
    return page.locator(f'#orders-table tr[data-order-reference="{reference}"]')


def preview_and_run(page: Page, event: str, orders: int, items: int) -> None:
    """On a selection's page: preview ``event``, check the figures, confirm, await the end."""
    page.select_option("#bulk-event", event)
    page.click("#preview-button")
    expect(page.locator("#preview-moving")).to_have_text(
        re.compile(rf"^\s*{orders} of {orders} orders\s+with {items} items would move\.\s*$"))
    expect(page.locator("#preview-skipped")).to_contain_text("0 orders would be skipped")
    page.click("#confirm-button")
    page.wait_for_url(re.compile(r"/sales/bulk/selections/\d+/runs/\d+$"))
    # panel.js posts batch after batch, then reloads the page with the report.
    expect(page.locator("#bulk-run")).to_have_attribute("data-status", "done")
    expect(page.locator("#run-status")).to_contain_text("done")
    expect(page.locator("#run-done")).to_have_text(str(orders))
    expect(page.locator("#run-total")).to_have_text(str(orders))
    progress = page.locator("#bulk-progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == str(orders)
    expect(page.locator("#next-batch")).to_have_count(0)


def test_tick_two_orders_trigger_pay_and_read_the_report(app, page, live_server, accounts,
                                                         monkeypatch):
    monkeypatch.setattr(BulkView, "batch_size", 1)  # one order per batch: several round trips
    first = make_order(app, order_reference="DE--701")
    second = make_order(app, order_reference="DE--702")
    untouched = make_order(app, order_reference="DE--703")
    page.goto(f"{live_server}/sales/orders/")
    login(page, live_server, accounts["agent"])

    expect(page.locator("#bulk-ticked")).to_have_text("Tick orders below, or")
    row(page, "DE--701").locator('input[name="order"]').check()
    row(page, "DE--702").locator('input[name="order"]').check()
    expect(page.locator("#bulk-ticked")).to_have_text("2 orders ticked:")
    page.click("#bulk-trigger-selected")

    page.wait_for_url(re.compile(r"/sales/bulk/selections/\d+$"))
    expect(page.locator("#selection-count")).to_have_text("2")
    expect(page.locator("#selection-description")).to_have_text("2 ticked orders")
    expect(page.locator("#bulk-event option")).to_have_text(["pay", "cancel"])
    preview_and_run(page, "pay", orders=2, items=6)

    report = page.locator("#run-report tbody tr")
    expect(report).to_have_count(2)
    expect(report.locator("td:nth-child(2)")).to_have_text(["DE--701", "DE--702"])
    expect(report.locator("td:nth-child(3)")).to_have_text(["moved", "moved"])
    expect(report.locator("td.run-message")).to_have_text(['"pay" moved 3 items.'] * 2)
    expect(page.locator("#download-report")).to_have_attribute(
        "href", re.compile(r"/report\.csv$"))

    assert item_states(app, first["id"]) == ["paid"] * 3
    assert item_states(app, second["id"]) == ["paid"] * 3
    assert item_states(app, untouched["id"]) == ["new"] * 3


def test_all_orders_matching_the_filter(app, page, live_server, accounts):
    austrian = make_order(app, order_reference="AT--71", store="AT")
    austrian_two = make_order(app, order_reference="AT--72", store="AT")
    german = make_order(app, order_reference="DE--711")
    page.goto(f"{live_server}/sales/orders/")
    login(page, live_server, accounts["agent"])

    page.click("#filter-store summary")  # the store filter's panel of checkboxes
    page.locator("#filter-store").get_by_label("AT", exact=True).check()
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"store=AT"))
    expect(page.locator("#orders-table tr[data-order-reference]")).to_have_count(2)
    # Check-all ticks the page; "all matching" takes the filter instead, ticks or not.
    page.locator("#bulk-check-all").check()
    expect(page.locator('#orders-table input[name="order"]:checked')).to_have_count(2)
    select_all = page.locator("#bulk-select-all")
    expect(select_all).to_have_text("Select all 2 orders matching this filter")
    select_all.click()

    page.wait_for_url(re.compile(r"/sales/bulk/selections/\d+$"))
    expect(page.locator("#selection-count")).to_have_text("2")
    expect(page.locator("#selection-description")).to_have_text("All orders matching: store AT")
    late = make_order(app, order_reference="AT--73", store="AT")  # after the selection
    preview_and_run(page, "pay", orders=2, items=6)
    expect(page.locator("#run-report td:nth-child(2)")).to_have_text(["AT--71", "AT--72"])

    assert item_states(app, austrian["id"]) == ["paid"] * 3
    assert item_states(app, austrian_two["id"]) == ["paid"] * 3
    assert item_states(app, german["id"]) == ["new"] * 3
    assert item_states(app, late["id"]) == ["new"] * 3


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's write lock, taken by another process")
def test_a_batch_the_database_interrupted_says_so_and_the_page_goes_on_by_itself(
        app, page, live_server, accounts, database_url):
    orders = [make_order(app, order_reference=f"DE--72{n}") for n in range(3)]
    with app.app_context():
        shorten_busy_timeout(db.engine, 1000)
    page.goto(f"{live_server}/sales/orders/")
    login(page, live_server, accounts["agent"])
    for order in orders:
        row(page, order["reference"]).locator('input[name="order"]').check()
    page.click("#bulk-trigger-selected")
    page.wait_for_url(re.compile(r"/sales/bulk/selections/\d+$"))
    page.select_option("#bulk-event", "pay")
    page.click("#preview-button")

    lock = WriteLock.arm(database_url, 1)  # another process, once the first order moved
    try:
        page.click("#confirm-button")
        expect(page.locator("#run-message")).to_have_text(
            "The database was busy, so this batch stopped after 1 order, which is saved and "
            "in the report. The orders not done yet are still pending; nothing was lost. "
            "Trying again in 5 seconds…")
        expect(page.locator("#run-done")).to_have_text("1")
        assert lock.held
    finally:
        lock.release()

    # panel.js tries again by itself, finishes the run and shows the report.
    expect(page.locator("#bulk-run")).to_have_attribute("data-status", "done")
    report = page.locator("#run-report tbody tr")
    expect(report.locator("td:nth-child(3)")).to_have_text(["moved"] * 3)
    for order in orders:
        assert item_states(app, order["id"]) == ["paid"] * 3
