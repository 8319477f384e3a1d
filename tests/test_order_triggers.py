"""The event buttons of View Order at their three scopes, through the web form."""
import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Order, OrderItem
from tests.conftest import ADDRESS, order_payload


@pytest.fixture
def order(app, post_order):
    """Shipment 1: two items; shipment 2: one item. All new, in DefaultOrder01."""
    payload = order_payload()
    payload["shipments"].append({
        "method": "Express", "carrier": "UPS", "price": 990, "address": dict(ADDRESS),
        "items": [{"sku": "HAT", "name": "Hat", "quantity": 1, "unit_price": 1000,
                   "tax_rate": 19}],
    })
    payload["shipments"][0]["items"] = payload["shipments"][0]["items"][:1]  # 2 x shoe
    payload["payment"]["amount"] = 2 * 1999 + 490 + 1000 + 990
    order_id = post_order(payload).json["id"]
    with app.app_context():
        order = db.session.get(Order, order_id)
        return {"id": order_id, "shipments": [s.id for s in order.shipments],
                "items": [[i.id for i in s.items] for s in order.shipments]}


def states(app, order_id):
    with app.app_context():
        return [s for s in db.session.scalars(sa.select(OrderItem.state_name).where(
            OrderItem.order_id == order_id).order_by(OrderItem.id))]


def press(client, order, **form):
    response = client.post_form(f"/sales/orders/{order['id']}/trigger", form)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_order_box_offers_pay_for_all_items_then_ship(as_role, order, app):
    agent = as_role("agent")
    page = agent.get(f"/sales/orders/{order['id']}").get_data(as_text=True)
    box = re.search(r'id="order-events".*?</form>', page, re.S).group(0)
    assert re.findall(r'value="([\w ]+)" class="btn btn-sm btn-primary', box) == ["pay", "cancel"]
    assert re.search(r'>pay <span class="badge badge-light">3</span>', box)
    page = press(agent, order, event="pay")
    assert "&#34;pay&#34; moved 3 items." in page or '"pay" moved 3 items.' in page
    assert states(app, order["id"]) == ["paid"] * 3
    box = re.search(r'id="order-events".*?</form>', page, re.S).group(0)
    assert re.findall(r'value="([\w ]+)" class="btn btn-sm btn-primary', box) == ["ship", "cancel"]


def test_shipment_button_acts_on_ticked_items_or_all_of_the_shipment(as_role, order, app):
    agent = as_role("agent")
    press(agent, order, event="pay")
    first, second = order["items"][0]
    page = press(agent, order, event="ship", shipment=order["shipments"][0], item=[second])
    assert "moved 1 item" in page
    assert states(app, order["id"]) == ["paid", "shipped", "paid"]
    press(agent, order, event="ship", shipment=order["shipments"][1])
    assert states(app, order["id"]) == ["paid", "shipped", "shipped"]


def test_item_button_moves_only_that_item(as_role, order, app):
    agent = as_role("agent")
    hat = order["items"][1][0]
    page = press(agent, order, item_event=f"{hat}:cancel")
    assert "moved 1 item" in page
    assert states(app, order["id"]) == ["new", "new", "canceled"]


def test_bad_trigger_requests_change_nothing(as_role, order, app, post_order):
    agent = as_role("agent")
    other = post_order(order_payload(order_reference="OTHER")).json["id"]
    with app.app_context():
        stranger = db.session.scalar(sa.select(OrderItem.id).where(OrderItem.order_id == other))
    cases = [
        ({"event": ""}, "choose an event to trigger"),
        ({"event": "pay", "shipment": "abc"}, "shipment: &#39;abc&#39; is not an id"),
        ({"event": "pay", "shipment": order["shipments"][0], "item": [order["items"][1][0]]},
         "some ticked items are not in that shipment"),
        ({"item_event": f"{stranger}:pay"}, "some of the items do not belong to order"),
        ({"event": "pay", "shipment": "999999"}, "that shipment does not belong to this order"),
    ]
    for form, message in cases:
        assert message in press(agent, order, **form), form
    assert states(app, order["id"]) == ["new"] * 3
    assert "Nothing to do" in press(agent, order, event="deliver")


def test_viewer_sees_no_buttons_and_cannot_trigger(as_role, order, app):
    viewer = as_role("viewer")
    page = viewer.get(f"/sales/orders/{order['id']}").get_data(as_text=True)
    assert "order-events" not in page and "item-events" not in page
    response = viewer.post_form(f"/sales/orders/{order['id']}/trigger", {"event": "pay"})
    assert response.status_code == 403
    assert states(app, order["id"]) == ["new"] * 3


def test_state_links_to_the_graph_and_history_names_who(as_role, order, app):
    agent = as_role("agent")
    page = press(agent, order, event="pay")
    assert "/administration/oms/process/DefaultOrder01?state=paid" in page
    assert re.search(r"paid · [\d-]+ [\d:]+ UTC · pay · Agent User &lt;agent@example.org&gt;",
                     page)


def test_orders_list_follows_the_item_states(as_role, order, app):
    agent = as_role("agent")
    press(agent, order, item_event=f"{order['items'][1][0]}:cancel")
    page = agent.get("/sales/orders/").get_data(as_text=True)
    row = re.search(r'<tr data-order-reference="DE--1">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'state-label">(\w+)<', row) == ["canceled", "new"]
    filtered = agent.get("/sales/orders/?state=canceled").get_data(as_text=True)
    assert 'data-order-reference="DE--1"' in filtered
    assert 'data-order-reference="DE--1"' not in agent.get(
        "/sales/orders/?state=paid").get_data(as_text=True)


def test_events_without_a_button_cannot_be_sent_by_hand(as_role, app, post_order):
    app.config["PANEL_PAYMENT_PROCESSES"] = {"prepayment": "DummyPayment01"}
    order_id = post_order(order_payload(payment={"method": "prepayment", "amount": 5487})
                          ).json["id"]
    page = press(as_role("agent"), {"id": order_id}, event="authorize")
    assert "&#34;authorize&#34; is not an event that can be triggered by hand here" in page
    assert set(states(app, order_id)) == {"new"}


def test_pay_issues_the_same_statements_for_1_or_30_items(app, as_role, post_order):
    """No statement per item: a trigger on a big order costs the round trips of a small one
    (an id read after the commit once cost one SELECT per item)."""
    def order_of(count: int) -> int:
        payload = order_payload(order_reference=f"PAY-{count}",
                                payment={"method": "invoice", "amount": count * 1000 + 490})
        payload["shipments"][0]["items"] = [
            {"sku": f"SKU-{n}", "name": f"Product {n}", "quantity": 1, "unit_price": 1000,
             "tax_rate": 19} for n in range(count)]
        return post_order(payload).json["id"]

    def statements_of_pay(order_id: int) -> int:
        seen = []
        with app.app_context():
            engine = db.engine
        record = lambda *args: seen.append(1)  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            response = agent.post_form(f"/sales/orders/{order_id}/trigger", {"event": "pay"})
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 302
        return len(seen)

    one, thirty = order_of(1), order_of(30)
    agent = as_role("agent")
    agent.get(f"/sales/orders/{one}")  # the session and the CSRF token, outside the count
    agent.csrf_token()
    assert statements_of_pay(one) == statements_of_pay(thirty)
    assert set(states(app, one)) == set(states(app, thirty)) == {"paid"}


def test_an_event_name_longer_than_any_event_is_refused_without_being_quoted_back(
        app, as_role, post_order):
    """Messages travel in the session cookie; an event name of thousands of random
    characters quoted back made it larger than browsers keep (the test client warns)."""
    import secrets

    order = post_order().json
    agent = as_role("agent")
    name = secrets.token_hex(3000)
    for form in ({"event": name}, {"item_event": f"{order['id']}:{name}"}):
        page = press(agent, order, **form)
        assert "no process has an event with a name of 6,000 characters" in page
        assert name[:100] not in page
    assert set(states(app, order["id"])) == {"new"}
    selection = agent.post_form("/sales/bulk/select", {"order": str(order["id"])})
    preview = agent.get(selection.headers["Location"], query_string={"event": name})
    assert preview.status_code == 400
    assert "no process has an event with a name of 6,000 characters" in \
        preview.get_data(as_text=True)
