"""Load: real users against gunicorn on loopback, a mixed workload, and a count of what stuck.

    .venv/bin/python -m tests.load.run --database-url postgresql+psycopg://postgres@127.0.0.1/DB

It migrates the database (``flask db upgrade``), seeds demo orders up to ``--orders``
(``flask demo seed``), creates ``--users`` agents, starts ``gunicorn wsgi:app`` on 127.0.0.1,
logs every client in through the login form, and runs the mix below for ``--duration``
seconds with ``--clients`` threads. Every comment posted carries a unique text; afterwards the
comments are counted in the database: every one the server acknowledged must be there. It
prints requests per second, latency per kind, errors, comments posted and stored, and how
much CPU the clients used (so they are known not to be the bottleneck).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "load test password"
# kind: weight. Reads dominate, as in a back office; a fifth of the requests write.
MIX = {"list": 20, "search": 15, "filter": 15, "order page": 30, "pay": 10, "comment": 10}
STATES = ("new", "paid", "shipped", "delivered", "closed", "canceled")


# -- preparing the database and the server ------------------------------------------------

def flask_env(database_url: str) -> dict:
    env = dict(os.environ, PANEL_DATABASE_URL=database_url,
               PANEL_SECRET_KEY="load-test-secret-key", MAIL_SUPPRESS_SEND="1")
    env.pop("PANEL_PLUGINS", None)
    return env


def flask(database_url: str, *args: str) -> str:
    done = subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", *args], cwd=ROOT,
                          env=flask_env(database_url), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(database_url: str, orders: int, users: int, log=print) -> list[str]:
    """Migrate, seed up to ``orders``, make ``users`` agents; return their emails."""
    import sqlalchemy as sa

    flask(database_url, "db", "upgrade")
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        have = conn.scalar(sa.text("SELECT count(*) FROM sales_order"))
    if have < orders:
        log(f"seeding {orders - have:,} orders ...")
        log("  " + flask(database_url, "demo", "seed", "--orders", str(orders - have),
                         "--seed", str(have + 1)).strip())
    emails = [f"load-{n}@example.org" for n in range(1, users + 1)]
    from werkzeug.security import generate_password_hash

    from panel import create_app
    from panel.extensions import db
    from panel.models import User

    password_hash = generate_password_hash(PASSWORD)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "load",
                      "PANEL_SECRET_KEY_IS_GENERATED": False})
    with app.app_context():
        for n, email in enumerate(emails, start=1):
            user = db.session.scalar(sa.select(User).where(User.email == email))
            if user is None:
                user = User(email=email, name=f"Load Agent {n}", role="agent")
                db.session.add(user)
            user.password_hash, user.active = password_hash, True
        db.session.commit()
        if engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        db.engine.dispose()
    engine.dispose()
    return emails


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """``gunicorn wsgi:app`` on loopback, stopped (SIGTERM, by its pid) when done.

    With ``shipped_config``, it runs with deploy/gunicorn.conf.py (its worker count unless
    ``workers`` is given), as a deployment would, minus the access log.
    """

    def __init__(self, database_url: str, workers: int | None, port: int | None = None,
                 shipped_config: bool = False):
        self.database_url, self.workers = database_url, workers
        self.port = port or free_port()
        self.shipped_config = shipped_config
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        command = [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{self.port}",
                   "--no-control-socket", "--log-level", "warning"]
        env = flask_env(self.database_url)
        if self.shipped_config:
            command += ["--config", str(ROOT / "deploy/gunicorn.conf.py")]
            env["PANEL_ACCESS_LOG"] = ""  # nobody reads the pipe: a full one would block
        if self.workers:
            command += ["--workers", str(self.workers)]
        self.process = subprocess.Popen(
            [*command, "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn stopped: " + self.process.stderr.read())
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
            finally:
                conn.close()
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
                             capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent not idle (all processes, from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


# -- the clients ---------------------------------------------------------------------------

class Client:
    """One signed-in browser: its own cookies and CSRF token, one connection at a time."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had closed meanwhile (gunicorn's sync
                # workers close after each response): only a fresh connection counts.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return response.status, response.getheader("Location", ""), data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def login(self, email: str) -> None:
        status, _, page = self.request("GET", "/login")
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or not match:
            raise RuntimeError(f"no login form ({status})")
        self.token = match.group(1).decode()
        status, location, _ = self.request("POST", "/login", {
            "email": email, "password": PASSWORD, "csrf_token": self.token})
        if status != 302 or "/login" in location:
            raise RuntimeError(f"login as {email} failed ({status}, {location})")
        # A login starts a session with a new CSRF token: read it from a page of the panel.
        status, _, page = self.request("GET", "/account/")
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or not match:
            raise RuntimeError(f"no CSRF token after logging in as {email} ({status})")
        self.token = match.group(1).decode()


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    comments_acknowledged: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.error_samples) < 20:
                self.error_samples.append(f"{kind}: {what}")


def sample_orders(database_url: str, count: int = 2000) -> list[dict]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT id, order_reference, last_name, email FROM sales_order "
            "ORDER BY id DESC LIMIT :n"), {"n": count}).mappings().all()
    engine.dispose()
    return [dict(r) for r in rows]


def workload(client: Client, name: str, orders: list[dict], stop: float, results: Results,
             rng: random.Random, run_id: str) -> None:
    kinds, weights = zip(*MIX.items(), strict=True)
    n = 0
    while time.monotonic() < stop:
        kind = rng.choices(kinds, weights)[0]
        order = rng.choice(orders)
        n += 1
        if kind == "list":
            method, path, form = "GET", f"/sales/orders/?page={rng.randint(1, 50)}", None
        elif kind == "search":
            term = rng.choice((order["order_reference"], order["last_name"],
                               order["email"].split("@")[0]))
            method, path, form = "GET", "/sales/orders/?" + urlencode({"q": term}), None
        elif kind == "filter":
            method, path, form = "GET", "/sales/orders/?" + urlencode(
                {"state": rng.choice(STATES), "store": rng.choice(("DE", "AT"))}), None
        elif kind == "order page":
            method, path, form = "GET", f"/sales/orders/{order['id']}", None
        elif kind == "pay":
            method, path = "POST", f"/sales/orders/{order['id']}/trigger"
            form = {"event": "pay", "csrf_token": client.token}
        else:
            text = f"load {run_id} {name} #{n}: a note for the team"
            method, path = "POST", f"/sales/messages/{order['id']}/comments"
            form = {"message": text, "csrf_token": client.token}
        started = time.perf_counter()
        try:
            status, location, body = client.request(method, path, form)
        except OSError as exc:
            results.error(kind, f"connection error: {exc!r}")
            continue
        results.record(kind, time.perf_counter() - started)
        expected = 302 if method == "POST" else (200, 400)
        if status >= 500:
            results.error(kind, f"{status} on {method} {path}")
        elif status not in (expected if isinstance(expected, tuple) else (expected,)) \
                or "/login" in location:
            results.error(kind, f"unexpected {status} {location} on {method} {path}")
        elif kind == "comment":
            with results.lock:
                results.comments_acknowledged.append(form["message"])
        if method == "POST" and status == 302 and location:
            # As a browser would: follow to the order page (and read the flashed message).
            started = time.perf_counter()
            try:
                status, _, _ = client.request("GET", location.split("127.0.0.1", 1)[-1]
                                              .split(f":{client.port}", 1)[-1])
            except OSError as exc:
                results.error("order page", f"connection error: {exc!r}")
                continue
            results.record("order page", time.perf_counter() - started)
            if status != 200:
                results.error("order page", f"{status} after {kind}")


def count_stored(database_url: str, run_id: str) -> set[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        stored = set(conn.scalars(sa.text("SELECT message FROM order_comment "
                                          "WHERE message LIKE :p"), {"p": f"load {run_id} %"}))
    engine.dispose()
    return stored


def run_load(database_url: str, emails: list[str], *, clients: int, duration: float,
             workers: int, log=print) -> dict:
    """Start gunicorn, log the clients in, run the mix; return the figures."""
    orders = sample_orders(database_url)
    run_id = uuid.uuid4().hex[:12]
    results = Results()
    with Gunicorn(database_url, workers) as server:
        people = []
        for n in range(clients):
            client = Client(server.port)
            client.login(emails[n % len(emails)])
            people.append(client)
        log(f"gunicorn: {workers} workers on 127.0.0.1:{server.port}; "
            f"{clients} clients signed in")
        server_pids = [server.process.pid, *server.worker_pids()]
        pg_pids = postgres_pids() if database_url.startswith("postgresql") else []
        cpu_before = (time.process_time(), cpu_seconds(server_pids), cpu_seconds(pg_pids),
                      machine_busy_seconds())
        started = time.monotonic()
        stop = started + duration
        threads = [threading.Thread(target=workload, args=(
            c, f"c{n}", orders, stop, results, random.Random(n), run_id), daemon=True)
            for n, c in enumerate(people)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        cpu_after = (time.process_time(), cpu_seconds(server_pids), cpu_seconds(pg_pids),
                     machine_busy_seconds())
        for client in people:
            client.close()
    stored = count_stored(database_url, run_id)
    acknowledged = set(results.comments_acknowledged)
    kinds = {}
    for kind in [*MIX, *(k for k in results.latencies if k not in MIX)]:
        values = sorted(results.latencies.get(kind, []))
        kinds[kind] = {
            "requests": len(values), "per_second": len(values) / elapsed,
            "median_ms": _pct(values, 50), "p95_ms": _pct(values, 95),
            "p99_ms": _pct(values, 99), "errors": results.errors.get(kind, 0)}
    total = sum(k["requests"] for k in kinds.values())
    return {
        "database": database_url.split("://", 1)[0], "workers": workers, "clients": clients,
        "seconds": round(elapsed, 1), "requests": total, "per_second": total / elapsed,
        "kinds": kinds, "errors": sum(results.errors.values()),
        "error_samples": results.error_samples,
        "comments_posted": len(results.comments_acknowledged),
        "comments_unique": len(acknowledged), "comments_stored": len(stored),
        "comments_lost": len(acknowledged - stored),
        "cpu_cores_used": {
            "clients": (cpu_after[0] - cpu_before[0]) / elapsed,
            "gunicorn": (cpu_after[1] - cpu_before[1]) / elapsed,
            "postgresql": (cpu_after[2] - cpu_before[2]) / elapsed,
            "machine": (cpu_after[3] - cpu_before[3]) / elapsed, "machine_cores": os.cpu_count()},
    }


def _pct(values: list[float], p: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000


def table(figures: dict) -> str:
    lines = ["| kind | requests | req/s | median | p95 | p99 | errors |",
             "|---|---|---|---|---|---|---|"]
    for kind, k in figures["kinds"].items():
        if not k["requests"] and not k["errors"]:
            continue
        lines.append(f"| {kind} | {k['requests']:,} | {k['per_second']:.1f} | "
                     f"{_ms(k['median_ms'])} | {_ms(k['p95_ms'])} | {_ms(k['p99_ms'])} | "
                     f"{k['errors']} |")
    lines.append(f"| **all** | {figures['requests']:,} | {figures['per_second']:.1f} | | | | "
                 f"{figures['errors']} |")
    cpu = figures["cpu_cores_used"]
    lines += ["", f"Comments: {figures['comments_posted']:,} acknowledged, "
              f"{figures['comments_stored']:,} stored, {figures['comments_lost']} lost. "
              f"CPU in cores over the run: clients {cpu['clients']:.2f}, "
              f"gunicorn {cpu['gunicorn']:.2f}, PostgreSQL {cpu['postgresql']:.2f} (all its "
              f"processes, other databases' too), the whole machine {cpu['machine']:.2f} "
              f"of {cpu['machine_cores']}."]
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="a database of its own (it is migrated and seeded)")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    emails = prepare(args.database_url, args.orders, args.users)
    figures = run_load(args.database_url, emails, clients=args.clients,
                       duration=args.duration, workers=args.workers)
    print(table(figures))
    for sample in figures["error_samples"]:
        print("  error:", sample)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 1 if figures["errors"] or figures["comments_lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
