"""A test plugin that supplies Spryker's own process files as they are, with a stub for every
command, condition and timeout processor they name.

The names come from the loaded processes, not from a list: whatever a file calls is stubbed.
Commands record their calls; conditions hold unless ``holds`` says otherwise; timeout
processors answer "now + the event's timeout" (an hour when it has none).
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from panel import PROJECT_ROOT, hookimpl
from panel.oms.definitions import INITIAL_STATE, Process
from panel.oms.xml_loader import read_process_file

# CI has the shared folder beside the project, as every developer's machine does.
SAMPLES = PROJECT_ROOT.parent / "shared" / "reference" / "spryker-oms-samples"


def sample(path: str) -> Path:
    """A file of the samples, as ``owner_repo/path in the repository``."""
    return SAMPLES / path


class StubbedProcesses:
    """A plugin supplying the main process ``files`` with stubs for all the names they call.

    ``holds`` maps a condition's name to whether it holds (True unless named). A file whose
    processes declare no ``new`` state is a generic Spryker state machine, whose initial state
    comes from its handler plugin, not from the XML: the first state the file declares.
    """

    def __init__(self, *files: Path, holds: dict[str, bool] | None = None):
        self.files = [Path(f) for f in files]
        self.holds = dict(holds or {})
        self.calls: list[tuple[str, str, list[int]]] = []  # (command, event, item ids)
        self.loaded = [read_process_file(f).process for f in self.files]

    def _processes(self) -> list[Process]:
        return [p for p in self.loaded if p is not None]

    def names(self, kind: str) -> set[str]:
        """The commands, conditions or timeout_processors the files name."""
        found: set[str | None] = set()
        for process in self._processes():
            if kind == "conditions":
                found |= {t.condition for t in process.transitions}
            else:
                attribute = {"commands": "command", "timeout_processors": "timeout_processor"}
                found |= {getattr(e, attribute[kind]) for e in process.events.values()}
        return found - {None}

    def _command(self, name: str):
        def command(*, order, items, event, actor):
            self.calls.append((name, event, [item.id for item in items]))
        return command

    def _condition(self, name: str):
        holds = self.holds.get(name, True)
        return lambda *, item: holds

    @staticmethod
    def _timeout_processor(*, item, event, now):
        return now + (event.timeout_delta or timedelta(hours=1))

    @hookimpl
    def register_processes(self):
        supplied = []
        for path, process in zip(self.files, self.loaded, strict=True):
            if process is not None and INITIAL_STATE not in process.states:
                process.initial_state = next(iter(process.states))
                supplied.append(process)
            else:
                supplied.append(path)  # read by the app itself, as any plugin's file
        return supplied

    @hookimpl
    def register_commands(self):
        return {name: self._command(name) for name in self.names("commands")}

    @hookimpl
    def register_conditions(self):
        return {name: self._condition(name) for name in self.names("conditions")}

    @hookimpl
    def register_timeout_processors(self):
        return {name: self._timeout_processor for name in self.names("timeout_processors")}
