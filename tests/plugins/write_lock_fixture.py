"""A plugin for fault tests on SQLite: once a chosen number of orders have moved, another
process takes the database's write lock (``BEGIN EXCLUSIVE``) and keeps it until released.

Its ``items_transitioned`` hook runs after each order's commit, so the lock is taken between
two orders of a bulk batch, at the point the test chose, and the batch meets it at its next
write. Nothing happens until a test arms it with ``WriteLock.arm``.
"""
from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa

from panel import hookimpl

HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()  # hold it until the test lets go
connection.execute("ROLLBACK")
"""

ARMED: list[WriteLock] = []


class WriteLock:
    """The write lock of one SQLite file, taken by another process after ``moves`` moves."""

    def __init__(self, path: str, moves: int):
        self.path, self.countdown = path, moves
        self.process: subprocess.Popen | None = None

    @classmethod
    def arm(cls, database_url: str, moves: int) -> WriteLock:
        """Take the lock of the database at ``database_url`` after ``moves`` orders moved."""
        lock = cls(database_url.removeprefix("sqlite:///"), moves)
        ARMED.append(lock)
        return lock

    @property
    def held(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def order_moved(self) -> None:
        self.countdown -= 1
        if self.countdown == 0:
            self.take()

    def take(self) -> None:
        """Start the holder and return once it holds the lock."""
        self.process = subprocess.Popen([sys.executable, "-c", HOLDER, self.path],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        answer = self.process.stdout.readline().strip()
        assert answer == "locked", f"the lock holder said {answer!r}"

    def release(self) -> None:
        """Let go of the lock (if it was taken) and wait for the holder to end."""
        if self in ARMED:
            ARMED.remove(self)
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.stdin.write("\n")
            self.process.stdin.flush()
        self.process.wait(timeout=60)
        self.process.stdin.close()
        self.process.stdout.close()
        assert self.process.returncode == 0, self.process.returncode


def shorten_busy_timeout(engine: sa.Engine, milliseconds: int) -> None:
    """Make the engine's new connections wait ``milliseconds`` for a write lock instead of
    the panel's ten seconds (this listener runs after the panel's own), and drop the pooled
    ones, which still wait the ten seconds."""

    def lower(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(milliseconds)}")
        cursor.close()

    sa.event.listen(engine, "connect", lower)
    engine.dispose()


@hookimpl
def items_transitioned(order_id, event, transitions, actor):
    """Count a committed move towards every armed lock."""
    for lock in list(ARMED):
        lock.order_moved()
