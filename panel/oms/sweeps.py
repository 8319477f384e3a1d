"""Items that move by themselves: timeouts that fall due, and event-less transitions.

Both sweeps work order by order, each in its own transaction under the order's row lock
(``SKIP LOCKED`` on PostgreSQL, so several workers on several machines share the work and
every due item moves once), with the engine's rules.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from panel.extensions import db
from panel.models import EventTimeout, OrderItem, TransitionLog
from panel.models.base import utcnow
from panel.oms.engine import (
    CommandFailed,
    Run,
    load_items,
    lock_order,
    notify_plugins,
    record_failure,
)
from panel.oms.registry import current_registry


@dataclass
class SweepResult:
    orders: int = 0
    moved: int = 0
    errors: list[str] = field(default_factory=list)


# On PostgreSQL the timeout sweep commits every BATCH orders, each order in a savepoint of
# its own: a commit waits for the disk, and an order's work stays all-or-nothing. SQLite in
# WAL mode commits cheaply (and its savepoints do not mix with the driver's transactions),
# so there every order is committed alone.
BATCH = 50


def _orders_per_commit() -> int:
    return BATCH if db.session.get_bind().dialect.name == "postgresql" else 1


def _error_row(order_id: int, exc: CommandFailed, actor: str) -> TransitionLog:
    return TransitionLog(order_id=order_id, item_id=None, process_name=exc.process,
                         event=exc.event, source_state=exc.state, target_state=None,
                         command=exc.command, actor=actor, is_error=True,
                         error_message=str(exc))


def check_timeouts(*, now: datetime | None = None, limit: int | None = None,
                   actor: str = "timeout") -> SweepResult:
    """Fire every due timeout event, order by order; safe to run on several machines."""
    now = now or utcnow()
    registry = current_registry()
    due_orders = (select(EventTimeout.order_id).where(EventTimeout.due_at <= now)
                  .group_by(EventTimeout.order_id).order_by(EventTimeout.order_id))
    if limit:
        due_orders = due_orders.limit(limit)
    order_ids = list(db.session.scalars(due_orders))
    db.session.rollback()
    result = SweepResult()
    per_commit = _orders_per_commit()
    for start in range(0, len(order_ids), per_commit):
        done = []
        for order_id in order_ids[start:start + per_commit]:
            scope = db.session.begin_nested() if per_commit > 1 else None
            moved = _fire_due(order_id, registry, actor, now, scope, result)
            if moved is not None:
                done.append((order_id, moved))
        db.session.commit()
        for order_id, transitions in done:
            notify_plugins(order_id, None, transitions, actor)
    return result


def _fire_due(order_id, registry, actor, now, scope, result) -> list | None:
    """Fire one order's due timeouts; return its transitions, or None if it was not done."""

    def undo():
        if scope is not None:
            scope.rollback()
        else:
            db.session.rollback()

    order = lock_order(order_id, skip_locked=True)
    if order is None:  # another worker has it
        undo()
        return None
    rows = db.session.execute(
        select(EventTimeout.item_id, EventTimeout.event, EventTimeout.state_name)
        .where(EventTimeout.order_id == order_id, EventTimeout.due_at <= now)
        .order_by(EventTimeout.due_at, EventTimeout.id)
    ).all()
    if not rows:  # done by another worker meanwhile
        undo()
        return None
    run = Run(order, registry, actor, now)
    try:
        by_event: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            by_event[row.event].append(row.item_id)
        for event, item_ids in by_event.items():
            states = {r.state_name for r in rows if r.event == event}
            run.trigger(event, [i for i in load_items(order_id, item_ids)
                                if i.state_name in states])
        run.finish()
        if scope is not None:
            scope.commit()
    except CommandFailed as exc:
        undo()
        db.session.add(_error_row(order_id, exc, actor))
        result.errors.append(f"order #{order_id}: {exc}")
        return None
    result.orders += 1
    result.moved += len(run.moved_ids)
    return run.transitions


def check_conditions(*, now: datetime | None = None, limit: int | None = None,
                     actor: str = "condition check") -> SweepResult:
    """Take event-less transitions of items waiting in such states."""
    now = now or utcnow()
    registry = current_registry()
    result = SweepResult()
    for process in registry.processes.values():
        states = process.states_with_eventless_transitions()
        if not states:
            continue
        waiting = (select(OrderItem.order_id)
                   .where(OrderItem.process_name == process.name,
                          OrderItem.state_name.in_(states))
                   .group_by(OrderItem.order_id).order_by(OrderItem.order_id))
        if limit:
            waiting = waiting.limit(limit)
        order_ids = list(db.session.scalars(waiting))
        db.session.rollback()
        for order_id in order_ids:
            order = lock_order(order_id, skip_locked=True)
            if order is None:
                db.session.rollback()
                continue
            items = [i for i in load_items(order_id, None)
                     if i.process_name == process.name and i.state_name in states]
            run = Run(order, registry, actor, now)
            try:
                run.move_eventless(items)
                run.finish()
                db.session.commit()
            except CommandFailed as exc:
                record_failure(order_id, exc, actor)
                result.errors.append(f"order #{order_id}: {exc}")
                continue
            if run.moved_ids:
                result.orders += 1
                result.moved += len(run.moved_ids)
            notify_plugins(order_id, None, run.transitions, actor)
    return result
