"""What the XML loader and the linter say about a process: errors and warnings.

An **error** is what cannot run (the app refuses to start with one); a **warning** is what runs
but is probably a mistake (logged at start-up and shown on the process's page).
"""
from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding about one process: where it is, what is wrong, and how bad it is.

    ``source`` is where the process came from (its main file, or a plugin's name); ``file``
    and ``line`` say where the element at fault was read, when it was read from a file (an
    included file's own path for what it declares).
    """

    process: str | None
    source: str | None
    element: str
    message: str
    level: str = ERROR
    file: str | None = None
    line: int | None = None

    @property
    def is_error(self) -> bool:
        return self.level == ERROR

    @property
    def location(self) -> str:
        """``file:line`` where known, else the process and where it came from."""
        if self.file:
            return f"{self.file}:{self.line}" if self.line else self.file
        if self.process and self.source:
            return f"{self.process} ({self.source})"
        return self.process or self.source or "(unknown)"

    def __str__(self) -> str:
        return f"{self.location}: {self.element}: {self.message}"

    def with_level(self) -> str:
        """The problem as lint prints it: ``warning: file:line: element: message``."""
        return f"{self.level}: {self}"


def errors_in(problems) -> list[Problem]:
    """The errors among ``problems``, in order."""
    return [p for p in problems if p.is_error]


def warnings_in(problems) -> list[Problem]:
    """The warnings among ``problems``, in order."""
    return [p for p in problems if not p.is_error]
