"""A process is data: states, events and transitions, as in Spryker's OMS XML.

The XML loader builds these objects, and a plugin may build the same ones in Python::

    Process.build(
        "Simple01",
        states=[State("new"), State("paid"), State("closed")],
        events=[Event("pay", manual=True, command="Payment/Capture"),
                Event("close", timeout="14 days")],
        transitions=[Transition("new", "paid", "pay", happy=True),
                     Transition("paid", "closed", "close", happy=True)],
    )
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

INITIAL_STATE = "new"
FLAGS = frozenset({
    "exclude from customer", "exclude from invoice", "ready for invoice", "waiting for export",
    "cancellable", "amendable", "amendment in progress",
})
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400,
          "month": 30 * 86400, "year": 365 * 86400}
_PART = re.compile(r"(\d+)\s*(second|minute|hour|day|week|month|year)s?", re.IGNORECASE)


class InvalidTimeout(ValueError):
    """A timeout text that does not parse."""


def parse_timeout(text: str) -> timedelta:
    """Read a timeout such as "1 hour", "30 minute", "14 days" or "1 day 2 hours".

    Months count as 30 days and years as 365, as PHP's DateInterval would roughly do.
    Raises InvalidTimeout for anything else, and for a zero interval (Spryker refuses it too).
    """
    rest = text.strip()
    if not rest:
        raise InvalidTimeout("the timeout is empty")
    seconds = 0
    position = 0
    for match in _PART.finditer(rest):
        if rest[position:match.start()].strip(" ,+"):
            raise InvalidTimeout(f"cannot read the timeout {text!r}")
        seconds += int(match.group(1)) * _UNITS[match.group(2).lower()]
        position = match.end()
    if position == 0 or rest[position:].strip(" ,"):
        raise InvalidTimeout(
            f"cannot read the timeout {text!r}: write it like \"1 hour\" or \"14 days\""
        )
    if seconds == 0:
        raise InvalidTimeout(f"the timeout {text!r} is zero")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class State:
    name: str
    reserved: bool = False
    display: str | None = None
    flags: frozenset[str] = frozenset()
    subprocess: str | None = None  # the (sub)process that declared it, for graphs and errors


@dataclass(frozen=True)
class Event:
    name: str
    manual: bool = False
    on_enter: bool = False
    timeout: str | None = None
    timeout_processor: str | None = None
    command: str | None = None

    @property
    def timeout_delta(self) -> timedelta | None:
        return parse_timeout(self.timeout) if self.timeout else None


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    event: str | None = None
    condition: str | None = None
    happy: bool = False


@dataclass
class Process:
    """One main process with its subprocesses merged in: one namespace of states and events."""

    name: str
    states: dict[str, State]
    events: dict[str, Event]
    transitions: list[Transition]
    source: str | None = None  # where it came from (a file path, or a plugin's name)
    subprocesses: list[str] = field(default_factory=list)
    initial_state: str = INITIAL_STATE

    @classmethod
    def build(cls, name: str, *, states, events, transitions, source=None,
              subprocesses=(), initial_state: str = INITIAL_STATE) -> Process:
        return cls(
            name=name,
            states={s.name: s for s in states},
            events={e.name: e for e in events},
            transitions=list(transitions),
            source=source,
            subprocesses=list(subprocesses),
            initial_state=initial_state,
        )

    def __post_init__(self):
        self._by_source: dict[str, list[Transition]] = {}
        for transition in self.transitions:
            self._by_source.setdefault(transition.source, []).append(transition)

    def transitions_from(self, state: str) -> list[Transition]:
        return self._by_source.get(state, [])

    def transitions_for(self, state: str, event: str | None) -> list[Transition]:
        """The transitions out of ``state`` that ``event`` takes (None: event-less ones)."""
        return [t for t in self.transitions_from(state) if t.event == event]

    def has_event(self, state: str, event: str) -> bool:
        """Whether an item in ``state`` matches ``event`` (has a transition carrying it)."""
        return any(t.event == event for t in self.transitions_from(state))

    def events_from(self, state: str) -> list[Event]:
        """The distinct events of the transitions out of ``state``, in definition order."""
        names = dict.fromkeys(t.event for t in self.transitions_from(state) if t.event)
        return [self.events[name] for name in names if name in self.events]

    def manual_events_from(self, state: str) -> list[str]:
        return [e.name for e in self.events_from(state) if e.manual]

    def on_enter_event(self, state: str) -> Event | None:
        """The onEnter event fired on entering ``state`` (only the first counts, as in Spryker)."""
        return next((e for e in self.events_from(state) if e.on_enter), None)

    def timeout_events_from(self, state: str) -> list[Event]:
        return [e for e in self.events_from(state) if e.timeout or e.timeout_processor]

    def has_eventless_transitions(self, state: str) -> bool:
        return any(t.event is None for t in self.transitions_from(state))

    def states_with_eventless_transitions(self) -> list[str]:
        return [s for s in self.states if self.has_eventless_transitions(s)]

    @property
    def happy_path(self) -> list[Transition]:
        return [t for t in self.transitions if t.happy]
