"""Finding orders: the filters, search, sort and paging of Sales > Orders, and its CSV export.

Every filter and search condition here can use an index: search is exact or prefix on
lower-cased columns, the state filter goes through the items' (state_name, order_created_at,
order_id) index, and the total is
counted only up to COUNT_CAP rows; every sort has an index with the id as tie-breaker.
"""
from __future__ import annotations

import time as time_
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, literal_column, or_, select, text, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.functions import FunctionElement

from panel.extensions import db
from panel.models import Order, OrderItem
from panel.models.id_lists import among_ids
from panel.services.paging import COUNT_CAP, ResultPage, capped_count, fetch_page

PREFIX_END = "\U0010ffff"  # sorts after every character: [t, t + PREFIX_END) is "starts with t"

SORTS = {
    "created": Order.created_at,
    "id": Order.id,
    "reference": Order.order_reference,
    "email": Order.email,
    "grand_total": Order.grand_total,
    "items": Order.item_count,
}
DEFAULT_SORT = "created"


@dataclass
class OrderQuery:
    """What the user asked the orders list for."""

    search: str = ""
    states: list[str] = field(default_factory=list)
    # Only items of this process count for ``states`` (the dashboard's per-process counts
    # link here); alone, orders with an item of the process.
    process: str = ""
    stores: list[str] = field(default_factory=list)
    payment_methods: list[str] = field(default_factory=list)
    created_from: date | None = None
    created_to: date | None = None
    open_reclamation: bool = False
    sort: str = DEFAULT_SORT
    descending: bool = True
    page: int = 1
    per_page: int = 10
    # The columns shown, in order (panel.services.order_columns); none: the default ones.
    columns: list[str] = field(default_factory=list)


class code_point_order(FunctionElement):  # noqa: N801 - used like a SQL function
    """An expression compared in code point order: ``COLLATE "C"`` on PostgreSQL (where the
    database's collation may order otherwise), itself on SQLite (which always does)."""

    inherit_cache = True
    name = "code_point_order"

    @property
    def type(self):
        return self.clauses.clauses[0].type


@compiles(code_point_order, "postgresql")
def _code_point_order_postgresql(element, compiler, **kw):
    return f'({compiler.process(element.clauses.clauses[0], **kw)}) COLLATE "C"'


@compiles(code_point_order)
def _code_point_order_other(element, compiler, **kw):
    return compiler.process(element.clauses.clauses[0], **kw)


def starts_with(column, prefix: str):
    """``column`` begins with ``prefix``, as a range an ordinary B-tree index serves: in
    code point order, which the searched columns have on PostgreSQL too
    (``panel.models.base.searchable_string``); an expression such as ``lower(name)`` is
    compared in that order, though no index serves it."""
    if not isinstance(column, InstrumentedAttribute):
        column = code_point_order(column)
    return and_(column >= prefix, column < prefix + PREFIX_END)


def unindexed(column):
    """The column's value as an expression no index matches (``column || ''``): a condition
    on it is checked row by row along whatever index the query walks for its sort."""
    return column.op("||")(literal_column("''"))


def _search_columns(term: str, table) -> list[tuple]:
    """(column of ``table``, the value it must start with) for each searched column."""
    term = " ".join(term.split())
    lowered = term.lower()
    return [(table.order_reference, term), (table.email, lowered),
            (table.search_full_name, lowered), (table.search_last_name, lowered)]


def search_conditions(term: str, *, indexed: bool = True) -> list:
    """Exact or prefix match on order reference, email and customer name, one condition per
    indexed column (none for a blank term); ``indexed=False``: the same conditions, for
    checking along the sort's index instead of gathering the matches from their own."""
    if not term.strip():
        return []
    columns = _search_columns(term, Order)
    if indexed:
        return [starts_with(column, value) for column, value in columns]
    return [and_(unindexed(column) >= value, unindexed(column) < value + PREFIX_END)
            for column, value in columns]


def search_condition(term: str):
    conditions = search_conditions(term)
    return or_(*conditions) if conditions else None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def within_days(column, first: date | None, last: date | None) -> list:
    """Conditions for a UTC timestamp ``column`` to fall on the days ``first`` to ``last``,
    both included (none for an open end). The days come from ``panel.params.read_day``,
    whose range leaves room for the day after ``last``."""
    conditions = []
    if first:
        conditions.append(column >= _day_start(first))
    if last:
        conditions.append(column < _day_start(last + timedelta(days=1)))
    return conditions


def filtered(query: OrderQuery):
    """The SELECT of orders matching the query, unsorted and unpaged."""
    stmt = select(Order)
    condition = search_condition(query.search)
    if condition is not None:
        stmt = stmt.where(condition)
    if query.states or query.process:
        stmt = stmt.where(exists().where(OrderItem.order_id == Order.id, *item_conditions(query)))
    if query.stores:
        stmt = stmt.where(Order.store.in_(query.stores))
    if query.payment_methods:
        stmt = stmt.where(Order.payment_method.in_(query.payment_methods))
    if query.open_reclamation:
        stmt = stmt.where(Order.open_reclamations > 0)
    return stmt.where(*within_days(Order.created_at, query.created_from, query.created_to))


def item_conditions(query: OrderQuery) -> list:
    """What an order's item must be for the state and process filters."""
    conditions = []
    if query.states:
        conditions.append(OrderItem.state_name.in_(query.states))
    if query.process:
        conditions.append(OrderItem.process_name == query.process)
    return conditions


def ordering(query: OrderQuery) -> tuple:
    """The sort the user chose, with the id as a tie-breaker so pages never overlap."""
    column = SORTS.get(query.sort, SORTS[DEFAULT_SORT])
    if query.descending:
        return column.desc(), Order.id.desc()
    return column.asc(), Order.id.asc()


# A search matching fewer orders than this is resolved to its ids first (see find_orders).
NARROW_SEARCH = 2000


def find_orders(query: OrderQuery) -> ResultPage:
    """One page of matching orders, with the count of all matches up to COUNT_CAP.

    Two shapes of query are steered, because a planner guessing from a LIMIT gets them
    wrong at a million rows:

    - a search that matches few orders (an exact reference, a rare name) is first turned
      into its ids through the search columns' indexes, then those orders are sorted here:
      otherwise the database walks the whole date index looking for ten matches;
    - a search that matches many orders ("a", a store's reference prefix) walks the sort's
      index checking each order, and says "2,000+" instead of counting on to 10,000:
      otherwise the database gathers every match from the search indexes and sorts them;
    - a filter by state alone is counted from the (state, order) index of the items.
    """
    if len(query.states) == 1 and query.sort == "created" and not query.search.strip():
        return _find_in_one_state(query)
    stmt = filtered(query)
    condition = search_condition(query.search)
    total, cap = None, None
    if condition is not None:
        ids = _narrow_search_ids(query.search)
        if ids is not None:
            return _page_of_few(query, ids)
        if not _only_search(query):
            pass  # other filters narrow it further: count those matches the usual way
        else:  # a broad search: say "2,000+" rather than count on to 10,000
            if query.sort == "created":
                return _newest_of_many(query)
            # Another sort: walk its index and check each order.
            stmt = filtered(replace(query, search="")).where(
                or_(*search_conditions(query.search, indexed=False)))
            total, cap = NARROW_SEARCH + 1, NARROW_SEARCH
    elif query.states and _only_states(query):
        distinct_orders = (select(OrderItem.order_id)
                           .where(*item_conditions(query))
                           .distinct().limit(COUNT_CAP + 1).subquery())
        total = db.session.scalar(select(func.count()).select_from(distinct_orders))
    return fetch_page(stmt, ordering(query), Order.id, query.page, query.per_page, total=total,
                      cap=cap, count_key=("orders", *filter_key(query)))


# A broad search first looks for its page among this many newest orders.
RECENT_ROWS = 2000


def _newest_of_many(query: OrderQuery) -> ResultPage:
    """One page of a broad search (some column matches over NARROW_SEARCH orders), by date.

    First among the RECENT_ROWS newest orders, checked one by one along the date index: a
    common name or "a" has its page there. Matches that are not recent (a store's
    reference prefix such as DE--1 names old orders) are taken from each search column's
    (column, created_at, id) index alone, the newest of each column first, and merged here:
    reading the index entries of every match (tried by hand on SQLite at a million orders:
    about 45 ms for DE--1's 111,000 matches, 10 ms for DE--7's), where going through the date
    index read most of the table (0.8 s) and gathering the matches' rows reads every row.
    """
    page = max(1, query.page)
    wanted = page * query.per_page
    if query.descending:
        recent = (select(Order.id, Order.created_at, Order.order_reference, Order.email,
                         Order.search_full_name, Order.search_last_name)
                  .order_by(Order.created_at.desc(), Order.id.desc())
                  .limit(RECENT_ROWS).subquery())
        matching = [and_(column >= value, column < value + PREFIX_END)
                    for column, value in _search_columns(query.search, recent.c)]
        found = [(row.created_at, row.id) for row in db.session.execute(
            select(recent.c.id, recent.c.created_at).where(or_(*matching))
            .order_by(recent.c.created_at.desc(), recent.c.id.desc()).limit(wanted))]
    else:
        found = []
    if len(found) < wanted:
        merged: set[tuple] = set()
        for n, (column, value) in enumerate(_search_columns(query.search, Order)):
            # MATERIALIZED: every match from the column's index first, then the newest of
            # them; a planner left to itself would walk the date index for the LIMIT.
            matches = (select(Order.created_at, Order.id).where(starts_with(column, value))
                       .cte(f"matches_{n}").prefix_with("MATERIALIZED"))
            merged.update((row[0], row[1]) for row in db.session.execute(
                select(matches.c.created_at, matches.c.id)
                .order_by(*(matches.c.created_at.desc(), matches.c.id.desc())
                            if query.descending else
                            (matches.c.created_at.asc(), matches.c.id.asc()))
                .limit(wanted)))
        found = sorted(merged, reverse=query.descending)[:wanted]
    page_ids = [order_id for _, order_id in found[(page - 1) * query.per_page:wanted]]
    return ResultPage(_orders_in_order(page_ids), NARROW_SEARCH, True, page, query.per_page)


def _page_of_few(query: OrderQuery, ids: set[int]) -> ResultPage:
    """One page of the orders among ``ids`` (at most NARROW_SEARCH) that the other filters
    let through, sorted here: each is fetched by its id with its sort value, then the page
    is loaded. Asked to sort and limit, PostgreSQL would walk the sort's index testing every
    row against the id array (seconds when the matches are old orders), SQLite might too."""
    column = SORTS.get(query.sort, SORTS[DEFAULT_SORT])
    keyed = db.session.execute(
        filtered(replace(query, search="")).where(among_ids(Order.id, ids))
        .with_only_columns(Order.id, column)).all()
    keyed.sort(key=lambda row: (row[1], row[0]), reverse=query.descending)
    page = max(1, query.page)
    start = (page - 1) * query.per_page
    page_ids = [row[0] for row in keyed[start:start + query.per_page]]
    return ResultPage(_orders_in_order(page_ids), len(keyed), False, page, query.per_page)


def _orders_in_order(ids: list[int]) -> list[Order]:
    """The orders with these ids, in the ids' order (one statement)."""
    by_id = {order.id: order for order in db.session.scalars(
        select(Order).where(among_ids(Order.id, ids)))} if ids else {}
    return [by_id[i] for i in ids if i in by_id]


def filter_key(query: OrderQuery) -> tuple:
    """What decides which orders match (not their sort or page): the key under which an
    over-the-cap count is remembered."""
    return (" ".join(query.search.split()), tuple(query.states), query.process,
            tuple(query.stores),
            tuple(query.payment_methods), query.created_from, query.created_to,
            query.open_reclamation)


def _narrow_search_ids(term: str) -> set[int] | None:
    """The ids of the orders matching ``term`` when there are at most NARROW_SEARCH of them,
    else None. Each column is probed on its own index with a LIMIT: asked as one OR, the
    database would first gather every match of a common name into a bitmap. The probes are
    counted in the database first, all in one statement, and the ids fetched only when few:
    a common name's 2,001 ids cost more to carry into Python than to count."""
    conditions = search_conditions(term)
    probes = [select(Order.id).where(condition).limit(NARROW_SEARCH + 1).subquery()
              for condition in conditions]
    counts = db.session.execute(select(*(
        select(func.count()).select_from(probe).scalar_subquery() for probe in probes))).one()
    if any(count > NARROW_SEARCH for count in counts):
        return None
    matching = [select(Order.id).where(condition)
                for condition, count in zip(conditions, counts, strict=True) if count]
    if not matching:
        return set()
    found = set(db.session.scalars(union(*matching) if len(matching) > 1 else matching[0]))
    return found if len(found) <= NARROW_SEARCH else None


def _find_in_one_state(query: OrderQuery) -> ResultPage:
    """Orders with an item in one state, newest first, from the items' (state, order
    created_at, order) index: it walks newest first and stops after the page, where going
    through the orders' date index would probe every recent order for a rare state."""
    in_state = (select(OrderItem.order_created_at, OrderItem.order_id)
                .where(*item_conditions(query)))
    in_state = in_state.where(
        *within_days(OrderItem.order_created_at, query.created_from, query.created_to))
    rest = filtered(replace(query, states=[], process="", created_from=None, created_to=None))
    if rest.whereclause is not None:  # store, payment method, open reclamation
        in_state = in_state.join(Order, Order.id == OrderItem.order_id).where(rest.whereclause)
    in_state = in_state.distinct()
    if query.descending:
        ordering_ = (OrderItem.order_created_at.desc(), OrderItem.order_id.desc())
    else:
        ordering_ = (OrderItem.order_created_at.asc(), OrderItem.order_id.asc())
    page = max(1, query.page)
    ids = [row.order_id for row in db.session.execute(
        in_state.order_by(*ordering_).limit(query.per_page)
        .offset((page - 1) * query.per_page))]
    total = capped_count(in_state, COUNT_CAP, ("orders in one state", *filter_key(query)))
    return ResultPage(_orders_in_order(ids), min(total, COUNT_CAP), total > COUNT_CAP, page,
                      query.per_page)


def _only_search(query: OrderQuery) -> bool:
    return not (query.states or query.process or query.stores or query.payment_methods
                or query.created_from or query.created_to or query.open_reclamation)


def _only_states(query: OrderQuery) -> bool:
    return not (query.stores or query.payment_methods or query.created_from or query.created_to
                or query.open_reclamation)


def iter_orders(query: OrderQuery, batch: int = 1000):
    """Every matching order in list order, fetched in batches, for the CSV export."""
    result = db.session.execute(
        filtered(query).order_by(*ordering(query)).execution_options(yield_per=batch)
    ).scalars()
    yield from result


def distinct_values(column) -> list[str]:
    """Distinct values of an indexed column by hopping along the index (a loose index scan)."""
    table = column.table.name
    name = column.name
    sql = text(
        f"WITH RECURSIVE hop(v) AS ("
        f" SELECT min({name}) FROM {table}"
        f" UNION ALL"
        f" SELECT (SELECT min({name}) FROM {table} WHERE {name} > hop.v) FROM hop"
        f" WHERE hop.v IS NOT NULL)"
        f" SELECT v FROM hop WHERE v IS NOT NULL"
    )
    return list(db.session.scalars(sql))


# The filters' choices change when a new store, payment method or state first appears:
# read again at most this often, not on every page of the list.
CHOICES_SECONDS = 30.0


def filter_choices() -> dict[str, list[str]]:
    """The values offered by the list's filters: states, stores, payment methods in use."""
    cached = current_app.extensions.get("panel_filter_choices")
    if cached is not None and time_.monotonic() - cached[0] < CHOICES_SECONDS:
        return cached[1]
    choices = {
        "states": distinct_values(OrderItem.__table__.c.state_name),
        "stores": distinct_values(Order.__table__.c.store),
        "payment_methods": distinct_values(Order.__table__.c.payment_method),
    }
    current_app.extensions["panel_filter_choices"] = (time_.monotonic(), choices)
    return choices
