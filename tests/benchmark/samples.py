"""The values the benchmark's lines ask for: real values read from the dataset, drawn with a
seeded random.Random so that every run (and both databases, built alike) asks the same
ones, and a different one at every sample, so that nothing a previous sample left (the
count memo, a cached page) serves the next.

The functions without ``db`` are pure, and tested in tests/test_benchmark_helpers.py.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import sqlalchemy as sa

from panel.extensions import db
from panel.models import Order, OrderItem

BENCH_PREFIX = "BENCH"  # the references of the benchmark's own orders


def cycled(values: Sequence, n: int) -> list:
    """``n`` values: ``values`` in turn, repeated when they are fewer than ``n``."""
    if not values:
        raise ValueError("no values to draw from")
    return [values[i % len(values)] for i in range(n)]


def distinct(draw: Callable[[], object], n: int, tries: int | None = None) -> list:
    """Up to ``n`` different values from calls to ``draw`` (in the order first drawn), giving
    up after ``tries`` calls (20 * n by default) when there are not that many."""
    found: dict = {}
    for _ in range(tries if tries is not None else 20 * n):
        if len(found) == n:
            break
        found.setdefault(draw(), None)
    return list(found)


def pages_near(rng: random.Random, n: int, centre: int = 1000, spread: int = 100,
               last_page: int | None = None) -> list[int]:
    """``n`` different page numbers within ``spread`` of ``centre`` (kept within the last
    page when the dataset has fewer pages)."""
    high = centre + spread
    if last_page is not None and last_page < high:
        high = last_page
    low = max(1, high - 2 * spread)
    return rng.sample(range(low, high + 1), min(n, high - low + 1))


def prefix_terms(rng: random.Random, rows: Sequence[Sequence[str]], n: int,
                 longest: int = 8) -> list[str]:
    """``n`` search terms as users type them: of a random row, a random field (a reference,
    an email, a first, last or full name), its first 1 to ``longest`` characters (spaces
    trimmed), different from each other."""
    def draw() -> str:
        row = rng.choice(rows)
        field = rng.choice(row)
        return field[:rng.randint(1, longest)].strip() or field[:1]
    return distinct(draw, n, tries=100 * n)


def shuffled(rng: random.Random, values: Sequence) -> list:
    values = list(values)
    rng.shuffle(values)
    return values


# -- read from the dataset ------------------------------------------------------------------

def id_range() -> tuple[int, int]:
    low, high = db.session.execute(sa.select(sa.func.min(Order.id), sa.func.max(Order.id))).one()
    return low or 0, high or 0


def _row_at(rng: random.Random, low: int, high: int):
    """(reference, email, first name, last name, full name) of the first order at or after a
    random id, or None for one of the benchmark's own orders."""
    row = db.session.execute(
        sa.select(Order.order_reference, Order.email, Order.first_name, Order.last_name)
        .where(Order.id >= rng.randint(low, high)).order_by(Order.id).limit(1)).first()
    if row is None or row.order_reference.startswith(BENCH_PREFIX):
        return None
    return (*row, f"{row.first_name} {row.last_name}")


def order_rows(rng: random.Random, n: int) -> list[tuple[str, str, str, str, str]]:
    """(reference, email, first name, last name, full name) of ``n`` different demo orders
    spread over the dataset."""
    low, high = id_range()
    return [row for row in distinct(lambda: _row_at(rng, low, high), n + 1)
            if row is not None][:n]


def field_values(rng: random.Random, n: int, field: int) -> list[str]:
    """``n`` different values of one field of order_rows() (0 reference, 1 email, 2 first
    name, 3 last name, 4 full name), in the order drawn, repeated in turn if fewer exist."""
    low, high = id_range()

    def draw():
        row = _row_at(rng, low, high)
        return None if row is None else row[field]
    return cycled([v for v in distinct(draw, n + 1, tries=30 * n) if v is not None][:n], n)


def most_common(expression, n: int, where=None) -> list[str]:
    """The ``n`` most frequent values of ``expression`` over the orders (a GROUP BY)."""
    stmt = (sa.select(expression, sa.func.count()).group_by(expression)
            .order_by(sa.func.count().desc(), expression).limit(n))
    if where is not None:
        stmt = stmt.where(where)
    return [value for value, _ in db.session.execute(stmt)]


def common_email_prefixes(rng: random.Random, n: int) -> list[str]:
    """Frequent beginnings of email addresses (4 to 6 characters, e.g. "anna.1"), the most
    frequent ``n`` over those lengths, in a random order."""
    found: dict[str, int] = {}
    for length in (4, 5, 6):
        prefix = sa.func.substr(Order.email, 1, length)
        stmt = (sa.select(prefix, sa.func.count()).group_by(prefix)
                .order_by(sa.func.count().desc()).limit(n))
        found.update(dict(db.session.execute(stmt).all()))
    best = sorted(found, key=lambda p: (-found[p], p))[:n]
    return shuffled(rng, cycled(best, n))


def common_first_names(rng: random.Random, n: int) -> list[str]:
    return shuffled(rng, cycled(most_common(Order.first_name, n), n))


def first_letters(rng: random.Random, n: int) -> list[str]:
    """Letters that begin last names or email addresses (lower case) or references (upper
    case, as references are), in a random order, repeated in turn if fewer than ``n``."""
    letters: set[str] = set()
    for column in (Order.search_last_name, Order.email, Order.order_reference):
        first = sa.func.substr(column, 1, 1)
        letters.update(db.session.scalars(sa.select(first).group_by(first)))
    letters = {x for x in letters if x and x.isalpha()}
    return cycled(shuffled(rng, sorted(letters)), n)


def reference_prefixes() -> list[str]:
    """A store's references with their first digit, like "DE--1" (demo references are
    "<store>--<number>"), of every store in the dataset."""
    stores = db.session.scalars(sa.select(Order.store).group_by(Order.store)).all()
    return [f"{store}--{digit}" for store in sorted(stores) for digit in range(1, 10)]


def days(rng: random.Random, n: int) -> list[date]:
    """``n`` different days of the dataset's year (not its newest day, which is partial)."""
    newest = db.session.scalar(sa.select(sa.func.max(Order.created_at))
                               .where(~Order.order_reference.startswith(BENCH_PREFIX)))
    return [(newest - timedelta(days=k)).date() for k in rng.sample(range(1, 360), n)]


def states_by_items() -> list[str]:
    """The items' states, the most frequent first."""
    return most_common(OrderItem.state_name, 100)
