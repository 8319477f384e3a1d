"""Which event of a process makes a return: the first of PANEL_RETURN_EVENTS it has.

A process returns items by one event (Spryker's DummyReturn: ``start-return``; the default
process: ``return``). The states it leaves from are the process's returnable states, as
Spryker's returnable-state setting lists them, but read from the process itself.
"""
from __future__ import annotations

from flask import current_app

from panel.oms.definitions import Process
from panel.oms.registry import current_registry


def return_event(process: Process) -> str | None:
    """The event that returns this process's items, or None when it has none."""
    for name in current_app.config["PANEL_RETURN_EVENTS"]:
        if any(t.event == name for t in process.transitions):
            return name
    return None


def returnable_states(process: Process, event: str) -> list[str]:
    """The states an item may be returned from: those with a transition on ``event``."""
    return list(dict.fromkeys(t.source for t in process.transitions if t.event == event))


def return_events() -> set[str]:
    """The events that make returns in the running app's processes."""
    events = (return_event(p) for p in current_registry().processes.values())
    return {event for event in events if event}
