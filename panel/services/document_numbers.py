"""Document numbers without gaps: ``INV-DE-2026-000001``, ``CN-DE-2026-000001``.

Each kind of document counts per store and calendar year (UTC) from 1. The counter row is
locked (``panel.locking.lock_row``) in the transaction that inserts the document and stays
locked until it ends: two issues in one store wait for each other, and an issue that fails
rolls its number back with everything else, so the next document takes that number.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from panel.extensions import db
from panel.locking import lock_row
from panel.models.document import CREDIT_NOTE, INVOICE, DocumentCounter

PREFIXES = {INVOICE: "INV", CREDIT_NOTE: "CN"}


def format_number(kind: str, store: str, year: int, sequence: int) -> str:
    """The number a document shows: prefix, store, year and a six-digit sequence."""
    return f"{PREFIXES[kind]}-{store}-{year}-{sequence:06d}"


def next_number(kind: str, store: str, year: int) -> tuple[int, str]:
    """Take the next sequence of ``kind`` in ``store`` and ``year``; return it with its
    number. The counter stays locked until the caller's transaction ends."""
    dialect_insert = (postgresql.insert if db.session.get_bind().dialect.name == "postgresql"
                      else sqlite.insert)
    # The first document of a kind, store and year makes its counter; one made meanwhile by
    # another transaction is waited for and used.
    db.session.execute(
        dialect_insert(DocumentCounter)
        .values(kind=kind, store=store, year=year, last_sequence=0)
        .on_conflict_do_nothing(index_elements=["kind", "store", "year"]))
    counter_id = db.session.scalar(select(DocumentCounter.id).where(
        DocumentCounter.kind == kind, DocumentCounter.store == store,
        DocumentCounter.year == year))
    counter = lock_row(DocumentCounter, counter_id)
    counter.last_sequence += 1
    return counter.last_sequence, format_number(kind, store, year, counter.last_sequence)
