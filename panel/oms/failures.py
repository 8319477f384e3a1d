"""What a failed run leaves behind: one transition log row per item it was for.

A command, condition or timeout processor that raises undoes the whole run of that order
(``panel.oms.engine``). The run's items stay where they were, and each gets an error row
that names the event that was tried on it, the state it was tried from, the command that
failed and the error. An error that happened further along (in the onEnter event of a
state the item was on its way into) says where. The Stuck items page reads these rows: an
item whose newest log row is an error is an item whose last command failed, and retrying it
tries the row's event again.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from panel.extensions import db
from panel.models import EventTimeout, OrderItem, TransitionLog
from panel.models.base import utcnow
from panel.oms.registry import Registry


@dataclass(frozen=True)
class Attempt:
    """An item a run was for, as it stood before the run: what its failure is logged as."""

    item_id: int
    process_name: str
    state_name: str
    event: str | None


def attempts_for(items: Iterable[OrderItem], event: str | None) -> list[Attempt]:
    """Read the attempts before the run: after a rollback the items' attributes are gone."""
    return [Attempt(i.id, i.process_name, i.state_name, event) for i in items]


def due_timeout_attempts(order_id: int, now: datetime) -> list[Attempt]:
    """The order's items whose timeouts fell due by ``now`` (what the timeout sweep tried),
    each with the event that fell due first (the sweep fires them in that order)."""
    rows = db.session.execute(
        select(EventTimeout.item_id, OrderItem.process_name, OrderItem.state_name,
               EventTimeout.event)
        .join(OrderItem, OrderItem.id == EventTimeout.item_id)
        .where(EventTimeout.order_id == order_id, EventTimeout.due_at <= now,
               EventTimeout.state_name == OrderItem.state_name)
        .order_by(EventTimeout.due_at, EventTimeout.id))
    first = {}
    for row in rows:
        first.setdefault(row.item_id, Attempt(*row))
    return sorted(first.values(), key=lambda attempt: attempt.item_id)


def start_attempts(order_id: int, registry: Registry) -> list[Attempt]:
    """The order's items in their process's initial state (what the start tried), each with
    that state's onEnter event."""
    attempts = []
    for item in db.session.scalars(select(OrderItem).where(OrderItem.order_id == order_id)
                                   .order_by(OrderItem.id)):
        process = registry.processes.get(item.process_name)
        if process is not None and item.state_name == process.initial_state:
            on_enter = process.on_enter_event(item.state_name)
            attempts.append(Attempt(item.id, item.process_name, item.state_name,
                                    on_enter.name if on_enter else None))
    return attempts


def error_message(exc, attempt: Attempt | None) -> str:
    """The error, and where it happened when that is not the attempt's own event and state
    (an onEnter event further along, which the whole attempt is undone for)."""
    message = str(exc)
    if attempt is not None and (exc.event, exc.state) != (attempt.event, attempt.state_name):
        message += f' (in "{exc.event or "(no event)"}" from "{exc.state}")'
    return message


def record_failure(order_id: int, exc, actor: str, *,
                   attempts: list[Attempt] | Callable[[], list[Attempt]] = (),
                   before_commit: Callable[[], None] | None = None) -> None:
    """Undo the order's run and log its error, committed: one row per item of
    ``attempts`` (a list read before the run, or a function that reads it after the
    rollback), or one row for the order when no item is known.

    ``before_commit`` runs first in the new transaction, so that what it writes is committed
    with the log rows (and a lock it takes is held from its first statement).
    """
    db.session.rollback()
    if before_commit is not None:
        before_commit()
    items = attempts() if callable(attempts) else list(attempts)
    common = {"order_id": order_id, "target_state": None, "command": exc.command,
              "actor": actor, "is_error": True, "created_at": utcnow()}  # one moment for all
    if not items:
        db.session.add(TransitionLog(process_name=exc.process, event=exc.event,
                                     source_state=exc.state, error_message=str(exc), **common))
    for attempt in items:
        db.session.add(TransitionLog(
            item_id=attempt.item_id, process_name=attempt.process_name, event=attempt.event,
            source_state=attempt.state_name, error_message=error_message(exc, attempt),
            **common))
    db.session.commit()
