"""The engine's bulk writer (panel/oms/bulk_writer.py): what runs did, written with a few
statements, and nothing that a plugin's command changed through the ORM lost or written
twice. The runs are driven by hand, as a sweep drives them; the process and its commands are
in tests/plugins/writer_fixture.py."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.locking import lock_rows
from panel.models import ItemStateHistory, Order, OrderItem, TransitionLog
from panel.models.base import utcnow
from panel.oms.bulk_writer import finish_runs
from panel.oms.engine import Run
from panel.oms.registry import current_registry
from tests.conftest import ON_POSTGRES, order_payload
from tests.plugins import writer_fixture

ACTOR = "Agent User <agent@example.org>"


@pytest.fixture
def app_config():
    return {"PANEL_PLUGINS": (writer_fixture.NAME,)}


def new_order(post_order, units: int, reference: str) -> int:
    payload = order_payload(order_reference=reference,
                            payment={"method": "writer", "amount": units * 1000 + 490})
    payload["shipments"][0]["items"] = [{"sku": f"SKU-{n}", "name": f"Product {n}",
                                         "quantity": 1, "unit_price": 1000, "tax_rate": 19}
                                        for n in range(units)]
    return post_order(payload).json["id"]


@contextmanager
def statements_sent(app):
    """Collect the SQL statements sent meanwhile."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def run_and_finish(app, work: dict[int, list[tuple[str, list[int] | None]]]) -> list[str]:
    """Lock the orders, run each order's (event, item ids or all) in turn, write every run
    with one finish_runs and commit; return the statements of finish_runs and the commit."""
    with app.app_context():
        registry, now = current_registry(), utcnow()
        orders = lock_rows(Order, list(work))
        runs = []
        for order_id, steps in work.items():
            run = Run(orders[order_id], registry, ACTOR, now)
            items = {item.id: item for item in db.session.scalars(
                sa.select(OrderItem).where(OrderItem.order_id == order_id))}
            for event, ids in steps:
                run.trigger(event, [items[i] for i in ids] if ids else list(items.values()))
            runs.append(run)
        with statements_sent(app) as sent:
            finish_runs(runs)
            db.session.commit()
        return sent


def item_rows(app, order_id) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(OrderItem.id, OrderItem.state_name, OrderItem.name, OrderItem.sku)
            .where(OrderItem.order_id == order_id).order_by(OrderItem.id))]


def history(app, order_id) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(ItemStateHistory.item_id, ItemStateHistory.from_state,
                      ItemStateHistory.to_state, ItemStateHistory.event)
            .join(OrderItem, OrderItem.id == ItemStateHistory.item_id)
            .where(OrderItem.order_id == order_id, ItemStateHistory.from_state.is_not(None))
            .order_by(ItemStateHistory.item_id, ItemStateHistory.id))]


def state_writes(sent: list[str]) -> list[str]:
    return [s for s in sent if s.startswith("UPDATE order_item SET") and "state_name" in s]


def test_several_orders_are_written_with_one_statement_per_table(app, post_order):
    orders = [new_order(post_order, units, f"W-{units}") for units in (2, 5)]

    sent = run_and_finish(app, {order_id: [("hold", None)] for order_id in orders})

    assert [state for order_id in orders for _, state, _, _ in item_rows(app, order_id)] == \
        ["held"] * 7
    assert len(state_writes(sent)) == 1  # one value for every item: one UPDATE
    # one INSERT per table on SQLite; PostgreSQL's COPY goes to the driver past these events
    for table in ("item_state_history", "transition_log"):
        assert len([s for s in sent if s.startswith("INSERT INTO " + table)]) == (
            0 if ON_POSTGRES else 1)
    with app.app_context():
        assert set(db.session.scalars(sa.select(Order.item_states))) == {"held"}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog)) == 7
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ItemStateHistory)
                                 .where(ItemStateHistory.to_state == "held")) == 7


def test_what_a_command_changes_through_the_orm_mid_run_is_kept_and_written_once(app,
                                                                                 post_order):
    """Writer/Check renames the items, queries (the session flushes the names), and changes
    their SKU; then the items move to "checked", whose onEnter command queries again (the
    session flushes the SKUs and the state "checked"), and on to "packed"."""
    order_id = new_order(post_order, 3, "W-CHECK")

    sent = run_and_finish(app, {order_id: [("check", None)]})

    assert [row[1:] for row in item_rows(app, order_id)] == [
        ("packed", f"Product {n} (checked)", f"SKU-{n}-C") for n in range(3)]
    assert [row[1:] for row in history(app, order_id)] == [
        ("new", "checked", "check"), ("checked", "packed", "pack")] * 3
    # the flush in the run wrote "checked"; the writer writes "packed" with one UPDATE, and
    # the session's flush after it does not write the state again
    assert len(state_writes(sent)) == 1


def test_items_a_command_flushed_mid_run_are_not_written_again(app, post_order):
    """"go" moves the "new" items to "gone" and then, for the "held" group, runs a command
    whose query flushes those moves: only the "held" items are left for the writer."""
    order_id = new_order(post_order, 4, "W-GO")
    _, _, third, fourth = [row[0] for row in item_rows(app, order_id)]
    run_and_finish(app, {order_id: [("hold", [third, fourth])]})

    sent = run_and_finish(app, {order_id: [("go", None)]})

    assert [row[1] for row in item_rows(app, order_id)] == ["gone", "gone", "released",
                                                            "released"]
    writes = state_writes(sent)
    assert len(writes) == 1  # the "released" items; the "gone" ones went in the run's flush
    with app.app_context():
        assert db.session.get(Order, order_id).item_states == "gone released"
