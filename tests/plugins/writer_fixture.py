"""A plugin for tests/test_oms_bulk_writer.py: commands that change items through the ORM and
run queries in the middle of a run (each query makes the session flush what is pending).

Writer01: "check" runs Writer/Check (renames the items, queries, changes their SKU) and
moves them to "checked", whose onEnter event "pack" runs Writer/Query and moves them on to
"packed". "hold" parks items in "held"; "go" runs Writer/Query for each group it moves:
"new" items to "gone", "held" items to "released".
"""
from sqlalchemy import func, select

from panel import hookimpl
from panel.extensions import db
from panel.models import OrderItem
from panel.oms.definitions import Event, Process, State, Transition

NAME = __name__


def count_items(order) -> int:
    """A query of the order's items: the session flushes its pending changes first."""
    return db.session.scalar(select(func.count(OrderItem.id))
                             .where(OrderItem.order_id == order.id))


def check(*, order, items, event, actor):
    for item in items:
        item.name = f"{item.name} (checked)"
    count_items(order)
    for item in items:
        item.sku = f"{item.sku}-C"


def query(*, order, items, event, actor):
    count_items(order)


@hookimpl
def register_processes():
    return [Process.build(
        "Writer01", source=NAME,
        states=[State(name) for name in ("new", "checked", "packed", "held", "gone",
                                          "released")],
        events=[Event("check", manual=True, command="Writer/Check"),
                Event("pack", on_enter=True, command="Writer/Query"),
                Event("hold", manual=True),
                Event("go", manual=True, command="Writer/Query")],
        transitions=[Transition("new", "checked", "check"),
                     Transition("checked", "packed", "pack"),
                     Transition("new", "held", "hold"),
                     Transition("new", "gone", "go"),
                     Transition("held", "released", "go")])]


@hookimpl
def register_commands():
    return {"Writer/Check": check, "Writer/Query": query}


@hookimpl
def select_process(order):
    return "Writer01" if order.payment.method == "writer" else None
