"""End-to-end: Administration > Stuck items in Chromium: the list and why, its filters, the
retry of ticked and of all matching items, and what a viewer may do (the process is
Stuck01 of tests/plugins/stuck_fixture.py: new --pay--> paid --invoice--> invoiced)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.models import OrderItem, TransitionLog
from panel.models.base import utcnow
from panel.oms import engine
from tests.e2e.conftest import login, make_order
from tests.plugins import stuck_fixture

# The plugin and limits of the page's other tests (pytest takes fixtures by imported name).
from tests.test_stuck_items import app_config, healthy_services  # noqa: F401

pytestmark = pytest.mark.e2e

ADMIN = "Admin User <admin@example.org>"
AGENT = "Agent User <agent@example.org>"
ERROR = "Stuck/Capture: Stuck/Capture cannot reach its service"
MOVED = [("pay", "new", "paid", False), ("invoice", "paid", "invoiced", False)]  # log rows


def read(app, query):
    with app.app_context():
        found = query(db.session)
        db.session.remove()
    return found


def item_ids(app, order_id: int) -> list[int]:
    return read(app, lambda s: list(s.scalars(sa.select(OrderItem.id).where(
        OrderItem.order_id == order_id).order_by(OrderItem.id))))


def states(app, ids) -> list[str]:
    return read(app, lambda s: [s.get(OrderItem, i).state_name for i in ids])


def moves_by_admin(app, item_id: int) -> list[tuple]:
    return read(app, lambda s: [(r.event, r.source_state, r.target_state, r.is_error) for r in
                                s.scalars(sa.select(TransitionLog).where(
                                    TransitionLog.item_id == item_id,
                                    TransitionLog.actor == ADMIN).order_by(TransitionLog.id))])


def failed_order(app, reference: str, ids=None) -> tuple[dict, list[int]]:
    """An order (2 x shoe + 1 x socks: three items) whose "pay" failed for ``ids`` (all)."""
    order = make_order(app, order_reference=reference)
    items = item_ids(app, order["id"])
    stuck_fixture.FAILING.add("Stuck/Capture")
    with app.app_context():
        engine.trigger_event(order["id"], "pay", actor=AGENT,
                             item_ids=ids and [items[i] for i in ids])
    stuck_fixture.FAILING.clear()  # the service is back: a retry will work
    return order, items


def waiting_item(app, order_id: int, item_id: int) -> None:
    """Put the item on "hold" (waiting, a condition that does not hold), two days ago."""
    with app.app_context():
        engine.trigger_event(order_id, "hold", actor=AGENT, item_ids=[item_id])
        db.session.execute(sa.update(OrderItem).where(OrderItem.id == item_id).values(
            state_entered_at=utcnow() - timedelta(days=2)))
        db.session.commit()
        db.session.remove()


def open_stuck_items(page: Page) -> None:
    """Administration > Stuck items, through the navbar's dropdown."""
    page.wait_for_load_state("load")  # the dropdown needs Bootstrap's script
    page.locator("nav.navbar a.dropdown-toggle", has_text="Administration").click()
    page.locator("nav.navbar .dropdown-menu a", has_text="Stuck items").click()
    page.wait_for_url(re.compile(r"/administration/stuck-items/$"))
    expect(page.locator("h4")).to_have_text("Stuck items")


def row(page: Page, item_id: int):
    return page.locator(f'#stuck-table tr.stuck-row[data-item-id="{item_id}"]')


def expect_rows(page: Page, ids) -> None:
    """The table lists exactly these items, in this order (the longest waiting first)."""
    rows = page.locator("#stuck-table tr.stuck-row")
    expect(rows).to_have_count(len(ids))
    for n, item_id in enumerate(ids):
        expect(rows.nth(n)).to_have_attribute("data-item-id", str(item_id))


def test_admin_opens_stuck_items_from_the_menu_and_filters_them(app, page, live_server,
                                                                 accounts):
    order, (shoe, fresh, sock) = failed_order(app, "DE--801", ids=[0])
    waiting_item(app, order["id"], sock)
    login(page, live_server, accounts["admin"])
    open_stuck_items(page)

    expect_rows(page, [sock, shoe])  # the fresh shoe, still "new" for seconds, is not
    expect(row(page, shoe).locator(".stuck-reasons .badge")).to_have_text(
        ["Last command failed"])
    expect(row(page, shoe).locator(".stuck-error")).to_have_text(
        re.compile(rf'^"pay" failed [\d-]+ [\d:]+ UTC \({re.escape(AGENT)}\): {ERROR}$'))
    expect(row(page, sock).locator(".stuck-reasons .badge")).to_have_text(["Waiting too long"])
    expect(row(page, sock).locator(".stuck-waiting")).to_have_text(
        "Longer than 1 day in a state that is not final")

    # A reason pill, with its count.
    pill = page.locator('#stuck-reasons a[data-reason="waiting"]')
    expect(pill.locator(".reason-count")).to_have_text("1")
    pill.click()
    expect_rows(page, [sock])
    expect(pill).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("#reason")).to_have_value("waiting")

    # The Reason select and "Apply filters".
    page.select_option("#reason", label="Last command failed")
    page.get_by_role("button", name="Apply filters").click()
    expect_rows(page, [shoe])
    page.select_option("#reason", label="Any reason")
    page.fill("#error", "REACH its")  # a part of the error, in any case
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"[?&]error=REACH"))
    expect_rows(page, [shoe])
    page.select_option("#reason", label="Timeout overdue")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#no-stuck")).to_have_text("No stuck items match.")
    expect(page.locator("#retry-all")).to_have_count(0)

    page.get_by_role("link", name="Reset filters").click()
    expect_rows(page, [sock, shoe])
    expect(page.locator("#reason")).to_have_value("")
    expect(page.locator("#error")).to_have_value("")
    assert states(app, [shoe, fresh, sock]) == ["new", "new", "waiting"]  # reading moves none


def test_admin_retries_a_ticked_item_then_all_matching(app, page, live_server, accounts):
    first, first_ids = failed_order(app, "DE--811")
    _, second_ids = failed_order(app, "DE--812")
    left = make_order(app, order_reference="DE--813")
    sock = item_ids(app, left["id"])[2]
    waiting_item(app, left["id"], sock)
    ticked, rest = first_ids[0], first_ids[1:] + second_ids
    login(page, live_server, accounts["admin"])
    open_stuck_items(page)
    expect_rows(page, [sock] + first_ids + second_ids)

    row(page, ticked).locator('input[name="item"]').check()
    page.get_by_role("button", name="Retry ticked items").click()

    flash = page.locator(".alert.alert-success")
    expect(flash).to_contain_text("Retried 1 item: 1 moved")
    expect_rows(page, [sock] + rest)  # the ticked item is gone
    assert states(app, [ticked] + rest) == ["invoiced"] + ["new"] * len(rest)
    assert moves_by_admin(app, ticked) == MOVED

    # The order's reference opens its page, where the item has moved.
    row(page, first_ids[1]).get_by_role("link", name="DE--811").click()
    page.wait_for_url(re.compile(rf"/sales/orders/{first['id']}$"))
    expect(page.locator("a.item-state")).to_have_text(["invoiced", "new", "new"])

    # Back on the list, only the failed ones: check-all ticks every row, then all matching.
    open_stuck_items(page)
    page.locator('#stuck-reasons a[data-reason="failed"]').click()
    expect_rows(page, rest)
    page.wait_for_load_state("load")  # check-all is panel.js's, loaded after the table
    page.locator("#check-all").check()
    expect(page.locator('#stuck-table input[name="item"]:checked')).to_have_count(len(rest))
    retry_all = page.locator("#retry-all")
    expect(retry_all).to_have_text(f"Retry all {len(rest)} matching")
    retry_all.click()

    expect(flash).to_contain_text(f"Retried {len(rest)} items: {len(rest)} moved")
    expect(page.locator("#no-stuck")).to_have_text("No stuck items match.")
    assert states(app, first_ids + second_ids) == ["invoiced"] * 6
    assert [moves_by_admin(app, item_id) for item_id in rest] == [MOVED] * len(rest)
    # The waiting item did not match the filter: left as it was, and still listed.
    assert states(app, [sock]) == ["waiting"] and moves_by_admin(app, sock) == []
    page.get_by_role("link", name="Reset filters").click()
    expect_rows(page, [sock])


def test_viewer_sees_the_list_but_cannot_retry(app, page, live_server, accounts):
    order, items = failed_order(app, "DE--821")
    login(page, live_server, accounts["viewer"])
    page.goto(f"{live_server}/administration/stuck-items/")  # not in a viewer's menu

    expect(page.locator("nav.navbar a.dropdown-toggle", has_text="Administration")) \
        .to_have_count(0)
    expect_rows(page, items)
    expect(page.locator(".stuck-error")).to_have_count(3)
    expect(page.locator("#stuck-table input[type=checkbox]")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Retry"))).to_have_count(0)
    # The filters still work for a viewer.
    page.select_option("#reason", "waiting")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#no-stuck")).to_have_text("No stuck items match.")
    assert states(app, items) == ["new"] * 3
