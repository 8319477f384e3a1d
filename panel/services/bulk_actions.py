"""Bulk actions on orders: freeze a selection, preview an event over it, run it in batches.

- A selection's order ids are written once, by one INSERT ... SELECT of the list's filter (or
  of the ticked ids), so later orders never join it and a million matches never pass
  through Python.
- The preview is a few queries grouped by (process, state), never one per order.
- A run is started here and worked in batches by ``panel.services.bulk_batches``: one
  transaction per order that writes the order's report row with its move.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import and_, false, func, insert, literal, or_, select

from panel.extensions import db
from panel.formatting import format_number
from panel.i18n import _, _l
from panel.locking import lock_row
from panel.models import BulkRun, BulkRunOrder, Order, OrderItem, Selection, SelectionOrder
from panel.models.bulk import ERROR, MOVED, OUTCOMES, PENDING, RUN_RUNNING, SKIPPED
from panel.oms.registry import current_registry
from panel.services.order_search import OrderQuery, filtered
from panel.services.triggers import TriggerRequestError, refusal, requested_event

MAX_TICKED = 1000  # a page has at most 100 rows; more ids than this is not a page's ticks
REPORT_COLUMNS = ("#", _l("Order Reference"), _l("Outcome"), _l("Items moved"),
                  _l("Items skipped"), _l("Message"), _l("Run by"))
# An order's outcome in a run (a value, stored and in URLs): its label on the pages.
OUTCOME_LABELS = {PENDING: _l("pending"), MOVED: _l("moved"), SKIPPED: _l("skipped"),
                  ERROR: _l("error")}


class BulkError(ValueError):
    """The request cannot be done; the message says why, and nothing was saved."""


# -- selections --------------------------------------------------------------------------


def describe_query(query: OrderQuery) -> str:
    """The list's filter in words, for the selection's page. Stored with the selection, so
    it stays in English (as the order values it quotes): it is data, not page text."""
    parts = []
    if query.search:
        parts.append(f'search "{query.search}"')
    if query.states:
        parts.append("state " + ", ".join(query.states))
    if query.stores:
        parts.append("store " + ", ".join(query.stores))
    if query.payment_methods:
        parts.append("payment method " + ", ".join(query.payment_methods))
    if query.created_from or query.created_to:
        parts.append(f"created {query.created_from or '…'} to {query.created_to or '…'}")
    if query.open_reclamation:
        parts.append("with an open reclamation")
    if not parts:
        return "All orders (no filter)"
    return "All orders matching: " + "; ".join(parts)


def freeze_selection(source: list[int] | OrderQuery, user) -> Selection:
    """Write a selection of the ticked order ids, or of every order matching the filter.

    Raises BulkError for no order, too many ticked ids, or ids of orders that do not exist.
    """
    if isinstance(source, OrderQuery):
        description = describe_query(source)
        matches = filtered(source).with_only_columns(Order.id)
    else:
        ids = sorted(set(source))
        if not ids:
            raise BulkError(_("no order was ticked"))
        if len(ids) > MAX_TICKED:
            raise BulkError(_('at most %(count)s orders can be ticked; use "Select all orders '
                              'matching this filter" for more', count=format_number(MAX_TICKED)))
        description = f"{len(ids):,} ticked order{'s' if len(ids) != 1 else ''}"
        matches = select(Order.id).where(Order.id.in_(ids))
    selection = Selection(created_by_name=user.name, description=description, order_count=0)
    db.session.add(selection)
    db.session.flush()
    db.session.execute(insert(SelectionOrder).from_select(
        ["selection_id", "order_id"],
        matches.with_only_columns(literal(selection.id), Order.id),
    ))
    count = db.session.scalar(select(func.count()).select_from(SelectionOrder).where(
        SelectionOrder.selection_id == selection.id))
    if not count:
        db.session.rollback()
        raise BulkError(_("no order matches this filter") if isinstance(source, OrderQuery)
                        else _("none of the ticked orders exists"))
    if not isinstance(source, OrderQuery) and count != len(ids):
        db.session.rollback()
        raise BulkError(_("%(count)s of the ticked orders do not exist",
                          count=format_number(len(ids) - count)))
    selection.order_count = count
    db.session.commit()
    return selection


def get_selection(selection_id: int) -> Selection | None:
    return db.session.get(Selection, selection_id)


def _selected_items(selection_id: int):
    """order_item rows of the selection's orders (a join to put conditions on)."""
    return (select(OrderItem)
            .join(SelectionOrder, SelectionOrder.order_id == OrderItem.order_id)
            .where(SelectionOrder.selection_id == selection_id))


def state_groups(selection: Selection) -> list[tuple[str, str, int, int]]:
    """(process, state, items, orders) of the selection's items, one row per state."""
    stmt = (_selected_items(selection.id)
            .with_only_columns(OrderItem.process_name, OrderItem.state_name,
                               func.count(), func.count(OrderItem.order_id.distinct()))
            .group_by(OrderItem.process_name, OrderItem.state_name)
            .order_by(OrderItem.process_name, OrderItem.state_name))
    return [tuple(row) for row in db.session.execute(stmt)]


def event_choices(selection: Selection, groups=None) -> list[str]:
    """The manual events that some item of the selection can take from its state now."""
    registry = current_registry()
    names: dict[str, None] = {}
    for process_name, state, _items, _orders in groups or state_groups(selection):
        process = registry.processes.get(process_name)
        if process is not None:
            names.update(dict.fromkeys(process.manual_events_from(state)))
    return list(names)


# -- preview -----------------------------------------------------------------------------


@dataclass
class StateRow:
    process: str
    state: str
    items: int
    orders: int
    moves: bool
    targets: list[str] = field(default_factory=list)


@dataclass
class Preview:
    event: str
    orders_total: int
    orders_moving: int
    items_moving: int
    items_total: int
    states: list[StateRow]
    skip_reasons: list[tuple[str, int]]  # (why, how many orders)
    conditional: bool  # some matching transition has a condition: items may stay

    @property
    def orders_skipped(self) -> int:
        return self.orders_total - self.orders_moving

    @property
    def items_skipped(self) -> int:
        return self.items_total - self.items_moving


def _matching_condition(pairs: set[tuple[str, str]]):
    """SQL: the item's (process, state) is one of ``pairs``."""
    by_process: dict[str, list[str]] = {}
    for process_name, state in sorted(pairs):
        by_process.setdefault(process_name, []).append(state)
    if not by_process:
        return false()
    return or_(*(and_(OrderItem.process_name == p, OrderItem.state_name.in_(states))
                 for p, states in by_process.items()))


def check_event(selection: Selection, event: str, groups=None) -> str:
    """The event, if some item of the selection can take it by hand now; else BulkError."""
    try:
        event = requested_event(event)
    except TriggerRequestError as exc:
        raise BulkError(str(exc)) from None
    choices = event_choices(selection, groups)
    if event not in choices:
        offered = ", ".join(f'"{e}"' for e in choices) or _("none")
        raise BulkError(_('"%(event)s" is not an event that an item of these orders can take '
                          "by hand now (possible: %(offered)s)", event=event, offered=offered))
    return event


def preview(selection: Selection, event: str, groups=None) -> Preview:
    """What triggering ``event`` would do: orders and items that move, and what is skipped.

    ``groups`` are the selection's state_groups, if the caller has them already.
    """
    groups = groups if groups is not None else state_groups(selection)
    event = check_event(selection, event, groups)
    registry = current_registry()
    rows, pairs, conditional = [], set(), False
    for process_name, state, items, orders in groups:
        process = registry.processes.get(process_name)
        moves = process is not None and process.has_event(state, event)
        targets = []
        if moves:
            pairs.add((process_name, state))
            transitions = process.transitions_for(state, event)
            targets = list(dict.fromkeys(t.target for t in transitions))
            conditional = conditional or any(t.condition for t in transitions)
        rows.append(StateRow(process_name, state, items, orders, moves, targets))
    moving = db.session.execute(
        _selected_items(selection.id)
        .with_only_columns(func.count(OrderItem.order_id.distinct()), func.count())
        .where(_matching_condition(pairs))
    ).one()
    orders_moving, items_moving = moving[0] or 0, moving[1] or 0
    skipped = selection.order_count - orders_moving
    reasons = []
    if skipped:
        reasons.append((_("no item in a state that takes '%(event)s'", event=event), skipped))
    return Preview(
        event=event, orders_total=selection.order_count, orders_moving=orders_moving,
        items_moving=items_moving, items_total=sum(r.items for r in rows), states=rows,
        skip_reasons=reasons, conditional=conditional,
    )


# -- runs --------------------------------------------------------------------------------


def start_run(selection: Selection, event: str, user) -> BulkRun:
    """A run of ``event`` over the selection; every order waits as pending."""
    # Take the selection's row lock (SQLite: the write lock) first, so that two presses of
    # Confirm at once start one run, not two.
    lock_row(Selection, selection.id)
    try:
        event = check_event(selection, event)
        reason = refusal(user, event)
        if reason:
            raise BulkError(reason)
    except BulkError:
        db.session.rollback()
        raise
    going = db.session.scalar(select(BulkRun.id).where(
        BulkRun.selection_id == selection.id, BulkRun.status == RUN_RUNNING))
    if going is not None:
        db.session.rollback()
        raise BulkError(_("run #%(id)s of this selection has not finished yet", id=going))
    run = BulkRun(selection_id=selection.id, event=event, created_by_name=user.name,
                  status=RUN_RUNNING, done_orders=0, total_orders=selection.order_count)
    db.session.add(run)
    db.session.flush()
    db.session.execute(insert(BulkRunOrder).from_select(
        ["run_id", "order_id", "outcome", "moved", "skipped"],
        select(literal(run.id), SelectionOrder.order_id, literal(PENDING), literal(0),
               literal(0)).where(SelectionOrder.selection_id == selection.id),
    ))
    db.session.commit()
    return run


def get_run(run_id: int, selection_id: int | None = None) -> BulkRun | None:
    """The run, or None when there is none (or it belongs to another selection)."""
    run = db.session.get(BulkRun, run_id)
    if run is None or (selection_id is not None and run.selection_id != selection_id):
        return None
    return run


# -- the report --------------------------------------------------------------------------


def outcome_counts(run: BulkRun) -> dict[str, int]:
    rows = db.session.execute(
        select(BulkRunOrder.outcome, func.count()).where(BulkRunOrder.run_id == run.id)
        .group_by(BulkRunOrder.outcome)
    ).all()
    counts = dict.fromkeys(OUTCOMES, 0)
    counts.update({outcome: count for outcome, count in rows})
    return counts


def _report_query(run: BulkRun, outcome: str | None = None):
    stmt = (select(BulkRunOrder.order_id, Order.order_reference, BulkRunOrder.outcome,
                   BulkRunOrder.moved, BulkRunOrder.skipped, BulkRunOrder.message,
                   BulkRunOrder.actor)
            .join(Order, Order.id == BulkRunOrder.order_id)
            .where(BulkRunOrder.run_id == run.id))
    if outcome:
        stmt = stmt.where(BulkRunOrder.outcome == outcome)
    return stmt.order_by(BulkRunOrder.order_id)


def report_page(run: BulkRun, outcome: str | None, page: int, per_page: int = 100) -> list:
    """One page of the report's rows (order id, reference, outcome, moved, skipped, message,
    who ran it)."""
    stmt = _report_query(run, outcome).limit(per_page).offset((max(1, page) - 1) * per_page)
    return list(db.session.execute(stmt))


def report_rows(run: BulkRun, batch: int = 1000) -> Iterator[tuple]:
    """Every row of the report, in order id order, fetched in batches (for the CSV)."""
    result = db.session.execute(_report_query(run).execution_options(yield_per=batch))
    for row in result:
        yield tuple(row)


def iter_selection_orders(selection: Selection, batch: int = 1000) -> Iterator[Order]:
    """The selection's orders, newest first as in the list, fetched in batches."""
    stmt = (select(Order)
            .join(SelectionOrder, SelectionOrder.order_id == Order.id)
            .where(SelectionOrder.selection_id == selection.id)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .execution_options(yield_per=batch))
    yield from db.session.execute(stmt).scalars()


def latest_runs(limit: int = 20) -> list[BulkRun]:
    return list(db.session.scalars(select(BulkRun).order_by(BulkRun.id.desc()).limit(limit)))


def runs_of(selection: Selection) -> list[BulkRun]:
    return list(db.session.scalars(select(BulkRun).where(BulkRun.selection_id == selection.id)
                                   .order_by(BulkRun.id.desc())))
