"""The processes, commands, conditions and timeout processors an app's plugins supplied."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app

from panel.oms.definitions import Process

EXTENSION_KEY = "panel.oms"


@dataclass
class Registry:
    processes: dict[str, Process] = field(default_factory=dict)
    commands: dict[str, Callable] = field(default_factory=dict)
    conditions: dict[str, Callable] = field(default_factory=dict)
    timeout_processors: dict[str, Callable] = field(default_factory=dict)
    # Manual events that need a role above agent: {event name: least role}
    event_roles: dict[str, str] = field(default_factory=dict)
    # Which plugin supplied what: {"process": {name: plugin}, "command": {...}, ...}
    suppliers: dict[str, dict[str, str]] = field(default_factory=dict)
    # What lint warns about in each process (errors stop the app): {process name: [Problem]}
    warnings: dict[str, list] = field(default_factory=dict)
    # Where each process comes from, as the pages show it (never a server's absolute path):
    # {process name: "processes/DefaultOrder01.xml"}, the path inside the plugin's folder.
    source_paths: dict[str, str] = field(default_factory=dict)

    def process(self, name: str) -> Process:
        try:
            return self.processes[name]
        except KeyError:
            raise LookupError(f"no plugin supplies the process {name!r}") from None


def current_registry() -> Registry:
    """The registry of the running app (built once in create_app)."""
    return current_app.extensions[EXTENSION_KEY]
