"""Claiming orders: rules from plugins, refusals, closing, and claimed-only triggers."""
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import ItemStateHistory, Order, OrderItem, Reclamation, ReclamationItem, User
from panel.models.base import utcnow
from panel.oms import engine
from panel.services import reclamations
from tests.conftest import order_payload
from tests.plugins import claim_rule_fixture


@pytest.fixture
def app_config():
    return {"PANEL_PLUGINS": ("tests.plugins.claim_rule_fixture",)}


@pytest.fixture
def order(app, post_order):
    payload = order_payload()
    payload["shipments"][0]["items"].append(
        {"sku": "WRAP", "name": "Gift wrap", "quantity": 1, "unit_price": 0, "tax_rate": 19})
    order_id = post_order(payload).json["id"]
    with app.app_context():
        items = db.session.scalars(sa.select(OrderItem.id).where(
            OrderItem.order_id == order_id).order_by(OrderItem.id)).all()
    return {"id": order_id, "items": items}  # shoe, shoe, socks, wrap


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def claim(client, order, items, reason="Sole came off after a week."):
    return client.post_form(f"/sales/reclamations/new/{order['id']}",
                            {"item": [str(i) for i in items], "reason": reason})


def page_text(client, response):
    if response.status_code == 302:
        response = client.get(response.headers["Location"])
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_claim_two_items_from_the_orders_list(app, as_role, order):
    agent = as_role("agent")
    listing = agent.get("/sales/orders/").get_data(as_text=True)
    assert f'href="/sales/reclamations/new/{order["id"]}">Claim</a>' in listing
    form = page_text(agent, agent.get(f"/sales/reclamations/new/{order['id']}"))
    assert "Create Reclamation" in form and "Back to Orders" in form
    response = claim(agent, order, order["items"][:2])
    assert response.status_code == 302
    page = page_text(agent, response)
    assert "Reclamation #1 for order DE--1 created." in page
    assert "Sole came off after a week." in page
    with app.app_context():
        reclamation = db.session.scalar(sa.select(Reclamation))
        assert reclamation.state == "open" and reclamation.item_count == 2
        assert reclamation.customer_name == "Mrs Anna Schmidt"
        assert reclamation.created_by_name == "Agent User"
        assert sorted(ri.order_item_id for ri in reclamation.items) == order["items"][:2]
        assert db.session.get(Order, order["id"]).open_reclamations == 1
        # a claim changes no item state
        assert set(db.session.scalars(sa.select(OrderItem.state_name))) == {"new"}
    listing = agent.get("/sales/orders/").get_data(as_text=True)
    assert 'class="badge badge-warning reclamation-flag">Reclamation<' in listing
    assert 'data-order-reference="DE--1"' in agent.get(
        "/sales/orders/?reclamation=open").get_data(as_text=True)
    order_page = page_text(agent, agent.get(f"/sales/orders/{order['id']}"))
    assert "Agent User opened" in order_page and "reclamation #1" in order_page


def test_nothing_ticked_saves_nothing(app, as_role, order):
    response = claim(as_role("agent"), order, [])
    assert response.status_code == 400
    assert "tick at least one item to claim" in response.get_data(as_text=True)
    assert count(app, Reclamation) == 0


def test_a_reason_is_offered_not_required(app, as_role, order):
    agent = as_role("agent")
    page = agent.get(f"/sales/reclamations/new/{order['id']}").get_data(as_text=True)
    assert "Reason (optional)" in page
    response = claim(agent, order, order["items"][:1], reason="  ")  # tick and click
    assert response.status_code == 302
    with app.app_context():
        reclamation = db.session.scalar(sa.select(Reclamation))
        assert reclamation.reason == "" and reclamation.item_count == 1
    details = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "(no reason given)" in details
    history = agent.get(f"/sales/orders/{order['id']}").get_data(as_text=True)
    assert re.search(rf"reclamation #{reclamation.id}</a> on 1 item\s*<", history)


@pytest.mark.parametrize("reason", ["broken \x1b[2J", "see \u202etxt.exe"])
def test_a_reason_with_control_or_bidi_characters_is_refused(app, as_role, order, reason):
    response = claim(as_role("agent"), order, order["items"][:1], reason=reason)
    assert response.status_code == 400
    assert "the reason contains a" in response.get_data(as_text=True)
    assert count(app, Reclamation) == 0


def test_rule_not_already_claimed_blocks_and_explains(app, as_role, order):
    agent = as_role("agent")
    claim(agent, order, order["items"][:1])
    form = page_text(agent, agent.get(f"/sales/reclamations/new/{order['id']}"))
    first_row = re.search(rf'data-item-id="{order["items"][0]}".*?</tr>', form).group(0)
    assert "disabled" in first_row and "already in open reclamation #1" in first_row
    # a tampered form that ticks it anyway is refused with the reason; nothing is saved
    response = claim(agent, order, order["items"][:2])
    assert response.status_code == 400
    assert "cannot be claimed: already in open reclamation #1" in response.get_data(as_text=True)
    assert count(app, Reclamation) == 1 and count(app, ReclamationItem) == 1


def test_hook_register_claim_rules(app, as_role, order):
    agent = as_role("agent")
    wrap = order["items"][3]
    form = page_text(agent, agent.get(f"/sales/reclamations/new/{order['id']}"))
    row = re.search(rf'data-item-id="{wrap}".*?</tr>', form).group(0)
    assert "no: gift wrapping cannot be claimed" in row and "disabled" in row
    response = claim(agent, order, [wrap])
    assert "gift wrapping cannot be claimed" in response.get_data(as_text=True)
    assert count(app, Reclamation) == 0


@pytest.fixture(autouse=True)
def clean_calls():
    claim_rule_fixture.RETURN_CALLS.clear()


def test_a_rule_by_order_is_asked_once_per_order_with_its_items(app, as_role, order):
    shoe, _, socks, _ = order["items"]
    with app.app_context():
        for event in ("pay", "ship"):
            engine.trigger_event(order["id"], event, actor="setup")
        engine.trigger_event(order["id"], "return", actor="setup", item_ids=[socks])

    form = page_text(as_role("agent"), as_role("agent").get(
        f"/sales/reclamations/new/{order['id']}"))

    row = re.search(rf'data-item-id="{socks}".*?</tr>', form).group(0)
    assert "returned: it is claimed through its return" in row and "disabled" in row
    # once for the page, with the items the per-item rule before it let through
    assert claim_rule_fixture.RETURN_CALLS == [(order["id"], order["items"][:3])]
    assert "disabled" not in re.search(rf'data-item-id="{shoe}".*?</tr>', form).group(0)


def claim_page_statements(app, client, order_id) -> int:
    return page_statements(app, client, f"/sales/reclamations/new/{order_id}")


def page_statements(app, client, url) -> int:
    """How many SQL statements a GET of ``url`` runs."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine_ = db.engine
    sa.event.listen(engine_, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(engine_, "before_cursor_execute", record)
    return len(statements)


def test_the_claim_rules_query_as_often_for_2_items_as_for_30(app, as_role, post_order):
    app.config["PANEL_CLAIM_WINDOW_DAYS"] = 14  # the bundled window rule queries too
    orders = []
    for reference, units in (("TWO", 2), ("THIRTY", 30)):
        payload = order_payload(order_reference=reference,
                                payment={"method": "invoice", "amount": units * 1000 + 490})
        payload["shipments"][0]["items"] = [{"sku": f"SKU-{n}", "name": f"Product {n}",
                                             "quantity": 1, "unit_price": 1000, "tax_rate": 19}
                                            for n in range(units)]
        orders.append(post_order(payload).json["id"])
    agent = as_role("agent")
    claim_page_statements(app, agent, orders[0])  # the first request of a session does more

    assert claim_page_statements(app, agent, orders[0]) == \
        claim_page_statements(app, agent, orders[1])
    assert [len(items) for _, items in claim_rule_fixture.RETURN_CALLS[-2:]] == [2, 30]


@pytest.mark.parametrize("days_ago, blocked", [(20, True), (3, False)])
def test_rule_claim_window(app, as_role, order, days_ago, blocked):
    app.config["PANEL_CLAIM_WINDOW_DAYS"] = 14
    # the rule is registered when the setting is on at start-up; rebuild the rules
    when = utcnow() - timedelta(days=days_ago)
    with app.app_context():
        for event in ("pay", "ship", "deliver"):
            engine.trigger_event(order["id"], event, actor="setup", now=when)
    response = claim(as_role("agent"), order, order["items"][:1])
    if blocked:
        assert response.status_code == 400
        assert "more than 14 days ago (the claim window)" in response.get_data(as_text=True)
        assert count(app, Reclamation) == 0
    else:
        assert response.status_code == 302 and count(app, Reclamation) == 1


def test_items_of_another_order_are_refused(app, as_role, order, post_order):
    other = post_order(order_payload(order_reference="OTHER")).json["id"]
    with app.app_context():
        stranger = db.session.scalar(sa.select(OrderItem.id).where(OrderItem.order_id == other))
    response = claim(as_role("agent"), order, [stranger])
    assert "is not an item of order DE--1" in response.get_data(as_text=True)
    assert count(app, Reclamation) == 0


def test_close_with_a_note_is_final(app, as_role, order):
    agent = as_role("agent")
    claim(agent, order, order["items"][:1])
    response = agent.post_form("/sales/reclamations/1/close", {"note": "Replacement sent."})
    page = page_text(agent, response)
    assert "Reclamation #1 closed." in page and "Replacement sent." in page
    again = page_text(agent, agent.post_form("/sales/reclamations/1/close", {"note": ""}))
    assert "Not closed: reclamation #1 is already closed." in again
    with app.app_context():
        reclamation = db.session.get(Reclamation, 1)
        assert (reclamation.state, reclamation.close_note, reclamation.closed_by_name) == (
            "closed", "Replacement sent.", "Agent User")
        assert db.session.get(Order, order["id"]).open_reclamations == 0
    # once closed, the item may be claimed again
    assert claim(agent, order, order["items"][:1]).status_code == 302
    history = page_text(agent, agent.get(f"/sales/orders/{order['id']}"))
    assert "Agent User closed" in history


def test_a_close_note_with_a_control_character_is_refused_and_the_claim_stays_open(
        app, as_role, order):
    agent = as_role("agent")
    claim(agent, order, order["items"][:1])
    page = page_text(agent, agent.post_form("/sales/reclamations/1/close",
                                            {"note": "\x07done"}))
    assert "Not closed: the note contains a control character (U+0007, bell)" in page
    with app.app_context():
        assert db.session.get(Reclamation, 1).state == "open"


def test_reclamation_triggers_act_on_claimed_items_only(app, as_role, order):
    agent = as_role("agent")
    claim(agent, order, order["items"][:2])
    page = page_text(agent, agent.get("/sales/reclamations/1"))
    assert re.search(r'value="pay" class="btn btn-sm btn-primary mr-1 event-button">pay '
                     r'<span class="badge badge-light">2</span>', page)
    result = page_text(agent, agent.post_form("/sales/reclamations/1/trigger", {"event": "pay"}))
    assert '"pay" moved 2 items.' in result.replace("&#34;", '"')
    with app.app_context():
        states = dict(db.session.execute(sa.select(OrderItem.id, OrderItem.state_name)).all())
    assert [states[i] for i in order["items"]] == ["paid", "paid", "new", "new"]
    # an item that is not claimed cannot be moved from here
    refused = page_text(agent, agent.post_form("/sales/reclamations/1/trigger",
                                                {"item_event": f"{order['items'][2]}:pay"}))
    assert "that item is not claimed here" in refused


def test_viewer_cannot_claim_or_close(app, as_role, order):
    agent, viewer = as_role("agent"), as_role("viewer")
    claim(agent, order, order["items"][:1])
    assert viewer.get(f"/sales/reclamations/new/{order['id']}").status_code == 403
    assert claim(viewer, order, order["items"][1:2]).status_code == 403
    assert viewer.post_form("/sales/reclamations/1/close", {}).status_code == 403
    page = viewer.get("/sales/reclamations/1").get_data(as_text=True)
    assert "close-button" not in page and "event-button" not in page
    assert "Claim</a>" not in viewer.get("/sales/orders/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Reclamation, 1).state == "open"
        assert count(app, Reclamation) == 1


def test_reclamations_list_search_and_state_filter(app, as_role, order, post_order):
    agent = as_role("agent")
    second = order_payload(order_reference="AT--7", store="AT")
    second["customer"].update(email="bob@example.com", first_name="Bob", last_name="Baker")
    other = {"id": post_order(second).json["id"]}
    claim(agent, order, order["items"][:1])
    claim(agent, other, [])  # refused: nothing ticked
    with app.app_context():
        other["items"] = db.session.scalars(sa.select(OrderItem.id).where(
            OrderItem.order_id == other["id"])).all()
    claim(agent, other, other["items"][:2])
    agent.post_form("/sales/reclamations/1/close", {})

    def ids(query):
        page = agent.get(f"/sales/reclamations/?{query}").get_data(as_text=True)
        return re.findall(r'data-reclamation-id="(\d+)"', page)

    assert ids("") == ["2", "1"]
    assert ids("state=open") == ["2"] and ids("state=closed") == ["1"]
    assert ids("q=bob@") == ["2"] and ids("q=Schmidt") == ["1"] and ids("q=AT--7") == ["2"]
    page = agent.get("/sales/reclamations/").get_data(as_text=True)
    assert ">AT--7</a>" in page and "badge-success\">Open" in page
    assert agent.get("/sales/reclamations/?state=maybe").status_code == 400


def test_two_people_claiming_the_same_item_at_once(app, order):
    start = threading.Barrier(6)

    def claim_item(n):
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.role == "agent"))
            start.wait()
            try:
                return reclamations.open_reclamation(order["id"], order["items"][:1],
                                                     f"claim {n}", user).id
            except reclamations.ClaimRefused as exc:
                return str(exc)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(claim_item, range(6)))
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1
    assert all(f"already in open reclamation #{winners[0]}" in r
               for r in results if isinstance(r, str))
    assert count(app, ReclamationItem) == 1


@pytest.fixture(autouse=True)
def _agent_accounts(accounts):
    return accounts


def test_history_rows_unchanged_by_claims(app, as_role, order):
    claim(as_role("agent"), order, order["items"][:2])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ItemStateHistory).where(
            ItemStateHistory.event.is_not(None))) == 0
