"""Finding returns: Sales > Returns (search, filters, pages), an order's returns, and what
a return's items are doing now."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from panel.extensions import db
from panel.models import Order, OrderItem, Return, ReturnItem
from panel.services.order_search import starts_with, within_days
from panel.services.paging import ResultPage, fetch_page

STATES = ("", "open", "closed")


@dataclass
class ReturnQuery:
    search: str = ""  # a return reference (or its beginning), an order reference, an email
    state: str = ""  # one of STATES; "" is both
    created_from: date | None = None
    created_to: date | None = None
    page: int = 1
    per_page: int = 10


def find_returns(query: ReturnQuery) -> ResultPage:
    """Newest first. The search matches the beginning of a return reference or of the
    customer's email, or an order reference exactly; the days are UTC, both included."""
    stmt = select(Return)
    term = " ".join(query.search.split())
    if term:
        order = select(Order.id).where(Order.order_reference == term).scalar_subquery()
        stmt = stmt.where(or_(
            starts_with(Return.return_reference, term),
            starts_with(Return.customer_email, term.lower()),
            Return.order_id == order,
        ))
    if query.state:
        stmt = stmt.where(Return.state == query.state)
    stmt = stmt.where(*within_days(Return.created_at, query.created_from, query.created_to))
    return fetch_page(stmt, (Return.created_at.desc(), Return.id.desc()), Return.id,
                      query.page, query.per_page)


def returns_of(order_id: int) -> list[Return]:
    """The order's returns, newest first."""
    return list(db.session.scalars(
        select(Return).where(Return.order_id == order_id)
        .order_by(Return.created_at.desc(), Return.id.desc())
    ))


def item_states(return_ids) -> dict[int, list[str]]:
    """{return id: the distinct states its items are in now} (one query)."""
    states: dict[int, list[str]] = {}
    rows = db.session.execute(
        select(ReturnItem.return_id, OrderItem.state_name)
        .join(OrderItem, OrderItem.id == ReturnItem.order_item_id)
        .where(ReturnItem.return_id.in_(list(return_ids)))
        .order_by(ReturnItem.return_id, OrderItem.id)
    )
    for return_id, state in rows:
        known = states.setdefault(return_id, [])
        if state not in known:
            known.append(state)
    return states


def returned_items(found: Return) -> list[tuple[ReturnItem, OrderItem]]:
    """The return's lines with their order items, as the items are now."""
    rows = db.session.execute(
        select(ReturnItem, OrderItem)
        .join(OrderItem, OrderItem.id == ReturnItem.order_item_id)
        .where(ReturnItem.return_id == found.id)
        .options(joinedload(ReturnItem.reason))
        .order_by(OrderItem.id)
    )
    return [(line, item) for line, item in rows]
