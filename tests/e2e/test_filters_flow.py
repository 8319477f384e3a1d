"""End-to-end: the orders list's compact filters in Chromium: a button per filter opening a
panel of checkboxes, driven by the keyboard alone; the chips of what is set, each removing
its value; Clear all; the same without JavaScript; no shortcut while typing in a filter's
search box; axe finds nothing serious with a panel open."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.models import Order, OrderItem
from tests.e2e.conftest import login, make_order

pytestmark = pytest.mark.e2e

ROW = "#orders-table tbody tr[data-order-reference]"
SERIOUS = {"serious", "critical"}


def shown_references(page: Page) -> list[str]:
    return page.locator(ROW).evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-order-reference'))")


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def set_states(app, reference: str, state: str) -> None:
    with app.app_context():
        order_id = db.session.scalar(sa.select(Order.id).where(Order.order_reference == reference))
        db.session.execute(sa.update(OrderItem).where(OrderItem.order_id == order_id)
                           .values(state_name=state))
        db.session.execute(sa.update(Order).where(Order.id == order_id)
                           .values(item_states=state))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def orders(app):
    """Orders of two stores in three states (and "new", which stays unticked)."""
    for reference, store, state in (("DE--1", "DE", "paid"), ("DE--2", "DE", "shipped"),
                                    ("DE--3", "DE", "new"), ("AT--1", "AT", "paid"),
                                    ("AT--2", "AT", "shipped")):
        make_order(app, order_reference=reference, store=store)
        if state != "new":
            set_states(app, reference, state)


def focused(page: Page):
    return page.locator("*:focus")


def test_set_states_and_a_store_by_keyboard_then_remove_a_chip_and_clear_all(
        app, accounts, orders, page: Page, live_server):
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/")
    page.wait_for_load_state("load")
    expect(page.locator(ROW)).to_have_count(5)
    expect(page.locator("#filter-chips")).to_have_count(0)
    state_menu, store_menu = page.locator("#filter-state"), page.locator("#filter-store")
    state_button = state_menu.locator("summary")

    # "/" is the search; Tab goes on to the first filter, Enter opens it.
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.press("Tab")
    expect(state_button).to_be_focused()
    expect(state_button).to_have_text(re.compile(r"^\s*State\s*$"))
    page.keyboard.press("Enter")
    expect(state_menu).to_have_attribute("open", "")
    # The states are searchable: type, the list narrows, Arrow Down reaches the match.
    page.keyboard.press("Tab")
    find = state_menu.locator("[data-filter-find]")
    expect(find).to_be_focused()
    page.keyboard.type("pa")
    expect(state_menu.locator(".filter-options li:visible")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    expect(focused(page)).to_have_attribute("value", "paid")
    page.keyboard.press("Space")
    expect(state_menu.locator('input[value="paid"]')).to_be_checked()
    # Back up to the search box, another state: nothing matches, then one does.
    page.keyboard.press("ArrowUp")
    expect(find).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("zz")
    expect(state_menu.locator("[data-filter-none]")).to_be_visible()
    page.keyboard.press("Control+a")
    page.keyboard.type("ship")
    page.keyboard.press("Enter")  # to the first box left, without sending the form
    expect(focused(page)).to_have_attribute("value", "shipped")
    assert "state" not in query(page)
    page.keyboard.press("Enter")  # Enter ticks, as Space does
    expect(state_menu.locator('input[value="shipped"]')).to_be_checked()
    # Escape closes the panel and gives the focus back to its button.
    page.keyboard.press("Escape")
    expect(state_menu).not_to_have_attribute("open", "")
    expect(state_button).to_be_focused()

    # The store: Space opens, the arrow keys move between the boxes.
    page.keyboard.press("Tab")
    expect(store_menu.locator("summary")).to_be_focused()
    page.keyboard.press("Space")
    expect(store_menu).to_have_attribute("open", "")
    page.keyboard.press("ArrowDown")
    expect(focused(page)).to_have_attribute("value", "AT")
    page.keyboard.press("ArrowDown")
    expect(focused(page)).to_have_attribute("value", "DE")
    page.keyboard.press("ArrowDown")  # the last box stays the focused one
    expect(focused(page)).to_have_attribute("value", "DE")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # the panel's Apply button
    expect(focused(page)).to_have_text("Apply")
    page.keyboard.press("Enter")

    page.wait_for_url(lambda url: "store=DE" in url)
    assert query(page)["state"] == ["paid", "shipped"] and query(page)["store"] == ["DE"]
    assert shown_references(page) == ["DE--2", "DE--1"]
    chips = page.locator("#filter-chips a.filter-chip")
    expect(chips).to_have_text(["State: paid ×", "State: shipped ×", "Store: DE ×"])
    expect(chips.first).to_have_accessible_name("Remove State: paid")
    expect(state_button).to_have_text(re.compile(r"^\s*State\s*\(2\)"))
    expect(state_button).to_have_accessible_name(re.compile(r"^State\s*2 chosen$"))
    expect(store_menu.locator("summary")).to_have_text(re.compile(r"^\s*Store\s*\(1\)"))

    # A chip takes its one value away.
    page.locator("#filter-chips a.filter-chip", has_text="State: shipped").click()
    page.wait_for_url(lambda url: "shipped" not in url)
    assert query(page)["state"] == ["paid"] and query(page)["store"] == ["DE"]
    assert shown_references(page) == ["DE--1"]
    expect(chips).to_have_text(["State: paid ×", "Store: DE ×"])

    # Clear all: every filter goes, the sort and page size stay.
    page.click("#clear-filters")
    page.wait_for_url(lambda url: "store" not in url)
    assert "state" not in query(page) and query(page)["per_page"] == ["10"]
    expect(page.locator(ROW)).to_have_count(5)
    expect(page.locator("#filter-chips")).to_have_count(0)
    expect(state_button).to_have_text(re.compile(r"^\s*State\s*$"))


def test_panels_close_each_other_and_on_a_click_outside_typing_fires_no_shortcut(
        app, accounts, orders, page: Page, live_server):
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/")
    page.wait_for_load_state("load")
    state_menu, store_menu = page.locator("#filter-state"), page.locator("#filter-store")
    state_menu.locator("summary").click()
    expect(state_menu).to_have_attribute("open", "")
    store_menu.locator("summary").click()  # one panel at a time
    expect(store_menu).to_have_attribute("open", "")
    expect(state_menu).not_to_have_attribute("open", "")
    page.locator("h4").click()
    expect(store_menu).not_to_have_attribute("open", "")

    # "j" and "x" are shortcuts (next row, tick it); in the search box they are letters.
    state_menu.locator("summary").click()
    find = state_menu.locator("[data-filter-find]")
    find.click()
    page.keyboard.type("jx")
    expect(find).to_have_value("jx")
    expect(page.locator("tr.row-current")).to_have_count(0)
    expect(page.locator('#orders-table input[name="order"]:checked')).to_have_count(0)
    # Tab past the panel's end closes it.
    find.fill("")
    state_menu.locator("button", has_text="Apply").focus()
    page.keyboard.press("Tab")
    expect(state_menu).not_to_have_attribute("open", "")


def test_the_filters_without_javascript(browser, app, accounts, orders, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, live_server, accounts["viewer"])
        page.goto(f"{live_server}/sales/orders/")
        state_menu = page.locator("#filter-state")
        expect(state_menu.locator("[data-filter-find]")).to_be_hidden()  # needs the script
        state_menu.locator("summary").click()
        state_menu.get_by_label("paid", exact=True).check()
        page.locator("#filter-process summary").click()
        page.locator("#filter-process").get_by_label("DefaultOrder01", exact=True).check()
        page.click("#apply-filters")
        page.wait_for_url(lambda url: "state=paid" in url)
        assert query(page)["process"] == ["DefaultOrder01"]
        assert sorted(shown_references(page)) == ["AT--1", "DE--1"]
        expect(page.locator("#process-filter")).to_contain_text(
            "Only items of the process DefaultOrder01 count for the state.")
        page.locator("#filter-chips a.filter-chip", has_text="Process: DefaultOrder01").click()
        page.wait_for_url(lambda url: "process" not in url)
        assert query(page)["state"] == ["paid"]
        page.click("#clear-filters")
        expect(page.locator(ROW)).to_have_count(5)
    finally:
        context.close()


def test_dates_search_and_reclamation_chips_and_a_saved_views_link(
        app, accounts, orders, page: Page, live_server):
    login(page, live_server, accounts["admin"])
    page.goto(f"{live_server}/sales/orders/?q=DE--&from=2000-01-01&to=2999-12-31"
              "&reclamation=open&sort=reference&dir=asc")
    chips = page.locator("#filter-chips a.filter-chip")
    expect(chips).to_have_text(["Search: DE-- ×", "Created: 2000-01-01 to 2999-12-31 ×",
                                "With an open reclamation ×"])
    expect(page.locator("#filter-created summary")).to_have_text(re.compile(r"Created\s*\(2\)"))
    page.locator("#filter-chips a.filter-chip", has_text="Created").click()
    page.wait_for_url(lambda url: "from=" not in url)
    assert query(page)["sort"] == ["reference"] and query(page)["q"] == ["DE--"]
    # With every filter gone and nothing else in the URL the bare list would open the
    # user's default view: the links say ?view=all then.
    page.goto(f"{live_server}/sales/orders/?state=paid")
    expect(page.locator("#filter-chips a.filter-chip")).to_have_attribute(
        "href", "/sales/orders/?view=all")
    expect(page.locator("#clear-filters")).to_have_attribute("href", "/sales/orders/?view=all")


def test_axe_finds_nothing_serious_with_filters_set_and_a_panel_open(
        app, accounts, orders, page: Page, live_server):
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/?state=paid&store=DE&from=2000-01-01")
    page.wait_for_load_state("load")
    page.locator("#filter-state summary").click()
    found = Axe().run(page).response["violations"]
    serious = [f"{v['id']}: {v['help']}" for v in found if v["impact"] in SERIOUS]
    assert serious == []
