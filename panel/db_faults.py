"""Which database errors are faults of the moment (worth trying again) rather than bugs."""
from __future__ import annotations

from sqlalchemy import exc as sa_exc

_LOST_WORDS = ("connection", "server closed", "terminating", "could not connect",
               "connect to server", "unable to open database")


def is_unavailable(exc: sa_exc.DBAPIError) -> bool:
    """A lost connection, a database that refuses connections, or one too busy to answer
    (lock or statement timeouts, SQLite's "database is locked"): worth trying again."""
    return exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError)


def is_lost(exc: sa_exc.DBAPIError) -> bool:
    """The database could not be reached at all (as opposed to too busy to answer)."""
    if exc.connection_invalidated:
        return True
    text = str(exc.orig or "").lower()
    return any(word in text for word in _LOST_WORDS)
