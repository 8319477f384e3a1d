"""A plugin for the engine tests: a Python-built process whose commands record their calls."""
from sqlalchemy import select

from panel import hookimpl
from panel.extensions import db
from panel.models import OrderItem
from panel.oms.definitions import Event, Process, State, Transition
from panel.oms.engine import by_item

CALLS: list[tuple] = []  # (command, order id, [item ids], actor)
RELEASED: set[int] = set()  # item ids for which Test/IsReleased holds
# What after-commit work of Test/Later saw: {item id: state} committed at that moment
AFTER_COMMIT: list[dict[int, str]] = []


def _state_names():
    return ["new", "paid", "shipped", "delivered", "closed", "canceled", "approved",
            "rejected", "express", "loop a", "loop b", "waiting", "released", "fragile",
            "expired"]


def build_process() -> Process:
    return Process.build(
        "Test01",
        source="tests/plugins/engine_fixture.py",
        states=[State(name) for name in _state_names()],
        events=[
            Event("pay", manual=True, command="Test/Capture"),
            Event("ship", manual=True, command="Test/ShipEach"),
            Event("deliver", manual=True),
            Event("close", manual=True, timeout="1 day"),
            Event("cancel", manual=True, command="Test/Capture"),
            Event("inspect", manual=True),
            Event("express", manual=True),
            Event("autoship", on_enter=True, command="Test/Capture"),
            Event("spin", manual=True),
            Event("bounce", on_enter=True),
            Event("bounce back", on_enter=True),
            Event("hold", manual=True),
            Event("explode", manual=True, command="Test/Explode"),
            Event("risk", manual=True),
            Event("expire", timeout="1 hour", command="Test/ExplodeOnRed"),
            Event("later", manual=True, command="Test/Later"),
            Event("later fails", manual=True, command="Test/LaterFails"),
        ],
        transitions=[
            Transition("new", "paid", "pay", happy=True),
            Transition("paid", "shipped", "ship", happy=True),
            Transition("shipped", "delivered", "deliver", happy=True),
            Transition("delivered", "closed", "close", happy=True),
            Transition("new", "canceled", "cancel"),
            Transition("paid", "canceled", "cancel"),
            # conditions: the last passing conditional one wins, else the unconditional one
            Transition("delivered", "approved", "inspect", condition="Test/IsExpensive"),
            Transition("delivered", "rejected", "inspect", condition="Test/IsRed"),
            Transition("shipped", "approved", "inspect", condition="Test/IsExpensive"),
            Transition("shipped", "delivered", "inspect"),
            # onEnter chain
            Transition("new", "express", "express"),
            Transition("express", "shipped", "autoship"),
            # a loop the guard must stop
            Transition("new", "loop a", "spin"),
            Transition("loop a", "loop b", "bounce"),
            Transition("loop b", "loop a", "bounce back"),
            # event-less, taken by check-conditions
            Transition("new", "waiting", "hold"),
            Transition("waiting", "released", condition="Test/IsReleased"),
            Transition("new", "paid", "explode"),
            # a timeout whose command fails for some orders only
            Transition("new", "fragile", "risk"),
            Transition("fragile", "expired", "expire"),
            # commands that leave work for after the commit
            Transition("new", "paid", "later"),
            Transition("new", "paid", "later fails"),
        ],
    )


def capture(*, order, items, event, actor):
    CALLS.append(("Test/Capture", order.id, [i.id for i in items], actor))


@by_item
def ship_each(*, order, items, event, actor):
    CALLS.append(("Test/ShipEach", order.id, [i.id for i in items], actor))


def explode(*, order, items, event, actor):
    CALLS.append(("Test/Explode", order.id, [i.id for i in items], actor))
    raise RuntimeError("the payment provider is down")


def later(*, order, items, event, actor, after_commit):
    """Leaves two pieces of work: one that looks at what is committed, one that fails."""
    item_ids = [item.id for item in items]

    def look():
        with db.engine.connect() as connection:  # not the session's: committed rows only
            AFTER_COMMIT.append(dict(connection.execute(
                select(OrderItem.id, OrderItem.state_name).where(OrderItem.id.in_(item_ids))
            ).all()))

    def fail():
        raise RuntimeError("the label printer is offline")

    after_commit.extend([fail, look])


def later_fails(*, order, items, event, actor, after_commit):
    later(order=order, items=items, event=event, actor=actor, after_commit=after_commit)
    raise RuntimeError("the payment provider is down")


def explode_on_red(*, order, items, event, actor):
    if any(item.sku.startswith("RED") for item in items):
        raise RuntimeError("red items cannot expire")


@hookimpl
def register_processes():
    return [build_process()]


@hookimpl
def register_commands():
    return {"Test/Capture": capture, "Test/ShipEach": ship_each, "Test/Explode": explode,
            "Test/ExplodeOnRed": explode_on_red, "Test/Later": later,
            "Test/LaterFails": later_fails}


@hookimpl
def register_conditions():
    return {
        "Test/IsExpensive": lambda *, item: item.unit_price >= 10_000,
        "Test/IsRed": lambda *, item: item.sku.startswith("RED"),
        "Test/IsReleased": lambda *, item: item.id in RELEASED,
    }


@hookimpl
def select_process(order):
    return "Test01" if order.payment.method == "test" else None
