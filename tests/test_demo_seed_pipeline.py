"""How `demo seed` writes a large dataset: orders planned in a child process while this one
writes (demo._planned_apart, intake_bulk.plan_orders and anchor), and the orders list's
indexes built at the end (deferred_indexes)."""
from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import (
    Customer,
    CustomerAddress,
    ItemStateHistory,
    Order,
    OrderAddress,
    OrderItem,
    Shipment,
)
from panel.services import deferred_indexes, demo, intake_bulk
from panel.services.intake import receive_order
from panel.services.intake_schema import OrderIn
from tests.conftest import _wipe, order_payload

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SEEDED_TABLES = ("customer", "customer_address", "sales_order", "order_address", "shipment",
                 "order_item", "item_state_history", "event_timeout")


def _rows() -> dict[str, list[tuple]]:
    """Every row of the tables a seed fills, in id order (history and timeouts by their
    content: their own ids are the database's)."""
    rows = {}
    for name in SEEDED_TABLES:
        table = db.metadata.tables[name]
        columns = [c for c in table.columns
                   if not (c.name == "id" and name in ("item_state_history", "event_timeout",
                                                       "customer_address"))]
        rows[name] = [tuple(row) for row in db.session.execute(
            sa.select(*columns).order_by(*columns))]
    return rows


def _index_names() -> set[str]:
    inspector = sa.inspect(db.session.connection())
    return {index["name"] for name in deferred_indexes.DEFERRABLE_TABLES
            for index in inspector.get_indexes(name)}


def test_orders_planned_in_a_child_process_are_the_rows_planned_here(app):
    with app.app_context():
        here = demo.seed_orders(700, seed=5, batch=100, now=NOW, plan_apart=False,
                                defer_indexes=False)
        expected = _rows()
        _wipe(db.engine)
        apart = demo.seed_orders(700, seed=5, batch=100, now=NOW, plan_apart=True,
                                 defer_indexes=True)
        assert (here.created, apart.created) == (700, 700)
        got = _rows()
        assert {name: len(rows) for name, rows in got.items()} == \
            {name: len(rows) for name, rows in expected.items()}
        assert got == expected
        # Built again at the end: every index the models declare is there.
        assert _index_names() >= {i.name for i in deferred_indexes.deferrable_indexes()}
        assert len(expected["customer"]) < 700 * 0.8  # repeat customers across batches
        refs = [r for r, in db.session.execute(sa.select(Order.order_reference))]
        assert len(set(refs)) == 700


def test_a_planned_batch_takes_its_ids_when_written_whatever_was_written_meanwhile(app):
    """The planning process reserves nothing: orders received through the API between the
    planning of a batch and its writing take the next ids and references, and the batch
    takes the ones after them, its rows still pointing at each other."""
    with app.app_context():
        orders = demo.DemoOrders(3, 200, NOW)
        made = [orders.order_in(n) for n in range(60)]
        planned = intake_bulk.plan_orders(made, offered=set())
        db.session.rollback()
        # Meanwhile, the API: an order of a customer the batch has too, and another one.
        shared = made[0] if not made[0].customer.is_guest else made[1]
        for customer in ({**order_payload()["customer"], "email": shared.customer.email},
                         order_payload()["customer"]):
            receive_order(OrderIn.model_validate(order_payload(customer=customer)))
        db.session.commit()
        taken = set(db.session.scalars(sa.select(Order.order_reference)))

        result = intake_bulk.write_prepared(intake_bulk.anchor(planned, {}))
        assert result.created == 60
        stored = db.session.execute(sa.select(Order).order_by(Order.id)).scalars().all()
        assert len(stored) == 62
        new = stored[2:]
        assert not taken & {o.order_reference for o in new}
        assert len({o.order_reference for o in stored}) == 62
        for order, payload in zip(new, made, strict=True):
            assert order.email == payload.customer.email
            units = sum(i.quantity for s in payload.shipments for i in s.items)
            items = db.session.scalars(sa.select(OrderItem).where(OrderItem.order_id == order.id)
                                       ).all()
            assert len(items) == units == order.item_count
            assert sorted(i.sku for i in items) == sorted(
                i.sku for s in payload.shipments for i in s.items for _ in range(i.quantity))
            shipments = db.session.scalars(
                sa.select(Shipment).where(Shipment.order_id == order.id)).all()
            assert len(shipments) == len(payload.shipments)
            assert {i.shipment_id for i in items} <= {s.id for s in shipments}
            billing = db.session.get(OrderAddress, order.billing_address_id)
            assert billing.zip_code == payload.billing_address.zip_code
            for shipment in shipments:
                address = db.session.get(OrderAddress, shipment.address_id)
                assert address.last_name == payload.shipments[0].address.last_name
            history = db.session.scalars(sa.select(ItemStateHistory.item_id).where(
                ItemStateHistory.item_id.in_([i.id for i in items]))).all()
            assert set(history) == {i.id for i in items}
        # The customer the API stored meanwhile is the batch's customer too, not a twin.
        customers = Counter(db.session.scalars(sa.select(Customer.email)))
        assert customers[shared.customer.email] == 1
        assert max(customers.values()) == 1
        linked = {o.customer_id for o in stored if o.email == shared.customer.email}
        assert len(linked) == 1 and None not in linked
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerAddress)) == \
            len(customers)


def test_an_error_while_planning_stops_the_seed_keeps_whole_batches_and_the_indexes(
        app, monkeypatch):
    plan_orders = intake_bulk.plan_orders
    calls = []

    def failing(payloads, adjust=None, offered=None):
        calls.append(1)
        if len(calls) == 3:
            raise ValueError("the third batch is refused by a plugin")
        return plan_orders(payloads, adjust, offered)

    monkeypatch.setattr(intake_bulk, "plan_orders", failing)
    with app.app_context():
        with pytest.raises(demo.PlanningFailed) as raised:
            demo.seed_orders(500, seed=2, batch=100, now=NOW, plan_apart=True,
                             defer_indexes=True)
        message = str(raised.value)
        assert "planning demo orders failed" in message
        assert "ValueError: the third batch is refused by a plugin" in message
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 200
        assert deferred_indexes.missing_indexes() == []


def test_a_planning_process_that_dies_is_named(app, monkeypatch):
    plan_orders = intake_bulk.plan_orders
    calls = []

    def dying(payloads, adjust=None, offered=None):
        calls.append(1)
        if len(calls) == 2:
            os._exit(3)  # in the child: as if the kernel had killed it
        return plan_orders(payloads, adjust, offered)

    monkeypatch.setattr(intake_bulk, "plan_orders", dying)
    with app.app_context():
        with pytest.raises(demo.PlanningFailed, match=r"ended \(exit code 3\) before it was"):
            demo.seed_orders(400, seed=2, batch=100, now=NOW, plan_apart=True,
                             defer_indexes=False)
        # The first batch is written if it left the child before its end (a queue's buffer
        # dies with its process); never a part of one.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) in (0, 100)


def test_indexes_left_out_by_a_killed_seed_are_built_by_the_next(app, runner):
    with app.app_context():
        wanted = {i.name for i in deferred_indexes.deferrable_indexes()}
        assert wanted <= _index_names()
        assert "ix_sales_order_email_created_id" in wanted
        assert not {"ix_order_item_order_id", "ix_order_item_shipment_id"} & wanted
        # What a seed killed while loading leaves: the indexes dropped.
        with db.engine.begin() as connection:
            for name in sorted(wanted)[:3]:
                connection.execute(sa.text(f"DROP INDEX {name}"))
        assert len(deferred_indexes.missing_indexes()) == 3
        db.session.remove()
    result = runner.invoke(args=["demo", "seed", "--orders", "20"])
    assert result.exit_code == 0, result.output
    assert f"Built 3 indexes that an interrupted seed had left out: " \
           f"{', '.join(sorted(wanted)[:3])}." in result.stderr
    with app.app_context():
        assert wanted <= _index_names()


def test_a_large_seed_says_when_it_builds_the_indexes(app, runner, monkeypatch):
    monkeypatch.setattr(demo, "DEFER_INDEXES_FROM", 100)
    result = runner.invoke(args=["demo", "seed", "--orders", "300", "--batch", "100"])
    assert result.exit_code == 0, result.output
    assert "Building the orders list's indexes ..." in result.stderr
    assert result.stdout.startswith("Created 300 orders")
    with app.app_context():
        assert deferred_indexes.missing_indexes() == []
        # A second, smaller seed into the 300 keeps the indexes up to date as it goes.
    result = runner.invoke(args=["demo", "seed", "--orders", "200", "--batch", "100",
                                 "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "Building the orders list's indexes" not in result.stderr
