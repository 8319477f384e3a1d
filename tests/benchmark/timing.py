"""Timing requests through the WSGI app in-process: the time of each request, and the SQL
time inside it, so that a line can say how much of a page is spent outside the database."""
from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import event

from tests.benchmark import dataset

LOGIN_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class SqlClock:
    """The time spent in the database driver's cursor.execute(), summed over the statements
    run on ``engine`` since the last reset(), and how many there were.

    It counts execute() only, not fetching the rows afterwards (psycopg has them all once
    execute() returns; SQLite's cursor steps to the first row in execute() and the rest in
    fetch), so "outside SQL" slightly overstates what is spent outside the database."""

    def __init__(self, engine):
        self.engine = engine
        self.ms = 0.0
        self.statements = 0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        started = conn.info["bench_started"].pop()
        self.ms += (time.perf_counter() - started) * 1000
        self.statements += 1

    def reset(self) -> None:
        self.ms = 0.0
        self.statements = 0

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


@dataclass
class Sample:
    what: str  # the URL asked (the first, when a sample is several requests)
    ms: float
    sql_ms: float
    statements: int

    @property
    def outside_sql_ms(self) -> float:
        return self.ms - self.sql_ms


def p95(values: Iterable[float]) -> float:
    """The 95th percentile as the nearest rank (of 20 samples, the 19th)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summary(samples: list[Sample]) -> dict:
    """Median, p95 and worst of a line's samples, their SQL time, and the slowest URL."""
    times = [s.ms for s in samples]
    slowest = max(samples, key=lambda s: s.ms)
    return {"n": len(samples), "median": statistics.median(times), "p95": p95(times),
            "max": slowest.ms,
            "sql_median": statistics.median(s.sql_ms for s in samples),
            "outside_sql_median": statistics.median(s.outside_sql_ms for s in samples),
            "statements_median": statistics.median(s.statements for s in samples),
            "slowest": {"what": slowest.what, "ms": slowest.ms, "sql_ms": slowest.sql_ms},
            "samples_ms": [round(t, 2) for t in times]}


def clocked(sql: SqlClock, call: Callable[[object], str], value) -> Sample:
    sql.reset()
    start = time.perf_counter()
    what = call(value)
    elapsed = (time.perf_counter() - start) * 1000
    return Sample(what, elapsed, sql.ms, sql.statements)


def alternate(sql: SqlClock, sides: dict[str, Callable[[object], str]], values: list, *,
              warmup: Sequence = (), prepare: Callable[[object], object] | None = None
              ) -> dict[str, list[Sample]]:
    """Each value asked of every side in turn (ours value 1, stock value 1, ours value 2,
    ...), so that both sides get the same values, as many samples, and meet the machine in
    the same state. The ``warmup`` values are asked of each side first, untimed;
    ``prepare(value)`` runs untimed before each sample and returns what the side is asked
    (e.g. it clears the count memo, or reads a form's token)."""
    for value in warmup:
        for call in sides.values():
            call(prepare(value) if prepare else value)
    samples: dict[str, list[Sample]] = {name: [] for name in sides}
    for value in values:
        for name, call in sides.items():
            samples[name].append(clocked(sql, call, prepare(value) if prepare else value))
    return samples


def fetch(client, url: str) -> str:
    """GET ``url``, read the whole body, insist on a 200; return the URL."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    response.get_data()
    return url


def get(client, url: str):
    """A call that GETs ``url`` (for timed() and the stuck-items script)."""
    return lambda *_: fetch(client, url)


def timed(function, repeat: int) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds over ``repeat`` calls (after one warm-up),
    for calls that are not compared with the stock list."""
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), p95(times)


def login(app):
    """A test client signed in as the benchmark's agent through the login form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = LOGIN_TOKEN.search(page).group(1)
    response = client.post("/login", data={"email": dataset.BENCH_EMAIL, "csrf_token": token,
                                           "password": dataset.BENCH_PASSWORD})
    assert response.status_code == 302, "benchmark login failed"
    return client
