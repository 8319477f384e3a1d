"""Stuck items: the items that will not move by themselves, for the page and ``oms stuck``.

An item is stuck for one or more of three reasons:

- failed: its last command failed (its newest transition log row is an error, and it is
  still in the state the error was logged from);
- overdue: a timeout of its state is overdue by more than the sweep interval
  (``PANEL_SWEEP_INTERVAL``), so the sweep is not running or cannot fire it;
- waiting: it has been in a state that is not final (one with transitions out of it) for
  longer than its process's limit (``PANEL_STUCK_AFTER``, else ``PANEL_STUCK_AFTER_DEFAULT``).

Each reason is one indexed query that yields item ids (the log's error rows, the timeouts'
due dates, the items' time in state per process and state); the list is their union, oldest
first, paged like every list.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, false, func, or_, select, union

from panel.extensions import db
from panel.models import EventTimeout, Order, OrderItem, TransitionLog
from panel.models.id_lists import among_ids
from panel.oms.registry import Registry
from panel.services.paging import ResultPage, fetch_page

REASONS = {
    "failed": "Last command failed",
    "overdue": "Timeout overdue",
    "waiting": "Waiting too long",
}


@dataclass(frozen=True)
class Limits:
    sweep_interval: timedelta
    by_process: dict[str, timedelta]
    default: timedelta

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(config["PANEL_SWEEP_INTERVAL"], dict(config["PANEL_STUCK_AFTER"]),
                   config["PANEL_STUCK_AFTER_DEFAULT"])

    def for_process(self, name: str) -> timedelta:
        return self.by_process.get(name, self.default)


@dataclass
class StuckQuery:
    process: str = ""
    state: str = ""
    error: str = ""  # a part of the error message (failed items only)
    reason: str = ""  # one of REASONS, or "" for any
    page: int = 1
    per_page: int = 25

    def check(self, registry: Registry) -> list[str]:
        """What is wrong with the filters, one message per bad value."""
        errors = []
        if self.reason and self.reason not in REASONS:
            errors.append(f"reason: {self.reason!r} is not one of {', '.join(REASONS)}")
        process = registry.processes.get(self.process) if self.process else None
        if self.process and process is None:
            errors.append(f"process: no plugin supplies a process {self.process!r}")
        if self.state and process is not None and self.state not in process.states:
            errors.append(f"state: {self.state!r} is not a state of {self.process}")
        return errors


@dataclass
class StuckRow:
    item: OrderItem
    order_reference: str
    reasons: list[str]
    limit: timedelta
    failure: TransitionLog | None = None
    overdue: tuple[str, datetime] | None = None  # the first overdue timeout: event, due at

    def waited(self, now: datetime) -> timedelta:
        return now - self.item.state_entered_at


@dataclass
class Finder:
    """The three reasons as queries, for one moment and one set of limits."""

    registry: Registry
    limits: Limits
    now: datetime
    reasons: list[str] = field(default_factory=lambda: list(REASONS))

    @property
    def overdue_before(self) -> datetime:
        return self.now - self.limits.sweep_interval

    def failed_ids(self, error: str = ""):
        later = TransitionLog.__table__.alias("later")
        stmt = (select(TransitionLog.item_id)
                .join(OrderItem, OrderItem.id == TransitionLog.item_id)
                .where(TransitionLog.is_error.is_(True),
                       OrderItem.state_name == TransitionLog.source_state,
                       ~exists().where(later.c.order_id == TransitionLog.order_id,
                                       later.c.item_id == TransitionLog.item_id,
                                       later.c.id > TransitionLog.id)))
        if error:
            stmt = stmt.where(TransitionLog.error_message.icontains(error, autoescape=True))
        return stmt

    def overdue_ids(self):
        return (select(EventTimeout.item_id)
                .join(OrderItem, OrderItem.id == EventTimeout.item_id)
                .where(EventTimeout.due_at < self.overdue_before,
                       EventTimeout.state_name == OrderItem.state_name))

    def waiting_ids(self):
        conditions = []
        for name, process in sorted(self.registry.processes.items()):
            open_states = sorted(s for s in process.states if process.transitions_from(s))
            if open_states:
                conditions.append(and_(
                    OrderItem.process_name == name, OrderItem.state_name.in_(open_states),
                    OrderItem.state_entered_at < self.now - self.limits.for_process(name)))
        return select(OrderItem.id).where(or_(false(), *conditions))

    def ids(self, query: StuckQuery):
        """A SELECT of the stuck items' ids that match ``query``'s reason and error."""
        if query.error:  # only a failure has an error message
            reasons = ["failed"] if query.reason in ("", "failed") else []
        else:
            reasons = [query.reason] if query.reason else list(REASONS)
        parts = {"failed": lambda: self.failed_ids(query.error), "overdue": self.overdue_ids,
                 "waiting": self.waiting_ids}
        selects = [parts[reason]() for reason in reasons]
        if not selects:
            return select(OrderItem.id).where(false())
        return selects[0] if len(selects) == 1 else union(*selects)

    def items(self, query: StuckQuery):
        """A SELECT of the stuck items matching ``query``."""
        stmt = select(OrderItem).where(OrderItem.id.in_(self.ids(query)))
        if query.process:
            stmt = stmt.where(OrderItem.process_name == query.process)
        if query.state:
            stmt = stmt.where(OrderItem.state_name == query.state)
        return stmt


ORDERING = (OrderItem.state_entered_at, OrderItem.id)  # the longest waiting first


def find_stuck(query: StuckQuery, finder: Finder) -> ResultPage:
    """One page of stuck items, the longest waiting first; its rows are StuckRow objects."""
    page = fetch_page(finder.items(query), ORDERING, OrderItem.id, query.page, query.per_page)
    page.rows = describe(page.rows, finder)
    return page


def stuck_item_ids(query: StuckQuery, finder: Finder, limit: int) -> list[int]:
    """The ids of up to ``limit`` stuck items matching ``query``, the longest waiting first."""
    stmt = finder.items(query).with_only_columns(OrderItem.id).order_by(*ORDERING).limit(limit)
    return list(db.session.scalars(stmt))


def stuck_rows(query: StuckQuery, finder: Finder, limit: int) -> list[StuckRow]:
    """Up to ``limit`` stuck items matching ``query``, described, the longest waiting first."""
    items = list(db.session.scalars(finder.items(query).order_by(*ORDERING).limit(limit)))
    return describe(items, finder)


def describe(items: list[OrderItem], finder: Finder) -> list[StuckRow]:
    """Why each item is stuck, with its last failure and first overdue timeout."""
    if not items:
        return []
    ids = [item.id for item in items]
    order_ids = sorted({item.order_id for item in items})
    references = dict(db.session.execute(
        select(Order.id, Order.order_reference).where(among_ids(Order.id, order_ids))).all())
    newest_errors = (finder.failed_ids()
                     .where(among_ids(TransitionLog.order_id, order_ids),
                            among_ids(TransitionLog.item_id, ids))
                     .with_only_columns(TransitionLog.id))
    failures = {row.item_id: row for row in db.session.scalars(
        select(TransitionLog).where(TransitionLog.id.in_(newest_errors)))}
    overdue: dict[int, tuple[str, datetime]] = {}
    for item_id, event, due_at in db.session.execute(
            finder.overdue_ids().where(among_ids(EventTimeout.item_id, ids))
            .with_only_columns(EventTimeout.item_id, EventTimeout.event, EventTimeout.due_at)
            .order_by(EventTimeout.due_at)):
        overdue.setdefault(item_id, (event, due_at))
    rows = []
    for item in items:
        limit = finder.limits.for_process(item.process_name)
        process = finder.registry.processes.get(item.process_name)
        reasons = []
        if item.id in failures:
            reasons.append("failed")
        if item.id in overdue:
            reasons.append("overdue")
        if (process is not None and process.transitions_from(item.state_name)
                and item.state_entered_at < finder.now - limit):
            reasons.append("waiting")
        rows.append(StuckRow(item, references.get(item.order_id, f"#{item.order_id}"),
                             reasons, limit, failures.get(item.id), overdue.get(item.id)))
    return rows


def count_by_reason(finder: Finder, cap: int = 10_000) -> dict[str, int]:
    """How many items each reason holds, counted up to ``cap`` + 1."""
    counts = {}
    for reason in REASONS:
        ids = finder.ids(StuckQuery(reason=reason)).limit(cap + 1).subquery()
        counts[reason] = db.session.scalar(select(func.count()).select_from(ids))
    return counts
