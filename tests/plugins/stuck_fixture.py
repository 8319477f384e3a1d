"""A plugin for the Stuck items tests: a process whose commands and condition fail while a
test says so, one whose start fails, and a process with a limit of its own.

Stuck01: new --pay (Stuck/Capture)--> paid, whose onEnter "invoice" (Stuck/Invoice) goes on
to invoiced --ship--> shipped --deliver--> delivered (final). From new, "reserve" goes to
reserved, whose timeouts "release" (1 hour, Stuck/Release) and "remind" (2 hours) go to
released and reminded (final); "hold"
goes to waiting, which moves by itself to cleared when Stuck/IsCleared holds.

StuckStart01 starts in "received", whose onEnter "confirm" (Stuck/Confirm) goes to confirmed.
"""
from datetime import timedelta

from panel import hookimpl
from panel.oms.definitions import Event, Process, State, Transition

NAME = "tests.plugins.stuck_fixture"
# Which commands raise (by name), and which items the condition holds for (by sku).
FAILING: set[str] = set()
CLEARED: set[str] = set()
CALLS: list[tuple[str, list[int], str]] = []  # (command, item ids, actor)


def app_config() -> dict:
    """The settings of an app that runs Stuck01 and calls items stuck after a day."""
    return {"PANEL_PLUGINS": (NAME,), "PANEL_DEFAULT_PROCESS": "Stuck01",
            "PANEL_STUCK_AFTER": {"Stuck01": timedelta(days=1)}}


def healthy():
    """A test's services start healthy and its records empty (a generator fixture body)."""
    for collection in (FAILING, CLEARED, CALLS):
        collection.clear()
    yield
    FAILING.clear()


def build_stuck() -> Process:
    states = ["new", "paid", "invoiced", "shipped", "delivered", "reserved", "released",
              "reminded", "waiting", "cleared"]
    return Process.build(
        "Stuck01", source=__file__,
        states=[State(name) for name in states],
        events=[
            Event("pay", manual=True, command="Stuck/Capture"),
            Event("invoice", on_enter=True, command="Stuck/Invoice"),
            Event("ship", manual=True),
            Event("deliver", manual=True),
            Event("reserve", manual=True),
            Event("release", timeout="1 hour", command="Stuck/Release"),
            Event("remind", timeout="2 hours"),
            Event("hold", manual=True),
        ],
        transitions=[
            Transition("new", "paid", "pay"),
            Transition("paid", "invoiced", "invoice"),
            Transition("invoiced", "shipped", "ship"),
            Transition("shipped", "delivered", "deliver"),
            Transition("new", "reserved", "reserve"),
            Transition("reserved", "released", "release"),
            Transition("reserved", "reminded", "remind"),
            Transition("new", "waiting", "hold"),
            Transition("waiting", "cleared", condition="Stuck/IsCleared"),
        ],
    )


def build_start() -> Process:
    return Process.build(
        "StuckStart01", source=__file__, initial_state="received",
        states=[State("received"), State("confirmed"), State("done")],
        events=[Event("confirm", on_enter=True, command="Stuck/Confirm"),
                Event("finish", manual=True)],
        transitions=[Transition("received", "confirmed", "confirm"),
                     Transition("confirmed", "done", "finish")],
    )


def _command(name):
    def command(*, order, items, event, actor):
        CALLS.append((name, [item.id for item in items], actor))
        if name in FAILING:
            raise RuntimeError(f"{name} cannot reach its service")
    return command


def is_cleared(*, item):
    if "Stuck/IsCleared" in FAILING:
        raise RuntimeError("the warehouse does not answer")
    return item.sku in CLEARED


@hookimpl
def register_processes():
    return [build_stuck(), build_start()]


@hookimpl
def register_commands():
    return {name: _command(name) for name in
            ("Stuck/Capture", "Stuck/Invoice", "Stuck/Release", "Stuck/Confirm")}


@hookimpl
def register_conditions():
    return {"Stuck/IsCleared": is_cleared}
