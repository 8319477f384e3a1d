"""End-to-end: moving order items through the state machine from View Order, in Chromium.

The default process (plugins/processes/DefaultOrder01.xml):
new --pay--> paid --ship--> shipped --deliver--> delivered --close--> closed,
cancel from new and paid, return from shipped/delivered, refund from returned.
"""
from __future__ import annotations

import copy
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from panel.extensions import db
from panel.models import ItemStateHistory, Order, OrderItem, TransitionLog
from tests.conftest import order_payload
from tests.e2e.conftest import TIMEOUT_MS, login, make_order

pytestmark = pytest.mark.e2e

AGENT_ACTOR = "Agent User <agent@example.org>"


# helpers -------------------------------------------------------------------------------


def two_shipment_order(app) -> dict:
    """Shipment 1: 2 x shoe + 1 x socks (3 items); shipment 2: 2 x hat (2 items)."""
    first = order_payload()["shipments"][0]
    second = copy.deepcopy(first)
    second.update(method="Express", carrier="UPS", price=590, items=[
        {"sku": "HAT-1", "name": "Sun hat", "quantity": 2, "unit_price": 2999, "tax_rate": 19},
    ])
    return make_order(app, order_reference="DE--300", shipments=[first, second],
                      payment={"method": "invoice", "amount": 5487 + 2 * 2999 + 590})


def open_order(page: Page, base_url: str, order_id: int) -> None:
    page.goto(f"{base_url}/sales/orders/{order_id}")
    expect(page.locator("h4")).to_have_text(re.compile(r"^View Order: "))


def event_button(scope: Page | Locator, event: str) -> Locator:
    """The order's or a shipment's button for ``event`` (its value is the event name)."""
    return scope.locator(f'button.event-button[value="{event}"]')


def button_events(scope: Locator) -> list[str]:
    return scope.locator("button.event-button").evaluate_all("bs => bs.map(b => b.value)")


def item_ids_on_page(scope: Page | Locator) -> list[int]:
    return [int(v) for v in scope.locator("tr[data-item-id]").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-item-id'))")]


def state_link(page: Page, item_id: int) -> Locator:
    return page.locator(f'tr[data-item-id="{item_id}"] a.item-state')


def db_states(app, order_id: int) -> dict[int, str]:
    with app.app_context():
        rows = db.session.execute(
            select(OrderItem.id, OrderItem.state_name)
            .where(OrderItem.order_id == order_id).order_by(OrderItem.id)
        ).all()
        db.session.remove()
    return {item_id: state for item_id, state in rows}


def history_events(app, order_id: int, event: str) -> list[int]:
    """The item ids of the ItemStateHistory rows of ``event`` for this order, sorted."""
    with app.app_context():
        ids = db.session.scalars(
            select(ItemStateHistory.item_id)
            .join(OrderItem, OrderItem.id == ItemStateHistory.item_id)
            .where(OrderItem.order_id == order_id, ItemStateHistory.event == event)
            .order_by(ItemStateHistory.item_id)
        ).all()
        db.session.remove()
    return list(ids)


def flash(page: Page, category: str = "success") -> Locator:
    return page.locator(f".alert.alert-{category}")


# 1 -------------------------------------------------------------------------------------


def test_pay_whole_order_then_ship_is_offered(app, page, live_server, accounts):
    order = make_order(app)  # 2 x shoe + 1 x socks: three item rows in one shipment
    login(page, live_server, accounts["agent"])
    open_order(page, live_server, order["id"])

    items = item_ids_on_page(page)
    assert len(items) == 3
    expect(page.locator("a.item-state")).to_have_text(["new"] * 3)
    box = page.locator("#order-events")
    expect(box).to_contain_text("Trigger all matching states inside this order")
    expect(event_button(box, "pay")).to_have_text("pay 3")
    expect(event_button(box, "ship")).to_have_count(0)
    expect(page.locator("#payment-captured")).to_have_text("not yet")

    event_button(box, "pay").click()

    expect(flash(page)).to_contain_text('"pay" moved 3 items.')
    assert urlsplit(page.url).path == f"/sales/orders/{order['id']}"
    expect(page.locator("a.item-state")).to_have_text(["paid"] * 3)
    expect(event_button(box, "pay")).to_have_count(0)
    expect(event_button(box, "ship")).to_have_text("ship 3")
    assert button_events(box)[0] == "ship"  # the happy path's next step comes first
    assert "pay" not in button_events(page.locator(".shipment-events"))
    for item_id in items:
        expect(page.locator(f'tr[data-item-id="{item_id}"] .item-events button')).to_contain_text(
            ["ship"])
    # The Payment/Capture command of "pay" ran.
    expect(page.locator("#payment-captured")).not_to_have_text("not yet")

    assert db_states(app, order["id"]) == dict.fromkeys(items, "paid")
    with app.app_context():
        saved = db.session.get(Order, order["id"])
        assert saved.item_states == "paid"
        assert saved.payment_captured_at is not None
        db.session.remove()


# 2 -------------------------------------------------------------------------------------


def test_ship_ticked_items_then_a_whole_shipment(app, page, live_server, accounts):
    order = two_shipment_order(app)
    login(page, live_server, accounts["agent"])
    open_order(page, live_server, order["id"])
    event_button(page.locator("#order-events"), "pay").click()
    expect(flash(page)).to_contain_text('"pay" moved 5 items.')

    shipments = page.locator(".shipment")
    expect(shipments).to_have_count(2)
    one, two = shipments.nth(0), shipments.nth(1)
    one_ids, two_ids = item_ids_on_page(one), item_ids_on_page(two)
    assert (len(one_ids), len(two_ids)) == (3, 2)
    expect(event_button(one.locator(".shipment-events"), "ship")).to_have_text("ship 3")
    expect(event_button(two.locator(".shipment-events"), "ship")).to_have_text("ship 2")

    # Tick one item of the first shipment: only that one is shipped.
    ticked = one_ids[1]
    one.locator(f'input[name=item][value="{ticked}"]').check()
    event_button(one.locator(".shipment-events"), "ship").click()

    expect(flash(page)).to_contain_text('"ship" moved 1 item.')
    expect(flash(page)).not_to_contain_text("skipped")
    expect(state_link(page, ticked)).to_have_text("shipped")
    for item_id in [i for i in one_ids + two_ids if i != ticked]:
        expect(state_link(page, item_id)).to_have_text("paid")
    expected = {**dict.fromkeys(one_ids + two_ids, "paid"), ticked: "shipped"}
    assert db_states(app, order["id"]) == expected
    # The boxes come back unticked, and the first shipment now offers ship for 2 items.
    expect(page.locator("input[name=item]:checked")).to_have_count(0)
    expect(event_button(one.locator(".shipment-events"), "ship")).to_have_text("ship 2")
    expect(event_button(page.locator("#order-events"), "ship")).to_have_text("ship 4")

    # The other shipment's button with nothing ticked: all of its items.
    event_button(two.locator(".shipment-events"), "ship").click()
    expect(flash(page)).to_contain_text('"ship" moved 2 items.')
    for item_id in two_ids:
        expect(state_link(page, item_id)).to_have_text("shipped")
    expected.update(dict.fromkeys(two_ids, "shipped"))
    assert db_states(app, order["id"]) == expected
    expect(two.locator(".shipment-events button.event-button[value=ship]")).to_have_count(0)

    # The first shipment with nothing ticked: the rest move, the shipped one is skipped.
    event_button(one.locator(".shipment-events"), "ship").click()
    expect(flash(page)).to_contain_text(
        '"ship" moved 2 items; 1 item skipped (not in a matching state).')
    expect(page.locator("a.item-state")).to_have_text(["shipped"] * 5)
    assert db_states(app, order["id"]) == dict.fromkeys(one_ids + two_ids, "shipped")
    assert history_events(app, order["id"], "ship") == sorted(one_ids + two_ids)


# 3 -------------------------------------------------------------------------------------


def test_item_button_moves_only_that_item(app, page, live_server, accounts):
    order = make_order(app)
    login(page, live_server, accounts["agent"])
    open_order(page, live_server, order["id"])
    items = item_ids_on_page(page)
    target = items[1]
    row = page.locator(f'tr[data-item-id="{target}"]')
    expect(row.locator(".item-events button")).to_have_text(["pay", "cancel"])

    row.locator(".item-events button", has_text="cancel").click()

    expect(flash(page)).to_contain_text('"cancel" moved 1 item.')
    expect(state_link(page, target)).to_have_text("canceled")
    for other in (items[0], items[2]):
        expect(state_link(page, other)).to_have_text("new")
    expect(row.locator(".item-events button")).to_have_count(0)  # canceled is final
    expect(event_button(page.locator("#order-events"), "pay")).to_have_text("pay 2")
    expect(event_button(page.locator("#order-events"), "cancel")).to_have_text("cancel 2")
    assert db_states(app, order["id"]) == {items[0]: "new", target: "canceled", items[2]: "new"}
    assert history_events(app, order["id"], "cancel") == [target]


# 4 -------------------------------------------------------------------------------------


def test_item_history_and_transition_log(app, page, live_server, accounts):
    order = make_order(app)
    login(page, live_server, accounts["agent"])
    open_order(page, live_server, order["id"])
    expect(page.locator("#transition-log")).to_contain_text(
        "Nothing happened to this order's items yet.")
    expect(page.locator("#transition-log .log-row")).to_have_count(0)

    event_button(page.locator("#order-events"), "pay").click()
    expect(flash(page)).to_contain_text('"pay" moved 3 items.')

    items = item_ids_on_page(page)
    history = page.locator(f'tr[data-item-id="{items[0]}"] details.item-history')
    lines = history.locator("li")
    expect(lines).to_have_count(2)
    expect(lines.first).to_be_hidden()  # closed until asked
    history.locator("summary", has_text="Show history").click()
    expect(lines.first).to_be_visible()
    # Newest first: "state · time · event · who".
    expect(lines.nth(0)).to_have_text(re.compile(
        r"^paid · \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC · pay · Agent User <agent@example\.org>$"))
    expect(lines.nth(1)).to_have_text(re.compile(r"^new · .+ · start · "))
    # Only the item that was opened shows its history.
    expect(page.locator(f'tr[data-item-id="{items[1]}"] details.item-history li').first) \
        .to_be_hidden()

    rows = page.locator("#transition-log .log-row")
    expect(rows).to_have_count(3)
    labels = []
    for i in range(3):
        cells = [t.strip() for t in rows.nth(i).locator("td").all_inner_texts()]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", cells[0]), cells[0]
        labels.append(cells[1])
        assert cells[2:] == ["pay", "new", "paid", "Payment/Capture", "", AGENT_ACTOR, ""], cells
    assert sorted(labels) == sorted(
        f"#{i} {sku}" for i, sku in zip(items, ["SHOE-1", "SHOE-1", "SOCK-1"], strict=True))

    with app.app_context():
        logged = db.session.scalars(
            select(TransitionLog).where(TransitionLog.order_id == order["id"])
        ).all()
        assert sorted(e.item_id for e in logged) == items
        assert {(e.event, e.source_state, e.target_state, e.actor, e.is_error)
                for e in logged} == {("pay", "new", "paid", AGENT_ACTOR, False)}
        db.session.remove()
    assert history_events(app, order["id"], "pay") == items


# 5 -------------------------------------------------------------------------------------


def test_state_link_opens_the_process_graph(app, page, live_server, accounts):
    order = make_order(app)
    login(page, live_server, accounts["agent"])
    open_order(page, live_server, order["id"])
    link = page.locator("a.item-state").first
    expect(link).to_have_attribute(
        "href", "/administration/oms/process/DefaultOrder01?state=new")

    link.click()

    page.wait_for_url(re.compile(r"/administration/oms/process/DefaultOrder01\?"))
    assert parse_qs(urlsplit(page.url).query) == {"state": ["new"]}
    expect(page.locator("h4")).to_have_text("Process: DefaultOrder01")
    expect(page.locator("#process-graph svg")).to_have_count(1)
    expect(page.locator("#graph-missing")).to_have_count(0)
    expect(page.locator(".card-header", has_text="highlighted")).to_have_text(
        "Graph: state new highlighted")
    graph_text = page.locator("#process-graph svg").text_content()
    for name in ("new", "paid", "shipped", "pay", "ship"):
        assert name in graph_text, name
    new_row = page.locator('#item-counts tr[data-state="new"]')
    expect(new_row).to_have_class(re.compile(r"\btable-warning\b"))
    expect(new_row.locator("td").nth(1)).to_have_text("3")
    expect(page.locator('#item-counts tr[data-state="paid"]')).not_to_have_class(
        re.compile(r"\btable-warning\b"))


# 6 -------------------------------------------------------------------------------------


def test_viewer_sees_states_but_no_event_buttons(app, page, live_server, accounts):
    order = make_order(app)
    login(page, live_server, accounts["viewer"])
    open_order(page, live_server, order["id"])

    expect(page.locator("a.item-state")).to_have_text(["new"] * 3)
    expect(page.locator("details.item-history")).to_have_count(3)
    expect(page.locator("#transition-log")).to_be_visible()
    expect(page.locator("#order-events")).to_have_count(0)
    expect(page.locator(".shipment-events")).to_have_count(0)
    expect(page.locator(".item-events")).to_have_count(0)
    expect(page.locator("button.event-button")).to_have_count(0)
    expect(page.locator("th", has_text="Trigger event")).to_have_count(0)

    # A trigger sent all the same is refused, and nothing moves.
    token = page.locator("input[name=csrf_token]").first.input_value()
    posted = page.request.post(f"{live_server}/sales/orders/{order['id']}/trigger",
                               form={"event": "pay", "csrf_token": token}, max_redirects=0)
    assert posted.status == 403
    assert set(db_states(app, order["id"]).values()) == {"new"}

    # Administration is not in the viewer's menu, but the OMS pages open by URL.
    expect(page.locator("nav.navbar a.dropdown-toggle", has_text="Administration")) \
        .to_have_count(0)
    response = page.goto(f"{live_server}/administration/oms/")
    assert response.status == 200
    expect(page.locator("h4")).to_have_text("Processes")
    expect(page.locator('#processes-table tr[data-process="DefaultOrder01"]')).to_be_visible()

    open_order(page, live_server, order["id"])
    page.locator("a.item-state").first.click()
    page.wait_for_url(re.compile(r"/administration/oms/process/DefaultOrder01\?state=new$"))
    expect(page.locator("#process-graph svg")).to_have_count(1)


# 7 -------------------------------------------------------------------------------------


@pytest.fixture
def second_page(browser, live_server):
    """Another browser context (its own cookies) on the same server."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_stale_page_pay_twice_moves_each_item_once(app, page, second_page, live_server,
                                                   accounts):
    order = make_order(app)
    for p in (page, second_page):
        login(p, live_server, accounts["agent"])
        open_order(p, live_server, order["id"])
        expect(event_button(p.locator("#order-events"), "pay")).to_have_text("pay 3")

    event_button(page.locator("#order-events"), "pay").click()
    expect(flash(page)).to_contain_text('"pay" moved 3 items.')

    # The second page still shows "pay 3": pressing it finds nothing left to pay.
    stale = event_button(second_page.locator("#order-events"), "pay")
    expect(stale).to_have_text("pay 3")
    stale.click()
    expect(flash(second_page, "info")).to_contain_text('Nothing to do: no item can take "pay" now.')
    expect(second_page.locator(".alert-success")).to_have_count(0)
    expect(second_page.locator("a.item-state")).to_have_text(["paid"] * 3)
    expect(event_button(second_page.locator("#order-events"), "pay")).to_have_count(0)

    items = sorted(db_states(app, order["id"]))
    assert db_states(app, order["id"]) == dict.fromkeys(items, "paid")
    assert history_events(app, order["id"], "pay") == items  # each item moved once
    with app.app_context():
        pay_logs = db.session.scalar(select(func.count()).select_from(TransitionLog).where(
            TransitionLog.order_id == order["id"], TransitionLog.event == "pay"))
        assert pay_logs == len(items)
        db.session.remove()
    expect(second_page.locator("#transition-log .log-row")).to_have_count(len(items))
