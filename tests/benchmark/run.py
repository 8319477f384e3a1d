"""The benchmark: a million orders, the list, the order page, triggers, timeouts, intake.

    python -m tests.benchmark.run --sqlite instance/bench.sqlite3 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1/panel_bench [--orders 1000000]

Builds or reuses the dataset on each database, then measures requests through the WSGI app
with a logged-in user (in-process, no network), the same list requests on a stock
Flask-Admin ModelView(Order) mounted on the same database, and prints a table (and writes
it as JSON). Intake is measured twice: one client in-process (the Python cost of an order)
and several clients at once over HTTP to gunicorn (what the service takes per second).
Speed is measured here, never asserted in tests.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_admin.contrib.sqla import ModelView, filters
from sqlalchemy import event

from panel import create_app
from panel.admin.forms import AdminForm
from panel.extensions import db
from panel.models import Order, OrderItem
from panel.oms import engine, sweeps
from panel.services import intake
from panel.services.intake_schema import OrderIn
from tests.benchmark import dataset
from tests.benchmark.intake_http import intake_over_http, intake_payload
from tests.conftest import order_payload

LIST = "/sales/orders/"
STOCK = "/stock/order/"
STUCK = "/administration/stuck-items/"


class StockOrders(ModelView):
    """Flask-Admin's list as it comes, with the same searches and filters declared."""

    form_base_class = AdminForm
    can_view_details = False
    column_list = ("id", "order_reference", "created_at", "first_name", "last_name", "email",
                   "item_states", "grand_total", "item_count")
    column_searchable_list = ("order_reference", "email", "last_name")
    column_filters = (
        filters.DateTimeBetweenFilter(Order.created_at, "Created"),
        filters.IntGreaterFilter(Order.open_reclamations, "Open reclamations"),
        filters.FilterLike(Order.item_states, "Order State"),
    )
    column_sortable_list = ("id", "order_reference", "created_at", "email", "grand_total")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _clock(function) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def _summary(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def timed(function, repeat: int) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds over ``repeat`` calls (after one warm-up)."""
    function()
    return _summary([_clock(function) for _ in range(repeat)])


def timed_side_by_side(ours, stock, repeat: int, stock_repeat: int):
    """Both lists timed in turns (one stock request after every few of ours), so that both
    meet the machine in the same state: on a shared machine a drift between two separate
    series would show up in the ratio."""
    ours()
    stock()
    ours_samples, stock_samples = [], []
    every = max(1, repeat // stock_repeat)
    for n in range(repeat):
        ours_samples.append(_clock(ours))
        if n % every == every - 1 and len(stock_samples) < stock_repeat:
            stock_samples.append(_clock(stock))
    while len(stock_samples) < stock_repeat:
        stock_samples.append(_clock(stock))
    return _summary(ours_samples), _summary(stock_samples)


def get(client, url: str):
    def call():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        response.get_data()
    return call


def stock_filter(app, column: str, operation: str) -> str:
    view = next(v for v in app.extensions["admin"][0]._views if isinstance(v, StockOrders))
    for index, flt in enumerate(view._filters):
        if flt.column.key == column and flt.operation() == operation:
            return f"flt0_{index}"
    raise LookupError((column, operation, [(f.column.key, f.operation())
                                           for f in view._filters]))


def login(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": dataset.BENCH_EMAIL, "csrf_token": token,
                                           "password": dataset.BENCH_PASSWORD})
    assert response.status_code == 302, "benchmark login failed"
    return client


def sample_values(app) -> dict:
    with app.app_context():
        reference, email, last_name = db.session.execute(
            sa.select(Order.order_reference, Order.email, Order.last_name)
            .order_by(Order.id).offset(123_456 % max(1, dataset.order_count()))).first()
        newest = db.session.scalar(sa.select(sa.func.max(Order.created_at)))
    day = (newest - timedelta(days=30)).date()
    return {"reference": reference, "email_prefix": email.split("@")[0][:6],
            "last_name": last_name, "day": day}


def list_requests(values: dict, app) -> list[tuple[str, str, str]]:
    """(name, our URL, stock URL) for every list request of the benchmark."""
    day: date = values["day"]
    to = day + timedelta(days=1)
    created = stock_filter(app, "created_at", "between")
    reclamation = stock_filter(app, "open_reclamations", "greater than")
    state = stock_filter(app, "item_states", "contains")
    return [
        ("list: page 1", LIST, STOCK),
        ("list: page 1,000", f"{LIST}?page=1000", f"{STOCK}?page=999"),
        ("list: filter by state", f"{LIST}?state=returned", f"{STOCK}?{state}=returned"),
        ("list: filter by date range", f"{LIST}?from={day}&to={to}",
         f"{STOCK}?{created}={day}+00:00:00+to+{to}+23:59:59"),
        ("list: open reclamation", f"{LIST}?reclamation=open", f"{STOCK}?{reclamation}=0"),
        ("search: exact reference", f"{LIST}?q={values['reference']}",
         f"{STOCK}?search={values['reference']}"),
        ("search: email prefix", f"{LIST}?q={values['email_prefix']}",
         f"{STOCK}?search={values['email_prefix']}"),
        ("search: last name", f"{LIST}?q={values['last_name']}",
         f"{STOCK}?search={values['last_name']}"),
        ("list: sort by grand total", f"{LIST}?sort=grand_total&dir=desc",
         f"{STOCK}?sort=4&desc=1"),
    ]


def stuck_pages(app, client):
    """Stuck items, page 1, filtered by a different open state of each process at every call
    (the states with the most items first), then unfiltered: a new query each time."""
    from panel.oms.registry import current_registry

    with app.app_context():
        urls = [f"{STUCK}?process={name}&state={state}"
                for name, process in sorted(current_registry().processes.items())
                for state, _ in db.session.execute(
                    sa.select(OrderItem.state_name, sa.func.count())
                    .where(OrderItem.process_name == name)
                    .group_by(OrderItem.state_name).order_by(sa.func.count().desc()))
                if process.transitions_from(state)] + [STUCK]
    turn = iter(range(10**9))
    return lambda: get(client, urls[next(turn) % len(urls)])()


def order_with_items(app, count: int, reference: str) -> int:
    payload = order_payload(order_reference=reference)
    payload["shipments"][0]["items"] = [
        {"sku": f"BENCH-{n}", "name": f"Benchmark product {n}", "quantity": 1,
         "unit_price": 1000, "tax_rate": 19} for n in range(count)]
    payload["payment"]["amount"] = 1000 * count + 490
    with app.app_context():
        return intake.receive_order(OrderIn.model_validate(payload)).summary["id"]


def statements(app, client, url: str) -> int:
    seen = []
    with app.app_context():
        engine_ = db.engine
    listener = lambda *args: seen.append(1)  # noqa: E731
    event.listen(engine_, "before_cursor_execute", listener)
    try:
        client.get(url)
    finally:
        event.remove(engine_, "before_cursor_execute", listener)
    return len(seen)


def previous_build(name: str, folder: str = "bench-results") -> float | None:
    """How long an earlier --build-only run took to build this database's dataset."""
    path = Path(folder) / f"build-{name.lower()}.json"
    return json.loads(path.read_text())["seconds"] if path.exists() else None


def bench_database(name: str, url: str, orders: int, repeat: int) -> dict:
    log(f"== {name}: {url}")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PANEL_SECRET_KEY_IS_GENERATED": False,
                      "SECRET_KEY": "benchmark", "MAIL_SUPPRESS_SEND": True})
    app.extensions["admin"][0].add_view(StockOrders(Order, db, name="Stock", endpoint="stock",
                                                    url="/stock/order"))
    results: dict = {"database": name, "rows": {}}
    with app.app_context():
        dataset.ensure_schema()
        results["build_seconds"] = dataset.build(orders, log) or previous_build(name)
        results["orders"] = dataset.order_count()
        results["items"] = db.session.scalar(sa.select(sa.func.count()).select_from(OrderItem))
        dataset.ensure_user()
        db.session.remove()
    client = login(app)
    values = sample_values(app)
    for label, ours, stock in list_requests(values, app):
        log(f"  {label}")
        ours_times, stock_times = timed_side_by_side(
            get(client, ours), get(client, stock), repeat, max(5, repeat // 4))
        results["rows"][label] = {"ours": ours_times, "stock": stock_times}

    log("  stuck items")
    results["rows"]["Stuck items: page 1, by process and state"] = {
        "ours": timed(stuck_pages(app, client), repeat)}

    tag = int(time.time())
    one = order_with_items(app, 1, f"BENCH-1-{tag}")
    hundred = order_with_items(app, 100, f"BENCH-100-{tag}")
    log("  view order")
    results["rows"]["View Order, 100 items"] = {
        "ours": timed(get(client, f"/sales/orders/{hundred}"), repeat)}
    results["statements"] = {"1 item": statements(app, client, f"/sales/orders/{one}"),
                             "100 items": statements(app, client, f"/sales/orders/{hundred}")}

    log("  pay on 100 items")
    pay_orders = [order_with_items(app, 100, f"BENCH-PAY-{tag}-{n}") for n in range(repeat + 1)]
    pending = iter(pay_orders)

    def pay():
        with app.app_context():
            result = engine.trigger_event(next(pending), "pay", actor="benchmark")
            assert result.moved == 100, result.message

    results["rows"]["pay, 100 items"] = {"ours": timed(pay, repeat)}

    log("  check-timeouts")
    with app.app_context():
        due = dataset.ensure_due_timeouts(100_000)
        start = time.perf_counter()
        swept = sweeps.check_timeouts(limit=40_000)
        elapsed = time.perf_counter() - start
    results["check_timeouts"] = {"due": due, "moved": swept.moved, "seconds": elapsed,
                                 "items_per_second": swept.moved / elapsed if elapsed else 0}

    log("  intake")
    token_app = app.test_client()
    with app.app_context():
        from panel.services.api_tokens import create_token, revoke_token

        try:
            revoke_token("benchmark")
        except ValueError:
            pass
        token = create_token("benchmark")
    count = 300
    rng = random.Random(tag)
    payloads = [intake_payload(rng, f"BENCH-API-{tag}-{n}") for n in range(count)]
    start = time.perf_counter()
    for payload in payloads:
        response = token_app.post("/api/v1/orders", json=payload,
                                  headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.json
    elapsed = time.perf_counter() - start
    results["intake"] = {"orders": count, "seconds": elapsed, "orders_per_second": count / elapsed}
    with app.app_context():
        db.engine.dispose()
    log("  intake over HTTP, clients at once")
    results["intake_http"] = intake_over_http(url, token, str(tag))
    return results


def table(all_results: list[dict]) -> str:
    names = [r["database"] for r in all_results]
    lines = ["| measurement | " + " | ".join(
        f"{n} median | {n} p95 | {n} stock median | {n} stock / ours" for n in names) + " |",
             "|---|" + "---|---|---|---|" * len(names)]
    labels = list(all_results[0]["rows"])
    for label in labels:
        cells = []
        for result in all_results:
            row = result["rows"][label]
            median, p95 = row["ours"]
            if "stock" in row:
                stock = row["stock"][0]
                cells += [f"{median:.1f} ms", f"{p95:.1f} ms", f"{stock:.1f} ms",
                          f"{stock / median:.1f}x"]
            else:
                cells += [f"{median:.1f} ms", f"{p95:.1f} ms", "", ""]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for result in all_results:
        s = result["statements"]
        c = result["check_timeouts"]
        h = result["intake_http"]
        lines.append("")
        lines.append(f"**{result['database']}**: {result['orders']:,} orders, "
                     f"{result['items']:,} items; dataset built in "
                     + (f"{result['build_seconds']:.0f} s" if result["build_seconds"]
                        else "an earlier run (reused)")
                     + f"; View Order SQL statements: {s['1 item']} (1 item), "
                     f"{s['100 items']} (100 items); check-timeouts: {c['moved']:,} items in "
                     f"{c['seconds']:.1f} s = {c['items_per_second']:,.0f} items/s; intake: "
                     f"{result['intake']['orders_per_second']:,.0f} orders/s from one client "
                     f"in-process, {h['orders_per_second']:,.0f} orders/s from {h['clients']} "
                     f"clients at once over HTTP (gunicorn, {h['workers']} workers)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sqlite", help="SQLite file for the dataset")
    parser.add_argument("--postgres", help="PostgreSQL URL of a database of its own")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--out", default="bench-results/latest.json")
    parser.add_argument("--build-only", action="store_true",
                        help="build (or top up) the datasets and stop")
    args = parser.parse_args(argv)
    targets = []
    if args.sqlite:
        targets.append(("SQLite", "sqlite:///" + str(Path(args.sqlite).resolve())))
    if args.postgres:
        targets.append(("PostgreSQL", args.postgres))
    if not targets:
        parser.error("name --sqlite and/or --postgres")
    if args.build_only:
        for name, url in targets:
            log(f"== {name}: {url}")
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark",
                              "PANEL_SECRET_KEY_IS_GENERATED": False})
            with app.app_context():
                dataset.ensure_schema()
                seconds = dataset.build(args.orders, log)
                if seconds:
                    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                    Path(args.out).with_name(f"build-{name.lower()}.json").write_text(
                        json.dumps({"orders": args.orders, "seconds": seconds}))
        return 0
    results = [bench_database(n, u, args.orders, args.requests) for n, u in targets]
    report = table(results)
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                               "results": results, "table": report}, indent=2, default=str))
    log(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
