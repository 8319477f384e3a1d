"""The engine, rule by rule, on a Python-built process (tests/plugins/engine_fixture.py)."""
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import EventTimeout, ItemStateHistory, Order, OrderItem, TransitionLog
from panel.models.base import utcnow
from panel.oms import engine, sweeps
from tests.conftest import order_payload
from tests.plugins import engine_fixture

ACTOR = "Agent User <agent@example.org>"


@pytest.fixture
def app_config():
    return {"PANEL_PLUGINS": ("tests.plugins.engine_fixture",)}


@pytest.fixture(autouse=True)
def clean_calls():
    engine_fixture.CALLS.clear()
    engine_fixture.RELEASED.clear()
    engine_fixture.AFTER_COMMIT.clear()


def new_order(post_order, items):
    """An order in Test01 with items [(sku, unit price), ...] in one shipment."""
    payload = order_payload(payment={"method": "test", "amount": 0})
    payload["shipments"][0]["items"] = [
        {"sku": sku, "name": sku, "quantity": 1, "unit_price": price, "tax_rate": 19}
        for sku, price in items
    ]
    payload["payment"]["amount"] = sum(p for _, p in items) + 490
    response = post_order(payload)
    assert response.status_code == 201, response.json
    return response.json["id"]


def states(app, order_id):
    with app.app_context():
        return [i.state_name for i in db.session.scalars(
            sa.select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.id))]


def item_ids(app, order_id):
    with app.app_context():
        return list(db.session.scalars(sa.select(OrderItem.id).where(
            OrderItem.order_id == order_id).order_by(OrderItem.id)))


def trigger(app, order_id, event, items=None, now=None):
    with app.app_context():
        return engine.trigger_event(order_id, event, actor=ACTOR, item_ids=items, now=now)


@pytest.fixture
def order(post_order):
    return new_order(post_order, [("A", 1000), ("B", 2000), ("C", 3000)])


def test_only_matching_items_move_and_the_rest_are_counted(app, order):
    first, second, third = item_ids(app, order)
    trigger(app, order, "pay", [first])
    result = trigger(app, order, "cancel")
    # "cancel" leaves new and paid: all three match
    assert (result.moved, result.skipped) == (3, 0)
    trigger_result = trigger(app, order, "ship")
    assert (trigger_result.moved, trigger_result.skipped) == (0, 3)
    assert trigger_result.message == 'Nothing to do: no item can take "ship" now.'


def test_skipped_items_are_counted(app, order):
    first, second, third = item_ids(app, order)
    trigger(app, order, "pay", [first])
    result = trigger(app, order, "ship")
    assert (result.moved, result.skipped) == (1, 2)
    assert states(app, order) == ["shipped", "new", "new"]
    assert result.message == '"ship" moved 1 item; 2 items skipped (not in a matching state).'


def test_command_runs_once_per_group_and_by_item_commands_once_per_item(app, order):
    result = trigger(app, order, "pay")
    assert result.moved == 3
    assert [c[0] for c in engine_fixture.CALLS] == ["Test/Capture"]
    assert len(engine_fixture.CALLS[0][2]) == 3 and engine_fixture.CALLS[0][3] == ACTOR
    engine_fixture.CALLS.clear()
    trigger(app, order, "ship")
    assert [c[0] for c in engine_fixture.CALLS] == ["Test/ShipEach"] * 3
    assert all(len(c[2]) == 1 for c in engine_fixture.CALLS)


def test_groups_are_by_state(app, order):
    first, *_ = item_ids(app, order)
    trigger(app, order, "pay", [first])  # one item paid, two new
    engine_fixture.CALLS.clear()
    trigger(app, order, "cancel")  # two groups: new (2 items) and paid (1)
    assert sorted(len(c[2]) for c in engine_fixture.CALLS) == [1, 2]
    assert states(app, order) == ["canceled"] * 3


def test_conditions_choose_the_last_passing_else_the_unconditional_else_stay(app, post_order):
    order_id = new_order(post_order, [("RED-CHEAP", 500), ("RED-DEAR", 20000), ("DEAR", 20000),
                                      ("PLAIN", 500)])
    trigger(app, order_id, "pay")
    trigger(app, order_id, "ship")
    trigger(app, order_id, "deliver")
    result = trigger(app, order_id, "inspect")
    # delivered: IsExpensive -> approved, IsRed (listed later) -> rejected, no else
    assert states(app, order_id) == ["rejected", "rejected", "approved", "delivered"]
    assert (result.moved, result.stayed) == (3, 1)
    assert "1 item stayed (no condition held)" in result.message


def test_unconditional_transition_is_the_else(app, post_order):
    order_id = new_order(post_order, [("DEAR", 20000), ("PLAIN", 500)])
    trigger(app, order_id, "pay")
    trigger(app, order_id, "ship")
    trigger(app, order_id, "inspect")  # shipped: IsExpensive -> approved, else delivered
    assert states(app, order_id) == ["approved", "delivered"]


def test_on_enter_events_chain(app, order):
    trigger(app, order, "express")  # new -> express, whose onEnter autoship -> shipped
    assert states(app, order) == ["shipped"] * 3
    with app.app_context():
        history = db.session.scalars(sa.select(ItemStateHistory).where(
            ItemStateHistory.item_id == item_ids(app, order)[0]).order_by(ItemStateHistory.id)).all()
    assert [(h.from_state, h.to_state, h.event) for h in history] == [
        (None, "new", None), ("new", "express", "express"), ("express", "shipped", "autoship")]
    assert [c[0] for c in engine_fixture.CALLS] == ["Test/Capture"]


def test_loop_guard_stops_an_endless_on_enter_chain_and_changes_nothing(app, order):
    result = trigger(app, order, "spin")
    assert result.error and "stopped a loop" in result.error
    assert states(app, order) == ["new"] * 3
    with app.app_context():
        log = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.is_error)
                                 .order_by(TransitionLog.item_id)).all()
    # One error row per item the run was for, each naming the event tried from its state.
    assert [(r.item_id, r.event, r.source_state) for r in log] == [
        (item_id, "spin", "new") for item_id in item_ids(app, order)]
    assert all("more than 10 times" in r.error_message for r in log)


def test_failing_command_rolls_back_and_logs(app, order):
    result = trigger(app, order, "explode")
    assert result.error == "Test/Explode: the payment provider is down"
    assert result.message.startswith('"explode" failed, nothing changed')
    assert states(app, order) == ["new"] * 3
    with app.app_context():
        rows = db.session.scalars(sa.select(TransitionLog)).all()
        assert [(r.item_id, r.is_error, r.event, r.source_state, r.command, r.actor,
                 r.error_message) for r in rows] == [
            (item_id, True, "explode", "new", "Test/Explode", ACTOR,
             "Test/Explode: the payment provider is down") for item_id in item_ids(app, order)]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ItemStateHistory).where(
            ItemStateHistory.event.is_not(None))) == 0


def test_history_and_log_record_who_did_it(app, order):
    trigger(app, order, "pay")
    with app.app_context():
        moves = db.session.scalars(sa.select(ItemStateHistory).where(
            ItemStateHistory.event == "pay")).all()
        log = db.session.scalars(sa.select(TransitionLog)).all()
    assert len(moves) == 3 and {m.actor for m in moves} == {ACTOR}
    assert {(r.source_state, r.target_state, r.command, r.actor) for r in log} == {
        ("new", "paid", "Test/Capture", ACTOR)}


def test_order_row_follows_the_item_states(app, order):
    first, *_ = item_ids(app, order)
    trigger(app, order, "pay", [first])
    with app.app_context():
        assert db.session.get(Order, order).item_states == "new paid"


def test_timeouts_are_written_on_entering_and_fired_by_check_timeouts(app, order):
    start = utcnow()
    for event in ("pay", "ship", "deliver"):
        trigger(app, order, event, now=start)
    with app.app_context():
        timeouts = db.session.scalars(sa.select(EventTimeout)).all()
        assert {(t.event, t.state_name) for t in timeouts} == {("close", "delivered")}
        assert all(t.due_at == start + timedelta(days=1) for t in timeouts)
        early = sweeps.check_timeouts(now=start + timedelta(hours=23))
        assert early.moved == 0
    assert states(app, order) == ["delivered"] * 3
    with app.app_context():
        due = sweeps.check_timeouts(now=start + timedelta(days=1, seconds=1))
        assert (due.moved, due.orders) == (3, 1)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EventTimeout)) == 0
        actors = set(db.session.scalars(sa.select(ItemStateHistory.actor).where(
            ItemStateHistory.event == "close")))
    assert states(app, order) == ["closed"] * 3 and actors == {"timeout"}


def test_check_timeouts_costs_the_same_statements_for_2_or_12_orders(app, post_order):
    """A batch of orders is read and written with a fixed number of statements (an order
    row read after the commit once cost a SELECT per order)."""
    def sweep_statements(order_count: int) -> int:
        start = utcnow()
        orders = [new_order(post_order, [("A", 1000), ("B", 2000)])
                  for _ in range(order_count)]
        for order in orders:
            for event in ("pay", "ship", "deliver"):
                trigger(app, order, event, now=start)
        seen = []
        with app.app_context():
            record = lambda *args: seen.append(1)  # noqa: E731
            sa.event.listen(db.engine, "before_cursor_execute", record)
            try:
                result = sweeps.check_timeouts(now=start + timedelta(days=1, seconds=1))
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", record)
        assert (result.moved, result.orders) == (2 * order_count, order_count)
        assert all(states(app, order) == ["closed"] * 2 for order in orders)
        return len(seen)

    assert sweep_statements(2) == sweep_statements(12)


def test_leaving_a_state_drops_its_timeouts(app, order):
    for event in ("pay", "ship", "deliver"):
        trigger(app, order, event)
    trigger(app, order, "inspect")  # delivered -> approved (none is expensive? all stay)
    trigger(app, order, "close")  # closed by hand before the timeout
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EventTimeout)) == 0
        assert sweeps.check_timeouts(now=utcnow() + timedelta(days=2)).moved == 0


def test_check_conditions_takes_eventless_transitions(app, order):
    trigger(app, order, "hold")
    first, second, third = item_ids(app, order)
    engine_fixture.RELEASED.update({first, third})
    with app.app_context():
        result = sweeps.check_conditions()
    assert (result.moved, result.orders) == (2, 1)
    assert states(app, order) == ["released", "waiting", "released"]
    with app.app_context():
        assert sweeps.check_conditions().moved == 0


def test_items_of_another_order_are_refused(app, order, post_order):
    other = new_order(post_order, [("X", 100)])
    with app.app_context(), pytest.raises(LookupError):
        engine.trigger_event(order, "pay", actor=ACTOR, item_ids=item_ids(app, other))
    assert states(app, other) == ["new"]


def test_a_failing_timeout_command_leaves_that_order_and_moves_the_others(app, post_order):
    start = utcnow()
    orders = [new_order(post_order, [(sku, 1000)]) for sku in ("PLAIN", "RED-1", "OTHER")]
    for order_id in orders:
        trigger(app, order_id, "risk", now=start)
    with app.app_context():
        result = sweeps.check_timeouts(now=start + timedelta(hours=2))
        assert (result.orders, result.moved) == (2, 2)
        assert len(result.errors) == 1 and "red items cannot expire" in result.errors[0]
        errors = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.is_error)).all()
        assert [(e.order_id, e.event) for e in errors] == [(orders[1], "expire")]
    assert [states(app, o) for o in orders] == [["expired"], ["fragile"], ["expired"]]


def test_work_a_command_leaves_for_after_the_commit_runs_once_committed(app, order, caplog):
    caplog.set_level(logging.ERROR, logger="panel.oms.engine")

    result = trigger(app, order, "later")

    assert result.error is None and states(app, order) == ["paid"] * 3
    # the failing piece came first: it was logged, and the next one still ran, after commit
    assert engine_fixture.AFTER_COMMIT == [dict.fromkeys(item_ids(app, order), "paid")]
    assert [r.getMessage() for r in caplog.records] == [
        f"work after the commit of order #{order} failed"]


def test_a_run_that_fails_drops_the_work_it_left_for_after_the_commit(app, order):
    result = trigger(app, order, "later fails")

    assert "the payment provider is down" in result.error
    assert states(app, order) == ["new"] * 3 and engine_fixture.AFTER_COMMIT == []
