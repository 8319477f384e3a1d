"""The dashboard: the first page after login; every figure on it links to the list of
exactly those orders, items, reclamations, returns or mails."""
from __future__ import annotations

import functools
from datetime import date

from babel.dates import format_date as babel_date
from babel.numbers import get_decimal_symbol
from flask import current_app, request, url_for
from flask_admin import AdminIndexView, expose

from panel.admin.stuck import finder
from panel.charts import Series, stacked_bars
from panel.formatting import format_date, format_money, format_number, minor_digits
from panel.i18n import current_language, ngettext
from panel.oms.registry import current_registry
from panel.services import dashboard
from panel.services.dashboard import Days, StoreDays
from panel.services.stuck_items import REASONS


def _day(day: date) -> str:
    return day.isoformat()


# A column's day under the chart, as the language writes a short day: "03 Mar", "03. März".
_AXIS_DAY = {"en": "dd MMM", "de": "dd. MMM"}


@functools.lru_cache(maxsize=1024)
def _axis_day(day: date, language: str) -> str:
    return babel_date(day, _AXIS_DAY.get(language, _AXIS_DAY["en"]), locale=language)


def axis_days(days: list[date]) -> list[str]:
    language = current_language()
    return [_axis_day(day, language) for day in days]  # each day written once per process


def _orders_url(**args) -> str:
    return url_for("orders.index", **args)


def orders_chart(days: Days):
    """Orders per day, the stores stacked; each bar opens that store's orders of that day."""
    def layer(store: StoreDays) -> Series:
        return Series(
            store.store, store.orders,
            href=lambda n: _orders_url(store=store.store, **{"from": _day(days.days[n]),
                                                             "to": _day(days.days[n])}),
            title=lambda n: ngettext("%(store)s, %(day)s: %(count)s order",
                                     "%(store)s, %(day)s: %(count)s orders", store.orders[n],
                                     store=store.store, day=format_date(days.days[n]),
                                     count=format_number(store.orders[n])))
    return stacked_bars(axis_days(days.days), [layer(store) for store in days.stores])


def revenue_chart(days: Days, store: StoreDays):
    """One store's revenue per day, in its currency."""
    series = Series(
        store.store, store.revenue,
        href=lambda n: _orders_url(store=store.store, **{"from": _day(days.days[n]),
                                                         "to": _day(days.days[n])}),
        title=lambda n: ngettext("%(store)s, %(day)s: %(amount)s in %(count)s order",
                                 "%(store)s, %(day)s: %(amount)s in %(count)s orders",
                                 store.orders[n], store=store.store,
                                 day=format_date(days.days[n]),
                                 amount=format_money(store.revenue[n], store.currency),
                                 count=format_number(store.orders[n])))
    return stacked_bars(axis_days(days.days), [series],
                        tick_label=lambda v: whole_money(int(v), store.currency),
                        width=480, height=180)


def whole_money(amount: int, currency: str) -> str:
    """An axis label: the amount in whole units of its currency ("€20,000", "20.000 €")."""
    digits = minor_digits(currency)
    text = format_money(amount - amount % 10**digits, currency)
    if not digits:
        return text
    return text.replace(get_decimal_symbol(current_language()) + "0" * digits, "", 1)


def charts(snap: dashboard.Snapshot):
    """The snapshot's charts (orders, [(store, revenue)]), drawn once per snapshot, language
    and path prefix: the snapshot is kept a minute, and drawing its bars with their titles
    and links was half of the page."""
    key = (snap.taken_at, current_language(), request.script_root)
    kept = current_app.extensions.setdefault("panel_dashboard_charts", {})
    if key not in kept:
        for old in [k for k in list(kept) if k[0] != snap.taken_at]:
            kept.pop(old, None)  # (another thread's request may be tidying too)
        days = snap.days
        kept[key] = (orders_chart(days),
                     [(store, revenue_chart(days, store)) for store in days.stores])
    return kept[key]


class DashboardView(AdminIndexView):
    @expose("/")
    def index(self):
        find = finder()
        snap = dashboard.snapshot(current_registry(), find, find.now)
        days = snap.days
        first, last = _day(days.days[0]), _day(days.days[-1])
        orders, revenue = charts(snap)
        return self.render(
            "dashboard/index.html", snap=snap, days=days, first=first, last=last,
            orders=orders, revenue=revenue, reasons=REASONS, cap=dashboard.CAP)
