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
from functools import lru_cache

INITIAL_STATE = "new"
# The flags of Spryker's oms-01.xsd. A state may carry any flag (Spryker's loader keeps any
# text); lint warns about the others, which are most often typos.
FLAGS = frozenset({
    "exclude from customer", "exclude from invoice", "ready for invoice", "waiting for export",
    "cancellable", "amendable", "amendment in progress",
})


class InvalidTimeout(ValueError):
    """A timeout text that does not read as a duration, or reads as zero."""


# A timeout is read as PHP's DateInterval::createFromDateString reads it (Spryker passes the
# attribute to it): parts like "1 day", "20min", "+2 hours", "next week", "1 day ago", added
# up. The units are PHP's, each also with an "s"; months count as 30 days and years as 365
# (PHP adds calendar months and years to the date).
_MICROSECOND = timedelta(microseconds=1)
_UNITS = {
    "usec": _MICROSECOND, "microsecond": _MICROSECOND, "\u00b5sec": _MICROSECOND,
    "msec": 1000 * _MICROSECOND, "millisecond": 1000 * _MICROSECOND,
    "sec": timedelta(seconds=1), "second": timedelta(seconds=1),
    "min": timedelta(minutes=1), "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1),
    "fortnight": timedelta(weeks=2), "forthnight": timedelta(weeks=2),
    "month": timedelta(days=30), "year": timedelta(days=365),
}
_UNITS.update({name + "s": length for name, length in list(_UNITS.items())})
_UNITS.update({"ms": 1000 * _MICROSECOND, "\u00b5s": _MICROSECOND})
# Words PHP takes in place of a number ("next week", "third day"); "eight" is PHP's too.
_WORD_NUMBERS = {
    "this": 0, "next": 1, "last": -1, "previous": -1,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eight": 8, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
}
# PHP reads these as units too, but they count from the calendar (the next Monday, the next
# working day), not a fixed time: what a timeout processor is for.
_CALENDAR_UNITS = frozenset({
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "tues", "wed", "wednes", "thu", "thur", "thurs", "fri", "sat", "sun",
    "weekday", "weekdays",
})
_SEPARATORS = re.compile(r"[\s.,]*")
_NUMBER_PART = re.compile(r"([+-]*)[ \t]*(\d+)[ \t]*([^\W\d_]+)")
_WORD_PART = re.compile(r"([^\W\d_]+)(?:[ \t]+([^\W\d_]+))?")
_FRACTION = re.compile(r"[+-]*[ \t]*\d+[.,]\d")
MAX_DIGITS = 13  # PHP's limit for one number
MAX_TIMEOUT = timedelta(days=365 * 1000)  # far below the year 9999 a due date must stay in
_EXAMPLES = 'write it like "1 hour", "30min" or "1 day 2 hours"'


@lru_cache(maxsize=1024)  # a process's few timeouts are read for every item that waits
def parse_timeout(text: str) -> timedelta:
    """Read a timeout such as "1 hour", "20min", "14 days" or "1 day 2 hours".

    Read as PHP's ``DateInterval::createFromDateString`` reads it, for the durations it can
    express; months count as 30 days and years as 365. The result is negative for a timeout
    into the past ("-1 day", "2 days ago"), which falls due at once, as in Spryker. Raise
    InvalidTimeout for anything else, for a zero timeout, for units that count from the
    calendar (weekdays, day names) and for timeouts over 1000 years.
    """
    total = timedelta()
    position = _SEPARATORS.match(text).end()
    if position == len(text):
        raise InvalidTimeout(f'the timeout "{text}" is empty')
    while position < len(text):
        amount, unit, end = _read_part(text, position)
        if unit is None:
            total = -total  # "ago" turns round everything before it, as in PHP
        else:
            try:
                total += amount * _unit_length(text, unit)
            except OverflowError:
                raise InvalidTimeout(f'the timeout "{text}" is too long') from None
        position = _SEPARATORS.match(text, end).end()
    if not total:
        raise InvalidTimeout(f'the timeout "{text}" is zero: it would fall due at once')
    if abs(total) > MAX_TIMEOUT:
        raise InvalidTimeout(f'the timeout "{text}" is longer than 1000 years')
    return total


def _read_part(text: str, position: int) -> tuple[int, str | None, int]:
    """One part at ``position``: (amount, unit or None for "ago", where it ends)."""
    number = _NUMBER_PART.match(text, position)
    if number:
        signs, digits, unit = number.groups()
        if len(digits) > MAX_DIGITS:
            raise InvalidTimeout(f'the timeout "{text}" has a number of more than '
                                 f"{MAX_DIGITS} digits")
        sign = -1 if signs.count("-") % 2 else 1  # each "-" turns the sign, as in PHP
        return sign * int(digits), unit, number.end()
    if _FRACTION.match(text, position):
        raise InvalidTimeout(f'the timeout "{text}" has a fraction: PHP reads whole numbers '
                             "only (write 90 minutes for 1.5 hours)")
    word = _WORD_PART.match(text, position)
    if word and word.group(1).lower() == "ago":
        return 0, None, position + 3
    if word and word.group(1).lower() in _WORD_NUMBERS and word.group(2):
        return _WORD_NUMBERS[word.group(1).lower()], word.group(2), word.end()
    at = f' at "{text[position:].strip()}"' if text[:position].strip() else ""
    raise InvalidTimeout(f'the timeout "{text}" cannot be read{at}: {_EXAMPLES}')


def _unit_length(text: str, unit: str) -> timedelta:
    name = unit.lower()
    if name in _UNITS:
        return _UNITS[name]
    if name in _CALENDAR_UNITS:
        raise InvalidTimeout(f'the timeout "{text}" counts from the calendar ("{unit}"), not '
                             "a fixed time: name a timeoutProcessor for that")
    raise InvalidTimeout(f'the timeout "{text}" has "{unit}", which is not a unit of time '
                         "(sec, min, hour, day, week, fortnight, month, year, each also "
                         'with an "s")')


@dataclass(frozen=True)
class Origin:
    """Where a definition was read: its file and line (None for one built in Python)."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class State:
    name: str
    reserved: bool = False
    display: str | None = None
    flags: frozenset[str] = frozenset()
    subprocess: str | None = None  # the (sub)process that declared it, for graphs and errors
    origin: Origin | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Event:
    name: str
    manual: bool = False
    on_enter: bool = False
    timeout: str | None = None
    timeout_processor: str | None = None
    command: str | None = None
    origin: Origin | None = field(default=None, compare=False, repr=False)

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
    origin: Origin | None = field(default=None, compare=False, repr=False)


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
    # What the XML loader resolved the way Spryker does and says as warnings (lint reports
    # them with its own findings).
    load_problems: list = field(default_factory=list)

    @classmethod
    def build(cls, name: str, *, states, events, transitions, source=None,
              subprocesses=(), initial_state: str = INITIAL_STATE,
              load_problems=()) -> Process:
        """Make a process from its parts (later states or events of one name replace
        earlier ones)."""
        return cls(
            name=name,
            states={s.name: s for s in states},
            events={e.name: e for e in events},
            transitions=list(transitions),
            source=source,
            subprocesses=list(subprocesses),
            initial_state=initial_state,
            load_problems=list(load_problems),
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
