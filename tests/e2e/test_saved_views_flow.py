"""End-to-end: saved views of the orders list in Chromium: filter, save as a view, its tab and
link, make it the default, share it (admin), delete it."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, make_order

pytestmark = pytest.mark.e2e

ROW = "#orders-table tbody tr[data-order-reference]"


def shown_references(page: Page) -> list[str]:
    return [row.get_attribute("data-order-reference") for row in page.locator(ROW).all()]


def test_save_a_view_use_it_as_default_then_delete_it(app, accounts, page: Page, live_server,
                                                       browser):
    make_order(app, order_reference="DE--1")
    make_order(app, order_reference="AT--1", store="AT")
    make_order(app, order_reference="AT--2", store="AT")
    login(page, live_server, accounts["admin"])
    page.goto(f"{live_server}/sales/orders/")
    page.click("#filter-store summary")
    page.locator("#filter-store").get_by_label("AT", exact=True).check()
    page.click("#apply-filters")
    expect(page.locator(ROW)).to_have_count(2)

    page.click("#save-view summary")
    page.fill("#view-name", "Austria")
    page.check("#view-shared")
    page.check("#view-default")
    page.click("#save-view-button")
    expect(page.locator(".alert-success")).to_contain_text(
        "View 'Austria' saved, shared with everyone.")
    tab = page.locator("#view-tabs a.nav-link.active")
    expect(tab).to_contain_text("Austria")
    expect(tab).to_contain_text("shared")
    expect(tab).to_contain_text("my default")
    assert sorted(shown_references(page)) == ["AT--1", "AT--2"]
    link = page.locator("#view-link").input_value()
    assert re.search(r"/sales/orders/\?view=\d+$", link)

    # The plain list URL opens the default; "All orders" shows everything.
    page.goto(f"{live_server}/sales/orders/")
    expect(page.locator("#view-tabs a.nav-link.active")).to_contain_text("Austria")
    expect(page.locator(ROW)).to_have_count(2)
    page.locator("#view-tabs a", has_text="All orders").click()
    expect(page.locator(ROW)).to_have_count(3)

    # An agent opens the shared link; it is not their default.
    other = browser.new_context(base_url=live_server).new_page()
    login(other, live_server, accounts["agent"])
    other.goto(link)
    expect(other.locator("#view-bar")).to_contain_text("shared by Admin User")
    expect(other.locator(ROW)).to_have_count(2)
    expect(other.locator("#delete-view")).to_have_count(0)  # not theirs to delete
    other.goto(f"{live_server}/sales/orders/")
    expect(other.locator(ROW)).to_have_count(3)
    other.context.close()

    page.goto(link)
    page.click("#delete-view")
    expect(page.locator(".alert-success")).to_contain_text("View 'Austria' deleted.")
    expect(page.locator("#view-tabs a[data-view-id]")).to_have_count(0)
    page.goto(f"{live_server}/sales/orders/")
    expect(page.locator(ROW)).to_have_count(3)
