"""The benchmark's pure helpers: how it draws values, sums samples up, and reads forms."""
import random

import pytest

from tests.benchmark import samples
from tests.benchmark.order_page import event_form
from tests.benchmark.stock import StockUrls
from tests.benchmark.timing import Sample, alternate, p95, summary


def test_cycled_repeats_values_in_turn_only_when_they_are_fewer():
    assert samples.cycled(["a", "b", "c"], 2) == ["a", "b"]
    assert samples.cycled(["a", "b"], 5) == ["a", "b", "a", "b", "a"]
    with pytest.raises(ValueError):
        samples.cycled([], 1)


def test_distinct_stops_at_n_values_or_after_its_tries():
    values = iter([1, 1, 2, 1, 3, 4])
    assert samples.distinct(lambda: next(values), 3) == [1, 2, 3]
    assert samples.distinct(lambda: 7, 3, tries=10) == [7]


def test_pages_near_are_different_and_around_the_centre():
    pages = samples.pages_near(random.Random(1), 20)
    assert len(set(pages)) == 20 and all(900 <= p <= 1100 for p in pages)
    assert pages == samples.pages_near(random.Random(1), 20)  # seeded: every run alike
    small = samples.pages_near(random.Random(1), 20, last_page=150)
    assert all(1 <= p <= 150 for p in small) and len(set(small)) == 20


def test_prefix_terms_are_different_beginnings_of_the_fields():
    rows = [("DE--1234", "anna.12@example.com", "Anna", "Müller", "Anna Müller"),
            ("GB--77", "guest5@example.net", "Tom", "Smith", "Tom Smith")]
    terms = samples.prefix_terms(random.Random(3), rows, 15)
    assert len(terms) == len(set(terms)) == 15
    fields = [field for row in rows for field in row]
    assert all(any(f.startswith(t) for f in fields) and 1 <= len(t) <= 8 and t == t.strip()
               for t in terms)


def test_p95_is_the_nearest_rank():
    assert p95(range(1, 21)) == 19  # of 20 samples, the 19th
    assert p95([5.0]) == 5.0


def test_summary_reports_time_outside_sql_and_the_slowest_request():
    result = summary([Sample("/a", 10.0, 4.0, 2), Sample("/b", 30.0, 1.0, 3),
                      Sample("/c", 20.0, 2.0, 2)])
    assert result["median"] == 20.0 and result["max"] == 30.0
    assert result["outside_sql_median"] == 18.0  # of 6, 29, 18
    assert result["slowest"] == {"what": "/b", "ms": 30.0, "sql_ms": 1.0}


class FakeClock:
    ms = 0.0
    statements = 0

    def reset(self):
        pass


def test_alternate_asks_each_value_of_ours_then_stock_after_untimed_warmups():
    asked = []
    sides = {"ours": lambda v: asked.append(("ours", v)) or "o",
             "stock": lambda v: asked.append(("stock", v)) or "s"}
    result = alternate(FakeClock(), sides, [1, 2], warmup=[0], prepare=lambda v: v * 10)
    assert asked == [("ours", 0), ("stock", 0), ("ours", 10), ("stock", 10), ("ours", 20),
                     ("stock", 20)]
    assert [s.what for s in result["ours"]] == ["o", "o"] and len(result["stock"]) == 2


def test_stock_pages_count_from_zero():
    assert StockUrls.page(1) == "page=0"
    assert StockUrls.page(1000) == "page=999"


ORDER_PAGE = """
<div class="card mt-3" id="order-events">
  <div class="card-body py-2">
    <form method="post" action="/sales/orders/42/trigger" class="d-inline">
      <input type="hidden" name="csrf_token" value="tok.en-1">
      <button type="submit" name="event" value="pay" class="btn">pay <span>100</span></button>
      <button type="submit" name="event" value="cancel" class="btn">cancel</button>
    </form>
  </div>
</div>
<form method="post" action="/sales/orders/42/comments"><input name="csrf_token" value="x"></form>
"""


def test_event_form_reads_the_order_wide_form():
    assert event_form(ORDER_PAGE, "pay") == ("/sales/orders/42/trigger", "tok.en-1")
    with pytest.raises(AssertionError):
        event_form(ORDER_PAGE, "ship")


def test_the_benchmark_table_has_each_databases_build_time():
    from tests.benchmark import run

    def result(name, seconds):
        sample = {"median": 2.0, "p95": 3.0, "outside_sql_median": 1.0}
        return {"database": name, "orders": 1_000_000, "items": 2_400_000,
                "build_seconds": seconds, "rows": {"orders list": {"ours": sample}},
                "statements": {"1 item": 9, "100 items": 9},
                "check_timeouts": {"moved": 1, "orders": 1, "seconds": 1.0,
                                   "sql_seconds": 0.5, "items_per_second": 1.0},
                "intake": {"orders_per_second": 100.0},
                "intake_http": {"orders_per_second": 50.0, "clients": 4, "workers": 2}}

    text = run.table([result("SQLite", 254.4), result("PostgreSQL", None)])
    build = [line for line in text.splitlines() if line.startswith("| building the dataset")]
    assert len(build) == 1
    cells = [cell.strip() for cell in build[0].strip("|").split("|")]
    assert cells[1:] == ["254 s", "", "", "", "3,931 orders/s", "reused", "", "", "", ""]
