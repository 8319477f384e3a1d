"""Faults: the database connection lost in the middle of a request, a sweeper killed with
SIGKILL in the middle of its work, a plugin command that raises, and a bulk run's batch that
meets a locked or lost database part-way.

The first two are about PostgreSQL (a server process that goes away, row locks that must be
released); they are skipped on SQLite, which has no server to lose. This module is also the
plugin of its own test process, Faults01 (``PANEL_PLUGINS=tests.test_faults``).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel import PROJECT_ROOT, hookimpl
from panel.extensions import db
from panel.models import (
    BulkRun,
    BulkRunOrder,
    EventTimeout,
    ItemStateHistory,
    Order,
    OrderItem,
    OutboundEmail,
    TransitionLog,
)
from panel.models.base import utcnow
from panel.oms.definitions import Event, Process, State, Transition
from panel.services import outbox
from tests.conftest import ON_POSTGRES, order_payload
from tests.plugins.write_lock_fixture import WriteLock, shorten_busy_timeout

postgres_only = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="about PostgreSQL behaviour (a server backend that dies, row locks held by a "
           "killed worker); set PANEL_TEST_DATABASE_URL to a PostgreSQL database to run it")

# -- the plugin: a process whose "pay" writes through a command and whose "settle" fails ------

SETTLE_ERROR = "the payment provider refused the settlement"


def build_process() -> Process:
    return Process.build(
        "Faults01",
        source="tests/test_faults.py",
        states=[State(name) for name in ("new", "paid", "shipped", "settled", "canceled")],
        events=[
            Event("pay", manual=True, command="Faults/Capture"),
            Event("ship", manual=True),
            Event("settle", manual=True, command="Faults/SettleFails"),
            Event("cancel", manual=True),
            Event("remind", timeout="3 days"),
        ],
        transitions=[
            Transition("new", "paid", "pay", happy=True),
            Transition("paid", "shipped", "ship", happy=True),
            Transition("paid", "settled", "settle"),
            Transition("new", "canceled", "cancel"),
            Transition("paid", "canceled", "remind"),
        ],
    )


def capture(*, order, items, event, actor):
    """Writes like a real command: the order row, and a mail in the outbox."""
    order.payment_captured_at = utcnow()
    outbox.queue_order_mail(order, "order confirmation", actor=actor)


def settle_fails(*, order, items, event, actor):
    """Writes first, then fails: none of it may stay."""
    order.payment_captured_at = None
    outbox.queue_order_mail(order, "order shipped", actor=actor)
    db.session.flush()
    raise RuntimeError(SETTLE_ERROR)


@hookimpl
def register_processes():
    return [build_process()]


@hookimpl
def register_commands():
    return {"Faults/Capture": capture, "Faults/SettleFails": settle_fails}


@hookimpl
def select_process(order):
    return "Faults01" if order.payment.method == "faults" else None


# -- fixtures and helpers ----------------------------------------------------------------------

@pytest.fixture
def app_config():
    config = {"PANEL_PLUGINS": ("tests.test_faults", "tests.plugins.write_lock_fixture")}
    if not ON_POSTGRES:  # wait half a second for SQLite's write lock, not five
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True,
                                               "connect_args": {"timeout": 0.5}}
    return config


@pytest.fixture
def order_id(post_order):
    response = post_order(order_payload(payment={"method": "faults", "amount": 5487}))
    assert response.status_code == 201, response.json
    return response.json["id"]


# Sign-ins and users change when people log in; everything else must stay as it was.
IGNORED_TABLES = {"login_attempt", "user_account", "api_token"}


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table of the order data, in a comparable form."""
    with app.app_context():
        tables = {}
        for table in db.metadata.sorted_tables:
            if table.name in IGNORED_TABLES:
                continue
            key = [c for c in table.primary_key.columns] or list(table.columns)
            tables[table.name] = [tuple(row) for row in db.session.execute(
                sa.select(table).order_by(*key))]
        db.session.rollback()
        return tables


def item_states(app, order_id) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.text(
            "SELECT state_name FROM order_item WHERE order_id = :o ORDER BY id"), {"o": order_id}))


def press(client, order_id, event):
    return client.post_form(f"/sales/orders/{order_id}/trigger", {"event": event})


def plain_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#34;", '"')


class BackendKiller:
    """Terminates the application's own PostgreSQL backend just before one statement runs
    (``pg_terminate_backend`` from a second connection, as an administrator or a failover
    would), so that statement meets a connection that is gone. The statement is the
    ``occurrence``-th one that starts with ``before``."""

    def __init__(self, engine, database_url: str, before: str, occurrence: int = 1):
        self.engine, self.before, self.occurrence = engine, before, occurrence
        self.admin = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        self.statements: list[str] = []
        self.killed_pid: int | None = None

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._maybe_kill)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._maybe_kill)
        self.admin.dispose()

    def _maybe_kill(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)
        if self.killed_pid is not None or not statement.lstrip().startswith(self.before):
            return
        self.occurrence -= 1
        if self.occurrence:  # an earlier one of these statements: let it run
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with self.admin.connect() as admin:
            assert admin.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(200):  # until the server has really let it go
                if not admin.scalar(sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
                    break
                admin.rollback()  # pg_stat_activity is read once per transaction
                time.sleep(0.01)
        self.killed_pid = pid

    def sent_before_kill(self) -> list[str]:
        return [s.split()[0] + " " + s.split()[2] if s.split()[0] in ("INSERT", "DELETE")
                else " ".join(s.split()[:2]) for s in self.statements[:-1]]


# -- a. the database connection lost in the middle of a request -------------------------------

@pytest.mark.postgres
@postgres_only
def test_connection_lost_between_two_writes_of_a_trigger_saves_nothing(
        app, as_role, order_id, database_url):
    agent = as_role("agent")
    before = snapshot(app)
    with app.app_context():
        engine = db.engine
    with BackendKiller(engine, database_url, "DELETE FROM event_timeout") as killer:
        response = press(agent, order_id, "pay")
    assert killer.killed_pid is not None
    # The items' new states and the mail were sent to the server before the connection went.
    sent = killer.sent_before_kill()
    assert "UPDATE order_item" in sent and "INSERT outbound_email" in sent, sent

    assert response.status_code == 503
    page = response.get_data(as_text=True)
    text = plain_text(page)
    assert "The database could not be reached, so nothing was saved." in text
    assert 'class="navbar-brand"' in page and "Order Panel" in text  # the panel's layout
    assert "Agent User (agent)" in text  # still signed in, as the layout shows
    assert "Traceback" not in page and "OperationalError" not in page
    assert "terminating connection" not in page and "INSERT" not in page
    assert snapshot(app) == before  # no partial write anywhere

    # The next request gets a working connection (the pool dropped the dead one).
    assert agent.get(f"/sales/orders/{order_id}").status_code == 200
    response = press(agent, order_id, "pay")
    assert response.status_code == 302
    page = plain_text(agent.get(response.headers["Location"]).get_data(as_text=True))
    assert '"pay" moved 3 items.' in page
    assert item_states(app, order_id) == ["paid"] * 3
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(
            ItemStateHistory).where(ItemStateHistory.event == "pay")) == 3


@pytest.mark.postgres
@postgres_only
def test_pooled_connections_the_server_closed_are_replaced_before_a_request_uses_them(
        app, as_role, order_id, database_url):
    """A database restart ends every idle pooled connection; the next requests still work
    (panel.db_liveness drops them at checkout, with no round trip)."""
    agent = as_role("agent")
    assert agent.get(f"/sales/orders/{order_id}").status_code == 200  # a connection pooled
    with app.app_context():
        pooled = db.engine.pool.checkedin()
    assert pooled >= 1
    admin = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        ended = conn.scalars(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()")).all()
        assert ended
        for pid in ended:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()
        for _ in range(500):  # until the server has let them go
            if not conn.scalar(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid IN"
                                       " (SELECT unnest(CAST(:pids AS integer[])))"),
                               {"pids": ended}):
                break
            conn.rollback()  # pg_stat_activity is read once per transaction
            time.sleep(0.01)
    admin.dispose()

    page = agent.get(f"/sales/orders/{order_id}")
    assert page.status_code == 200, plain_text(page.get_data(as_text=True))[:300]
    response = press(agent, order_id, "pay")
    assert response.status_code == 302
    assert item_states(app, order_id) == ["paid"] * 3


@pytest.mark.postgres
@postgres_only
def test_connection_lost_in_the_middle_of_an_api_intake_answers_json_503(
        app, post_order, database_url):
    payload = order_payload(order_reference="LOST-1",
                            payment={"method": "faults", "amount": 5487})
    before = snapshot(app)
    with app.app_context():
        engine = db.engine
    # On PostgreSQL the order's own rows go in one statement (WITH ... INSERT), after the
    # new customer's rows: the connection goes between the two.
    with BackendKiller(engine, database_url, "WITH written_order_address") as killer:
        response = post_order(payload)
    assert killer.killed_pid is not None
    assert "INSERT customer" in killer.sent_before_kill(), killer.sent_before_kill()
    assert response.status_code == 503
    assert response.is_json
    assert response.json == {
        "error": "database_unavailable",
        "message": "The database could not be reached, so nothing was saved. "
                   "Please try again in a moment."}
    assert snapshot(app) == before

    again = post_order(payload)  # the storefront retries
    assert again.status_code == 201, again.json
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.order_reference == "LOST-1"))
        assert len(order.items) == 3


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's database-wide write lock; on PostgreSQL "
                    "the lost-connection tests above show the same page")
def test_a_database_locked_too_long_gets_the_503_page_and_saves_nothing(
        app, as_role, order_id, database_url):
    import sqlite3

    agent = as_role("agent")
    before = snapshot(app)
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        response = press(agent, order_id, "pay")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert response.status_code == 503
    text = plain_text(response.get_data(as_text=True))
    assert "The database could not complete the request, so nothing was saved." in text
    assert "Agent User (agent)" in text and "locked" not in text
    assert snapshot(app) == before
    response = press(agent, order_id, "pay")
    assert response.status_code == 302
    assert item_states(app, order_id) == ["paid"] * 3


def test_an_unexpected_error_gets_a_friendly_page_without_details(app, as_role):
    """Anything unforeseen: 500, the panel's layout, no traceback (in a browser and the API)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production (TESTING re-raises)

    @app.get("/faults/boom")
    def boom():
        raise RuntimeError("secret detail: password=hunter2")

    agent = as_role("agent")
    response = agent.get("/faults/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page
    assert 'class="navbar-brand"' in page
    assert "hunter2" not in page and "Traceback" not in page and "RuntimeError" not in page
    response = agent.get("/faults/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500 and response.json["error"] == "internal_error"
    assert "hunter2" not in response.get_data(as_text=True)
    assert agent.get("/sales/orders/").status_code == 200


# -- b. a worker killed with SIGKILL in the middle of check-timeouts ---------------------------

DUE_ITEMS = 4000
CLOSED_BY_SWEEP = ("SELECT count(*) FROM item_state_history "
                   "WHERE event = 'close' AND actor = 'timeout'")


def _count(sql: str, **params) -> int:
    return db.session.scalar(sa.text(sql), params)


@pytest.mark.postgres
@postgres_only
def test_check_timeouts_killed_midway_then_run_again_moves_every_item_once(app, database_url):
    from panel.services import demo
    from tests.benchmark.dataset import ensure_due_timeouts

    with app.app_context():
        orders = 1
        while _count("SELECT count(*) FROM order_item WHERE state_name = 'delivered'") \
                < DUE_ITEMS:
            orders += demo.seed_orders(1500, seed=orders, batch=1500).created
        assert ensure_due_timeouts(DUE_ITEMS) >= DUE_ITEMS  # the demo data has some already
        due_items = set(db.session.scalars(sa.select(EventTimeout.item_id).where(
            EventTimeout.due_at <= utcnow())))
        assert len(due_items) >= DUE_ITEMS
        assert not _count("SELECT count(*) FROM item_state_history WHERE event = 'close' "
                          "AND item_id = ANY(:ids)", ids=list(due_items))
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()

    url = database_url + ("&" if "?" in database_url else "?") + \
        "application_name=faults-sweeper"
    env = dict(os.environ, PANEL_DATABASE_URL=url, PANEL_SECRET_KEY="test")
    env.pop("PANEL_PLUGINS", None)
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "oms", "check-timeouts"]
    worker = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    closed_at_kill = 0
    with app.app_context():
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and worker.poll() is None:
                closed_at_kill = _count(CLOSED_BY_SWEEP)
                db.session.rollback()
                if closed_at_kill >= 200:
                    worker.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.02)
        finally:
            if worker.poll() is None:
                worker.kill()
            out, err = worker.communicate(timeout=60)
        assert worker.returncode == -signal.SIGKILL, (worker.returncode, out, err)
        assert "check-timeouts:" not in out  # it really died before finishing
        # The server notices the dead client and rolls its open transaction back: at once
        # when the backend waits for the client, after the statement when it was running one.
        # PostgreSQL shows pg_stat_activity as it was at the transaction's first look, so
        # each look is a transaction of its own.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _count(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'faults-sweeper'"):
            db.session.rollback()
            time.sleep(0.05)
        db.session.rollback()
        backends = db.session.execute(sa.text(
            "SELECT state, wait_event_type, wait_event, left(query, 80) FROM pg_stat_activity "
            "WHERE application_name = 'faults-sweeper'")).all()
        assert not backends, f"the killed sweeper's backend is still there: {backends}"
        closed_after_kill = _count(CLOSED_BY_SWEEP)
        db.session.rollback()
        assert 200 <= closed_at_kill <= closed_after_kill < len(due_items)

    second = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert second.returncode == 0, second.stderr
    moved = int(re.search(r"check-timeouts: (\d+) item", second.stdout).group(1))
    assert moved == len(due_items) - closed_after_kill
    assert "0 error(s)" in second.stdout

    with app.app_context():
        history = db.session.execute(sa.select(
            ItemStateHistory.item_id, sa.func.count()).where(ItemStateHistory.event == "close",
                                                             ItemStateHistory.actor == "timeout")
            .group_by(ItemStateHistory.item_id)).all()
        assert {item_id for item_id, _ in history} == due_items
        assert {n for _, n in history} == {1}  # each item moved exactly once
        log = db.session.execute(sa.select(
            TransitionLog.item_id, sa.func.count()).where(TransitionLog.event == "close",
                                                          TransitionLog.actor == "timeout")
            .group_by(TransitionLog.item_id)).all()
        assert {item_id for item_id, _ in log} == due_items and {n for _, n in log} == {1}
        assert not _count("SELECT count(*) FROM transition_log WHERE is_error")
        assert not _count("SELECT count(*) FROM event_timeout WHERE due_at <= :now",
                          now=utcnow())
        assert not _count("SELECT count(*) FROM order_item WHERE id = ANY(:ids) "
                          "AND state_name <> 'closed'", ids=list(due_items))
        # The order rows' list columns follow their items.
        assert not _count("SELECT count(*) FROM sales_order o WHERE o.item_states <> "
                          "(SELECT string_agg(DISTINCT i.state_name, ' ' ORDER BY i.state_name) "
                          "FROM order_item i WHERE i.order_id = o.id)")
        # Nothing is left locked: no other session holds a lock in this database, and
        # every order row can be locked at once without waiting.
        assert not _count("SELECT count(*) FROM pg_locks l JOIN pg_database d "
                          "ON d.oid = l.database WHERE d.datname = current_database() "
                          "AND l.pid <> pg_backend_pid()")
        db.session.execute(sa.text("SET LOCAL lock_timeout = '1s'"))
        locked = db.session.execute(sa.text("SELECT id FROM sales_order FOR UPDATE NOWAIT"))
        assert len(locked.all()) == _count("SELECT count(*) FROM sales_order")
        db.session.rollback()


# -- c. a plugin command that raises leaves the order as it was --------------------------------

def test_a_failing_command_pressed_on_the_order_page_leaves_the_order_as_it_was(
        app, as_role, order_id):
    agent = as_role("agent")
    assert press(agent, order_id, "pay").status_code == 302
    assert item_states(app, order_id) == ["paid"] * 3
    before = snapshot(app)
    # Something to lose in every table the run touches.
    assert len(before["outbound_email"]) == 1 and len(before["event_timeout"]) == 3
    assert len(before["item_state_history"]) == 6
    with app.app_context():
        assert db.session.get(Order, order_id).item_states == "paid"

    response = press(agent, order_id, "settle")
    assert response.status_code == 302
    page = plain_text(agent.get(response.headers["Location"]).get_data(as_text=True))
    assert f'"settle" failed, nothing changed: Faults/SettleFails: {SETTLE_ERROR}' in page

    after = snapshot(app)
    log_rows = after.pop("transition_log")
    assert after == {name: rows for name, rows in before.items() if name != "transition_log"}
    assert log_rows[:len(before["transition_log"])] == before["transition_log"]
    with app.app_context():
        errors = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.is_error)
                                    .order_by(TransitionLog.item_id)).all()
        items = sorted(db.session.scalars(sa.select(OrderItem.id).where(
            OrderItem.order_id == order_id)))
        # One error row for each item the run was for, and nothing else was written.
        assert [(e.item_id, e.order_id, e.event, e.command, e.source_state, e.target_state,
                 e.actor, e.error_message) for e in errors] == [
            (item_id, order_id, "settle", "Faults/SettleFails", "paid", None,
             "Agent User <agent@example.org>", f"Faults/SettleFails: {SETTLE_ERROR}")
            for item_id in items]
    assert len(log_rows) == len(before["transition_log"]) + len(items)

    # The order is still usable: the next event goes through.
    response = press(agent, order_id, "ship")
    page = plain_text(agent.get(response.headers["Location"]).get_data(as_text=True))
    assert '"ship" moved 3 items.' in page
    assert item_states(app, order_id) == ["shipped"] * 3


def test_a_failing_command_on_an_item_button_changes_nothing_of_the_other_items(
        app, as_role, order_id):
    agent = as_role("agent")
    press(agent, order_id, "pay")
    with app.app_context():
        first = db.session.scalar(sa.text(
            "SELECT min(id) FROM order_item WHERE order_id = :o"), {"o": order_id})
        db.session.rollback()
    before = snapshot(app)
    response = agent.post_form(f"/sales/orders/{order_id}/trigger",
                               {"item_event": f"{first}:settle"})
    page = plain_text(agent.get(response.headers["Location"]).get_data(as_text=True))
    assert f'"settle" failed, nothing changed: Faults/SettleFails: {SETTLE_ERROR}' in page
    after = snapshot(app)
    after.pop("transition_log"), before.pop("transition_log")
    assert after == before


def test_timeouts_of_the_test_process_are_still_due_after_the_failure(app, as_role, order_id):
    """The failed run's rollback leaves the paid state's timeouts, which still fire."""
    agent = as_role("agent")
    press(agent, order_id, "pay")
    press(agent, order_id, "settle")
    with app.app_context():
        from panel.oms import sweeps

        result = sweeps.check_timeouts(now=utcnow() + timedelta(days=4))
        assert (result.moved, result.errors) == (3, [])
    assert item_states(app, order_id) == ["canceled"] * 3


# -- d. a bulk run's batch that meets a locked or lost database part-way ----------------------

def faults_orders(post_order, n) -> list[int]:
    ids = []
    for _ in range(n):
        response = post_order(order_payload(payment={"method": "faults", "amount": 5487}))
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    return ids


def start_bulk_pay(client, order_ids) -> str:
    """Tick the orders, confirm "pay"; return the run page's path."""
    response = client.post_form("/sales/bulk/select", {"order": [str(i) for i in order_ids]})
    assert response.status_code == 303, response.get_data(as_text=True)
    selection = response.headers["Location"].rsplit("/", 1)[1]
    response = client.post_form(f"/sales/bulk/selections/{selection}/runs", {"event": "pay"})
    assert response.status_code == 302
    return response.headers["Location"]


def batch_json(client, run_url):
    return client.post_form(run_url + "/batch", headers={"Accept": "application/json"})


def report(app) -> dict[int, str]:
    """{order id: outcome} of the (one) run's report."""
    with app.app_context():
        return {order_id: outcome for order_id, outcome in db.session.execute(
            sa.select(BulkRunOrder.order_id, BulkRunOrder.outcome))}


def assert_report_is_true(app) -> None:
    """Order by order, the run's report says what the database holds: "moved" for an order
    whose items were paid once (with one mail), "pending" for one untouched; and the run's
    done count is the number of orders with an outcome."""
    with app.app_context():
        rows = db.session.execute(sa.select(BulkRunOrder.order_id, BulkRunOrder.outcome,
                                            BulkRunOrder.moved)).all()
        for order_id, outcome, moved in rows:
            states = db.session.scalars(sa.select(OrderItem.state_name).where(
                OrderItem.order_id == order_id)).all()
            paid = db.session.scalar(
                sa.select(sa.func.count()).select_from(ItemStateHistory)
                .join(OrderItem, OrderItem.id == ItemStateHistory.item_id)
                .where(OrderItem.order_id == order_id, ItemStateHistory.event == "pay"))
            mails = db.session.scalar(sa.select(sa.func.count()).select_from(OutboundEmail)
                                      .where(OutboundEmail.order_id == order_id))
            found = (outcome, moved, states, paid, mails)
            if outcome == "moved":
                assert found == ("moved", 3, ["paid"] * 3, 3, 1), (order_id, found)
            else:
                assert found == ("pending", 0, ["new"] * 3, 0, 0), (order_id, found)
        run = db.session.scalar(sa.select(BulkRun))
        assert run.done_orders == sum(outcome != "pending" for _, outcome, _ in rows)
        db.session.rollback()


@pytest.fixture
def write_lock_after(app, database_url):
    """write_lock_after(n): once n more orders have moved, another process holds SQLite's
    write lock until the test releases it; the app waits one second for it, not ten."""
    with app.app_context():
        shorten_busy_timeout(db.engine, 1000)
    locks = []

    def arm(moves: int) -> WriteLock:
        locks.append(WriteLock.arm(database_url, moves))
        return locks[-1]

    yield arm
    for lock in locks:
        lock.release()


BUSY = ("The database was busy, so this batch stopped after {n} orders, which are saved and in "
        "the report. The orders not done yet are still pending; nothing was lost.")


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's database-wide write lock; on PostgreSQL "
                    "the lost-connection test below stops a batch the same way")
def test_a_bulk_batch_that_meets_a_locked_database_reports_what_moved_and_the_next_goes_on(
        app, as_role, post_order, write_lock_after):
    ids = faults_orders(post_order, 8)
    agent = as_role("agent")
    run_url = start_bulk_pay(agent, ids)

    # panel.js: the lock is taken after the third order of the batch committed.
    lock = write_lock_after(3)
    try:
        response = batch_json(agent, run_url)
        assert lock.held
    finally:
        lock.release()
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.json == {"status": "interrupted", "finished": 3, "done": 3, "total": 8,
                             "message": BUSY.format(n=3)}
    assert [report(app)[i] for i in ids] == ["moved"] * 3 + ["pending"] * 5
    assert_report_is_true(app)

    # The form: the lock is gone, so the next batch goes on at once, until the next lock.
    lock = write_lock_after(2)
    try:
        response = agent.post_form(run_url + "/batch")
    finally:
        lock.release()
    assert response.status_code == 302
    page = plain_text(agent.get(response.headers["Location"]).get_data(as_text=True))
    assert BUSY.format(n=2) + ' Press "Run next batch" to go on.' in page
    assert "nothing was saved" not in page
    assert [report(app)[i] for i in ids] == ["moved"] * 5 + ["pending"] * 3
    assert_report_is_true(app)

    response = batch_json(agent, run_url)
    assert response.status_code == 200
    assert response.json == {"status": "done", "finished": 3, "done": 8, "total": 8,
                             "message": ""}
    assert set(report(app).values()) == {"moved"}
    assert_report_is_true(app)


@pytest.mark.postgres
@postgres_only
def test_a_bulk_batch_whose_connection_is_lost_reports_what_moved_and_the_next_goes_on(
        app, as_role, post_order, database_url):
    ids = faults_orders(post_order, 6)
    agent = as_role("agent")
    run_url = start_bulk_pay(agent, ids)
    with app.app_context():
        engine = db.engine
    # The third order's report row: its items' moves are sent, its commit never comes.
    with BackendKiller(engine, database_url, "UPDATE bulk_run_order", occurrence=3) as killer:
        response = agent.post_form(run_url + "/batch")
    assert killer.killed_pid is not None
    assert "UPDATE order_item" in killer.sent_before_kill()
    assert response.status_code == 302
    page = plain_text(agent.get(response.headers["Location"]).get_data(as_text=True))
    assert ("The database could not be reached, so this batch stopped after 2 orders, which "
            "are saved and in the report. The orders not done yet are still pending; nothing "
            'was lost. Press "Run next batch" to go on.') in page
    assert [report(app)[i] for i in ids] == ["moved"] * 2 + ["pending"] * 4
    assert_report_is_true(app)

    response = batch_json(agent, run_url)  # at once: no claim waits for a lease to end
    assert response.status_code == 200
    assert response.json == {"status": "done", "finished": 4, "done": 6, "total": 6,
                             "message": ""}
    assert_report_is_true(app)
