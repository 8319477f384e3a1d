"""What the dashboard shows: orders and revenue per day and store, items per state of each
process, and what waits for somebody (open reclamations and returns, stuck items, mail not
delivered).

Every figure is read from an index and stays the same cost at a million orders: the days
from the orders' (created_at, store, currency, grand_total) index, which holds all the
columns summed, so the table itself is not read; each state's items from the items'
(process, state, ...) index, counted up to COUNT_CAP like the lists' totals ("10,000+").
The whole snapshot is kept for SNAPSHOT_SECONDS, so a team opening the dashboard all
morning asks the database once a minute at most.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import Date, func, select

from panel.extensions import db
from panel.formatting import format_number
from panel.models import Order, OrderItem, OutboundEmail, Reclamation, Return
from panel.oms.registry import Registry
from panel.services.outbox_list import NOT_SENT
from panel.services.paging import COUNT_CAP, capped_count
from panel.services.stuck_items import REASONS, Finder, StuckQuery, count_by_reason

DAYS = 30
SNAPSHOT_SECONDS = 60.0
CAP = COUNT_CAP  # counts beyond it read "10,000+"


@dataclass(frozen=True)
class Count:
    """A number counted up to a cap: ``value`` exact when not ``capped``."""

    value: int
    capped: bool = False

    @property
    def label(self) -> str:
        number = format_number(self.value)  # in the request's language
        return f"{number}+" if self.capped else number


@dataclass
class StoreDays:
    """One store's orders and revenue (minor units of ``currency``) on each of the days."""

    store: str
    currency: str
    orders: list[int]
    revenue: list[int]

    @property
    def total_orders(self) -> int:
        return sum(self.orders)

    @property
    def total_revenue(self) -> int:
        return sum(self.revenue)


@dataclass
class Days:
    """The last DAYS days (UTC), oldest first, and each store's figures on them."""

    days: list[date]
    stores: list[StoreDays]

    def orders_on(self, index: int) -> int:
        return sum(store.orders[index] for store in self.stores)


@dataclass
class StateCount:
    process: str
    state: str
    items: Count


@dataclass
class Snapshot:
    taken_at: datetime
    days: Days
    states: dict[str, list[StateCount]]  # per process, its states with items, in file order
    open_reclamations: Count
    open_returns: Count
    stuck: dict[str, Count] = field(default_factory=dict)  # per reason (stuck_items.REASONS)
    undelivered_mail: dict[str, Count] = field(default_factory=dict)  # failed, undeliverable


def days_ending(today: date, count: int = DAYS) -> list[date]:
    return [today - timedelta(days=count - 1 - n) for n in range(count)]


def orders_per_day(today: date, count: int = DAYS) -> Days:
    """Orders and the sum of their grand totals per UTC day and store, ``count`` days up to
    ``today``; a store (and currency) appears when it had an order in those days."""
    days = days_ending(today, count)
    start = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    day = func.date(Order.created_at, type_=Date)
    rows = db.session.execute(
        select(day, Order.store, Order.currency, func.count(), func.sum(Order.grand_total))
        .where(Order.created_at >= start, Order.created_at < end)
        .group_by(day, Order.store, Order.currency))
    position = {d: n for n, d in enumerate(days)}
    stores: dict[tuple[str, str], StoreDays] = {}
    for on, store, currency, orders, revenue in rows:
        if isinstance(on, str):  # a driver that hands the day back as text
            on = date.fromisoformat(on)
        series = stores.setdefault((store, currency), StoreDays(
            store, currency, [0] * len(days), [0] * len(days)))
        series.orders[position[on]] = orders
        series.revenue[position[on]] = int(revenue or 0)
    ordered = sorted(stores.values(), key=lambda s: (-s.total_orders, s.store, s.currency))
    return Days(days, ordered)


def items_per_state(registry: Registry, cap: int = COUNT_CAP) -> dict[str, list[StateCount]]:
    """Per process of the registry, its states that hold items, each counted up to ``cap``
    from the (process, state) index, all in one statement."""
    pairs = [(process.name, state) for process in registry.processes.values()
             for state in process.states]
    if not pairs:
        return {}
    probes = [
        select(func.count()).select_from(
            select(OrderItem.id).where(OrderItem.process_name == name,
                                       OrderItem.state_name == state)
            .limit(cap + 1).subquery()).scalar_subquery()
        for name, state in pairs]
    counts = []
    for start in range(0, len(probes), 100):  # a hundred counts per SELECT, however many states
        counts.extend(db.session.execute(select(*probes[start:start + 100])).one())
    found: dict[str, list[StateCount]] = {}
    for (name, state), count in zip(pairs, counts, strict=True):
        if count:
            found.setdefault(name, []).append(
                StateCount(name, state, Count(min(count, cap), count > cap)))
    return found


def _capped(stmt, cap: int, key: tuple) -> Count:
    """The lists' capped count (``paging.capped_count``, remembered a minute when over)."""
    total = capped_count(stmt, cap, ("dashboard", *key))
    return Count(min(total, cap), total > cap)


def take_snapshot(registry: Registry, finder: Finder, now: datetime,
                  cap: int | None = None) -> Snapshot:
    cap = CAP if cap is None else cap
    stuck = count_by_reason(StuckQuery(), finder, cap)
    return Snapshot(
        taken_at=now,
        days=orders_per_day(now.astimezone(UTC).date()),
        states=items_per_state(registry, cap),
        open_reclamations=_capped(select(Reclamation.id).where(Reclamation.state == "open"),
                                  cap, ("open reclamations",)),
        open_returns=_capped(select(Return.id).where(Return.state == "open"), cap,
                             ("open returns",)),
        stuck={reason: Count(*stuck[reason]) for reason in REASONS},
        undelivered_mail={status: _capped(select(OutboundEmail.id)
                                          .where(OutboundEmail.status == status), cap,
                                          ("mail", status))
                          for status in NOT_SENT},
    )


def snapshot(registry: Registry, finder: Finder, now: datetime) -> Snapshot:
    """The dashboard's figures, taken at most once per SNAPSHOT_SECONDS per app."""
    kept = current_app.extensions.get("panel_dashboard")
    if kept is not None and time.monotonic() - kept[0] < SNAPSHOT_SECONDS:
        return kept[1]
    taken = take_snapshot(registry, finder, now)
    current_app.extensions["panel_dashboard"] = (time.monotonic(), taken)
    return taken
