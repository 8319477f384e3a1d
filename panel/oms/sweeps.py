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
from panel.locking import lock_rows
from panel.models import EventTimeout, Order, OrderItem
from panel.models.base import utcnow
from panel.models.id_lists import among_ids
from panel.oms.bulk_writer import finish_runs
from panel.oms.engine import CommandFailed, Run, in_batches, load_items, lock_order
from panel.oms.failures import attempts_for, due_timeout_attempts, record_failure
from panel.oms.registry import current_registry


@dataclass
class SweepResult:
    orders: int = 0
    moved: int = 0
    errors: list[str] = field(default_factory=list)


# The timeout sweep works BATCH orders per transaction: it locks them together, reads their
# due timeouts and items in one query each, and writes each table once for the batch. If a
# command fails, the batch is undone and done again one order per transaction, so that the
# failing order is left as it was and the others still move (engine.in_batches).
BATCH = 50


def check_timeouts(*, now: datetime | None = None, limit: int | None = None,
                   actor: str = "timeout", batch: int = BATCH) -> SweepResult:
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

    def failed(order_id: int, exc: CommandFailed) -> None:
        record_failure(order_id, exc, actor,
                       attempts=lambda: due_timeout_attempts(order_id, now))
        result.errors.append(f"order #{order_id}: {exc}")

    in_batches(order_ids, batch, lambda chunk: _fire_due(chunk, registry, actor, now, result),
               failed)
    return result


def _fire_due(order_ids: list[int], registry, actor, now, result: SweepResult) -> None:
    """Fire the due timeouts of these orders in one transaction (orders that another worker
    holds are left to it), commit, and do the runs' after-commit work; CommandFailed leaves
    it to the caller to roll back."""
    orders = lock_rows(Order, order_ids, skip_locked=True)
    due: dict[int, list] = defaultdict(list)
    if orders:
        for row in db.session.execute(
                select(EventTimeout.order_id, EventTimeout.item_id, EventTimeout.event,
                       EventTimeout.state_name)
                .where(among_ids(EventTimeout.order_id, orders), EventTimeout.due_at <= now)
                .order_by(EventTimeout.order_id, EventTimeout.due_at, EventTimeout.id)):
            due[row.order_id].append(row)
    if not due:  # taken by other workers, or done meanwhile
        db.session.rollback()
        return
    due_item_ids = [row.item_id for rows in due.values() for row in rows]
    items = {item.id: item for item in db.session.scalars(
        select(OrderItem).where(among_ids(OrderItem.id, due_item_ids))
        .execution_options(populate_existing=True))}
    runs = []
    for order_id, rows in due.items():
        run = Run(orders[order_id], registry, actor, now)
        by_event: dict[str, list] = defaultdict(list)
        for row in rows:
            by_event[row.event].append(row)
        for event, event_rows in by_event.items():
            run.trigger(event, [items[r.item_id] for r in event_rows
                                if r.item_id in items
                                and items[r.item_id].state_name == r.state_name])
        runs.append(run)
    finish_runs(runs)
    db.session.commit()
    result.orders += len(runs)
    result.moved += sum(len(run.moved_ids) for run in runs)
    for run in runs:
        run.committed(None)


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
            attempts = attempts_for(items, None)
            try:
                run.move_eventless(items)
                run.finish()
                db.session.commit()
            except CommandFailed as exc:
                record_failure(order_id, exc, actor, attempts=attempts)
                result.errors.append(f"order #{order_id}: {exc}")
                continue
            if run.moved_ids:
                result.orders += 1
                result.moved += len(run.moved_ids)
            run.committed(None)
    return result
