"""One timeline per order: everything that happened to it, newest first, by kind."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import select

from panel.extensions import db
from panel.i18n import _l
from panel.models import AddressChange, Comment, OutboundEmail, Reclamation, Return, TransitionLog

KINDS = {
    "state": _l("State changes"),
    "comment": _l("Comments"),
    "email": _l("Emails"),
    "address": _l("Address edits"),
    "reclamation": _l("Reclamations"),
    "return": _l("Returns"),
}


@dataclass
class StateChange:
    """One trigger's moves of several items from one state to another."""

    event: str | None
    source: str
    target: str | None
    items: int
    actor: str
    is_error: bool
    error_message: str | None


@dataclass
class Entry:
    at: datetime
    kind: str  # a key of KINDS
    what: str  # a finer label: "opened", "closed", ...
    record: object


def _state_changes(order_id: int) -> list[Entry]:
    # Plain rows of the grouped columns: an order of 100 items has hundreds of log rows.
    rows = db.session.execute(
        select(TransitionLog.created_at, TransitionLog.event, TransitionLog.source_state,
               TransitionLog.target_state, TransitionLog.actor, TransitionLog.is_error,
               TransitionLog.error_message)
        .where(TransitionLog.order_id == order_id)
        .order_by(TransitionLog.created_at, TransitionLog.id)
    ).all()

    entries = []
    for (at, event, source, target, actor, is_error, error), group in groupby(rows, key=tuple):
        count = sum(1 for _ in group)
        entries.append(Entry(at, "state", "error" if is_error else "moved",
                             StateChange(event, source, target, count, actor, is_error, error)))
    return entries


def timeline(order_id: int, kinds: set[str] | None, *, comments: list[Comment],
             reclamations: list[Reclamation], returns: list[Return]) -> list[Entry]:
    """The order's timeline, newest first; ``kinds`` keeps only some kinds. The order's
    comments, reclamations and returns come from the caller, which shows them on the page
    too."""
    wanted = kinds or set(KINDS)
    entries: list[Entry] = []
    if "state" in wanted:
        entries += _state_changes(order_id)
    if "comment" in wanted:
        entries += [Entry(c.created_at, "comment", "comment", c) for c in comments]
    if "email" in wanted:
        entries += [Entry(m.created_at, "email", m.status, m) for m in db.session.scalars(
            select(OutboundEmail).where(OutboundEmail.order_id == order_id))]
    if "address" in wanted:
        entries += [Entry(a.created_at, "address", a.address_role, a) for a in db.session.scalars(
            select(AddressChange).where(AddressChange.order_id == order_id))]
    if "reclamation" in wanted:
        for r in reclamations:
            entries.append(Entry(r.created_at, "reclamation", "opened", r))
            if r.closed_at:
                entries.append(Entry(r.closed_at, "reclamation", "closed", r))
    if "return" in wanted:
        for found in returns:
            entries.append(Entry(found.created_at, "return", "made", found))
            if found.closed_at:
                entries.append(Entry(found.closed_at, "return", "closed", found))
    return sorted(entries, key=lambda e: e.at, reverse=True)
