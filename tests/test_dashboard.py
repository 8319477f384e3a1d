"""The dashboard: its figures are what the database holds, and each links to exactly those
orders, items, reclamations, returns or mails."""
from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Order, OrderItem, OutboundEmail, ReturnReason, User
from panel.oms import engine
from panel.oms.registry import current_registry
from panel.services import dashboard, reclamations, returns
from tests.conftest import order_payload

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


@pytest.fixture
def app_config():
    return {"PANEL_PAYMENT_PROCESSES": {"dummypayment": "DummyPayment01"}}


@pytest.fixture
def agent(as_role):
    return as_role("agent")


def place(post_order, reference, *, store="DE", currency="EUR", created=NOW, method="invoice",
          price=1000):
    payload = order_payload(order_reference=reference, store=store, currency=currency,
                            created_at=created.isoformat())
    payload["shipments"][0]["items"] = [{"sku": "SKU-1", "name": "Thing", "quantity": 1,
                                         "unit_price": price, "tax_rate": 19}]
    payload["payment"] = {"method": method, "amount": price + 490}
    response = post_order(payload)
    assert response.status_code == 201, response.json
    return response.json["id"]


def page(client, url="/") -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def listed(client, url: str) -> list[str]:
    return re.findall(r'data-order-reference="([^"]+)"', page(client, url))


def links(text: str, css_class: str) -> list[tuple[str, str]]:
    """(link text, href) of the page's links with this class."""
    return [(html.unescape(label), html.unescape(href)) for href, label in re.findall(
        rf'<a href="([^"]+)" class="{css_class}"[^>]*>([^<]+)</a>', text)]


def fresh(app) -> None:
    """Forget the kept snapshot, as a minute passing would."""
    app.extensions.pop("panel_dashboard", None)


def test_orders_and_revenue_per_day_and_store(app, agent, post_order):
    yesterday = NOW - timedelta(days=1)
    place(post_order, "DE--T1", price=1000)
    place(post_order, "DE--T2", price=2500)
    place(post_order, "DE--Y1", created=yesterday, price=700)
    place(post_order, "GB--Y1", store="GB", currency="GBP", created=yesterday, price=5000)
    place(post_order, "DE--OLD", created=NOW - timedelta(days=30), price=999)  # a day too old
    first_day = datetime.combine(TODAY - timedelta(days=29), datetime.min.time(), tzinfo=UTC)
    place(post_order, "DE--FIRST", created=first_day, price=100)  # the first day's first second

    with app.test_request_context():
        days = dashboard.orders_per_day(TODAY)
    assert days.days[0] == TODAY - timedelta(days=29) and days.days[-1] == TODAY
    by_store = {(s.store, s.currency): s for s in days.stores}
    assert set(by_store) == {("DE", "EUR"), ("GB", "GBP")}
    de, gb = by_store["DE", "EUR"], by_store["GB", "GBP"]
    # Grand totals: the item plus 4.90 shipping.
    assert (de.orders[-1], de.revenue[-1]) == (2, 1490 + 2990)
    assert (de.orders[-2], de.revenue[-2]) == (1, 1190)
    assert (de.orders[0], de.revenue[0]) == (1, 590)
    assert (gb.orders[-2], gb.revenue[-2]) == (1, 5490)
    assert de.total_orders == 4 and gb.total_orders == 1
    with app.app_context():
        in_period = db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
            Order.created_at >= first_day))
    assert sum(s.total_orders for s in days.stores) == in_period == 5

    text = page(agent)
    assert "€62.60" in text and "£54.90" in text  # each store's total in its currency
    assert re.search(r'id="orders-period">5 orders<', text)


def test_a_bar_opens_that_store_and_day_in_the_list(app, agent, post_order):
    yesterday = NOW - timedelta(days=1)
    place(post_order, "DE--Y1", created=yesterday)
    place(post_order, "DE--Y2", created=yesterday)
    place(post_order, "AT--Y1", store="AT", created=yesterday)
    place(post_order, "DE--T1")
    text = page(agent)
    bars = re.findall(r'<a href="([^"]+)" class="chart-bar"><rect[^>]*><title>([^<]+)</title>',
                      text)
    titles = {html.unescape(title): html.unescape(href) for href, title in bars}
    day = (TODAY - timedelta(days=1)).isoformat()
    href = titles[f"DE, {day}: 2 orders"]
    assert sorted(listed(agent, href)) == ["DE--Y1", "DE--Y2"]
    assert listed(agent, titles[f"AT, {day}: 1 order"]) == ["AT--Y1"]
    # Each store's revenue chart links the same way.
    assert f"DE, {day}: €29.80 in 2 orders" in html.unescape(text)


def test_items_per_state_of_each_process_link_to_exactly_those_orders(app, agent, post_order):
    invoice = place(post_order, "DE--INV")
    dummy = place(post_order, "DE--DUMMY", method="dummyPayment")
    paid = place(post_order, "DE--PAID")
    with app.app_context():
        result = engine.trigger_event(paid, "pay", actor="setup")
        assert result.error is None, result.error
        held = dict(((p, s), n) for p, s, n in db.session.execute(
            sa.select(OrderItem.process_name, OrderItem.state_name, sa.func.count())
            .group_by(OrderItem.process_name, OrderItem.state_name)))
        processes = {order_id: db.session.scalar(sa.select(OrderItem.process_name).where(
            OrderItem.order_id == order_id)) for order_id in (invoice, dummy, paid)}
    assert processes[invoice] != processes[dummy]

    text = page(agent)
    shown = {}
    for process, block in re.findall(
            r'data-process="([^"]+)">(.*?)</table>', text, flags=re.S):
        for state, count in re.findall(
                r'data-state="([^"]+)">[^<]*</a></td><td class="money item-count">([^<]+)<',
                block):
            shown[html.unescape(process), html.unescape(state)] = int(count)
    assert shown == held  # every state that holds items, and only those

    with app.test_request_context():
        state_of = {order_id: db.session.scalar(sa.select(OrderItem.state_name).where(
            OrderItem.order_id == order_id)) for order_id in (invoice, dummy, paid)}
    for order_id, reference in ((invoice, "DE--INV"), (dummy, "DE--DUMMY"), (paid, "DE--PAID")):
        process, state = processes[order_id], state_of[order_id]
        href = [h for label, h in links(text, "state-link") if label == state
                and f"process={process}" in h]
        assert href, (process, state)
        expected = sorted(ref for oid, ref in ((invoice, "DE--INV"), (dummy, "DE--DUMMY"),
                                               (paid, "DE--PAID"))
                          if processes[oid] == process and state_of[oid] == state)
        assert sorted(listed(agent, href[0])) == expected
        assert reference in expected


def test_a_state_with_more_items_than_the_cap_says_so(app, agent, post_order, monkeypatch):
    for n in range(3):
        place(post_order, f"DE--{n + 1}")
    monkeypatch.setattr(dashboard, "CAP", 2)
    with app.app_context():
        counts = dashboard.items_per_state(current_registry(), cap=2)
    (state,) = [row for rows in counts.values() for row in rows]
    assert (state.items.value, state.items.capped, state.items.label) == (2, True, "2+")
    text = page(agent)
    assert re.search(r'class="money item-count">2\+<', text)
    assert 'counts over 2 read "2+"' in text


def test_what_waits_for_somebody_is_counted_and_linked(app, agent, post_order, accounts):
    order_id = place(post_order, "DE--W1")
    with app.app_context():
        engine.trigger_event(order_id, "pay", actor="setup")
        engine.trigger_event(order_id, "ship", actor="setup")
        items = list(db.session.scalars(sa.select(OrderItem.id).where(
            OrderItem.order_id == order_id)))
        user = db.session.scalar(sa.select(User).where(User.role == "agent"))
        reclamations.open_reclamation(order_id, items, "Broken on arrival", user)
        reason = ReturnReason(name="Damaged", active=True)
        db.session.add(reason)
        db.session.commit()
        returns.create_return(order_id, [returns.ReturnLine(items[0], reason.id)], user)
        for status in ("failed", "failed", "undeliverable", "sent", "queued"):
            db.session.add(OutboundEmail(order_id=order_id, to_address="anna@example.com",
                                         subject="Hello", body_text="Hi", status=status,
                                         created_by="test"))
        db.session.commit()

    text = page(agent)

    def figure(id_: str) -> tuple[str, str]:
        match = re.search(rf'id="{id_}" href="([^"]+)">\s*<span class="figure-value">([^<]+)<',
                          text)
        assert match, id_
        return match.group(2), html.unescape(match.group(1))

    assert figure("open-reclamations") == ("1", "/sales/reclamations/?state=open")
    assert figure("open-returns") == ("1", "/sales/returns/?state=open")
    assert figure("mail-failed") == ("2", "/administration/outbox/?status=failed")
    assert figure("mail-undeliverable") == ("1", "/administration/outbox/?status=undeliverable")
    assert figure("stuck-failed")[0] == "0"
    # The links open lists of exactly those.
    outbox = page(agent, figure("mail-failed")[1])
    assert [status for _, status in re.findall(
        r'data-email-id="(\d+)" data-status="(\w+)"', outbox)] == ["failed", "failed"]
    reclamation_list = page(agent, figure("open-reclamations")[1])
    assert "DE--W1" in reclamation_list


def test_every_role_sees_it_after_login_and_nobody_without(client, as_role, accounts):
    anonymous = client.get("/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for role in ("admin", "agent", "viewer"):
        signed_in = as_role(role)
        assert "<h4 class=\"mb-0\">Dashboard</h4>" in page(signed_in)
    login = client.login(accounts["viewer"])
    assert login.headers["Location"].endswith("/")


def test_with_no_orders_it_says_so(agent):
    text = page(agent)
    assert "No orders in these days." in text and "No items yet." in text


def test_the_figures_are_kept_a_minute_then_taken_again(app, agent, post_order):
    place(post_order, "DE--1")
    assert re.search(r'id="orders-period">1 orders?<', page(agent))
    place(post_order, "DE--2")
    assert re.search(r'id="orders-period">1 orders?<', page(agent))  # kept
    fresh(app)
    assert re.search(r'id="orders-period">2 orders<', page(agent))


class TestTheListsProcessFilter:
    def test_process_and_state_together(self, app, agent, post_order):
        place(post_order, "DE--INV")
        place(post_order, "DE--DUMMY", method="dummyPayment")
        with app.app_context():
            dummy_process, dummy_state = db.session.execute(
                sa.select(OrderItem.process_name, OrderItem.state_name)
                .join(Order, Order.id == OrderItem.order_id)
                .where(Order.order_reference == "DE--DUMMY")).one()
        assert listed(agent, f"/sales/orders/?process={dummy_process}") == ["DE--DUMMY"]
        assert listed(agent, "/sales/orders/?process=DefaultOrder01") == ["DE--INV"]
        assert listed(agent, f"/sales/orders/?process={dummy_process}&state={dummy_state}"
                      ) == ["DE--DUMMY"]
        assert listed(agent, f"/sales/orders/?process=DefaultOrder01&state={dummy_state}"
                      ) == (["DE--INV"] if dummy_state == "new" else [])
        text = page(agent, f"/sales/orders/?process={dummy_process}")
        assert f"Only items of the process <strong>{dummy_process}</strong>" in text
        assert f'name="process" value="{dummy_process}"' in text  # kept by the filter form

    def test_an_unknown_process_is_named_and_lists_nothing(self, agent, post_order):
        place(post_order, "DE--1")
        response = agent.get("/sales/orders/?process=Gone01&state=new")
        text = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Process: &#39;Gone01&#39; is not a process of this panel" in text
        assert 'data-order-reference="' not in text
        export = agent.get("/sales/orders/export.csv?process=Gone01")
        assert export.status_code == 400 and b"Gone01" in export.data
