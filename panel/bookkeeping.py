"""Writes that note something in passing ("last used", "last seen") while a request reads.

They go on a connection of their own and commit at once, so the request's transaction stays
the request's (a failure later in it is not a failure after something was saved, and a
rollback does not lose the note), and they never wait for a busy database: SQLite locked by
a writer, the note is skipped; it is written on a later request.
"""
from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from panel.extensions import db

log = logging.getLogger("panel.bookkeeping")


def write_in_passing(statement) -> bool:
    """Execute ``statement`` (an UPDATE) and commit it on a connection of its own; return
    whether it was written."""
    try:
        with db.engine.connect() as connection:
            wait = None
            if connection.dialect.name == "sqlite":
                wait = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
                connection.exec_driver_sql("PRAGMA busy_timeout=0")
            try:
                connection.execute(statement)
                connection.commit()
            finally:
                if wait is not None:
                    connection.rollback()
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={int(wait)}")
    except OperationalError as exc:
        log.info("skipped a note in passing: %s",
                 str(exc.orig).strip() or type(exc.orig).__name__)
        return False
    return True
