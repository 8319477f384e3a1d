"""Load processes written in Spryker's OMS XML format (namespace ``spryker:oms-01``).

A file holds one ``<statemachine>`` with one main ``<process main="true">`` and any number of
includes, ``<process name="DummyRefund" file="DummySubprocess/DummyRefund01.xml"/>``, resolved
from the including file's folder. With ``prefix="P"`` on an include, every state and event name
and every source, target and event value of that file (and of the files it includes) gets
``"P - "`` in front. All states and events of the main process and its includes share one
namespace, as in Spryker, so a transition may cross subprocesses.

Every mistake raises ProcessDefinitionError, which names the file, the element and the fault.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from panel.oms.definitions import (
    FLAGS,
    Event,
    InvalidTimeout,
    Process,
    State,
    Transition,
    parse_timeout,
)

NAMESPACE = "spryker:oms-01"
PREFIX_DELIMITER = " - "

# The elements each container may hold, and the attributes each element may carry (as Spryker's
# oms-01.xsd): a misspelled element or attribute would otherwise be dropped without a word.
_CHILDREN = {
    "statemachine": {"process"},
    "process": {"subprocesses", "states", "transitions", "events"},
    "subprocesses": {"process"},
    "states": {"state"},
    "state": {"flag"},
    "transitions": {"transition"},
    "transition": {"source", "target", "event"},
    "events": {"event"},
}
_ATTRIBUTES = {
    "statemachine": set(),
    "process": {"name", "main", "file", "prefix"},
    "state": {"name", "reserved", "display"},
    "transition": {"happy", "condition"},
    "event": {"name", "manual", "onEnter", "timeout", "timeoutProcessor", "command"},
}


class ProcessDefinitionError(ValueError):
    """A process file that cannot be loaded: which file, which element, what is wrong.

    ``file`` is the path of the file at fault; ``str()`` shows it relative to the main file's
    folder: ``DummyPayment01.xml: <event name="pay">: the timeout "soon" does not parse``.
    """

    def __init__(self, file, element: str, message: str, *, display: str | None = None):
        self.file = str(file)
        self.element = element
        self.message = message
        self.display = display or Path(self.file).name
        super().__init__(f"{self.display}: {element}: {message}")

    def __reduce__(self):
        return (_rebuild_error, (self.file, self.element, self.message, self.display))


def _rebuild_error(file, element, message, display):
    return ProcessDefinitionError(file, element, message, display=display)


def load_process_file(path) -> Process:
    """Read one main process file, with its includes, into one merged Process."""
    return _Loader(Path(path)).load()


def load_processes(paths) -> dict[str, Process]:
    """Load several main process files into ``{process name: Process}``."""
    processes: dict[str, Process] = {}
    for path in paths:
        process = load_process_file(path)
        if process.name in processes:
            first = processes[process.name].source
            raise ProcessDefinitionError(
                path, f'<process name="{process.name}">',
                f'the process "{process.name}" is also defined in {first}',
                display=str(path),
            )
        processes[process.name] = process
    return processes


def describe_transition(source: str | None, target: str | None, event: str | None) -> str:
    """The short description of a transition used in error messages."""
    text = f"<transition> {source or '?'} -> {target or '?'}"
    return f'{text} on "{event}"' if event else text


@dataclass
class _File:
    """One file being read: where it is, and the prefixes that apply to its names."""

    path: Path
    display: str
    prefixes: tuple[str, ...] = ()

    def error(self, element: str, message: str) -> ProcessDefinitionError:
        return ProcessDefinitionError(self.path, element, message, display=self.display)

    def name(self, raw: str) -> str:
        return "".join(p + PREFIX_DELIMITER for p in self.prefixes) + raw


@dataclass
class _Loader:
    main_path: Path
    states: dict[str, State] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    transitions: list[tuple[Transition, _File, str]] = field(default_factory=list)
    declared_in: dict[tuple[str, str], _File] = field(default_factory=dict)  # (kind, name)
    subprocesses: list[tuple[str, _File, str]] = field(default_factory=list)

    def load(self) -> Process:
        main = _File(self.main_path, self.main_path.name)
        main_name = self._read(main, stack=())
        for name, file, element in self.subprocesses:
            if ("process", name) not in self.declared_in:
                raise file.error(element, f'the subprocess "{name}" listed in <subprocesses> '
                                          "is not declared in any included file")
        for transition, file, element in self.transitions:
            self._check_transition(transition, file, element)
        return Process.build(
            main_name,
            states=self.states.values(),
            events=self.events.values(),
            transitions=[t for t, _, _ in self.transitions],
            source=str(self.main_path),
            subprocesses=dict.fromkeys(name for name, _, _ in self.subprocesses),
        )

    def _display(self, path: Path) -> str:
        try:
            return os.path.relpath(path, self.main_path.parent)
        except ValueError:  # another drive on Windows
            return str(path)

    def _read(self, file: _File, stack: tuple[Path, ...]) -> str | None:
        """Read one file and its includes; return the main process name (main file only)."""
        is_main = not stack
        root = _parse(file)
        if _local(root, file) != "statemachine":
            raise file.error(f"<{_local(root, file)}>",
                             "the root element must be <statemachine>")
        _check_element(root, file, "<statemachine>")
        elements = list(root)
        definitions = [e for e in elements if e.get("file") is None]
        includes = [e for e in elements if e.get("file") is not None]
        mains = [e for e in definitions if _boolean(e, "main", file, _describe_process(e))]
        if not is_main and mains:
            raise file.error(_describe_process(mains[0]),
                             "an included file cannot hold a main process (main=\"true\")")
        if not elements:
            raise file.error("<statemachine>", "the file declares no <process>")
        main_name = None
        if is_main:
            if len(mains) > 1:
                names = ", ".join(f'"{e.get("name")}"' for e in mains)
                raise file.error("<statemachine>", f"more than one main process: {names}")
            if not mains and len(definitions) == 1 and not includes:
                mains = definitions
            if not mains:
                raise file.error("<statemachine>",
                                 'no <process> has main="true" (say which one is the main '
                                 "process)")
            main_name = mains[0].get("name")
        for element in elements:
            if element.get("file") is None:
                self._read_process(element, file)
            else:
                self._include(element, file, stack + (file.path.resolve(),))
        return main_name

    def _include(self, element, file: _File, stack: tuple[Path, ...]) -> None:
        described = _describe_process(element)
        _check_element(element, file, described)
        target = file.path.parent / element.get("file")
        if not target.is_file():
            raise file.error(described, f'the included file "{element.get("file")}" does not '
                                        f"exist (looked for {target})")
        if target.resolve() in stack:
            chain = " -> ".join(self._display(p) for p in stack + (target.resolve(),))
            raise file.error(described, f"the includes form a cycle: {chain}")
        prefix = element.get("prefix")
        if prefix is not None and not prefix.strip():
            raise file.error(described, "the prefix is empty")
        prefixes = file.prefixes + ((prefix.strip(),) if prefix else ())
        self._read(_File(target, self._display(target), prefixes), stack)

    def _read_process(self, element, file: _File) -> None:
        described = _describe_process(element)
        _check_element(element, file, described)
        if element.get("prefix") is not None:
            raise file.error(described, "prefix only works on an include "
                                        '(<process name="..." file="..." prefix="..."/>)')
        name = _required(element, "name", file, "<process>")
        self._declare("process", name, file, described)
        for child in element:
            _check_element(child, file, described)
            kind = _local(child, file)
            if kind == "subprocesses":
                for sub in child:
                    sub_name = (sub.text or "").strip()
                    if not sub_name:
                        raise file.error(described, "a <subprocesses> entry is empty")
                    self.subprocesses.append((sub_name, file, described))
            elif kind == "states":
                for state in child:
                    self._read_state(state, file, name)
            elif kind == "events":
                for event in child:
                    self._read_event(event, file)
            else:
                for transition in child:
                    self._read_transition(transition, file)

    def _declare(self, kind: str, name: str, file: _File, element: str) -> None:
        first = self.declared_in.get((kind, name))
        if first is not None:
            where = "earlier in this file" if first.path == file.path else f"in {first.display}"
            raise file.error(element, f'the {kind} "{name}" is already declared {where} '
                                      f"({kind} names must be unique across all subprocesses)")
        self.declared_in[(kind, name)] = file

    def _read_state(self, element, file: _File, process_name: str) -> None:
        raw = _required(element, "name", file, "<state>")
        described = f'<state name="{raw}">'
        _check_element(element, file, described)
        flags = []
        for flag in element:
            text = (flag.text or "").strip()
            if text not in FLAGS:
                allowed = ", ".join(f'"{f}"' for f in sorted(FLAGS))
                raise file.error(described, f'the flag "{text}" is not one of {allowed}')
            flags.append(text)
        name = file.name(raw)
        self._declare("state", name, file, described)
        self.states[name] = State(
            name,
            reserved=_boolean(element, "reserved", file, described),
            display=element.get("display") or None,
            flags=frozenset(flags),
            subprocess=process_name,
        )

    def _read_event(self, element, file: _File) -> None:
        raw = _required(element, "name", file, "<event>")
        described = f'<event name="{raw}">'
        _check_element(element, file, described)
        timeout = element.get("timeout") or None
        if timeout is not None:
            try:
                parse_timeout(timeout)
            except InvalidTimeout:
                raise file.error(described, f'the timeout "{timeout}" does not parse') from None
        name = file.name(raw)
        self._declare("event", name, file, described)
        self.events[name] = Event(
            name,
            manual=_boolean(element, "manual", file, described),
            on_enter=_boolean(element, "onEnter", file, described),
            timeout=timeout,
            timeout_processor=element.get("timeoutProcessor") or None,
            command=element.get("command") or None,
        )

    def _read_transition(self, element, file: _File) -> None:
        parts: dict[str, str] = {}
        for child in element:
            kind = _local(child, file)
            if kind in parts:
                raise file.error(_describe_raw(element), f"the transition has two <{kind}>")
            parts[kind] = (child.text or "").strip()
        described = describe_transition(parts.get("source"), parts.get("target"),
                                        parts.get("event"))
        _check_element(element, file, described)
        for kind in ("source", "target"):
            if not parts.get(kind):
                raise file.error(described, f"the transition has no <{kind}>")
        if "event" in parts and not parts["event"]:
            raise file.error(described, "the <event> is empty (leave it out for a transition "
                                        "without an event)")
        transition = Transition(
            file.name(parts["source"]),
            file.name(parts["target"]),
            file.name(parts["event"]) if "event" in parts else None,
            condition=element.get("condition") or None,
            happy=_boolean(element, "happy", file, described),
        )
        self.transitions.append((transition, file, described))

    def _check_transition(self, transition: Transition, file: _File, element: str) -> None:
        checks = (("source state", transition.source, self.states),
                  ("target state", transition.target, self.states),
                  ("event", transition.event, self.events))
        for what, name, known in checks:
            if name is not None and name not in known:
                note = f" (the prefix {_prefix_note(file)} applies)" if file.prefixes else ""
                raise file.error(element, f'the {what} "{name}" does not exist{note}')


def _parse(file: _File) -> ET.Element:
    try:
        data = file.path.read_bytes()
    except OSError as error:
        raise file.error("(file)", f"the file cannot be read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise file.error("(file)", "the file is not UTF-8") from None
    # Checked on the text before any parser sees it: expat would otherwise expand entities.
    upper = text.upper()
    for marker in ("<!DOCTYPE", "<!ENTITY"):
        if marker in upper:
            raise file.error(marker + ">", "DTDs and entities are refused (they could expand "
                                           "without bound); remove the declaration")
    try:
        return ET.fromstring(text)
    except ET.ParseError as error:
        line, column = error.position
        raise file.error(f"line {line}, column {column + 1}",
                         f"the file is not well-formed XML ({expat.ErrorString(error.code)})"
                         ) from None


def _local(element, file: _File) -> str:
    """The tag without the namespace; only ``spryker:oms-01`` or no namespace is accepted."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        if namespace != NAMESPACE:
            raise file.error(f"<{local}>", f'the namespace "{namespace}" is not "{NAMESPACE}"')
        return local
    return tag


def _check_element(element, file: _File, described: str) -> None:
    """Refuse unknown attributes and unknown child elements (likely typos)."""
    kind = _local(element, file)
    for attribute in element.attrib:
        if attribute.startswith("{"):  # xsi:schemaLocation and friends
            continue
        if attribute not in _ATTRIBUTES.get(kind, set()):
            allowed = ", ".join(sorted(_ATTRIBUTES.get(kind, set()))) or "none"
            raise file.error(described, f'unknown attribute "{attribute}" on <{kind}> '
                                        f"(allowed: {allowed})")
    allowed_children = _CHILDREN.get(kind, set())
    for child in element:
        child_kind = _local(child, file)
        if child_kind not in allowed_children:
            allowed = ", ".join(f"<{c}>" for c in sorted(allowed_children)) or "nothing"
            raise file.error(described, f"unknown element <{child_kind}> inside <{kind}> "
                                        f"(allowed: {allowed})")


def _required(element, attribute: str, file: _File, described: str) -> str:
    value = (element.get(attribute) or "").strip()
    if not value:
        raise file.error(described, f'the attribute "{attribute}" is missing or empty')
    return value


def _boolean(element, attribute: str, file: _File, described: str) -> bool:
    value = element.get(attribute)
    if value is None:
        return False
    if value.strip() in ("true", "false"):
        return value.strip() == "true"
    raise file.error(described, f'{attribute}="{value}" must be "true" or "false"')


def _describe_process(element) -> str:
    parts = [f'{key}="{element.get(key)}"' for key in ("name", "file", "prefix")
             if element.get(key) is not None]
    return "<process " + " ".join(parts) + ">" if parts else "<process>"


def _describe_raw(element) -> str:
    texts = {}
    for child in element:
        texts.setdefault(child.tag.rpartition("}")[2], (child.text or "").strip())
    return describe_transition(texts.get("source"), texts.get("target"), texts.get("event"))


def _prefix_note(file: _File) -> str:
    return '"' + PREFIX_DELIMITER.join(file.prefixes) + PREFIX_DELIMITER + '"'
