"""Stuck items: the items that will not move by themselves, for the page and ``oms stuck``.

An item is stuck for one or more of three reasons:

- failed: its last command failed (its newest transition log row is an error, and it is
  still in the state the error was logged from);
- overdue: a timeout of its state is overdue by more than the sweep interval
  (``PANEL_SWEEP_INTERVAL``), so the sweep is not running or cannot fire it;
- waiting: it has been in a state that is not final (one with transitions out of it) for
  longer than its process's limit (``PANEL_STUCK_AFTER``, else ``PANEL_STUCK_AFTER_DEFAULT``).

The list is the longest stuck first: by the moment an item became stuck (the error; the due
date plus the sweep interval; the time it entered its state plus its process's limit, the
earliest of its reasons). Each reason is read from an index in that order (the log's error
rows, the timeouts' due dates, the items' time in state per process and state), and a page
reads the heads of those pieces only, however many items are stuck; the total is counted
exactly up to 10,000, as on every list.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, false, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from panel.extensions import db
from panel.i18n import _, _l
from panel.models import EventTimeout, Order, OrderItem, TransitionLog
from panel.models.id_lists import among_ids
from panel.oms.registry import Registry
from panel.services.paging import COUNT_CAP, ResultPage, capped_count

# Reason (a value, in URLs and the CLI's filter): its label (text, in the user's language).
REASONS = {
    "failed": _l("Last command failed"),
    "overdue": _l("Timeout overdue"),
    "waiting": _l("Waiting too long"),
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
        """What is wrong with the filters, one message per bad value (in the request's
        language; English for the CLI)."""
        errors = []
        if self.reason and self.reason not in REASONS:
            errors.append(_("reason: %(value)s is not one of %(choices)s",
                            value=repr(self.reason), choices=", ".join(REASONS)))
        process = registry.processes.get(self.process) if self.process else None
        if self.process and process is None:
            errors.append(_("process: no plugin supplies a process %(value)s",
                            value=repr(self.process)))
        if self.state and process is not None and self.state not in process.states:
            errors.append(_("state: %(value)s is not a state of %(process)s",
                            value=repr(self.state), process=self.process))
        return errors


@dataclass
class StuckRow:
    item: OrderItem
    order_reference: str
    reasons: list[str]
    limit: timedelta
    since: datetime  # when it became stuck (the earliest of its reasons)
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

    def waiting_now(self):
        """SQL: the OrderItem of the statement is waiting too long (a test on its own row)."""
        by_process: dict[str, list[str]] = {}
        for name, state in self.open_states(StuckQuery()):
            by_process.setdefault(name, []).append(state)
        return or_(false(), *(and_(
            OrderItem.process_name == name, OrderItem.state_name.in_(states),
            OrderItem.state_entered_at < self.now - self.limits.for_process(name))
            for name, states in by_process.items()))

    def has_overdue(self):
        """SQL: the OrderItem of the statement has an overdue timeout (a probe of the
        timeouts' (item, event) index)."""
        timeout = aliased(EventTimeout)
        return exists().where(timeout.item_id == OrderItem.id, *self._overdue(timeout))

    def reasons_for(self, query: StuckQuery) -> list[str]:
        if query.error:  # only a failure has an error message
            return ["failed"] if query.reason in ("", "failed") else []
        return [query.reason] if query.reason else list(REASONS)

    def pieces(self, query: StuckQuery, *, disjoint: bool = False) -> list[Piece]:
        """The stuck items matching ``query``, in pieces that each read one index in the
        order of the moment its items became stuck: the failed items by the time of the
        error, the overdue ones by due date, the waiting ones one piece per process and open
        state by the time they entered it. ``disjoint`` leaves out of the failed and overdue
        pieces the items of the later pieces, for counting."""
        reasons = self.reasons_for(query)
        pieces = []
        if "failed" in reasons:
            stmt = self._narrow(self.failed_ids(query.error).add_columns(
                TransitionLog.created_at), query)
            if disjoint and "waiting" in reasons:
                stmt = stmt.where(~self.waiting_now())
            if disjoint and "overdue" in reasons:
                stmt = stmt.where(~self.has_overdue())
            pieces.append(Piece(stmt, TransitionLog.created_at, timedelta(), "failed"))
        if "overdue" in reasons:
            stmt = self._narrow(self.overdue_ids().add_columns(EventTimeout.due_at), query)
            if disjoint and "waiting" in reasons:
                stmt = stmt.where(~self.waiting_now())
            pieces.append(Piece(stmt, EventTimeout.due_at, self.limits.sweep_interval,
                                "overdue", repeats=self.timeouts_per_state()))
        if "waiting" in reasons:
            for name, state in self.open_states(query):
                limit = self.limits.for_process(name)
                stmt = select(OrderItem.id, OrderItem.state_entered_at).where(
                    OrderItem.process_name == name, OrderItem.state_name == state,
                    OrderItem.state_entered_at < self.now - limit)
                pieces.append(Piece(stmt, OrderItem.state_entered_at, limit, "waiting"))
        return pieces

    def timeouts_per_state(self) -> int:
        """The most timeout events out of one state: how often an item can be among the
        overdue timeouts."""
        return max((len(process.timeout_events_from(state))
                    for process in self.registry.processes.values()
                    for state in process.states), default=1) or 1

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

    def first(self, query: StuckQuery, count: int, skip: int = 0) -> list[tuple[int, datetime]]:
        """(item id, stuck since) of the stuck items matching ``query``, the longest stuck
        first: ``count`` of them after the first ``skip``.

        One statement reads the head of every piece (each in its index's order, so it stops
        there); an item's "stuck since" is the earliest of its pieces'. The first
        ``skip + count`` items of the whole list are among the first ``skip + count`` items
        of each piece, so no piece is read further."""
        pieces = self.pieces(query)
        if not pieces:
            return []
        enough = skip + count
        heads = []
        for number, piece in enumerate(pieces):
            head = (piece.stmt.order_by(piece.order, piece.stmt.selected_columns[0])
                    .limit(enough * piece.repeats).subquery())
            heads.append(select(literal(number).label("piece"), *head.c))
        since: dict[int, datetime] = {}
        for number, item_id, moment in db.session.execute(union_all(*heads)):
            moment = _aware(moment) + pieces[number].shift
            if item_id not in since or moment < since[item_id]:
                since[item_id] = moment
        ranked = sorted(since.items(), key=lambda pair: (pair[1], pair[0]))
        return ranked[skip:skip + count]

    def count(self, query: StuckQuery, cap: int = COUNT_CAP) -> int:
        """How many stuck items match ``query``, counted up to ``cap`` + 1, in one
        statement over the pieces made disjoint, which stops at ``cap`` + 1 rows (the
        overdue piece reads at most as many timeouts as can make ``cap`` + 1 items)."""
        parts = []
        # The waiting pieces first: each reads its index range, and they are what there is
        # most of; when they reach the cap, the rest is not read. When they do not, the
        # overdue and failed pieces skip at most that many waiting items.
        for piece in reversed(self.pieces(query, disjoint=True)):
            ids = piece.stmt.with_only_columns(piece.stmt.selected_columns[0])
            if piece.reason == "waiting":  # a row per item: the index alone can count them
                ids = piece.stmt.with_only_columns(literal(0).label("id"))
            elif piece.repeats > 1:
                ids = select(ids.limit((cap + 1) * piece.repeats).subquery().c[0]).distinct()
            parts.append(ids)
        if not parts:
            return 0
        return capped_count(parts[0] if len(parts) == 1 else union_all(*parts), cap)


@dataclass(frozen=True)
class Piece:
    """A SELECT of (item id, moment) and how its moment becomes "stuck since"."""

    stmt: Select
    order: ColumnElement
    shift: timedelta  # stuck since = moment + shift
    reason: str
    repeats: int = 1  # how many rows one item can have in it


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find_stuck(query: StuckQuery, finder: Finder) -> ResultPage:
    """One page of stuck items, the longest stuck first; its rows are StuckRow objects."""
    first = finder.first(query, query.per_page, (query.page - 1) * query.per_page)
    total = finder.count(query)
    return ResultPage(describe(first, finder), min(total, COUNT_CAP), total > COUNT_CAP,
                      query.page, query.per_page)


def stuck_item_ids(query: StuckQuery, finder: Finder, limit: int) -> list[int]:
    """The ids of up to ``limit`` stuck items matching ``query``, the longest stuck first."""
    return [item_id for item_id, _ in finder.first(query, limit)]


def stuck_rows(query: StuckQuery, finder: Finder, limit: int) -> list[StuckRow]:
    """Up to ``limit`` stuck items matching ``query``, described, the longest stuck first."""
    return describe(finder.first(query, limit), finder)


def describe(first: list[tuple[int, datetime]], finder: Finder) -> list[StuckRow]:
    """Why each item is stuck, with its last failure and first overdue timeout."""
    if not first:
        return []
    found = {item.id: item for item in db.session.scalars(
        select(OrderItem).where(among_ids(OrderItem.id, [item_id for item_id, _ in first])))}
    since = {item_id: moment for item_id, moment in first if item_id in found}
    items = [found[item_id] for item_id in since]
    ids = list(since)
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
                             reasons, limit, since[item.id], failures.get(item.id),
                             overdue.get(item.id)))
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
