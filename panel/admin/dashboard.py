"""The dashboard: the first page after login; every figure on it links to the list of
exactly those orders, items, reclamations, returns or mails."""
from __future__ import annotations

from datetime import date

from flask import url_for
from flask_admin import AdminIndexView, expose

from panel.admin.stuck import finder
from panel.charts import Series, stacked_bars
from panel.formatting import format_money, minor_digits
from panel.oms.registry import current_registry
from panel.services import dashboard
from panel.services.dashboard import Days, StoreDays
from panel.services.stuck_items import REASONS


def _day(day: date) -> str:
    return day.isoformat()


def _orders_url(**args) -> str:
    return url_for("orders.index", **args)


def orders_chart(days: Days):
    """Orders per day, the stores stacked; each bar opens that store's orders of that day."""
    def layer(store: StoreDays) -> Series:
        return Series(
            store.store, store.orders,
            href=lambda n: _orders_url(store=store.store, **{"from": _day(days.days[n]),
                                                             "to": _day(days.days[n])}),
            title=lambda n: f"{store.store}, {_day(days.days[n])}: {store.orders[n]:,} "
                            f"order{'' if store.orders[n] == 1 else 's'}")
    return stacked_bars([d.strftime("%d %b") for d in days.days],
                        [layer(store) for store in days.stores])


def revenue_chart(days: Days, store: StoreDays):
    """One store's revenue per day, in its currency."""
    series = Series(
        store.store, store.revenue,
        href=lambda n: _orders_url(store=store.store, **{"from": _day(days.days[n]),
                                                         "to": _day(days.days[n])}),
        title=lambda n: f"{store.store}, {_day(days.days[n])}: "
                        f"{format_money(store.revenue[n], store.currency)} in "
                        f"{store.orders[n]:,} order{'' if store.orders[n] == 1 else 's'}")
    return stacked_bars([d.strftime("%d %b") for d in days.days], [series],
                        tick_label=lambda v: whole_money(int(v), store.currency),
                        width=480, height=180)


def whole_money(amount: int, currency: str) -> str:
    """An axis label: the amount in whole units of its currency ("€20,000")."""
    digits = minor_digits(currency)
    text = format_money(amount - amount % 10**digits, currency)
    return text.rsplit(".", 1)[0] if digits else text


class DashboardView(AdminIndexView):
    @expose("/")
    def index(self):
        find = finder()
        snap = dashboard.snapshot(current_registry(), find, find.now)
        days = snap.days
        first, last = _day(days.days[0]), _day(days.days[-1])
        return self.render(
            "dashboard/index.html", snap=snap, days=days, first=first, last=last,
            orders=orders_chart(days),
            revenue=[(store, revenue_chart(days, store)) for store in days.stores],
            reasons=REASONS, cap=dashboard.CAP)
