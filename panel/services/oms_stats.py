"""What the state machine pages read: items per state, and the transition log."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from panel.extensions import db
from panel.models.id_lists import among_ids
from panel.models.oms import TransitionLog
from panel.models.order import Order, OrderItem
from panel.services.paging import ResultPage, fetch_page


def item_counts(process_name: str) -> dict[str, int]:
    """Count the items of ``process_name`` per current state (states without items are absent)."""
    rows = db.session.execute(
        select(OrderItem.state_name, func.count())
        .where(OrderItem.process_name == process_name)
        .group_by(OrderItem.state_name)
    )
    return {state: count for state, count in rows}


@dataclass
class LogQuery:
    order_reference: str = ""
    event: str = ""
    errors_only: bool = False
    page: int = 1
    per_page: int = 25


@dataclass
class LogRow:
    """One transition log entry with what a person needs to read it."""

    entry: TransitionLog
    order_reference: str
    item_label: str


def _rows(entries: list[TransitionLog], order: Order | None = None) -> list[LogRow]:
    """The entries with their order's reference and their item's sku: read from ``order``
    and its loaded items when they are all of one order (View Order), else looked up."""
    order_ids = {e.order_id for e in entries}
    item_ids = {e.item_id for e in entries if e.item_id is not None}
    if order is not None and order_ids <= {order.id}:
        references = {order.id: order.order_reference}
        skus = {item.id: item.sku for item in order.items}
        item_ids -= skus.keys()  # an item of another order, if a log row names one
    else:
        references = dict(db.session.execute(
            select(Order.id, Order.order_reference).where(among_ids(Order.id, order_ids))
        ).all()) if order_ids else {}
        skus = {}
    if item_ids:
        skus.update(db.session.execute(
            select(OrderItem.id, OrderItem.sku).where(among_ids(OrderItem.id, item_ids))).all())

    def item_label(item_id: int | None) -> str:
        return "" if item_id is None else f"#{item_id} {skus.get(item_id, '')}".strip()

    return [
        LogRow(entry=e, order_reference=references.get(e.order_id, f"#{e.order_id}"),
               item_label=item_label(e.item_id))
        for e in entries
    ]


_NEWEST_FIRST = (TransitionLog.created_at.desc(), TransitionLog.id.desc())


def find_transition_log(query: LogQuery) -> ResultPage:
    """One page of the transition log, newest first; its rows are LogRow objects."""
    stmt = select(TransitionLog)
    if query.order_reference:
        stmt = stmt.join(Order, Order.id == TransitionLog.order_id).where(
            Order.order_reference == query.order_reference
        )
    if query.event:
        stmt = stmt.where(TransitionLog.event == query.event)
    if query.errors_only:
        stmt = stmt.where(TransitionLog.is_error.is_(True))
    page = fetch_page(stmt, _NEWEST_FIRST, TransitionLog.id, query.page, query.per_page)
    page.rows = _rows(page.rows)
    return page


def order_log(order: Order, limit: int = 500) -> list[LogRow]:
    """An order's own transition log, newest first (for ``templates/oms/order_log.html``);
    the order with its items loaded."""
    entries = list(db.session.scalars(
        select(TransitionLog).where(TransitionLog.order_id == order.id)
        .order_by(*_NEWEST_FIRST).limit(limit)
    ))
    return _rows(entries, order)
