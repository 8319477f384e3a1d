"""A plugin for tests/test_order_start.py: processes whose items do not start in "new".

- Placed01 starts in "placed" and waits there for two timeouts, one fixed ("2 days") and
  one timed by a timeout processor (nine o'clock the next morning); Waiting01 is the same,
  starting in "new";
- Confirmed01 starts in "new", whose onEnter event "confirm" runs a command and moves the
  items on to "confirmed";
- Fragile01 starts in "received", and moves on the same way, but its onEnter command always
  fails.

Orders paid with "placed", "confirmed" or "fragile" get that process; the tests also set
PANEL_DEFAULT_PROCESS to one of them, for demo data.
"""
from datetime import timedelta

from panel import hookimpl
from panel.oms.definitions import Event, Process, State, Transition

NAME = __name__
ERP_DOWN = "the ERP is down"


def next_morning(*, item, event, now):
    """Nine o'clock (UTC) on the day after ``now``."""
    return (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


def confirm(*, order, items, event, actor):
    """Stands in for telling the warehouse: the items are confirmed."""
    order.cart_note = f"confirmed by {actor}"


def explode(*, order, items, event, actor):
    raise RuntimeError(ERP_DOWN)


def processes() -> list[Process]:
    placed, waiting = (
        Process.build(
            name, source=NAME, initial_state=first,
            states=[State(first), State("reminded"), State("chased"), State("canceled")],
            events=[Event("remind", timeout="2 days"),
                    Event("chase", timeout_processor="Start/NextMorning"),
                    Event("cancel", manual=True)],
            transitions=[Transition(first, "reminded", "remind"),
                         Transition(first, "chased", "chase"),
                         Transition(first, "canceled", "cancel")])
        for name, first in (("Placed01", "placed"), ("Waiting01", "new")))
    confirmed, fragile = (
        Process.build(
            name, source=NAME, initial_state=first,
            states=[State(first), State("confirmed"), State("shipped")],
            events=[Event("confirm", on_enter=True, command=command),
                    Event("ship", manual=True)],
            transitions=[Transition(first, "confirmed", "confirm", happy=True),
                         Transition("confirmed", "shipped", "ship", happy=True)])
        for name, first, command in (("Confirmed01", "new", "Start/Confirm"),
                                     ("Fragile01", "received", "Start/Explode")))
    return [placed, waiting, confirmed, fragile]


@hookimpl
def register_processes():
    return processes()


@hookimpl
def register_commands():
    return {"Start/Confirm": confirm, "Start/Explode": explode}


@hookimpl
def register_timeout_processors():
    return {"Start/NextMorning": next_morning}


@hookimpl
def select_process(order):
    return {"placed": "Placed01", "confirmed": "Confirmed01",
            "fragile": "Fragile01"}.get(order.payment.method)
