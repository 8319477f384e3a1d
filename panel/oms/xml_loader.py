"""Load processes written in Spryker's OMS XML format, the way Spryker's own loader does.

Spryker's loader (spryker/oms ``Business/OrderStateMachine/Builder.php``) is lenient: it never
checks the namespace, keeps the last of two states or events of one name, takes the first of
two ``<target>`` in a transition, keeps any flag, and names an included subprocess after the
include. This loader reads a file the same way, and says as a **warning** whatever Spryker
resolves silently, naming both places. What Spryker refuses (a transition whose source,
target or event does not exist, a subprocess that is not there) and what cannot be read at
all is an **error**; every problem of a file is reported, not only the first.

A file holds one ``<statemachine>`` with one main ``<process main="true">`` and any number of
includes, ``<process name="DummyRefund" file="DummySubprocess/DummyRefund01.xml"/>``, resolved
from the including file's folder. As in Spryker, the included files' processes are read after
all of the main file's, in the order of the includes, so "the last one wins" means the same
here. With ``prefix="P"`` on an include, every state and event name and every source, target
and event value of that file (and of the files it includes) gets ``"P - "`` in front. All
states and events of the main process and its includes share one namespace, as in Spryker,
so a transition may cross subprocesses.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from panel.oms.definitions import Event, Origin, Process, State, Transition
from panel.oms.problems import ERROR, WARNING, Problem, errors_in, warnings_in

NAMESPACE = "spryker:oms-01"  # what Spryker's files declare; any other, or none, reads the same
PREFIX_DELIMITER = " - "

# The attributes each element may carry (as Spryker's oms-01.xsd): anything else is ignored,
# as Spryker does, with a warning, since it is most often a typo ("onenter").
_ATTRIBUTES = {
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

    def __init__(self, file, element: str, message: str, *, display: str | None = None,
                 line: int | None = None):
        self.file = str(file)
        self.element = element
        self.message = message
        self.display = display or Path(self.file).name
        self.line = line
        super().__init__(f"{self.display}: {element}: {message}")

    def __reduce__(self):
        return (_rebuild_error, (self.file, self.element, self.message, self.display,
                                 self.line))


def _rebuild_error(file, element, message, display, line=None):
    return ProcessDefinitionError(file, element, message, display=display, line=line)


@dataclass
class LoadResult:
    """What reading one main process file gave: the process, and every problem found.

    ``process`` is None when the file could not be read far enough to build one (it is not
    XML, it names no main process, ...). A process is built even when there are errors, so that
    lint can add its own findings; it must not run then.
    """

    path: str
    process: Process | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return errors_in(self.problems)

    @property
    def warnings(self) -> list[Problem]:
        return warnings_in(self.problems)


def read_process_file(path) -> LoadResult:
    """Read one main process file, with its includes, collecting every problem on the way."""
    return _Reader(Path(path)).read()


def load_process_file(path) -> Process:
    """Read one main process file, with its includes, into one merged Process.

    Raise ProcessDefinitionError naming the first error; warnings stay on the process
    (``Process.load_problems``).
    """
    result = read_process_file(path)
    if result.errors:
        first = result.errors[0]
        raise ProcessDefinitionError(first.file, first.element, first.message,
                                     display=_relative(first.file, Path(path).parent),
                                     line=first.line)
    return result.process


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


# --- the XML, with line numbers ---------------------------------------------------------------

@dataclass
class _Node:
    """One element as written: its name (with any namespace prefix), attributes and line."""

    name: str
    attributes: dict[str, str]
    line: int
    children: list[_Node] = field(default_factory=list)
    text: str = ""  # the element's own text, without its children's

    @property
    def local(self) -> str:
        return self.name.rpartition(":")[2]

    @property
    def prefixed(self) -> bool:
        return ":" in self.name

    def get(self, attribute: str) -> str | None:
        return self.attributes.get(attribute)


def _parse_xml(text: str) -> _Node:
    """Parse with expat (no namespace processing: Spryker reads names as written)."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    stack: list[_Node] = []
    roots: list[_Node] = []

    def start(name, attributes):
        node = _Node(name, attributes, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(name):
        stack.pop()

    def characters(data):
        if stack:
            stack[-1].text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.Parse(text, True)
    return roots[0]


# --- reading ---------------------------------------------------------------------------------

@dataclass
class _File:
    """One file being read: where it is, the prefixes that apply to its names, and the chain
    of includes that led to it (resolved paths, itself last)."""

    path: Path
    display: str
    prefixes: tuple[str, ...] = ()
    chain: tuple[Path, ...] = ()

    def name(self, raw: str) -> str:
        return "".join(p + PREFIX_DELIMITER for p in self.prefixes) + raw

    def origin(self, node: _Node) -> Origin:
        return Origin(str(self.path), node.line)


class _Reader:
    def __init__(self, main_path: Path):
        self.main_path = main_path
        self.problems: list[Problem] = []
        self.states: dict[str, State] = {}
        self.events: dict[str, Event] = {}
        self.transitions: list[tuple[Transition, _File, str]] = []
        self.processes: dict[str, _File] = {}  # declared process name: the file declaring it
        self.subprocess_refs: list[tuple[str, _File, _Node, str]] = []
        self.include_names: dict[int, str] = {}  # id(process node): the include's name
        self.renamed: dict[str, str] = {}  # name a file declares: the include's name for it

    # -- reporting ---------------------------------------------------------------------------
    def _report(self, level: str, file: _File, at: _Node | int | None, element: str,
                message: str) -> None:
        line = at.line if isinstance(at, _Node) else at
        self.problems.append(Problem(None, None, element, message, level=level,
                                     file=str(file.path), line=line))

    def error(self, file: _File, at: _Node | int | None, element: str, message: str) -> None:
        """Record what cannot run; ``at`` is the element at fault, or its line."""
        self._report(ERROR, file, at, element, message)

    def warn(self, file: _File, at: _Node | int | None, element: str, message: str) -> None:
        """Record what runs but is probably a mistake."""
        self._report(WARNING, file, at, element, message)

    def _result(self, process: Process | None) -> LoadResult:
        name = process.name if process else None
        problems = [dataclasses.replace(p, process=name, source=str(self.main_path))
                    for p in self.problems]
        if process is not None:
            process.load_problems = warnings_in(problems)
        return LoadResult(str(self.main_path), process, problems)

    # -- the main file -----------------------------------------------------------------------
    def read(self) -> LoadResult:
        main = _File(self.main_path, self.main_path.name, chain=(_resolve(self.main_path),))
        root = self._parse(main)
        if root is None:
            return self._result(None)
        entries = self._process_elements(root, main)
        if not entries:
            self.error(main, root, "<statemachine>", "the file declares no <process>")
            return self._result(None)
        main_node = self._main_process(root, main, entries)
        if main_node is None:
            return self._result(None)
        queue = [(node, main) for node in entries]
        position = 0
        # Spryker appends each included file's processes to the main document and goes on
        # reading: the main file's processes come first, then the includes' in their order.
        while position < len(queue):
            node, file = queue[position]
            position += 1
            if node.get("file") is not None:
                queue += self._include(node, file)
            else:
                self._read_process(node, file, is_main=node is main_node)
        self._check_subprocesses()
        self._check_transitions()
        process = Process.build(
            self._name_of(main_node),
            states=self.states.values(),
            events=self.events.values(),
            transitions=[transition for transition, _, _ in self.transitions],
            source=str(self.main_path),
            subprocesses=dict.fromkeys(name for name, _, _, _ in self.subprocess_refs),
        )
        return self._result(process)

    def _main_process(self, root: _Node, file: _File, entries: list[_Node]) -> _Node | None:
        definitions = [n for n in entries if n.get("file") is None]
        mains = [n for n in definitions if self._boolean(n, "main", file, _describe_process(n))]
        if len(mains) > 1:
            names = ", ".join(f'"{n.get("name")}"' for n in mains)
            self.error(file, root, "<statemachine>", f"more than one main process: {names} "
                                                     "(Spryker would take the last one)")
            return mains[-1]
        if mains:
            return mains[0]
        if len(definitions) == 1 and len(entries) == 1:
            return definitions[0]  # a single process needs no main="true"
        self.error(file, root, "<statemachine>",
                   'no <process> has main="true" (say which one is the main process)')
        return None

    def _name_of(self, node: _Node) -> str:
        return self.include_names.get(id(node)) or (node.get("name") or "").strip()

    # -- files and includes ------------------------------------------------------------------
    def _parse(self, file: _File) -> _Node | None:
        try:
            data = file.path.read_bytes()
        except OSError as error:
            self.error(file, None, "(file)",
                       f"the file cannot be read: {error.strerror or error}")
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.error(file, None, "(file)", "the file is not UTF-8")
            return None
        # Checked on the text before any parser sees it: expat would otherwise expand entities.
        upper = text.upper()
        for marker in ("<!DOCTYPE", "<!ENTITY"):
            if marker in upper:
                self.error(file, None, marker + ">", "DTDs and entities are refused (they "
                                                     "could expand without bound); remove the "
                                                     "declaration")
                return None
        try:
            root = _parse_xml(text)
        except expat.ExpatError as error:
            self.error(file, None, f"line {error.lineno}, column {error.offset + 1}",
                       f"the file is not well-formed XML ({expat.ErrorString(error.code)})")
            return None
        if root.local != "statemachine":
            self.error(file, root, f"<{root.local}>", "the root element must be <statemachine>")
            return None
        return root

    def _process_elements(self, root: _Node, file: _File) -> list[_Node]:
        return [child for child in root.children
                if self._known(child, file, "<statemachine>", {"process"})]

    def _include(self, node: _Node, file: _File) -> list[tuple[_Node, _File]]:
        """Read the file an include names; return its <process> elements to read next."""
        described = _describe_process(node)
        self._check_attributes(node, file, described)
        raw = node.get("file").strip()
        if not raw:
            self.error(file, node, described, "the file attribute is empty")
            return []
        target = self._locate(file, raw)
        if target is None:
            self.error(file, node, described, f'the included file "{raw}" does not exist '
                                              f"(looked for {file.path.parent / raw})")
            return []
        resolved = _resolve(target)
        if resolved in file.chain:
            chain = " -> ".join(self._display(p) for p in file.chain + (resolved,))
            self.error(file, node, described, f"the includes form a cycle: {chain}")
            return []
        prefix = node.get("prefix")
        if prefix is not None and not prefix.strip():
            self.warn(file, node, described, 'the empty prefix="" is ignored: Spryker reads '
                                             "it as no prefix")
        prefixes = file.prefixes + ((prefix.strip(),) if prefix and prefix.strip() else ())
        included = _File(target, self._display(target), prefixes, file.chain + (resolved,))
        root = self._parse(included)
        if root is None:
            return []
        entries = self._process_elements(root, included)
        if not entries:
            self.warn(included, root, "<statemachine>", "the included file declares no "
                                                        "<process>")
        name = (node.get("name") or "").strip()
        if name and entries and entries[0].get("file") is None:
            # As in Spryker: the include's name is the name of the file's first process.
            declared = (entries[0].get("name") or "").strip()
            self.include_names[id(entries[0])] = name
            if declared and declared != name:
                self.renamed[declared] = name
        return [(entry, included) for entry in entries]

    def _locate(self, file: _File, raw: str) -> Path | None:
        """The file an include names, from the including file's folder (then from the main
        file's, which is where Spryker looks). Spryker's OMS reads spaces in the name as "_",
        and its generic state machine leaves out the ".xml"; both are tried."""
        names = list(dict.fromkeys((raw, raw.replace(" ", "_"))))
        names += [name + ".xml" for name in names if not name.endswith(".xml")]
        folders = list(dict.fromkeys((file.path.parent, self.main_path.parent)))
        for folder in folders:
            for name in names:
                candidate = folder / name
                try:
                    if candidate.is_file():
                        return candidate
                except (OSError, ValueError):  # a name no file system takes
                    continue
        return None

    def _display(self, path: Path) -> str:
        return _relative(path, self.main_path.parent)

    # -- processes ---------------------------------------------------------------------------
    def _read_process(self, node: _Node, file: _File, *, is_main: bool) -> None:
        described = _describe_process(node)
        self._check_attributes(node, file, described)
        if node.get("prefix") is not None:
            self.warn(file, node, described, "prefix is ignored here: it only works on an "
                                             'include (<process name="..." file="..." '
                                             'prefix="..."/>)')
        name = self._name_of(node)
        if not name:
            self.error(file, node, "<process>", 'the attribute "name" is missing or empty')
            return
        first = self.processes.get(name)
        if first is not None:
            where = ("earlier in this file" if first.path == file.path
                     else f"in {first.display}")
            self.error(file, node, described, f'the process "{name}" is already declared '
                                              f"{where}")
            return
        self.processes[name] = file
        if file.path != self.main_path and not is_main and \
                self._boolean(node, "main", file, described):
            self.error(file, node, described,
                       'an included file cannot hold a main process (main="true")')
        blocks: dict[str, _Node] = {}
        for child in node.children:
            if not self._known(child, file, described,
                               {"subprocesses", "states", "transitions", "events"}):
                continue
            if child.local in blocks:
                self.warn(file, child, described, f"a second <{child.local}> is ignored: "
                                                  "Spryker reads only the first")
                continue
            blocks[child.local] = child
        readers = (("subprocesses", "process", lambda n, f: self._read_subprocess(n, f, described)),
                   ("states", "state", lambda n, f: self._read_state(n, f, name)),
                   ("events", "event", self._read_event),
                   ("transitions", "transition", self._read_transition))
        for block, kind, read in readers:
            for child in blocks[block].children if block in blocks else ():
                if self._known(child, file, f"<{block}> of {described}", {kind}):
                    read(child, file)

    def _read_subprocess(self, node: _Node, file: _File, described: str) -> None:
        name = node.text.strip()
        if not name:
            self.error(file, node, described, "a <subprocesses> entry is empty")
            return
        self.subprocess_refs.append((name, file, node, described))

    def _check_subprocesses(self) -> None:
        for name, file, node, element in self.subprocess_refs:
            if name in self.processes:
                continue
            hint = ""
            if name in self.renamed:
                hint = (f' (its file declares "{name}", but the include names it '
                        f'"{self.renamed[name]}", and Spryker goes by the include)')
            self.error(file, node, element, f'the subprocess "{name}" listed in '
                                            "<subprocesses> is not declared in any included "
                                            f"file{hint}")

    def _read_state(self, node: _Node, file: _File, process_name: str) -> None:
        raw = (node.get("name") or "").strip()
        if not raw:
            self.error(file, node, "<state>", 'the attribute "name" is missing or empty')
            return
        described = f'<state name="{raw}">'
        self._check_attributes(node, file, described)
        flags = []
        for child in node.children:
            if not self._known(child, file, described, {"flag"}):
                continue
            text = child.text.strip()
            if text:
                flags.append(text)
            else:
                self.warn(file, child, described, "an empty <flag> is ignored")
        state = State(
            file.name(raw),
            reserved=self._boolean(node, "reserved", file, described),
            display=node.get("display") or None,
            flags=frozenset(flags),
            subprocess=process_name,
            origin=file.origin(node),
        )
        self._declare("state", self.states, state, file, node, described)

    def _read_event(self, node: _Node, file: _File) -> None:
        raw = (node.get("name") or "").strip()
        if not raw:
            self.warn(file, node, "<event>", 'an <event> without a "name" is skipped, as '
                                             "Spryker does")
            return
        described = f'<event name="{raw}">'
        self._check_attributes(node, file, described)
        for child in node.children:
            self._known(child, file, described, set())
        event = Event(
            file.name(raw),
            manual=self._boolean(node, "manual", file, described),
            on_enter=self._boolean(node, "onEnter", file, described),
            timeout=(node.get("timeout") or "").strip() or None,
            timeout_processor=node.get("timeoutProcessor") or None,
            command=node.get("command") or None,
            origin=file.origin(node),
        )
        self._declare("event", self.events, event, file, node, described)

    def _declare(self, kind: str, declared: dict, definition, file: _File, node: _Node,
                 described: str) -> None:
        """Keep the last of two definitions of one name, as Spryker does, and say so."""
        first = declared.get(definition.name)
        if first is not None:
            self.warn(file, node, described,
                      f'the {kind} "{definition.name}" is declared twice: this declaration '
                      f"replaces the one at {self._where(first.origin)} (Spryker keeps the "
                      "last)")
        declared[definition.name] = definition

    def _where(self, origin: Origin) -> str:
        line = f":{origin.line}" if origin.line else ""
        return self._display(Path(origin.file)) + line

    def _read_transition(self, node: _Node, file: _File) -> None:
        parts: dict[str, str] = {}
        again: list[tuple[str, _Node]] = []
        for child in node.children:
            if not self._known(child, file, "<transition>", {"source", "target", "event"}):
                continue
            if child.local in parts:
                again.append((child.local, child))
            else:
                parts[child.local] = child.text.strip()
        described = describe_transition(parts.get("source"), parts.get("target"),
                                        parts.get("event"))
        self._check_attributes(node, file, described)
        for kind, child in again:
            self.warn(file, child, described,
                      f'a second <{kind}> ("{child.text.strip()}") is ignored: Spryker takes '
                      f'the first ("{parts[kind]}")')
        for kind in ("source", "target"):
            if not parts.get(kind):
                self.error(file, node, described, f"the transition has no <{kind}>")
                return
        if "event" in parts and not parts["event"]:
            self.error(file, node, described, "the <event> is empty (leave it out for a "
                                              "transition without an event)")
            return
        transition = Transition(
            file.name(parts["source"]),
            file.name(parts["target"]),
            file.name(parts["event"]) if "event" in parts else None,
            condition=node.get("condition") or None,
            happy=self._boolean(node, "happy", file, described),
            origin=file.origin(node),
        )
        self.transitions.append((transition, file, described))

    def _check_transitions(self) -> None:
        """Refuse a source, target or event that does not exist, as Spryker's loader does."""
        for transition, file, described in self.transitions:
            for what, name, known in (("source state", transition.source, self.states),
                                      ("target state", transition.target, self.states),
                                      ("event", transition.event, self.events)):
                if name is not None and name not in known:
                    note = f" (the prefix {_prefix_note(file)} applies)" if file.prefixes else ""
                    self.error(file, transition.origin.line, described,
                               f'the {what} "{name}" does not exist{note}')

    # -- attributes and elements ---------------------------------------------------------------
    def _known(self, node: _Node, file: _File, described: str, allowed: set[str]) -> bool:
        """Whether ``node`` is one of the ``allowed`` elements; warn about any other."""
        if node.prefixed:
            self.warn(file, node, described, f"<{node.name}> is ignored: Spryker does not read "
                                             "elements with a namespace prefix")
            return False
        if node.local not in allowed:
            expected = ", ".join(f"<{a}>" for a in sorted(allowed)) or "nothing"
            self.warn(file, node, described, f"unknown element <{node.local}> is ignored "
                                             f"(expected here: {expected})")
            return False
        return True

    def _check_attributes(self, node: _Node, file: _File, described: str) -> None:
        allowed = _ATTRIBUTES.get(node.local, set())
        for attribute in node.attributes:
            if ":" in attribute or attribute == "xmlns":  # namespaces, xsi:schemaLocation
                continue
            if attribute not in allowed:
                self.warn(file, node, described,
                          f'unknown attribute "{attribute}" on <{node.local}> is ignored '
                          f"(allowed: {', '.join(sorted(allowed)) or 'none'})")

    def _boolean(self, node: _Node, attribute: str, file: _File, described: str) -> bool:
        value = node.get(attribute)
        if value is None or value == "false":
            return False
        if value == "true":
            return True
        self.warn(file, node, described, f'{attribute}="{value}" is read as false: only '
                                         '"true" is true to Spryker')
        return False


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _relative(path, folder: Path) -> str:
    try:
        return os.path.relpath(path, folder)
    except ValueError:  # another drive on Windows
        return str(path)


def _describe_process(node: _Node) -> str:
    parts = [f'{key}="{node.get(key)}"' for key in ("name", "file", "prefix")
             if node.get(key) is not None]
    return "<process " + " ".join(parts) + ">" if parts else "<process>"


def _prefix_note(file: _File) -> str:
    return '"' + PREFIX_DELIMITER.join(file.prefixes) + PREFIX_DELIMITER + '"'
