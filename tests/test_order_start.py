"""How a new order's items start, whichever way the order arrives (the API, ``orders import``,
``demo seed`` through the bulk path): in their process's initial state, with its timeouts
written and its onEnter event fired; and what everyone sees when that start fails.

The processes are in tests/plugins/start_fixture.py; PANEL_DEFAULT_PROCESS picks one, so the
demo data's orders get it too.
"""
from __future__ import annotations

import html as html_module
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import EventTimeout, ItemStateHistory, Order, OrderItem, TransitionLog
from panel.models.base import utcnow
from panel.services.order_plan import INTAKE_ACTOR
from tests.conftest import order_payload
from tests.plugins import start_fixture

WAYS = ("api", "orders import", "demo seed")


def with_process(name: str) -> dict:
    return {"PANEL_PLUGINS": (start_fixture.NAME,), "PANEL_DEFAULT_PROCESS": name}


def arrive(way: str, runner, post_order, tmp_path):
    """Bring new orders in ``way``; return what that way answered (a response or a CLI
    result)."""
    if way == "api":
        return post_order(order_payload())
    if way == "orders import":
        path = tmp_path / "orders.jsonl"
        path.write_text(json.dumps(order_payload()) + "\n")
        return runner.invoke(args=["orders", "import", str(path)])
    return runner.invoke(args=["demo", "seed", "--orders", "12", "--batch", "5"])


def stored_items(app) -> list[OrderItem]:
    with app.app_context():
        items = db.session.scalars(sa.select(OrderItem).order_by(OrderItem.id)).all()
        db.session.expunge_all()
        return items


def histories(app) -> dict[int, list[tuple]]:
    """{item id: [(from, to, event, actor), ...]} in the order they were written."""
    result: dict[int, list[tuple]] = {}
    with app.app_context():
        for row in db.session.execute(
                sa.select(ItemStateHistory.item_id, ItemStateHistory.from_state,
                          ItemStateHistory.to_state, ItemStateHistory.event,
                          ItemStateHistory.actor).order_by(ItemStateHistory.id)):
            result.setdefault(row.item_id, []).append(tuple(row)[1:])
    return result


@pytest.mark.parametrize("app_config", [with_process("Placed01")], ids=["Placed01"])
@pytest.mark.parametrize("way", WAYS)
def test_items_start_in_the_initial_state_of_their_process(app, runner, post_order, tmp_path,
                                                           way):
    arrive(way, runner, post_order, tmp_path)

    items = stored_items(app)
    assert items and {item.process_name for item in items} == {"Placed01"}
    # Placed01 has no "pay", "ship" ...: demo data can only have cancelled some older orders
    assert {item.state_name for item in items} <= {"placed", "canceled"}
    assert "placed" in {item.state_name for item in items}
    for history in histories(app).values():
        assert history[0] == (None, "placed", None, INTAKE_ACTOR)
    with app.app_context():
        for order in db.session.scalars(sa.select(Order)):
            assert set(order.item_states.split()) == {i.state_name for i in order.items}


@pytest.mark.parametrize("app_config", [with_process("Placed01"), with_process("Waiting01")],
                         ids=["Placed01", "Waiting01"])
@pytest.mark.parametrize("way", WAYS)
def test_the_initial_states_timeouts_are_written_whichever_way_an_order_arrives(
        app, runner, post_order, tmp_path, way):
    first = "placed" if app.config["PANEL_DEFAULT_PROCESS"] == "Placed01" else "new"
    before = utcnow()
    arrive(way, runner, post_order, tmp_path)
    after = utcnow()

    waiting = [item.id for item in stored_items(app) if item.state_name == first]
    with app.app_context():
        timeouts = db.session.execute(sa.select(
            EventTimeout.item_id, EventTimeout.state_name, EventTimeout.event,
            EventTimeout.due_at)).all()
    assert waiting
    assert sorted((t.item_id, t.event) for t in timeouts) == sorted(
        (item_id, event) for item_id in waiting for event in ("chase", "remind"))
    for timeout in timeouts:
        assert timeout.state_name == first
        if timeout.event == "remind":  # "2 days", counted from the start
            assert before + timedelta(days=2) <= timeout.due_at <= after + timedelta(days=2)
        else:  # the timeout processor's answer
            assert timeout.due_at in {start_fixture.next_morning(item=None, event=None, now=t)
                                      for t in (before, after)}


@pytest.mark.parametrize("app_config", [with_process("Confirmed01")], ids=["Confirmed01"])
@pytest.mark.parametrize("way", WAYS)
def test_the_initial_states_on_enter_event_runs_whichever_way_an_order_arrives(
        app, runner, post_order, tmp_path, way):
    arrive(way, runner, post_order, tmp_path)

    items = stored_items(app)
    assert items and {item.state_name for item in items} == {"confirmed"}
    for history in histories(app).values():
        assert history == [(None, "new", None, INTAKE_ACTOR),
                           ("new", "confirmed", "confirm", INTAKE_ACTOR)]
    with app.app_context():  # the command's change to the order was committed with the move
        notes = set(db.session.scalars(sa.select(Order.cart_note)))
        states = set(db.session.scalars(sa.select(Order.item_states)))
    assert notes == {f"confirmed by {INTAKE_ACTOR}"} and states == {"confirmed"}


@pytest.mark.parametrize("app_config", [with_process("Fragile01")], ids=["Fragile01"])
@pytest.mark.parametrize("way", WAYS)
def test_an_order_whose_start_fails_is_stored_and_says_so(app, runner, post_order, tmp_path,
                                                          way):
    answer = arrive(way, runner, post_order, tmp_path)

    with app.app_context():
        orders = db.session.scalars(sa.select(Order).order_by(Order.id)).all()
        errors = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.is_error)
                                    .order_by(TransitionLog.order_id)).all()
        assert orders and {item.state_name for o in orders for item in o.items} == {"received"}
        # One error row per item the start was for.
        assert sorted((e.order_id, e.item_id) for e in errors) == sorted(
            (o.id, item.id) for o in orders for item in o.items)
        for error in errors:
            assert (error.event, error.source_state, error.command, error.actor) == (
                "confirm", "received", "Start/Explode", INTAKE_ACTOR)
            assert start_fixture.ERP_DOWN in error.error_message
        reference = orders[0].order_reference
    if way == "api":
        assert answer.status_code == 201
        assert answer.json["created"] is True
        assert answer.json["start_error"] == f"Start/Explode: {start_fixture.ERP_DOWN}"
    elif way == "orders import":
        assert answer.exit_code == 1
        assert (f"line 1: {reference} was stored but did not start: Start/Explode: "
                f"{start_fixture.ERP_DOWN}") in answer.output
        assert "1 created (1 did not start), 0 already present, 0 failed." in answer.output
    else:
        assert answer.exit_code == 0, answer.output
        assert "Created 12 orders" in answer.output
        assert f"12 of them did not start (see each order's transition log), first: " \
               f"Start/Explode: {start_fixture.ERP_DOWN}" in answer.output


@pytest.mark.parametrize("app_config", [with_process("Confirmed01")], ids=["Confirmed01"])
def test_the_api_says_an_order_started(post_order):
    response = post_order(order_payload())

    assert response.status_code == 201
    assert response.json["start_error"] is None
    again = post_order(order_payload(order_reference="SAME-1"))
    assert post_order(order_payload(order_reference="SAME-1")).status_code == 200
    assert again.json["start_error"] is None


@pytest.mark.parametrize("app_config", [with_process("Fragile01")], ids=["Fragile01"])
def test_the_order_page_shows_at_the_top_that_the_order_did_not_start(app, as_role, post_order):
    order_id = post_order(order_payload()).json["id"]

    page = as_role("viewer").get(f"/sales/orders/{order_id}")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    notice = re.search(r'<div class="alert alert-danger" id="order-failure".*?</div>', html,
                       re.S)
    assert notice, "no failure notice on the page"
    assert html.index('id="order-failure"') < html.index('id="order-overview"')
    text = html_module.unescape(" ".join(re.sub(r"<[^>]+>", " ", notice.group(0)).split()))
    assert text.startswith("This order's items did not start.")
    assert (f'{INTAKE_ACTOR}: "confirm" failed from received') in text
    assert f"Start/Explode: {start_fixture.ERP_DOWN}" in text
