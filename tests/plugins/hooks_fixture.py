"""A project plugin for tests/test_plugins.py: one implementation of every hook.

It supplies a Python-built process (Hooks01) and an XML one (HooksXml01), replaces the bundled
"Payment/Capture" command with one that only records its call, guards a transition with a
condition, times a timeout event with a timeout processor, sends orders paid with "hooks" or
"hooks-xml" to its processes, and records every items_transitioned call together with the item
states that another database connection sees at that moment (committed ones only).
"""
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from panel import hookimpl
from panel.extensions import db
from panel.models import OrderItem
from panel.oms.definitions import Event, Process, State, Transition

NAME = __name__
XML_PROCESS = Path(__file__).parent / "processes" / "HooksXml01.xml"
CALLS: list[tuple] = []  # (command, order id, [item ids], actor)
TRANSITIONED: list[dict] = []  # one entry per items_transitioned call


def build_process() -> Process:
    return Process.build(
        "Hooks01",
        source=__file__,
        states=[State(name) for name in ("new", "paid", "reminded", "gift card", "done",
                                         "canceled")],
        events=[
            Event("pay", manual=True, command="Payment/Capture"),
            Event("remind", timeout_processor="Hooks/NextMorning"),
            Event("sort", manual=True),
            Event("explode", manual=True, command="Hooks/Explode"),
        ],
        transitions=[
            Transition("new", "paid", "pay", happy=True),
            Transition("paid", "reminded", "remind"),
            Transition("paid", "done", "sort", happy=True),
            Transition("paid", "gift card", "sort", condition="Hooks/IsGiftCard"),
            Transition("new", "canceled", "explode"),
        ],
    )


def capture(*, order, items, event, actor):
    """Stands in for the bundled Payment/Capture: records the call, captures nothing."""
    CALLS.append(("Payment/Capture", order.id, [i.id for i in items], actor))


def explode(*, order, items, event, actor):
    CALLS.append(("Hooks/Explode", order.id, [i.id for i in items], actor))
    raise RuntimeError("the warehouse is on fire")


def is_gift_card(*, item):
    return item.sku.startswith("GIFT")


def next_morning(*, item, event, now) -> datetime:
    """Nine o'clock (UTC) on the day after ``now``."""
    return (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


@hookimpl
def register_processes():
    return [build_process(), XML_PROCESS]


@hookimpl
def register_commands():
    return {"Payment/Capture": capture, "Hooks/Explode": explode}


@hookimpl
def register_conditions():
    return {"Hooks/IsGiftCard": is_gift_card}


@hookimpl
def register_timeout_processors():
    return {"Hooks/NextMorning": next_morning}


@hookimpl
def select_process(order):
    return {"hooks": "Hooks01", "hooks-xml": "HooksXml01"}.get(order.payment.method)


@hookimpl
def items_transitioned(order_id, event, transitions, actor):
    item_ids = [item_id for item_id, _, _ in transitions]
    with db.engine.connect() as connection:  # not the session's: sees committed rows only
        committed = dict(connection.execute(
            select(OrderItem.id, OrderItem.state_name).where(OrderItem.id.in_(item_ids))
        ).all())
    TRANSITIONED.append({"order_id": order_id, "event": event, "transitions": list(transitions),
                         "actor": actor, "committed_states": committed})
