"""Retrying stuck items by hand (Administration > Stuck items, ``oms stuck --retry``).

Each order's items are retried in one transaction under the order's lock, by the engine's
rules, and what the retry does goes to the transition log under the name of whoever asked.
Each item gets one step, the first of these that applies:

- its last command failed (its newest log row is an error): that row's event again; a start
  that failed starts again, a failed check of event-less transitions is checked again;
- a timeout of its state is due: the timeout's event, as the sweep would fire it;
- its state has event-less transitions: they are checked, and a stay is logged;
- otherwise it waits for an event someone must trigger: the retry leaves it and says which.

A command that fails undoes that order's retry and is logged per item, as any run's failure
(``panel.oms.failures``); the other orders are retried all the same.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from panel.extensions import db
from panel.models import EventTimeout, OrderItem, TransitionLog
from panel.models.base import utcnow
from panel.models.id_lists import among_ids
from panel.oms.definitions import Process
from panel.oms.engine import CommandFailed, Run, load_items, lock_order
from panel.oms.failures import Attempt, record_failure
from panel.oms.registry import Registry, current_registry


@dataclass(frozen=True)
class Step:
    """What a retry does for one item: ``kind`` is start, event, timeout, check or wait."""

    kind: str
    event: str | None = None


@dataclass
class RetryReport:
    asked: int = 0
    moved: int = 0
    stayed: int = 0
    failed: dict[int, str] = field(default_factory=dict)  # order id: the error
    waiting: dict[int, str] = field(default_factory=dict)  # item id: why it was left
    missing: int = 0  # items that no longer exist

    @property
    def message(self) -> str:
        parts = [f"Retried {_items(self.asked)}: {self.moved} moved, {self.stayed} stayed "
                 "(no condition held)"]
        if self.failed:
            failed_orders = ", ".join(f"#{order_id}: {error}"
                                      for order_id, error in sorted(self.failed.items())[:3])
            more = len(self.failed) - 3
            parts.append(f"failed in {len(self.failed)} order(s) ({failed_orders}"
                         + (f", and {more} more" if more > 0 else "") + ")")
        if self.waiting:
            parts.append(f"{_items(len(self.waiting))} left waiting for an event")
        if self.missing:
            parts.append(f"{_items(self.missing)} no longer exist")
        return "; ".join(parts) + "."


def _items(n: int) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


def last_failures(order_id: int, item_ids: Iterable[int]) -> dict[int, TransitionLog]:
    """The items' newest log rows where those are errors: {item id: row}."""
    ids = list(item_ids)
    newest = (select(func.max(TransitionLog.id))
              .where(TransitionLog.order_id == order_id, among_ids(TransitionLog.item_id, ids))
              .group_by(TransitionLog.item_id))
    rows = db.session.scalars(select(TransitionLog).where(
        TransitionLog.id.in_(newest), TransitionLog.is_error.is_(True)))
    return {row.item_id: row for row in rows}


def due_timeouts(order_id: int, now: datetime) -> dict[int, list[tuple[str, str]]]:
    """{item id: [(event, state), ...]} of the order's timeouts due by ``now``."""
    due: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for item_id, event, state in db.session.execute(
            select(EventTimeout.item_id, EventTimeout.event, EventTimeout.state_name)
            .where(EventTimeout.order_id == order_id, EventTimeout.due_at <= now)
            .order_by(EventTimeout.due_at, EventTimeout.id)):
        due[item_id].append((event, state))
    return due


def plan_step(item: OrderItem, process: Process, failure: TransitionLog | None,
              due: list[tuple[str, str]], has_timeouts: bool) -> Step:
    """The one step a retry takes for ``item`` (see the module's docstring)."""
    state = item.state_name
    if failure is not None and failure.source_state == state:
        on_enter = process.on_enter_event(state)
        on_enter_name = on_enter.name if on_enter else None
        if (state == process.initial_state and not has_timeouts
                and failure.event == on_enter_name):
            return Step("start", on_enter_name)
        if failure.event is None:
            return Step("check")
        if process.has_event(state, failure.event):
            return Step("event", failure.event)
    for event, due_state in due:
        if due_state == state and process.has_event(state, event):
            return Step("timeout", event)
    if process.has_eventless_transitions(state):
        return Step("check")
    return Step("wait")


def waiting_reason(item: OrderItem, process: Process) -> str:
    events = [e.name for e in process.events_from(item.state_name)]
    if not events:
        return f'"{item.state_name}" is a final state'
    return (f'"{item.state_name}" waits for an event: '
            + ", ".join(f'"{name}"' for name in events))


def retry_items(item_ids: Iterable[int], *, actor: str, now: datetime | None = None,
                registry: Registry | None = None) -> RetryReport:
    """Retry the items of ``item_ids``, order by order (see the module's docstring)."""
    registry = registry or current_registry()
    now = now or utcnow()
    ids = sorted(set(item_ids))
    report = RetryReport(asked=len(ids))
    by_order: dict[int, list[int]] = defaultdict(list)
    for item_id, order_id in db.session.execute(
            select(OrderItem.id, OrderItem.order_id).where(among_ids(OrderItem.id, ids))):
        by_order[order_id].append(item_id)
    db.session.rollback()
    report.missing = len(ids) - sum(map(len, by_order.values()))
    for order_id in sorted(by_order):
        _retry_order(order_id, by_order[order_id], actor, now, registry, report)
    return report


def _retry_order(order_id: int, item_ids: list[int], actor: str, now: datetime,
                 registry: Registry, report: RetryReport) -> None:
    order = lock_order(order_id)
    if order is None:
        db.session.rollback()
        report.missing += len(item_ids)
        return
    items = load_items(order_id, item_ids)
    report.missing += len(item_ids) - len(items)
    failures = last_failures(order_id, item_ids)
    due = due_timeouts(order_id, now)
    with_timeouts = set(db.session.scalars(select(EventTimeout.item_id).where(
        EventTimeout.order_id == order_id)))
    steps: dict[Step, list[OrderItem]] = defaultdict(list)
    for item in items:
        process = registry.processes.get(item.process_name)
        if process is None:
            report.waiting[item.id] = f"no plugin supplies its process {item.process_name}"
            continue
        step = plan_step(item, process, failures.get(item.id), due.get(item.id, []),
                         item.id in with_timeouts)
        if step.kind == "wait":
            report.waiting[item.id] = waiting_reason(item, process)
        else:
            steps[step].append(item)
    if not steps:
        db.session.rollback()
        return
    attempts = [Attempt(i.id, i.process_name, i.state_name, step.event)
                for step, group in steps.items() for i in group]
    requested = [i.id for group in steps.values() for i in group]
    run = Run(order, registry, actor, now)
    stayed = 0
    try:
        for step, group in steps.items():
            if step.kind == "start":
                run.start(group)
            elif step.kind == "check":
                stayed += run.move_eventless(group, log_stays=True)
            else:
                stayed += run.trigger(step.event, group)[1]
        run.finish()
        db.session.commit()
    except CommandFailed as exc:
        record_failure(order_id, exc, actor, attempts=attempts)
        report.failed[order_id] = str(exc)
        return
    report.moved += len(set(requested) & set(run.moved_ids))
    report.stayed += stayed
    run.committed(None)
