"""End-to-end: claiming order items (Sales > Reclamations) from the orders list, in Chromium.

A reclamation flags some of an order's items; it changes no item state itself, its event
buttons act on the claimed items only, and closing it is final.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from panel.extensions import db
from panel.models import Order, OrderItem, Reclamation, ReclamationItem, User
from panel.services import reclamations as reclamation_service
from tests.e2e.conftest import login, make_order, open_menu

pytestmark = pytest.mark.e2e

ORDER_ROW = "#orders-table tbody tr[data-order-reference]"
REASON = "Sole came off after a week & the socks have a hole."


# helpers -------------------------------------------------------------------------------


def orders_list(page: Page) -> None:
    open_menu(page, "Sales", "Orders")
    page.wait_for_url(re.compile(r"/sales/orders/(\?.*)?$"))
    expect(page.locator("h4")).to_have_text("Overview of Orders")


def order_row(page: Page, reference: str) -> Locator:
    return page.locator(f'#orders-table tr[data-order-reference="{reference}"]')


def shown_references(page: Page) -> list[str]:
    return page.locator(ORDER_ROW).evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-order-reference'))")


def claim_from_list(page: Page, reference: str, order_id: int) -> None:
    order_row(page, reference).locator("a.claim-link").click()
    page.wait_for_url(re.compile(rf"/sales/reclamations/new/{order_id}$"))
    expect(page.locator("h4")).to_have_text("Create Reclamation")


def claim_row(page: Page, item_id: int) -> Locator:
    return page.locator(f'#claim-items tr[data-item-id="{item_id}"]')


def claim_box(page: Page, item_id: int) -> Locator:
    return page.locator(f'#claim-items input[name=item][value="{item_id}"]')


def item_ids(scope: Page | Locator, table: str) -> list[int]:
    return [int(v) for v in scope.locator(f"{table} tr[data-item-id]").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-item-id'))")]


def flash(page: Page, category: str = "success") -> Locator:
    return page.locator(f".alert.alert-{category}")


def db_item_ids(app, order_id: int) -> list[int]:
    with app.app_context():
        ids = db.session.scalars(select(OrderItem.id).where(OrderItem.order_id == order_id)
                                 .order_by(OrderItem.id)).all()
        db.session.remove()
    return list(ids)


def db_states(app, order_id: int) -> dict[int, str]:
    with app.app_context():
        rows = db.session.execute(select(OrderItem.id, OrderItem.state_name)
                                  .where(OrderItem.order_id == order_id)).all()
        db.session.remove()
    return dict(rows)


def db_count(app, model) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return n


def db_reclamations(app) -> list[dict]:
    with app.app_context():
        rows = [{
            "id": r.id, "order_id": r.order_id, "state": r.state, "reason": r.reason,
            "item_count": r.item_count, "items": [ri.order_item_id for ri in r.items],
            "created_by_name": r.created_by_name, "closed_by_name": r.closed_by_name,
            "close_note": r.close_note, "closed_at": r.closed_at,
        } for r in db.session.scalars(select(Reclamation).order_by(Reclamation.id))]
        db.session.remove()
    return rows


def open_reclamations_of(app, order_id: int) -> int:
    with app.app_context():
        n = db.session.get(Order, order_id).open_reclamations
        db.session.remove()
    return n


# 1 -------------------------------------------------------------------------------------


def test_claim_two_items_pay_them_and_close(app, page, live_server, accounts):
    order = make_order(app, order_reference="DE--501")  # shoe, shoe, socks
    other = make_order(app, order_reference="DE--502")
    items = db_item_ids(app, order["id"])
    assert len(items) == 3
    claimed, unclaimed = [items[0], items[2]], items[1]

    login(page, live_server, accounts["agent"])
    orders_list(page)
    row = order_row(page, "DE--501")
    expect(row.locator("td").last.locator("a")).to_have_text(["View", "Claim", "Return"])
    expect(page.locator(".reclamation-flag")).to_have_count(0)
    claim_from_list(page, "DE--501", order["id"])

    # The form: the order, its three items, all of them may be claimed.
    link = page.locator("#order-link")
    expect(link).to_have_text("DE--501")
    expect(link).to_have_attribute("href", f"/sales/orders/{order['id']}")
    assert item_ids(page, "#claim-items") == items
    expect(page.locator("#claim-items td.claimable")).to_have_text(["yes"] * 3)
    expect(page.locator("#claim-items input[name=item]:disabled")).to_have_count(0)
    expect(page.locator("#claim-items input[name=item]:checked")).to_have_count(0)
    expect(claim_row(page, items[2]).locator("td").nth(2)).to_have_text("SOCK-1")
    expect(claim_row(page, items[2]).locator("td").nth(4)).to_have_text("new")

    for item_id in claimed:
        claim_box(page, item_id).check()
    page.fill("#reason", REASON)
    page.click("#create-reclamation")

    page.wait_for_url(re.compile(r"/sales/reclamations/\d+$"))
    saved = db_reclamations(app)
    assert len(saved) == 1
    rid = saved[0]["id"]
    assert urlsplit(page.url).path == f"/sales/reclamations/{rid}"
    assert {k: saved[0][k] for k in ("order_id", "state", "reason", "item_count", "items",
                                     "created_by_name", "close_note")} == {
        "order_id": order["id"], "state": "open", "reason": REASON, "item_count": 2,
        "items": claimed, "created_by_name": "Agent User", "close_note": None}
    assert db_states(app, order["id"]) == dict.fromkeys(items, "new")  # a claim moves nothing
    assert open_reclamations_of(app, order["id"]) == 1

    expect(flash(page)).to_contain_text(f"Reclamation #{rid} for order DE--501 created.")
    expect(page.locator("h4")).to_have_text(f"Overview of reclamation: {rid}")
    details = page.locator("#reclamation-details")
    expect(details.locator("#reclamation-state")).to_have_text("Open")
    expect(details.locator("#reclamation-reason")).to_have_text(REASON)
    expect(details).to_contain_text("DE--501")
    expect(details).to_contain_text("Agent User")
    assert item_ids(page, "#claimed-items") == claimed
    expect(page.locator("#claimed-items td:nth-child(2)")).to_have_text(["SHOE-1", "SOCK-1"])
    expect(page.locator("#claimed-items a.item-state")).to_have_text(["new", "new"])
    box = page.locator("#reclamation-events")
    expect(box).to_contain_text("Trigger all matching states (the claimed items only)")
    expect(box.locator('.event-button[value="pay"]')).to_have_text("pay 2")

    # Sales > Reclamations lists it as Open, with the order reference.
    open_menu(page, "Sales", "Reclamations")
    page.wait_for_url(re.compile(r"/sales/reclamations/$"))
    expect(page.locator("h4")).to_have_text("Overview of Reclamations")
    rows = page.locator("#reclamations-table tr[data-reclamation-id]")
    expect(rows).to_have_count(1)
    listed = page.locator(f'#reclamations-table tr[data-reclamation-id="{rid}"]')
    cells = listed.locator("td")
    expect(cells.nth(0)).to_have_text(str(rid))
    expect(cells.nth(2)).to_have_text("Mrs Anna Schmidt")
    expect(cells.nth(3)).to_have_text("anna@example.com")
    expect(cells.nth(4)).to_have_text("Open")
    expect(cells.nth(5).locator("a")).to_have_text("DE--501")
    expect(cells.nth(5).locator("a")).to_have_attribute("href", f"/sales/orders/{order['id']}")
    expect(cells.nth(6)).to_have_text("2")
    expect(cells.nth(7).locator("a, button")).to_have_text(["View", "Close"])

    listed.get_by_role("link", name="View").click()
    page.wait_for_url(re.compile(rf"/sales/reclamations/{rid}$"))

    # "pay" in the Trigger box moves the two claimed items, not the third.
    page.locator('#reclamation-events .event-button[value="pay"]').click()
    expect(flash(page)).to_contain_text('"pay" moved 2 items.')
    assert urlsplit(page.url).path == f"/sales/reclamations/{rid}"
    expect(page.locator("#claimed-items a.item-state")).to_have_text(["paid", "paid"])
    expect(page.locator('#reclamation-events .event-button[value="pay"]')).to_have_count(0)
    assert db_states(app, order["id"]) == {items[0]: "paid", unclaimed: "new", items[2]: "paid"}
    assert set(db_states(app, other["id"]).values()) == {"new"}

    page.goto(f"{live_server}/sales/orders/{order['id']}")
    expect(page.locator("h4")).to_contain_text("View Order: DE--501")
    expect(page.locator("h4 .badge", has_text="Reclamation")).to_have_count(1)
    for item_id, state in ((items[0], "paid"), (unclaimed, "new"), (items[2], "paid")):
        expect(page.locator(f'tr[data-item-id="{item_id}"] a.item-state')).to_have_text(state)
    expect(page.locator("#order-reclamations")).to_contain_text(f"Reclamation #{rid}")

    # Close with a note: final, the form is gone.
    page.goto(f"{live_server}/sales/reclamations/{rid}")
    page.fill("#note", "Replacement pair sent.")
    page.click("#close-button")
    expect(flash(page)).to_contain_text(f"Reclamation #{rid} closed.")
    expect(page.locator("#reclamation-state")).to_have_text("Closed")
    expect(page.locator("#close-note")).to_have_text("Replacement pair sent.")
    expect(page.locator("#close-reclamation")).to_have_count(0)
    expect(page.locator("#close-button")).to_have_count(0)
    closed = db_reclamations(app)[0]
    assert (closed["state"], closed["close_note"], closed["closed_by_name"]) == (
        "closed", "Replacement pair sent.", "Agent User")
    assert closed["closed_at"] is not None
    assert open_reclamations_of(app, order["id"]) == 0
    assert db_states(app, order["id"]) == {items[0]: "paid", unclaimed: "new", items[2]: "paid"}

    orders_list(page)
    expect(order_row(page, "DE--501")).to_be_visible()
    expect(page.locator(".reclamation-flag")).to_have_count(0)


# 2 -------------------------------------------------------------------------------------


def test_back_to_orders_saves_nothing(app, page, live_server, accounts):
    order = make_order(app, order_reference="DE--511")
    items = db_item_ids(app, order["id"])
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/")
    claim_from_list(page, "DE--511", order["id"])

    claim_box(page, items[0]).check()
    claim_box(page, items[1]).check()
    page.fill("#reason", "Changed my mind.")
    expect(page.locator("#back-to-orders")).to_have_text("Back to Orders")
    page.click("#back-to-orders")

    page.wait_for_url(re.compile(r"/sales/orders/$"))
    expect(page.locator("h4")).to_have_text("Overview of Orders")
    expect(page.locator(".alert")).to_have_count(0)
    expect(order_row(page, "DE--511").locator(".reclamation-flag")).to_have_count(0)
    assert db_count(app, Reclamation) == 0
    assert db_count(app, ReclamationItem) == 0
    assert open_reclamations_of(app, order["id"]) == 0


# 3 -------------------------------------------------------------------------------------


def test_nothing_ticked_blocked_item_and_check_all(app, page, live_server, accounts):
    order = make_order(app, order_reference="DE--521")
    items = db_item_ids(app, order["id"])
    with app.app_context():  # an earlier claim holds the first item
        agent = db.session.scalar(select(User).where(User.email == accounts["agent"]))
        first = reclamation_service.open_reclamation(
            order["id"], [items[0]], "Earlier claim.", agent).id
        db.session.remove()

    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/")
    claim_from_list(page, "DE--521", order["id"])
    url = page.url

    blocked = claim_row(page, items[0])
    expect(blocked.locator("td.claimable")).to_have_text(
        f"no: already in open reclamation #{first}")
    expect(claim_box(page, items[0])).to_be_disabled()
    for item_id in items[1:]:
        expect(claim_row(page, item_id).locator("td.claimable")).to_have_text("yes")
        expect(claim_box(page, item_id)).to_be_enabled()

    # Nothing ticked: refused, nothing saved, the reason is kept.
    page.fill("#reason", "Both shoes squeak.")
    page.click("#create-reclamation")
    expect(flash(page, "danger")).to_contain_text(
        "The reclamation was not created: tick at least one item to claim.")
    assert page.url == url
    expect(page.locator("h4")).to_have_text("Create Reclamation")
    expect(page.locator("#reason")).to_have_value("Both shoes squeak.")
    expect(page.locator("#claim-items input[name=item]:checked")).to_have_count(0)
    assert db_count(app, Reclamation) == 1 and db_count(app, ReclamationItem) == 1

    # Check-all ticks the enabled boxes only; unticking it clears them again.
    check_all = page.locator("input[data-check-all=claim]")
    check_all.check()
    expect(page.locator("#claim-items input[name=item]:checked")).to_have_count(2)
    expect(claim_box(page, items[0])).not_to_be_checked()
    for item_id in items[1:]:
        expect(claim_box(page, item_id)).to_be_checked()
    check_all.uncheck()
    expect(page.locator("#claim-items input[name=item]:checked")).to_have_count(0)

    # Check-all and Create: exactly the two free items are claimed.
    check_all.check()
    page.click("#create-reclamation")
    page.wait_for_url(re.compile(r"/sales/reclamations/\d+$"))
    saved = db_reclamations(app)
    assert [(r["id"], r["items"], r["state"]) for r in saved] == [
        (first, [items[0]], "open"), (saved[1]["id"], items[1:], "open")]
    expect(flash(page)).to_contain_text(
        f"Reclamation #{saved[1]['id']} for order DE--521 created.")
    assert item_ids(page, "#claimed-items") == items[1:]
    assert open_reclamations_of(app, order["id"]) == 2


# 4 -------------------------------------------------------------------------------------


def test_orders_list_flag_and_open_reclamation_filter(app, page, live_server, accounts):
    claimed = make_order(app, order_reference="DE--531")
    make_order(app, order_reference="DE--532")
    make_order(app, order_reference="DE--533")
    items = db_item_ids(app, claimed["id"])

    login(page, live_server, accounts["agent"])
    orders_list(page)
    assert sorted(shown_references(page)) == ["DE--531", "DE--532", "DE--533"]
    expect(page.locator("#reclamation")).not_to_be_checked()
    claim_from_list(page, "DE--531", claimed["id"])
    claim_box(page, items[1]).check()
    page.fill("#reason", "Wrong size delivered.")
    page.click("#create-reclamation")
    expect(flash(page)).to_contain_text("for order DE--531 created.")

    orders_list(page)
    flag = order_row(page, "DE--531").locator(".reclamation-flag")
    expect(flag).to_have_text("Reclamation")
    expect(page.locator(".reclamation-flag")).to_have_count(1)
    for reference in ("DE--532", "DE--533"):
        expect(order_row(page, reference).locator(".reclamation-flag")).to_have_count(0)

    page.check("#reclamation")
    page.click("#apply-filters")
    page.wait_for_url(lambda u: parse_qs(urlsplit(u).query).get("reclamation") == ["open"])
    expect(page.locator("#reclamation")).to_be_checked()
    expect(page.locator(ORDER_ROW)).to_have_count(1)
    assert shown_references(page) == ["DE--531"]
    expect(order_row(page, "DE--531").locator(".reclamation-flag")).to_have_text("Reclamation")
