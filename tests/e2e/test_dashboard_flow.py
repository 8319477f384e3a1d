"""End-to-end: the dashboard in Chromium: it is the first page after login, its bars and
state counts open the orders list filtered to exactly those orders, and it is in the menu."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, make_order

pytestmark = pytest.mark.e2e

ROW = "#orders-table tbody tr[data-order-reference]"


def shown_references(page: Page) -> list[str]:
    return [row.get_attribute("data-order-reference") for row in page.locator(ROW).all()]


def test_after_login_a_bar_and_a_state_open_exactly_those_orders(app, accounts, page: Page,
                                                                 live_server):
    yesterday = datetime.now(UTC) - timedelta(days=1)
    make_order(app, order_reference="DE--Y1", created_at=yesterday.isoformat())
    make_order(app, order_reference="DE--Y2", created_at=yesterday.isoformat())
    make_order(app, order_reference="AT--Y1", store="AT", created_at=yesterday.isoformat())
    make_order(app, order_reference="DE--T1")

    page.goto(f"{live_server}/")
    login(page, live_server, accounts["agent"])
    expect(page.locator("h4")).to_have_text("Dashboard")
    expect(page.locator("#orders-period")).to_have_text("4 orders")
    expect(page.locator("#orders-legend")).to_contain_text("DE: 3")

    day = yesterday.date().isoformat()
    bar = page.locator("#orders-chart a.chart-bar", has=page.locator(
        "title", has_text=f"DE, {day}: 2 orders"))
    expect(bar).to_have_count(1)
    bar.click()
    page.wait_for_url(re.compile(r"/sales/orders/\?"))
    expect(page.locator("#from")).to_have_value(day)
    expect(page.locator("#to")).to_have_value(day)
    expect(page.locator(ROW)).to_have_count(2)
    assert sorted(shown_references(page)) == ["DE--Y1", "DE--Y2"]

    page.go_back()
    expect(page.locator("h4")).to_have_text("Dashboard")
    state = page.locator('.process-states[data-process="DefaultOrder01"] a.state-link').first
    state_name = state.get_attribute("data-state")
    count = page.locator('.process-states[data-process="DefaultOrder01"] .item-count').first
    expect(count).to_have_text("12")  # four orders of three units each, all in one state
    state.click()
    expect(page.locator("#process-filter")).to_contain_text("DefaultOrder01")
    expect(page.locator("#filter-state input:checked")).to_have_attribute("value", state_name)
    expect(page.locator("#filter-process input:checked")).to_have_attribute(
        "value", "DefaultOrder01")
    expect(page.locator(ROW)).to_have_count(4)

    page.click('#filter-chips a.filter-chip[data-filter="process"]')  # every process again
    expect(page.locator("#process-filter")).to_have_count(0)
    expect(page.locator(ROW)).to_have_count(4)


def test_the_dashboard_is_in_the_menu_and_its_figures_are_links(app, accounts, page: Page,
                                                                live_server):
    make_order(app, order_reference="DE--1")
    login(page, live_server, accounts["viewer"])
    page.goto(f"{live_server}/sales/orders/")
    page.locator("nav.navbar a", has_text="Dashboard").click()
    expect(page.locator("h4")).to_have_text("Dashboard")
    page.click("#open-reclamations")
    page.wait_for_url(re.compile(r"/sales/reclamations/\?state=open$"))
    page.go_back()
    page.click("#mail-failed")
    page.wait_for_url(re.compile(r"/administration/outbox/\?status=failed$"))
    expect(page.locator("#no-mails")).to_be_visible()
