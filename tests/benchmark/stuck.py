"""Stuck items at scale: the page's requests on the benchmark dataset (python -m
tests.benchmark.stuck URL [ORDERS], which builds or tops up the dataset first): page 1 unfiltered, per reason, and per process and open state
(a different state at every request); prints medians and 95th percentiles of real requests
through the WSGI app, with how many items each reason holds."""
from __future__ import annotations

import sys

from panel import create_app
from panel.extensions import db
from panel.models.base import utcnow
from panel.oms.registry import current_registry
from panel.services.stuck_items import Finder, Limits, StuckQuery, count_by_reason
from tests.benchmark import dataset
from tests.benchmark.run import STUCK, stuck_pages
from tests.benchmark.timing import get, login, timed


def main(url: str, orders_wanted: int = 1_000_000, repeat: int = 20) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark",
                      "PANEL_SECRET_KEY_IS_GENERATED": False, "MAIL_SUPPRESS_SEND": True})
    with app.app_context():
        dataset.ensure_schema()
        dataset.build(orders_wanted, print)
        dataset.ensure_user()
        finder = Finder(current_registry(), Limits.from_config(app.config), utcnow())
        counts = count_by_reason(StuckQuery(), finder)
        orders = dataset.order_count()
        db.session.remove()
    client = login(app)
    rows = [("page 1, all reasons", get(client, STUCK))]
    rows += [(f"page 1, reason {r}", get(client, f"{STUCK}?reason={r}")) for r in counts]
    rows.append(("page 1, by process and state (rotating)", stuck_pages(app, client)))
    pages = iter(range(1, 10**6))
    rows.append(("all reasons, page 1..N (rotating)",
                 lambda: get(client, f"{STUCK}?page={next(pages)}")()))
    print(f"{orders:,} orders; stuck items per reason (capped at 10,000): "
          + ", ".join(f"{r} {n:,}{'+' if more else ''}" for r, (n, more) in counts.items()))
    print("| request | median | p95 |\n|---|---|---|")
    for label, call in rows:
        median, p95 = timed(call, repeat)
        print(f"| {label} | {median:.1f} ms | {p95:.1f} ms |")


if __name__ == "__main__":
    main(sys.argv[1], *(int(arg) for arg in sys.argv[2:3]))
