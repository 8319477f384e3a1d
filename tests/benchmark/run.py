"""The benchmark: a million orders, the list, the order page, triggers, timeouts, intake.

    python -m tests.benchmark.run --sqlite instance/bench.sqlite3 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1/panel_bench [--orders 1000000]

Builds or reuses the dataset on each database, then measures requests through the WSGI app
with a logged-in user (in-process, no network) and, for the list, the same requests on a
stock Flask-Admin ModelView(Order) mounted on the same database and declared like ours (10
rows a page, newest first, the same searches and filters). Like for like: every sample of
a line asks a different value read from the dataset (seeded, so every run asks the same
ones), ours and stock in turn on the same values, as many samples each; where the count
memo can serve a request, a cold line clears it before each sample beside the repeated one.
Each request's SQL time (the driver's execute()) is measured too, to tell the time spent
outside the database. Intake is measured twice: one client in-process (the Python cost of
an order) and several clients at once over HTTP to gunicorn (what the service takes per
second). Prints a Markdown table and writes it, with every figure, as JSON. Speed is
measured here, never asserted in tests.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

from panel import create_app
from panel.extensions import db
from panel.models import OrderItem
from panel.oms import sweeps
from panel.services.api_tokens import create_token, revoke_token
from tests.benchmark import dataset, order_page, samples
from tests.benchmark.intake_http import intake_over_http, intake_payload
from tests.benchmark.stock import STOCK, StockUrls, mount
from tests.benchmark.timing import SqlClock, alternate, fetch, get, login, summary

LIST = "/sales/orders/"
STUCK = "/administration/stuck-items/"
HEALTHZ = "/healthz"
DASHBOARD = "/"
# A plugin's column on the list: the orders list's own columns and one of a plugin's.
PLUGIN_COLUMN_FIXTURE = "tests.plugins.column_fixture"
PLUGIN_COLUMNS = ("id", "reference", "created", "customer", "email", "state", "grand_total",
                  "items", "loyalty")
SEED = 16  # the values every run asks for
RANDOM_SEARCHES = 50


@dataclass
class Line:
    """One line of the table: a value per sample, the URL of ours and of the stock list for
    a value, and whether the count memo is cleared before each sample."""

    label: str
    values: list
    warmup: object
    ours: Callable[[object], str]
    stock: Callable[[object], str] | None = None
    cold: bool = False
    worst: bool = False  # also print the worst sample as a line of its own


def url(base: str, **params) -> str:
    return f"{base}?{urlencode(params, doseq=True)}" if params else base


def search_line(label: str, terms: list, **kwargs) -> Line:
    return Line(label, terms[:-1], terms[-1], lambda t: url(LIST, q=t),
                lambda t: url(STOCK, search=t), **kwargs)


def list_lines(app, stock: StockUrls, n: int) -> list[Line]:
    """Every line of the list and its search, with its values drawn from the dataset."""
    rng = random.Random(SEED)
    with app.app_context():
        last_page = max(1, dataset.order_count() // 10)
        pages = samples.pages_near(rng, n + 1, last_page=last_page)
        sort_pages = rng.sample(range(1, min(100, last_page) + 1), n + 1)
        days = samples.days(rng, n + 1)
        states = samples.states_by_items()
        references = samples.field_values(rng, n + 1, 0)
        emails = [e.split("@")[0] for e in samples.field_values(rng, n + 1, 1)]
        last_names = samples.field_values(rng, n + 1, 3)
        letters = samples.first_letters(rng, n + 1)
        all_prefixes = samples.reference_prefixes()
        prefixes = samples.cycled(samples.shuffled(rng, all_prefixes), n + 1)
        first_names = samples.common_first_names(rng, n + 1)
        email_prefixes = samples.common_email_prefixes(rng, n + 1)
        randoms = samples.prefix_terms(rng, samples.order_rows(rng, 500), RANDOM_SEARCHES + 1)
        db.session.remove()
    grand_total = stock.sort("grand_total")
    repeated_prefix = "DE--1" if "DE--1" in all_prefixes else all_prefixes[0]
    same = [None] * n
    return [
        Line("/healthz (the floor: a request and one SELECT 1)", same, None,
             lambda _: HEALTHZ),
        Line("list: page 1, repeated (same URL; count memo warm)", same, None,
             lambda _: LIST, lambda _: STOCK),
        Line("list: page 1, cold (count memo cleared before each)", same, None,
             lambda _: LIST, lambda _: STOCK, cold=True),
        Line("list: a page near 1,000 (900-1,100, varied; count memo warm)", pages[:-1],
             pages[-1], lambda p: url(LIST, page=p), lambda p: f"{STOCK}?{stock.page(p)}"),
        Line("list: a plugin's column shown (tests/plugins/column_fixture.py: one query "
             "per page), a page of 1-100 (varied)", sort_pages[:-1], sort_pages[-1],
             lambda p: url(LIST, col=list(PLUGIN_COLUMNS), page=p)),
        Line("list: sort by grand total, a page of 1-100 (varied)", sort_pages[:-1],
             sort_pages[-1], lambda p: url(LIST, sort="grand_total", dir="desc", page=p),
             lambda p: f"{STOCK}?sort={grand_total}&desc=1&{stock.page(p)}"),
        Line("list: one day (varied)", days[:-1], days[-1],
             lambda d: url(LIST, **{"from": d, "to": d}), lambda d: f"{STOCK}?{stock.day(d)}"),
        Line("list: filter by state, cold (every state in turn; count memo cleared)",
             samples.cycled(states, n), states[-1], lambda s: url(LIST, state=s),
             lambda s: f"{STOCK}?{stock.state(s)}", cold=True),
        Line("list: filter by the most frequent state, repeated (same URL; count memo warm)",
             [states[0]] * n, states[0], lambda s: url(LIST, state=s),
             lambda s: f"{STOCK}?{stock.state(s)}"),
        Line("list: open reclamation, cold (count memo cleared before each)", same, None,
             lambda _: url(LIST, reclamation="open"),
             lambda _: f"{STOCK}?{stock.open_reclamation()}", cold=True),
        Line("list: open reclamation, repeated (same URL; count memo warm)", same, None,
             lambda _: url(LIST, reclamation="open"),
             lambda _: f"{STOCK}?{stock.open_reclamation()}"),
        search_line("search: exact reference (varied)", references),
        search_line("search: a customer's email up to the @ (varied)", emails),
        search_line("search: last name (varied)", last_names),
        search_line("broad search: one letter, cold (varied; count memo cleared)", letters,
                    cold=True),
        search_line("broad search: a store's reference prefix like DE--1, cold (varied; "
                    "count memo cleared)", prefixes, cold=True),
        search_line("broad search: a common first name, cold (varied; count memo cleared)",
                    first_names, cold=True),
        search_line("broad search: a common email prefix, cold (varied; count memo "
                    "cleared)", email_prefixes, cold=True),
        search_line("broad search: DE--1 (or the first store's), repeated (same URL; count "
                    "memo warm)",
                    [repeated_prefix] * (n + 1)),
        search_line(f"search: {RANDOM_SEARCHES} random terms (1-8 characters of real values)",
                    randoms, worst=True),
    ]


def forget_counts(app):
    """A prepare() that clears the count memo (the 30 s cache of the filters' choices,
    panel_filter_choices, stays: it is kept on purpose)."""
    def prepare(value):
        app.extensions.pop("panel_over_cap", None)
        return value
    return prepare


def forget_dashboard(app):
    """A prepare() that clears the dashboard's snapshot and the count memo."""
    def prepare(value):
        app.extensions.pop("panel_dashboard", None)
        app.extensions.pop("panel_over_cap", None)
        return value
    return prepare


def run_line(app, sql: SqlClock, client, line: Line) -> dict:
    sides = {"ours": lambda v: fetch(client, line.ours(v))}
    if line.stock is not None:
        sides["stock"] = lambda v: fetch(client, line.stock(v))
    measured = alternate(sql, sides, line.values, warmup=[line.warmup],
                         prepare=forget_counts(app) if line.cold else None)
    row = {name: summary(s) for name, s in measured.items()}
    row["worst"] = line.worst
    return row


def stuck_urls(app) -> list[str]:
    """Stuck items, page 1, filtered by each open state of each process (the states with the
    most items first), then unfiltered."""
    from panel.oms.registry import current_registry

    with app.app_context():
        return [f"{STUCK}?process={name}&state={state}"
                for name, process in sorted(current_registry().processes.items())
                for state, _ in db.session.execute(
                    sa.select(OrderItem.state_name, sa.func.count())
                    .where(OrderItem.process_name == name)
                    .group_by(OrderItem.state_name).order_by(sa.func.count().desc()))
                if process.transitions_from(state)] + [STUCK]


def stuck_pages(app, client):
    """A call that asks a different one of stuck_urls() each time (tests.benchmark.stuck)."""
    urls = stuck_urls(app)
    turn = iter(range(10**9))
    return lambda: get(client, urls[next(turn) % len(urls)])()


def previous_build(name: str, folder: Path) -> float | None:
    """How long an earlier --build-only run took to build this database's dataset."""
    path = folder / f"build-{name.lower()}.json"
    return json.loads(path.read_text())["seconds"] if path.exists() else None


def make_app(url_: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url_, "PANEL_SECRET_KEY_IS_GENERATED": False,
                       "SECRET_KEY": "benchmark", "MAIL_SUPPRESS_SEND": True,
                       "PANEL_PLUGINS": (PLUGIN_COLUMN_FIXTURE,),
                       "PANEL_PAYMENT_PROCESSES": {
                           dataset.PAYMENT_METHOD.lower(): dataset.PAYMENT_PROCESS}})


def order_lines(app, sql: SqlClock, client, n: int, tag: int, results: dict) -> None:
    """View Order and "pay" as requests, each sample on an order of its own."""
    log("  orders of 100 and 120 items in mixed states")
    view = [order_page.mixed_order(app, f"BENCH-VIEW-{tag}-{k}", 20, 20) for k in range(n + 1)]
    pay = [order_page.mixed_order(app, f"BENCH-PAY-{tag}-{k}", 100, 5) for k in range(n + 1)]
    one = order_page.order_with_items(app, 1, f"BENCH-1-{tag}")
    log("  view order")
    measured = alternate(sql, {"ours": lambda i: fetch(client, f"/sales/orders/{i}")},
                         view[:-1], warmup=view[-1:])
    results["rows"]["View Order, 100 items in 5 states (a different order each)"] = {
        "ours": summary(measured["ours"])}
    counts = {}
    for label, order_id in (("1 item", one), ("100 items", view[0])):
        sql.reset()
        fetch(client, f"/sales/orders/{order_id}")
        counts[label] = sql.statements
    results["statements"] = counts
    log("  pay, as a request")
    measured = alternate(sql, {"ours": order_page.press(client, "pay")}, pay[:-1],
                         warmup=pay[-1:],
                         prepare=lambda i: order_page.read_form(client, i, "pay"))
    paid = order_page.expected_states(0, 5) + Counter({"paid": 100})
    for order_id in pay:
        states = order_page.item_states(app, order_id)
        assert states == paid, (order_id, states)  # every sample moved its 100 new items
    results["rows"]["pay: POST + redirect, 100 of 120 items move (a different order each)"] = {
        "ours": summary(measured["ours"])}


def check_timeouts(app, sql: SqlClock, due_items: int) -> dict:
    with app.app_context():
        due = dataset.ensure_due_payment_timeouts(due_items, log)
        db.session.remove()
        sql.reset()
        start = time.perf_counter()
        swept = sweeps.check_timeouts(now=dataset.SWEEP_AT, limit=40_000)
        elapsed = time.perf_counter() - start
        left = dataset.due_payment_items()
        ended = dict(db.session.execute(
            sa.select(OrderItem.state_name, sa.func.count())
            .where(OrderItem.process_name == dataset.PAYMENT_PROCESS)
            .group_by(OrderItem.state_name)).all())
    assert not swept.errors, swept.errors[:5]
    return {"due": due, "moved": swept.moved, "orders": swept.orders, "left_due": left,
            "seconds": elapsed, "sql_seconds": sql.ms / 1000, "statements": sql.statements, "items_per_second": swept.moved / elapsed if elapsed else 0,
            "process_states_after": ended}


def intake_lines(app, url_: str, tag: int) -> tuple[dict, dict]:
    client = app.test_client()
    with app.app_context():
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
        response = client.post("/api/v1/orders", json=payload,
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.json
    elapsed = time.perf_counter() - start
    with app.app_context():
        db.engine.dispose()
    log("  intake over HTTP, clients at once")
    return ({"orders": count, "seconds": elapsed, "orders_per_second": count / elapsed},
            intake_over_http(url_, token, str(tag)))


def bench_database(name: str, url_: str, orders: int, repeat: int, due_items: int,
                   out: Path) -> dict:
    log(f"== {name}: {url_}")
    app = make_app(url_)
    stock = StockUrls(mount(app))
    results: dict = {"database": name, "rows": {}}
    with app.app_context():
        dataset.ensure_schema()
        results["build_seconds"] = dataset.build(orders, log) or previous_build(name, out.parent)
        results["orders"] = dataset.order_count()
        results["items"] = db.session.scalar(sa.select(sa.func.count()).select_from(OrderItem))
        dataset.ensure_user()
        sql = SqlClock(db.engine)
        db.session.remove()
    client = login(app)
    for line in list_lines(app, stock, repeat):
        row = results["rows"][line.label] = run_line(app, sql, client, line)
        log(f"  {line.label}: {row['ours']['median']:.1f} ms, worst {row['ours']['max']:.1f} "
            f"ms ({row['ours']['slowest']['what']})")

    log("  stuck items")
    urls = stuck_urls(app)
    measured = alternate(sql, {"ours": lambda u: fetch(client, u)},
                         samples.cycled(urls, repeat), warmup=urls[-1:])
    results["rows"]["Stuck items: page 1, by process and state (in turn)"] = {
        "ours": summary(measured["ours"])}

    log("  dashboard")
    measured = alternate(sql, {"ours": lambda _: fetch(client, DASHBOARD)}, [None] * repeat,
                         warmup=[None], prepare=forget_dashboard(app))
    results["rows"]["Dashboard, cold (its one-minute snapshot and the count memo cleared "
                    "before each)"] = {"ours": summary(measured["ours"])}
    measured = alternate(sql, {"ours": lambda _: fetch(client, DASHBOARD)}, [None] * repeat,
                         warmup=[None])
    results["rows"]["Dashboard, repeated (the snapshot serves it)"] = {
        "ours": summary(measured["ours"])}

    tag = int(time.time())
    order_lines(app, sql, client, repeat, tag, results)
    log("  check-timeouts")
    results["check_timeouts"] = check_timeouts(app, sql, due_items)
    log("  intake")
    sql.close()
    results["intake"], results["intake_http"] = intake_lines(app, url_, tag)
    return results


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.0f} s] {message}", file=sys.stderr, flush=True)


def cells(row: dict | None, worst: bool = False) -> list[str]:
    if row is None:  # not measured on this database
        return [""] * 5
    ours, stock = row["ours"], row.get("stock")
    if worst:
        median, p95 = ours["max"], None
        outside = ours["slowest"]["ms"] - ours["slowest"]["sql_ms"]
        stock_ms = stock["max"] if stock else None
    else:
        median, p95, outside = ours["median"], ours["p95"], ours["outside_sql_median"]
        stock_ms = stock["median"] if stock else None
    return [f"{median:.1f} ms", f"{p95:.1f} ms" if p95 is not None else "",
            f"{stock_ms:.1f} ms" if stock_ms is not None else "",
            f"{stock_ms / median:.1f}x" if stock_ms is not None else "", f"{outside:.1f} ms"]


def build_cells(result: dict) -> list[str]:
    seconds = result["build_seconds"]
    if not seconds:
        return ["reused", "", "", "", ""]
    return [f"{seconds:.0f} s", "", "", "", f"{result['orders'] / seconds:,.0f} orders/s"]


def table(all_results: list[dict]) -> str:
    names = [r["database"] for r in all_results]
    lines = ["| measurement | " + " | ".join(
        f"{n} median | {n} p95 | {n} stock median | {n} stock / ours | {n} outside SQL, median"
        for n in names) + " |", "|---|" + "---|---|---|---|---|" * len(names)]
    labels = dict.fromkeys(label for result in all_results for label in result["rows"])
    for label in labels:
        rows = [result["rows"].get(label) for result in all_results]
        lines.append(f"| {label} | " + " | ".join(c for row in rows for c in cells(row)) + " |")
        if any(row and row.get("worst") for row in rows):
            lines.append(f"| {label}: the worst (its time; stock: its worst) | " + " | ".join(
                c for row in rows for c in cells(row, worst=True)) + " |")
    lines.append("| building the dataset (`demo seed` and the reclamations; the median column: the "
                 "whole build) | " + " | ".join(
                     c for result in all_results for c in build_cells(result)) + " |")
    for result in all_results:
        s, c, h = result["statements"], result["check_timeouts"], result["intake_http"]
        lines.append("")
        lines.append(f"**{result['database']}**: {result['orders']:,} orders, "
                     f"{result['items']:,} items; dataset built in "
                     + (f"{result['build_seconds']:.0f} s" if result["build_seconds"]
                        else "an earlier run (reused)")
                     + f"; View Order SQL statements: {s['1 item']} (1 item), "
                     f"{s['100 items']} (100 items); check-timeouts ({dataset.PAYMENT_PROCESS} "
                     f"\"{dataset.PENDING}\" --{dataset.PAY}--> paid --confirm--> confirmed, "
                     f"two commands, a new timeout): {c['moved']:,} items of {c['orders']:,} "
                     f"orders in {c['seconds']:.1f} s ({c['sql_seconds']:.1f} s of it SQL) = "
                     f"{c['items_per_second']:,.0f} items/s; "
                     f"intake: {result['intake']['orders_per_second']:,.0f} orders/s from one "
                     f"client in-process, {h['orders_per_second']:,.0f} orders/s from "
                     f"{h['clients']} clients at once over HTTP (gunicorn, {h['workers']} "
                     "workers)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sqlite", help="SQLite file for the dataset")
    parser.add_argument("--postgres", help="PostgreSQL URL of a database of its own")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20,
                        help="samples per line, on each side (ours, stock)")
    parser.add_argument("--timeouts", type=int, default=20_000,
                        help="items due for check-timeouts (new orders are added for them)")
    parser.add_argument("--out", default="bench-results/latest.json")
    parser.add_argument("--build-only", action="store_true",
                        help="build (or top up) the datasets and stop")
    parser.add_argument("--table", nargs="+", metavar="JSON",
                        help="print one table of the results in these earlier runs' JSON "
                             "files (one database each, say) and stop")
    args = parser.parse_args(argv)
    if args.table:
        print(table([result for path in args.table
                     for result in json.loads(Path(path).read_text())["results"]]))
        return 0
    targets = []
    if args.sqlite:
        targets.append(("SQLite", "sqlite:///" + str(Path(args.sqlite).resolve())))
    if args.postgres:
        targets.append(("PostgreSQL", args.postgres))
    if not targets:
        parser.error("name --sqlite and/or --postgres")
    if args.build_only:
        for name, url_ in targets:
            log(f"== {name}: {url_}")
            with make_app(url_).app_context():
                dataset.ensure_schema()
                seconds = dataset.build(args.orders, log)
                if seconds:
                    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                    Path(args.out).with_name(f"build-{name.lower()}.json").write_text(
                        json.dumps({"orders": args.orders, "seconds": seconds}))
        return 0
    out = Path(args.out)
    results = [bench_database(n, u, args.orders, args.requests, args.timeouts, out)
               for n, u in targets]
    written = {"machine": platform.platform(), "python": platform.python_version(),
               "results": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(written, indent=2, default=str))  # kept if the table fails
    written["table"] = report = table(results)
    print(report)
    out.write_text(json.dumps(written, indent=2, default=str))
    log(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
