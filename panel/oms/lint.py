"""Check a loaded (or Python-built) process for mistakes that would only show on a live order.

Two levels. **Errors** are what cannot run: no initial state, a source, target or event that
does not exist, a command, condition or timeout processor that no plugin registers, a
timeout no rule can read. **Warnings** are what runs but is probably a mistake: states that
cannot be reached, transitions that are never taken, flags outside Spryker's list, several
onEnter events out of one state, events no transition carries, negative timeouts, and what the
XML loader resolved the way Spryker does (``Process.load_problems``). Errors stop the app
from starting; warnings are logged and shown on the process's page.
"""
from __future__ import annotations

from collections.abc import Collection

from panel.oms.definitions import (
    FLAGS,
    InvalidTimeout,
    Origin,
    Process,
    Transition,
    parse_timeout,
)
from panel.oms.problems import ERROR, WARNING, Problem, errors_in, warnings_in
from panel.oms.xml_loader import describe_transition, read_process_file

__all__ = ["Problem", "errors_in", "lint_all", "lint_file", "lint_process", "reachable_states",
           "warnings_in"]


class _Findings:
    """The problems of one process, each with the file and line of the element at fault."""

    def __init__(self, process: Process):
        self.process = process
        self.problems: list[Problem] = list(process.load_problems)

    def add(self, level: str, element: str, message: str, origin: Origin | None = None):
        self.problems.append(Problem(
            self.process.name, self.process.source, element, message, level=level,
            file=origin.file if origin else None, line=origin.line if origin else None))

    def error(self, element: str, message: str, origin: Origin | None = None) -> None:
        self.add(ERROR, element, message, origin)

    def warn(self, element: str, message: str, origin: Origin | None = None) -> None:
        self.add(WARNING, element, message, origin)


def lint_process(process: Process, *, commands: Collection[str], conditions: Collection[str],
                 timeout_processors: Collection[str]) -> list[Problem]:
    """Return the problems of one process, errors and warnings, with what the loader found
    first; ``commands`` etc. are the registered names."""
    findings = _Findings(process)
    _check_states(process, findings)
    _check_events(process, findings, commands, timeout_processors)
    _check_transitions(process, findings, conditions)
    return findings.problems


def lint_all(processes: dict[str, Process], *, commands: Collection[str],
             conditions: Collection[str], timeout_processors: Collection[str]) -> list[Problem]:
    """Return the problems of every process, in the order of ``processes``."""
    problems: list[Problem] = []
    for process in processes.values():
        problems += lint_process(process, commands=commands, conditions=conditions,
                                 timeout_processors=timeout_processors)
    return problems


def lint_file(path, *, commands: Collection[str], conditions: Collection[str],
              timeout_processors: Collection[str]) -> tuple[Process | None, list[Problem]]:
    """Read a process file and lint it: the process (None if it could not be built) and
    every problem of the file, the loader's and lint's, errors first."""
    loaded = read_process_file(path)
    if loaded.process is None:
        return None, loaded.problems
    problems = loaded.errors + lint_process(loaded.process, commands=commands,
                                            conditions=conditions,
                                            timeout_processors=timeout_processors)
    return loaded.process, sorted(problems, key=lambda problem: not problem.is_error)


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


def _check_states(process: Process, findings: _Findings) -> None:
    initial = process.initial_state
    if initial not in process.states:
        findings.error(f'<process name="{process.name}">',
                       f'the initial state "{initial}" is not declared: new items could not '
                       "start")
    reachable = reachable_states(process) if initial in process.states else None
    for name, state in process.states.items():
        element = f'<state name="{name}">'
        if state.subprocess and state.subprocess != process.name:
            element += f" in {state.subprocess}"
        for flag in sorted(state.flags - FLAGS):
            findings.warn(element, f'the flag "{flag}" is not in Spryker\'s list of flags '
                                   "(oms-01.xsd): a typo? The state keeps it", state.origin)
        if reachable is not None and name not in reachable:
            findings.warn(element, f'the state cannot be reached from the initial state '
                                   f'"{initial}"', state.origin)
        on_enter = [e.name for e in process.events_from(name) if e.on_enter]
        if len(on_enter) > 1:
            names = ", ".join(f'"{e}"' for e in on_enter)
            findings.warn(element, f"{len(on_enter)} onEnter events leave this state "
                                   f'({names}): only the first one ("{on_enter[0]}") ever '
                                   "fires", state.origin)
        if process.has_eventless_transitions(name) and process.timeout_events_from(name):
            timeouts = ", ".join(f'"{e.name}"' for e in process.timeout_events_from(name))
            findings.warn(element, "transitions without an event and timeout events "
                                   f"({timeouts}) leave this state: which one is taken "
                                   "depends on whether check-conditions or check-timeouts "
                                   "runs first", state.origin)


def _check_events(process: Process, findings: _Findings, commands,
                  timeout_processors) -> None:
    carried = {t.event for t in process.transitions}
    for name, event in process.events.items():
        element = f'<event name="{name}">'
        if event.command and event.command not in commands:
            findings.error(element, f'the command "{event.command}" is not registered by any '
                                    "plugin", event.origin)
        if event.timeout_processor and event.timeout_processor not in timeout_processors:
            findings.error(element, f'the timeout processor "{event.timeout_processor}" is '
                                    "not registered by any plugin", event.origin)
        if event.timeout:
            _check_timeout(event, element, findings)
        if name not in carried:
            findings.warn(element, "no transition carries this event: it never fires",
                          event.origin)


def _check_timeout(event, element: str, findings: _Findings) -> None:
    try:
        delta = parse_timeout(event.timeout)
    except InvalidTimeout as exc:
        # An error even beside a timeout processor: processors read it (Event.timeout_delta).
        findings.error(element, str(exc), event.origin)
        return
    if delta.total_seconds() < 0:
        findings.warn(element, f'the timeout "{event.timeout}" is negative (PHP reads it as '
                               "a time in the past): it falls due at once", event.origin)


def _check_transitions(process: Process, findings: _Findings, conditions) -> None:
    unconditional: dict[tuple[str, str | None], Transition] = {}
    for transition in process.transitions:
        element = _describe(transition)
        origin = transition.origin
        if origin is None:  # built in Python: the XML loader checked what it read
            _check_names(process, transition, element, findings)
        if transition.condition and transition.condition not in conditions:
            findings.error(element, f'the condition "{transition.condition}" is not '
                                    "registered by any plugin", origin)
        if transition.condition:
            continue
        key = (transition.source, transition.event)
        first = unconditional.setdefault(key, transition)
        if first is not transition:
            what = (f'the event "{transition.event}"' if transition.event
                    else "an event-less transition")
            findings.warn(element, f'{what} already leaves "{transition.source}" without a '
                                   f'condition (to "{first.target}"): this transition is '
                                   "never taken", origin)


def _check_names(process: Process, transition: Transition, element: str,
                 findings: _Findings) -> None:
    for what, name in (("source state", transition.source),
                       ("target state", transition.target)):
        if name not in process.states:
            findings.error(element, f'the {what} "{name}" does not exist')
    if transition.event is not None and transition.event not in process.events:
        findings.error(element, f'the event "{transition.event}" does not exist')


def _describe(transition: Transition) -> str:
    return describe_transition(transition.source, transition.target, transition.event)
