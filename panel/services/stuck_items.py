"""Stuck items: the items that will not move by themselves, for the page and ``oms stuck``.

An item is stuck for one or more of three reasons:

- failed: its last command failed (its newest transition log row is an error, and it is
  still in the state the error was logged from);
- overdue: a timeout of its state is overdue by more than the sweep interval
  (``PANEL_SWEEP_INTERVAL``), so the sweep is not running or cannot fire it;
- waiting: it has been in a state that is not final (one with transitions out of it) for
  longer than its process's limit (``PANEL_STUCK_AFTER``, else ``PANEL_STUCK_AFTER_DEFAULT``).

Each reason is read from an index (the log's error rows, the timeouts' due dates, the items'
time in state per process and state). A page merges the heads of those pieces, the longest
waiting first, so that it reads about a page from each, however many items are stuck; the
total is counted exactly up to 10,000, as on every list.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import exists, select, union_all
from sqlalchemy.orm import aliased

from panel.extensions import db
from panel.models import EventTimeout, Order, OrderItem, TransitionLog
from panel.models.id_lists import among_ids
from panel.oms.registry import Registry
from panel.services.paging import COUNT_CAP, ResultPage, capped_count

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

    @property
    def overdue_before(self) -> datetime:
        return self.now - self.limits.sweep_interval

    def failed_ids(self, error: str = ""):
        """SELECT of the ids of items whose last command failed (from the log's errors)."""
        stmt = (select(TransitionLog.item_id)
                .join(OrderItem, OrderItem.id == TransitionLog.item_id)
                .where(*self._newest_error(TransitionLog)))
        if error:
            stmt = stmt.where(TransitionLog.error_message.icontains(error, autoescape=True))
        return stmt

    @staticmethod
    def _newest_error(row):
        """``row`` (the log, or an alias of it) is an error, the newest row of its item,
        logged from the state the item is in (the order id keeps look-ups on its index)."""
        later = TransitionLog.__table__.alias("later")
        return (row.is_error.is_(True), OrderItem.state_name == row.source_state,
                ~exists().where(later.c.order_id == row.order_id,
                                later.c.item_id == row.item_id, later.c.id > row.id))

    def _overdue(self, timeout):
        return (timeout.due_at < self.overdue_before,
                timeout.state_name == OrderItem.state_name)

    def overdue_ids(self):
        """SELECT of the ids of items with a timeout overdue by more than a sweep interval."""
        return (select(EventTimeout.item_id)
                .join(OrderItem, OrderItem.id == EventTimeout.item_id)
                .where(*self._overdue(EventTimeout)))

    def is_failed(self):
        """SQL: the OrderItem of the statement failed (for excluding it from a piece)."""
        error = aliased(TransitionLog)
        return exists().where(error.order_id == OrderItem.order_id,
                              error.item_id == OrderItem.id, *self._newest_error(error))

    def is_overdue(self):
        """SQL: the OrderItem of the statement has an overdue timeout."""
        timeout = aliased(EventTimeout)
        return exists().where(timeout.item_id == OrderItem.id, *self._overdue(timeout))

    def reasons_for(self, query: StuckQuery) -> list[str]:
        if query.error:  # only a failure has an error message
            return ["failed"] if query.reason in ("", "failed") else []
        return [query.reason] if query.reason else list(REASONS)

    def pieces(self, query: StuckQuery, *, disjoint: bool = False) -> list:
        """SELECTs of (id, state_entered_at) whose union is the stuck items matching
        ``query``: the failed items, the overdue ones, and the waiting ones one SELECT per
        process and open state (each a range of ix_order_item_process_state_entered, which
        yields them the longest waiting first). ``disjoint`` leaves out of each piece the
        items of the pieces before it, for counting."""
        reasons = self.reasons_for(query)
        columns = (OrderItem.id, OrderItem.state_entered_at)
        pieces, earlier = [], []
        if "failed" in reasons:
            failed = self.failed_ids(query.error)
            pieces.append(self._narrow(select(*columns).where(OrderItem.id.in_(failed)), query))
            earlier.append(self.is_failed())
        if "overdue" in reasons:
            piece = select(*columns).where(OrderItem.id.in_(self.overdue_ids()))
            if disjoint:
                piece = piece.where(*(~before for before in earlier))
            pieces.append(self._narrow(piece, query))
            earlier.append(self.is_overdue())
        if "waiting" in reasons:
            for name, state in self.open_states(query):
                piece = select(*columns).where(
                    OrderItem.process_name == name, OrderItem.state_name == state,
                    OrderItem.state_entered_at < self.now - self.limits.for_process(name))
                if disjoint:
                    piece = piece.where(*(~before for before in earlier))
                pieces.append(piece)
        return pieces

    def open_states(self, query: StuckQuery) -> list[tuple[str, str]]:
        """(process, state) of every state with a transition out, narrowed by ``query``."""
        return [(name, state)
                for name, process in sorted(self.registry.processes.items())
                if not query.process or name == query.process
                for state in sorted(process.states)
                if process.transitions_from(state) and (not query.state or state == query.state)]

    @staticmethod
    def _narrow(stmt, query: StuckQuery):
        if query.process:
            stmt = stmt.where(OrderItem.process_name == query.process)
        if query.state:
            stmt = stmt.where(OrderItem.state_name == query.state)
        return stmt

    def first(self, query: StuckQuery, count: int, skip: int = 0) -> list[int]:
        """The ids of stuck items matching ``query``, the longest waiting first: ``count``
        of them after the first ``skip``. The first ``skip + count`` of the whole list are
        among the first ``skip + count`` of each piece, so each piece reads no more."""
        pieces = self.pieces(query)
        if not pieces:
            return []
        enough = skip + count
        heads = [piece.order_by(*ORDERING).limit(enough).subquery() for piece in pieces]
        merged = union_all(*(select(head.c.id, head.c.state_entered_at)
                             for head in heads)).subquery()
        return list(db.session.scalars(
            select(merged.c.id).group_by(merged.c.id, merged.c.state_entered_at)
            .order_by(merged.c.state_entered_at, merged.c.id).offset(skip).limit(count)))

    def count(self, query: StuckQuery, cap: int = COUNT_CAP) -> int:
        """How many stuck items match ``query``, counted up to ``cap`` + 1: one statement
        over the pieces made disjoint, which stops reading at ``cap`` + 1 rows."""
        pieces = self.pieces(query, disjoint=True)
        if not pieces:
            return 0
        ids = [piece.with_only_columns(OrderItem.id) for piece in pieces]
        return capped_count(ids[0] if len(ids) == 1 else union_all(*ids), cap)


ORDERING = (OrderItem.state_entered_at, OrderItem.id)  # the longest waiting first


def find_stuck(query: StuckQuery, finder: Finder) -> ResultPage:
    """One page of stuck items, the longest waiting first; its rows are StuckRow objects."""
    ids = finder.first(query, query.per_page, (query.page - 1) * query.per_page)
    total = finder.count(query)
    return ResultPage(describe(_items(ids), finder), min(total, COUNT_CAP), total > COUNT_CAP,
                      query.page, query.per_page)


def stuck_item_ids(query: StuckQuery, finder: Finder, limit: int) -> list[int]:
    """The ids of up to ``limit`` stuck items matching ``query``, the longest waiting first."""
    return finder.first(query, limit)


def stuck_rows(query: StuckQuery, finder: Finder, limit: int) -> list[StuckRow]:
    """Up to ``limit`` stuck items matching ``query``, described, the longest waiting first."""
    return describe(_items(finder.first(query, limit)), finder)


def _items(ids: list[int]) -> list[OrderItem]:
    found = {item.id: item for item in db.session.scalars(
        select(OrderItem).where(among_ids(OrderItem.id, ids)))} if ids else {}
    return [found[item_id] for item_id in ids if item_id in found]


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


def count_by_reason(query: StuckQuery, finder: Finder,
                    cap: int = COUNT_CAP) -> dict[str, tuple[int, bool]]:
    """For each reason, how many items ``query``'s other filters leave: (count up to
    ``cap``, whether there are more)."""
    counts = {}
    for reason in REASONS:
        total = finder.count(replace(query, reason=reason), cap)
        counts[reason] = (min(total, cap), total > cap)
    return counts
