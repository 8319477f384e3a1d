"""Check a loaded (or Python-built) process for mistakes that would only show on a live order.

The XML loader already refuses unknown states and events; the linter checks them again for
processes built in Python, and adds what needs the registry (unregistered commands,
conditions and timeout processors) or the whole graph (unreachable states, ambiguous
transitions, several onEnter events out of one state).
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from panel.oms.definitions import FLAGS, InvalidTimeout, Process, Transition, parse_timeout
from panel.oms.xml_loader import describe_transition


@dataclass
class Problem:
    """One mistake in one process: where it is and what is wrong."""

    process: str
    source: str | None
    element: str
    message: str

    def __str__(self) -> str:
        where = f"{self.process} ({self.source})" if self.source else self.process
        return f"{where}: {self.element}: {self.message}"


def lint_process(process: Process, *, commands: Collection[str], conditions: Collection[str],
                 timeout_processors: Collection[str]) -> list[Problem]:
    """Return the problems of one process; ``commands`` etc. are the registered names."""
    problems: list[Problem] = []

    def report(element: str, message: str) -> None:
        problems.append(Problem(process.name, process.source, element, message))

    _check_states(process, report)
    _check_events(process, report, commands, timeout_processors)
    _check_transitions(process, report, conditions)
    return problems


def lint_all(processes: dict[str, Process], *, commands: Collection[str],
             conditions: Collection[str], timeout_processors: Collection[str]) -> list[Problem]:
    """Return the problems of every process, in the order of ``processes``."""
    problems: list[Problem] = []
    for process in processes.values():
        problems += lint_process(process, commands=commands, conditions=conditions,
                                 timeout_processors=timeout_processors)
    return problems


def reachable_states(process: Process) -> set[str]:
    """The states reachable from the initial state, following every transition."""
    seen = {process.initial_state}
    todo = [process.initial_state]
    while todo:
        for transition in process.transitions_from(todo.pop()):
            if transition.target not in seen:
                seen.add(transition.target)
                todo.append(transition.target)
    return seen


def _check_states(process: Process, report) -> None:
    initial = process.initial_state
    if initial not in process.states:
        report(f'<process name="{process.name}">',
               f'the initial state "{initial}" is not declared: new items could not start')
    reachable = reachable_states(process) if initial in process.states else None
    for name, state in process.states.items():
        element = f'<state name="{name}">'
        if state.subprocess and state.subprocess != process.name:
            element += f" in {state.subprocess}"
        for flag in sorted(state.flags - FLAGS):
            allowed = ", ".join(f'"{f}"' for f in sorted(FLAGS))
            report(element, f'the flag "{flag}" is not one of {allowed}')
        if reachable is not None and name not in reachable:
            report(element, f'the state cannot be reached from the initial state "{initial}"')
        on_enter = [e.name for e in process.events_from(name) if e.on_enter]
        if len(on_enter) > 1:
            names = ", ".join(f'"{e}"' for e in on_enter)
            report(element, f"{len(on_enter)} onEnter events leave this state ({names}): only "
                            f'the first one ("{on_enter[0]}") ever fires')


def _check_events(process: Process, report, commands, timeout_processors) -> None:
    for name, event in process.events.items():
        element = f'<event name="{name}">'
        if event.command and event.command not in commands:
            report(element, f'the command "{event.command}" is not registered by any plugin')
        if event.timeout_processor and event.timeout_processor not in timeout_processors:
            report(element, f'the timeout processor "{event.timeout_processor}" is not '
                            "registered by any plugin")
        if event.timeout:
            try:
                parse_timeout(event.timeout)
            except InvalidTimeout:
                report(element, f'the timeout "{event.timeout}" does not parse (write it like '
                                '"1 hour" or "14 days")')


def _check_transitions(process: Process, report, conditions) -> None:
    unconditional: dict[tuple[str, str | None], Transition] = {}
    for transition in process.transitions:
        element = _describe(transition)
        for what, name in (("source state", transition.source),
                           ("target state", transition.target)):
            if name not in process.states:
                report(element, f'the {what} "{name}" does not exist')
        if transition.event is not None and transition.event not in process.events:
            report(element, f'the event "{transition.event}" does not exist')
        if transition.condition and transition.condition not in conditions:
            report(element, f'the condition "{transition.condition}" is not registered by any '
                            "plugin")
        if transition.condition:
            continue
        key = (transition.source, transition.event)
        first = unconditional.setdefault(key, transition)
        if first is not transition:
            what = (f'the event "{transition.event}"' if transition.event
                    else "an event-less transition")
            report(element, f'{what} already leaves "{transition.source}" without a condition '
                            f'(to "{first.target}"): this transition is never taken')


def _describe(transition: Transition) -> str:
    return describe_transition(transition.source, transition.target, transition.event)
