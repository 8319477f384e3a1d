"""Bulk actions on Sales > Orders: frozen selections, preview, batched runs, reports, CSV,
and who may run a batch.

Runs on SQLite and, with PANEL_TEST_DATABASE_URL, on PostgreSQL (where each order of a batch
is claimed with FOR UPDATE SKIP LOCKED). Faults (a locked or lost database in the middle of
a batch) are in tests/test_faults.py.
"""
import csv
import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from panel.admin.bulk import BulkView
from panel.admin.csv_export import CSV_COLUMNS
from panel.extensions import db
from panel.models import (
    BulkRun,
    BulkRunOrder,
    ItemStateHistory,
    Order,
    OrderItem,
    Selection,
    SelectionOrder,
    TransitionLog,
    User,
)
from panel.models.base import utcnow
from panel.oms import engine
from panel.oms.registry import current_registry
from panel.services import bulk_actions, bulk_batches, paging
from panel.services.order_search import OrderQuery
from tests.conftest import ON_POSTGRES, PanelClient, order_payload, password_hash, place_orders
from tests.plugins import engine_fixture

TEST_PAYMENT = {"method": "test", "amount": 5487}  # Test01 of tests/plugins/engine_fixture.py
AGENT = "Agent User <agent@example.org>"  # as the history names the accounts fixture's users
ADMIN = "Admin User <admin@example.org>"


@pytest.fixture
def app_config():
    return {"PANEL_PLUGINS": ("tests.plugins.engine_fixture",)}


@pytest.fixture
def agent(as_role):
    return as_role("agent")


def states(app, order_id):
    with app.app_context():
        return db.session.scalars(sa.select(OrderItem.state_name).where(
            OrderItem.order_id == order_id).order_by(OrderItem.id)).all()


def trigger(app, order_id, event):
    with app.app_context():
        assert engine.trigger_event(order_id, event, actor="setup").moved


def user(app):
    """Who the services are told did it (they read the name, email and role)."""
    return SimpleNamespace(name="Agent User", email="agent@example.org", role="agent")


def select_ticked(client, ids, action="trigger"):
    """Tick ``ids`` on the list and press a bulk button; return the selection's id."""
    response = client.post_form("/sales/bulk/select", {"order": [str(i) for i in ids],
                                                       "action": action})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"/selections/(\d+)", response.headers["Location"]).group(1))


def select_all(client, query_string=""):
    response = client.post_form("/sales/bulk/select", {"scope": "all", "filter": query_string})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"/selections/(\d+)$", response.headers["Location"]).group(1))


def selected_ids(app, selection_id):
    with app.app_context():
        return sorted(db.session.scalars(sa.select(SelectionOrder.order_id).where(
            SelectionOrder.selection_id == selection_id)))


def confirm(client, selection_id, event):
    """Press Confirm after a preview; return the run's page URL."""
    response = client.post_form(f"/sales/bulk/selections/{selection_id}/runs", {"event": event})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert re.search(rf"/sales/bulk/selections/{selection_id}/runs/\d+$", location), location
    return location


def next_batch_json(client, run_url):
    response = client.post_form(run_url + "/batch", headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def run_to_end(client, run_url, limit=50):
    for _ in range(limit):
        state = next_batch_json(client, run_url)
        if state["status"] == "done":
            return state
    raise AssertionError("the run did not finish")


def flashed(client, response):
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def csv_rows(response):
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# -- the list ------------------------------------------------------------------------------


def test_list_has_a_checkbox_per_row_and_the_bulk_bar_for_editors(agent, as_role, post_order):
    ids = place_orders(post_order, 2)
    page = agent.get("/sales/orders/?store=DE").get_data(as_text=True)
    for order_id in ids:
        assert re.search(rf'<input type="checkbox"[^>]* name="order" value="{order_id}"', page)
    assert 'data-check-all="order"' in page
    bar = re.search(r'id="bulk-bar">(.*?)</div>', page, re.S).group(1)
    assert "Trigger event for selected…" in bar and "Download selected as CSV" in bar
    assert "Select all 2 orders matching this filter" in bar
    # The list's filter goes along, so "all matching" means the filter on the screen.
    assert '<input type="hidden" name="filter" value="store=DE">' in page
    # What other tests rely on is all still there, each order once.
    assert re.findall(r'data-order-reference="([^"]+)"', page) == ["DE--2", "DE--1"]
    for marker in ('id="orders-table"', 'id="download-csv"', 'id="order-filters"',
                   'class="email-link"', "claim-link"):
        assert marker in page, marker

    viewer_page = as_role("viewer").get("/sales/orders/").get_data(as_text=True)
    assert 'name="order"' not in viewer_page and "bulk-bar" not in viewer_page


def test_select_all_shows_the_capped_count_but_freezes_every_match(app, agent, post_order,
                                                                  monkeypatch):
    ids = place_orders(post_order, 3)
    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    page = agent.get("/sales/orders/").get_data(as_text=True)
    assert "Select all 2+ orders matching this filter" in page
    selection_id = select_all(agent)
    assert selected_ids(app, selection_id) == sorted(ids)
    page = agent.get(f"/sales/bulk/selections/{selection_id}").get_data(as_text=True)
    assert re.search(r'id="selection-count">3<', page)
    assert "All orders (no filter)" in page


# -- freezing ------------------------------------------------------------------------------


def test_selection_is_frozen_and_later_orders_are_never_touched(app, agent, post_order):
    de = place_orders(post_order, 2)
    place_orders(post_order, 1, store="AT")
    selection_id = select_all(agent, "store=DE&q=&page=3&sort=created&dir=desc")
    assert selected_ids(app, selection_id) == sorted(de)  # every match, not one page
    late = place_orders(post_order, 1)[0]  # matches the filter, but arrives afterwards

    page = agent.get(f"/sales/bulk/selections/{selection_id}?event=pay").get_data(as_text=True)
    assert "All orders matching: store DE" in page
    run_url = confirm(agent, selection_id, "pay")
    assert run_to_end(agent, run_url) == {"status": "done", "finished": 2, "done": 2,
                                          "total": 2, "message": ""}
    for order_id in de:
        assert states(app, order_id) == ["paid"] * 3
    assert states(app, late) == ["new"] * 3
    assert selected_ids(app, selection_id) == sorted(de)


def test_freezing_writes_the_ids_with_one_insert_select(app, post_order):
    """A million matches must not pass through Python: the ids go from SELECT to INSERT."""
    place_orders(post_order, 3)
    statements = []
    with app.app_context():
        listen = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listen)
        try:
            selection = bulk_actions.freeze_selection(OrderQuery(), user(app))
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listen)
        assert selection.order_count == 3
    inserts = [s for s in statements if "INSERT INTO bulk_selection_order" in s]
    assert len(inserts) == 1 and "SELECT" in inserts[0]


# -- preview -------------------------------------------------------------------------------


def test_preview_counts_orders_and_items_that_move_and_says_why_others_are_skipped(
        app, agent, post_order):
    new_one, new_two, paid = place_orders(post_order, 3)
    trigger(app, paid, "pay")
    selection_id = select_ticked(agent, [new_one, new_two, paid])
    with app.app_context():
        selection = db.session.get(Selection, selection_id)
        assert bulk_actions.event_choices(selection) == ["pay", "cancel", "ship"]
        ship = bulk_actions.preview(selection, "ship")
        assert (ship.orders_total, ship.orders_moving, ship.items_moving) == (3, 1, 3)
        assert (ship.orders_skipped, ship.items_skipped) == (2, 6)
        assert ship.skip_reasons == [("no item in a state that takes 'ship'", 2)]
        assert [(r.state, r.orders, r.items, r.moves, r.targets) for r in ship.states] == [
            ("new", 2, 6, False, []), ("paid", 1, 3, True, ["shipped"])]
        pay = bulk_actions.preview(selection, "pay")
        assert (pay.orders_moving, pay.items_moving, pay.orders_skipped) == (2, 6, 1)
        cancel = bulk_actions.preview(selection, "cancel")
        assert (cancel.orders_moving, cancel.items_moving, cancel.skip_reasons) == (3, 9, [])

    page = agent.get(f"/sales/bulk/selections/{selection_id}?event=ship").get_data(as_text=True)
    moving = re.search(r'id="preview-moving">(.*?)</li>', page, re.S).group(1)
    assert re.sub(r"<[^>]+>|\s+", " ", moving).split() == \
        "1 of 3 orders with 3 items would move.".split()
    skipped = re.search(r'id="preview-skipped">(.*?)</li>', page, re.S).group(1)
    assert "no item in a state that takes &#39;ship&#39;</span> (2)" in skipped
    assert re.findall(r'<option value="([\w ]+)"', page) == ["pay", "cancel", "ship"]
    assert 'id="confirm-button"' in page
    # Previewing changes nothing.
    assert states(app, paid) == ["paid"] * 3 and states(app, new_one) == ["new"] * 3


def test_preview_runs_the_same_queries_for_three_orders_as_for_thirty(app, post_order):
    def count_queries(order_ids):
        statements = []
        with app.app_context():
            selection = bulk_actions.freeze_selection(order_ids, user(app))
            listen = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
            sa.event.listen(db.engine, "before_cursor_execute", listen)
            try:
                bulk_actions.preview(selection, "pay")
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", listen)
        return len(statements)

    ids = place_orders(post_order, 30)
    assert count_queries(ids[:3]) == count_queries(ids) <= 4


# -- runs ----------------------------------------------------------------------------------


@pytest.fixture
def capture_fails_for(monkeypatch, app):
    """Make Test01's payment command fail for one order (the provider is down for it)."""

    def arm(failing_order_id):
        def capture(*, order, items, event, actor):
            if order.id == failing_order_id:
                raise RuntimeError("the payment provider is down")
            engine_fixture.capture(order=order, items=items, event=event, actor=actor)

        with app.app_context():
            monkeypatch.setitem(current_registry().commands, "Test/Capture", capture)

    return arm


def test_run_goes_on_past_a_failing_order_and_reports_it(app, agent, post_order,
                                                         capture_fails_for, monkeypatch):
    first, failing, last = place_orders(post_order, 3, payment=TEST_PAYMENT)
    capture_fails_for(failing)
    monkeypatch.setattr(BulkView, "batch_size", 2)
    selection_id = select_ticked(agent, [first, failing, last])
    page = agent.get(f"/sales/bulk/selections/{selection_id}?event=pay").get_data(as_text=True)
    assert "3 of 3 orders with 9 items would move." in " ".join(re.sub(r"<[^>]+>", " ", page).split())
    run_url = confirm(agent, selection_id, "pay")

    page = agent.get(run_url).get_data(as_text=True)
    assert 'data-status="running"' in page and 'id="next-batch"' in page
    assert re.search(r'<progress[^>]* max="3" value="0"', page)

    # Without JavaScript: the "Run next batch" button, one batch of two per press.
    page = flashed(agent, agent.post_form(run_url + "/batch"))
    assert re.search(r'id="run-done">2<', page) and re.search(r'<progress[^>]* value="2"', page)
    page = flashed(agent, agent.post_form(run_url + "/batch"))
    assert 'data-status="done"' in page and 'id="next-batch"' not in page
    assert re.search(r'id="run-done">3<', page)

    assert states(app, first) == states(app, last) == ["paid"] * 3
    assert states(app, failing) == ["new"] * 3  # its transaction was undone, the others moved
    rows = {int(m[0]): (m[1], m[2]) for m in re.findall(
        r'<tr data-order-id="(\d+)" data-outcome="(\w+)">.*?class="run-message">([^<]*)<',
        page, re.S)}
    assert rows[first] == ("moved", "&#34;pay&#34; moved 3 items.")
    assert rows[last][0] == "moved"
    assert rows[failing] == (
        "error", "&#34;pay&#34; failed, nothing changed: Test/Capture: the payment provider is down")
    with app.app_context():
        logged = db.session.scalar(sa.select(TransitionLog).where(
            TransitionLog.order_id == failing, TransitionLog.is_error))
        assert logged.actor == AGENT
        run = db.session.scalar(sa.select(BulkRun))
        assert (run.status, run.done_orders, run.total_orders) == ("done", 3, 3)
        assert run.finished_at is not None
        history_actors = set(db.session.scalars(sa.select(ItemStateHistory.actor).where(
            ItemStateHistory.event == "pay")))
        assert history_actors == {AGENT}

    rows = csv_rows(agent.get(run_url + "/report.csv"))
    assert rows[0] == ["#", "Order Reference", "Outcome", "Items moved", "Items skipped",
                       "Message", "Run by"]
    assert [(int(r[0]), r[2], r[3], r[6]) for r in rows[1:]] == [
        (first, "moved", "3", AGENT), (failing, "error", "0", AGENT),
        (last, "moved", "3", AGENT)]
    assert rows[2][5] == ('"pay" failed, nothing changed: Test/Capture: the payment provider '
                          "is down")

    errors_only = agent.get(run_url + "?outcome=error").get_data(as_text=True)
    assert re.findall(r'data-order-id="(\d+)"', errors_only) == [str(failing)]


def test_run_skips_orders_no_item_of_which_takes_the_event(app, agent, post_order):
    new, paid = place_orders(post_order, 2)
    trigger(app, paid, "pay")
    selection_id = select_ticked(agent, [new, paid])
    run_url = confirm(agent, selection_id, "ship")
    run_to_end(agent, run_url)
    assert states(app, new) == ["new"] * 3 and states(app, paid) == ["shipped"] * 3
    with app.app_context():
        outcomes = dict(db.session.execute(sa.select(BulkRunOrder.order_id,
                                                     BulkRunOrder.outcome)).all())
        skipped = db.session.get(BulkRunOrder, (bulk_run_id(), new))
        assert (skipped.moved, skipped.skipped) == (0, 3)
        assert skipped.message == 'Nothing to do: no item can take "ship" now.'
    assert outcomes == {new: "skipped", paid: "moved"}


def bulk_run_id():
    return db.session.scalar(sa.select(BulkRun.id).order_by(BulkRun.id.desc()))


def test_panel_js_gets_progress_as_json(app, agent, post_order, monkeypatch):
    ids = place_orders(post_order, 3)
    monkeypatch.setattr(BulkView, "batch_size", 2)
    run_url = confirm(agent, select_ticked(agent, ids), "pay")
    assert next_batch_json(agent, run_url) == {"status": "running", "finished": 2, "done": 2,
                                               "total": 3, "message": ""}
    assert next_batch_json(agent, run_url) == {"status": "done", "finished": 1, "done": 3,
                                               "total": 3, "message": ""}
    assert next_batch_json(agent, run_url) == {"status": "done", "finished": 0, "done": 3,
                                               "total": 3, "message": ""}
    page = agent.get(run_url).get_data(as_text=True)
    box = re.search(r'<div class="card mb-3" id="bulk-run"(.*?)>', page, re.S).group(1)
    assert f'data-batch-url="{run_url.removeprefix("http://localhost")}/batch"' in box
    assert re.search(r'data-csrf-token="[^"]+"', box)
    assert "<script>" not in page and "onclick" not in page


def test_two_workers_never_run_the_same_order(app, post_order):
    """Windows running batches of one run at once: each order is taken by one of them, has
    one outcome, and the report's counts are the database's."""
    ids = place_orders(post_order, 12, payment=TEST_PAYMENT)
    with app.app_context():
        selection = bulk_actions.freeze_selection(ids, user(app))
        run_id = bulk_actions.start_run(selection, "pay", user(app)).id
    engine_fixture.CALLS.clear()
    workers = 4
    start = threading.Barrier(workers)

    def work(_):
        with app.app_context():
            start.wait()
            claimed = 0
            for _round in range(20):
                result = bulk_batches.run_batch(run_id, user(app), size=2)
                claimed += result.finished
                if result.status == "done":
                    break
            db.session.remove()
            return claimed

    with ThreadPoolExecutor(max_workers=workers) as pool:
        claimed = list(pool.map(work, range(workers)))
    assert sum(claimed) == 12
    captured = [call[1] for call in engine_fixture.CALLS if call[0] == "Test/Capture"]
    assert sorted(captured) == sorted(ids)  # each order's command ran exactly once
    with app.app_context():
        run = db.session.get(BulkRun, run_id)
        assert (run.status, run.done_orders) == ("done", 12)
        paid = db.session.scalars(sa.select(ItemStateHistory.item_id).where(
            ItemStateHistory.event == "pay")).all()
        assert len(paid) == len(set(paid)) == 36
        report = db.session.execute(sa.select(BulkRunOrder.order_id, BulkRunOrder.outcome,
                                              BulkRunOrder.moved)).all()
        assert sorted(report) == [(order_id, "moved", 3) for order_id in sorted(ids)]


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks: PostgreSQL only")
def test_on_postgres_a_batch_skips_orders_another_worker_has_locked(app, post_order,
                                                                     database_url):
    ids = place_orders(post_order, 3)
    with app.app_context():
        selection = bulk_actions.freeze_selection(ids, user(app))
        run_id = bulk_actions.start_run(selection, "pay", user(app)).id
    other = sa.create_engine(database_url)
    try:
        with other.connect() as conn, conn.begin():
            conn.execute(sa.text("SELECT 1 FROM bulk_run_order WHERE run_id = :r "
                                 "AND order_id = :o FOR UPDATE"), {"r": run_id, "o": ids[0]})
            with app.app_context():
                result = bulk_batches.run_batch(run_id, user(app), size=10)
                assert (result.finished, result.status, result.done_orders) == (2, "running", 2)
        with app.app_context():
            result = bulk_batches.run_batch(run_id, user(app), size=10)
            assert (result.finished, result.status, result.done_orders) == (1, "done", 3)
    finally:
        other.dispose()
    assert [states(app, i) for i in ids] == [["paid"] * 3] * 3


def test_an_order_that_fails_unexpectedly_is_an_error_and_the_batch_goes_on(
        app, agent, post_order, monkeypatch):
    first, retired, refused, last = place_orders(post_order, 4, payment=TEST_PAYMENT)
    with app.app_context():  # a process that no plugin supplies (any more)
        db.session.execute(sa.update(OrderItem).where(OrderItem.order_id == retired)
                           .values(process_name="Retired01"))
        db.session.commit()

    def capture(*, order, items, event, actor):
        if order.id == refused:  # a plugin's bug: the database refuses it when the run is saved
            order.store = None
        engine_fixture.capture(order=order, items=items, event=event, actor=actor)

    with app.app_context():
        monkeypatch.setitem(current_registry().commands, "Test/Capture", capture)
    run_url = confirm(agent, select_ticked(agent, [first, retired, refused, last]), "pay")
    run_to_end(agent, run_url)
    with app.app_context():
        report = {row.order_id: (row.outcome, row.message) for row in db.session.execute(
            sa.select(BulkRunOrder.order_id, BulkRunOrder.outcome, BulkRunOrder.message))}
        assert db.session.get(Order, refused).store == "DE"
    assert report == {
        first: ("moved", '"pay" moved 3 items.'),
        retired: ("error", "no plugin supplies the process 'Retired01'"),
        # Not the database's words: they name tables and SQL (the log has them).
        refused: ("error", "failed unexpectedly (IntegrityError); the server log has the "
                           "details"),
        last: ("moved", '"pay" moved 3 items.')}
    assert states(app, retired) == states(app, refused) == ["new"] * 3


# -- who runs a batch ----------------------------------------------------------------------


def returned_orders(app, post_order, n):
    """Orders of the bundled process whose items wait for a refund (admin-only)."""
    ids = place_orders(post_order, n)
    for order_id in ids:
        for event in ("pay", "ship", "return"):
            trigger(app, order_id, event)
    return ids


def history(app, event):
    """{order id: the actors the history names for ``event``}."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(OrderItem.order_id, ItemStateHistory.actor)
            .join(OrderItem, OrderItem.id == ItemStateHistory.item_id)
            .where(ItemStateHistory.event == event)).all()
    found = {}
    for order_id, actor in rows:
        found.setdefault(order_id, set()).add(actor)
    return found


@pytest.fixture
def second_admin(app, accounts):
    """Another admin, who starts nothing in these tests; a client logged in as them."""
    with app.app_context():
        db.session.add(User(email="admin2@example.org", name="Second Admin", role="admin",
                            active=True, password_hash=password_hash()))
        db.session.commit()
    client = PanelClient(app.test_client())
    assert client.login("admin2@example.org").status_code == 302
    return client


def test_an_agent_cannot_run_a_batch_of_an_admins_refund_run(app, agent, as_role,
                                                             post_order):
    ids = returned_orders(app, post_order, 2)
    admin = as_role("admin")
    run_url = confirm(admin, select_ticked(admin, ids), "refund")
    with app.app_context():
        logged = db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog))

    response = agent.post_form(run_url + "/batch", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.json == {"status": "refused",
                             "message": 'Nothing was run: only admins may trigger "refund".'}
    page = flashed(agent, agent.post_form(run_url + "/batch"))  # the no-JavaScript button
    assert "Nothing was run: only admins may trigger &#34;refund&#34;." in page

    assert [states(app, i) for i in ids] == [["returned"] * 3] * 2
    assert history(app, "refund") == {}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog)) == \
            logged
        assert set(db.session.scalars(sa.select(BulkRunOrder.outcome))) == {"pending"}
        assert db.session.scalar(sa.select(BulkRun.done_orders)) == 0


def test_every_batch_is_authorised_and_named_as_whoever_runs_it(app, agent, as_role,
                                                               second_admin, post_order,
                                                               monkeypatch):
    monkeypatch.setattr(BulkView, "batch_size", 1)
    admin = as_role("admin")
    refunds = returned_orders(app, post_order, 2)
    run_url = confirm(admin, select_ticked(admin, refunds), "refund")  # started by one admin
    flashed(second_admin, second_admin.post_form(run_url + "/batch"))  # run by the other
    flashed(admin, admin.post_form(run_url + "/batch"))  # ... and one by the starter
    assert history(app, "refund") == {refunds[0]: {"Second Admin <admin2@example.org>"},
                                      refunds[1]: {ADMIN}}
    page = admin.get(run_url).get_data(as_text=True)
    assert re.findall(r'class="run-by">([^<]*)<', page) == [
        "Second Admin &lt;admin2@example.org&gt;", "Admin User &lt;admin@example.org&gt;"]

    payments = place_orders(post_order, 1)
    run_url = confirm(agent, select_ticked(agent, payments), "pay")  # an agent's run
    flashed(admin, admin.post_form(run_url + "/batch"))  # run by an admin
    assert history(app, "pay")[payments[0]] == {ADMIN}
    with app.app_context():
        assert set(db.session.scalars(sa.select(TransitionLog.actor).where(
            TransitionLog.order_id == payments[0], TransitionLog.event == "pay"))) == {ADMIN}
    rows = csv_rows(admin.get(run_url + "/report.csv"))
    assert [(int(r[0]), r[2], r[6]) for r in rows[1:]] == [(payments[0], "moved", ADMIN)]


# -- the migration -------------------------------------------------------------------------


def test_the_migration_makes_claims_left_running_pending_again(app, post_order):
    """Before this change a batch marked its orders "running" for a lease of ten minutes;
    those whose batch died must wait no longer."""
    ids = place_orders(post_order, 2)
    with app.app_context():
        run_id = bulk_actions.start_run(bulk_actions.freeze_selection(ids, user(app)), "pay",
                                        user(app)).id
        db.session.remove()
        try:
            downgrade(revision="0bd1716f2009")
            with db.engine.begin() as conn:
                conn.execute(sa.text(
                    "UPDATE bulk_run_order SET outcome = 'running', claimed_at = :now "
                    "WHERE order_id = :order"), {"now": utcnow(), "order": ids[0]})
            upgrade()
            with db.engine.connect() as conn:
                outcomes = dict(conn.execute(sa.text(
                    "SELECT order_id, outcome FROM bulk_run_order")).all())
            assert outcomes == {ids[0]: "pending", ids[1]: "pending"}
            columns = {c["name"] for c in sa.inspect(db.engine).get_columns("bulk_run_order")}
            assert "claimed_at" not in columns and "actor" in columns
            # Down again: the run keeps an actor (its starter's name) for the code of then.
            downgrade(revision="0bd1716f2009")
            with db.engine.connect() as conn:
                assert conn.scalar(sa.text("SELECT actor FROM bulk_run")) == "Agent User"
        finally:
            upgrade()  # the schema of every other test
        result = bulk_batches.run_batch(run_id, user(app))
        assert (result.finished, result.status) == (2, "done")


# -- CSV of a selection --------------------------------------------------------------------


def test_download_selected_as_csv_has_the_lists_columns_and_only_the_selection(
        app, agent, post_order):
    payload = order_payload(order_reference="F-1")
    payload["customer"].update(first_name='=HYPERLINK("http://x")', last_name="Smith")
    del payload["customer"]["salutation"]
    formula = post_order(payload).json["id"]
    one, _not_ticked = place_orders(post_order, 2)

    response = agent.post_form("/sales/bulk/select", {"order": [str(formula), str(one)],
                                                      "action": "csv"})
    assert response.status_code == 303
    assert re.search(r"/sales/bulk/selections/\d+/export.csv$", response.headers["Location"])
    rows = csv_rows(agent.get(response.headers["Location"]))
    assert rows[0] == list(CSV_COLUMNS)
    assert [r[1] for r in rows[1:]] == ["DE--1", "F-1"]  # newest first, as the list
    assert rows[1][3] == "Mrs Anna Schmidt" and rows[1][6] == "€54.87"
    assert rows[2][3] == "'=HYPERLINK(\"http://x\") Smith"  # defused as in the list's export
    # The same rows as the list's own export for those orders.
    everything = csv_rows(agent.get("/sales/orders/export.csv"))
    assert [r for r in everything[1:] if r[1] in ("DE--1", "F-1")] == rows[1:]


# -- who may ------------------------------------------------------------------------------


def test_viewers_are_refused_everywhere_that_starts_or_runs_something(app, agent, as_role,
                                                                     post_order):
    ids = place_orders(post_order, 2)
    selection_id = select_ticked(agent, ids)
    run_url = confirm(agent, selection_id, "pay")
    viewer = as_role("viewer")
    base = f"/sales/bulk/selections/{selection_id}"
    for url in ("/sales/bulk/", base, base + "?event=pay", base + "/export.csv", run_url,
                run_url + "/report.csv"):
        assert viewer.get(url).status_code == 403, url
    for url, data in (("/sales/bulk/select", {"order": [str(i) for i in ids]}),
                      ("/sales/bulk/select", {"scope": "all"}),
                      (base + "/runs", {"event": "pay"}),
                      (run_url + "/batch", {})):
        assert viewer.post_form(url, data).status_code == 403, url
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Selection)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BulkRun)) == 1
        assert db.session.scalar(sa.select(BulkRun.done_orders)) == 0
    assert states(app, ids[0]) == ["new"] * 3


def test_every_post_needs_the_csrf_token(app, agent, post_order):
    ids = place_orders(post_order, 1)
    selection_id = select_ticked(agent, ids)
    run_url = confirm(agent, selection_id, "pay")
    for url, data in (("/sales/bulk/select", {"order": str(ids[0])}),
                      (f"/sales/bulk/selections/{selection_id}/runs", {"event": "pay"}),
                      (run_url + "/batch", {})):
        response = agent.client.post(url, data=data)
        assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True), url
    assert states(app, ids[0]) == ["new"] * 3


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("form, message", [
    ({"action": "trigger"}, "no order was ticked"),
    ({"order": ["1", "x"]}, "order: &#39;x&#39; is not an id (a number from 1 to 2147483647 "
                            "in the digits 0-9)"),
    ({"order": ["1" * 40]}, "order: &#39;" + "1" * 40 + "&#39; is not an id (a number from 1 "
                            "to 2147483647 in the digits 0-9)"),
    ({"order": ["999999"]}, "none of the ticked orders exists"),
    ({"scope": "all", "filter": "q=nobody-matches"}, "no order matches this filter"),
    ({"scope": "all", "filter": "from=someday"},
     "the filter is not valid (Created from: &#39;someday&#39; is not a date (YYYY-MM-DD))"),
])
def test_bad_selections_are_named_and_nothing_is_saved(app, agent, post_order, form, message):
    place_orders(post_order, 1)
    response = agent.post_form("/sales/bulk/select", form)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sales/orders/")
    assert f"Nothing was selected: {message}." in flashed(agent, response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Selection)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SelectionOrder)) == 0


def test_unknown_ticked_ids_are_named(app, agent, post_order):
    real = place_orders(post_order, 1)[0]
    response = agent.post_form("/sales/bulk/select", {"order": [str(real), "999999"]})
    assert "Nothing was selected: 1 of the ticked orders do not exist." in flashed(agent, response)


def test_going_back_after_a_bad_selection_keeps_the_filter(agent, post_order):
    place_orders(post_order, 1)
    response = agent.post_form("/sales/bulk/select",
                               {"filter": "store=DE&state=new&state=paid&per_page=25"})
    assert response.headers["Location"] == \
        "/sales/orders/?store=DE&state=new&state=paid&per_page=25"


@pytest.mark.parametrize("event, message", [
    ("", "choose an event"),
    ("explode", '&#34;explode&#34; is not an event that an item of these orders can take by '
                'hand now (possible: &#34;pay&#34;, &#34;cancel&#34;)'),
    ("ship", "&#34;ship&#34; is not an event"),
    ("no such event", "&#34;no such event&#34; is not an event"),
])
def test_events_the_selection_cannot_take_are_named(app, agent, post_order, event, message):
    selection_id = select_ticked(agent, place_orders(post_order, 2))
    response = agent.get(f"/sales/bulk/selections/{selection_id}", query_string={"event": event})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in re.search(r'id="preview-error">(.*?)</div>', page, re.S).group(1)
    assert 'id="confirm-button"' not in page

    response = agent.post_form(f"/sales/bulk/selections/{selection_id}/runs", {"event": event})
    assert f"Nothing was started: {message}" in flashed(agent, response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BulkRun)) == 0


def test_a_selection_runs_one_event_at_a_time(app, agent, post_order):
    selection_id = select_ticked(agent, place_orders(post_order, 1))
    run_url = confirm(agent, selection_id, "pay")
    response = agent.post_form(f"/sales/bulk/selections/{selection_id}/runs", {"event": "cancel"})
    run_id = run_url.rsplit("/", 1)[1]
    assert f"Nothing was started: run #{run_id} of this selection has not finished yet." in \
        flashed(agent, response)
    run_to_end(agent, run_url)
    confirm(agent, selection_id, "cancel")  # once it is done, the next may start


def test_confirm_pressed_in_two_windows_at_once_starts_one_run(app, post_order):
    ids = place_orders(post_order, 2)
    with app.app_context():
        selection_id = bulk_actions.freeze_selection(ids, user(app)).id
    windows = 4
    start = threading.Barrier(windows)

    def press(_):
        with app.app_context():
            selection = db.session.get(Selection, selection_id)
            start.wait()
            try:
                return bulk_actions.start_run(selection, "pay", user(app)).id
            except bulk_actions.BulkError as exc:
                return str(exc)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=windows) as pool:
        answers = list(pool.map(press, range(windows)))
    started = [a for a in answers if isinstance(a, int)]
    assert len(started) == 1
    assert sorted(a for a in answers if isinstance(a, str)) == \
        [f"run #{started[0]} of this selection has not finished yet"] * (windows - 1)


def test_unknown_and_foreign_ids_are_404_never_500(app, agent, post_order):
    ids = place_orders(post_order, 2)
    first = select_ticked(agent, ids[:1])
    second = select_ticked(agent, ids[1:])
    run_url = confirm(agent, first, "pay")
    run_id = run_url.rsplit("/", 1)[1]
    foreign = f"/sales/bulk/selections/{second}/runs/{run_id}"  # a run of another selection
    for url in (foreign, foreign + "/report.csv", "/sales/bulk/selections/999",
                "/sales/bulk/selections/999/export.csv", "/sales/bulk/selections/x",
                f"/sales/bulk/selections/{first}/runs/999"):
        assert agent.get(url).status_code == 404, url
    for url in (foreign + "/batch", "/sales/bulk/selections/999/runs",
                f"/sales/bulk/selections/{first}/runs/999/batch"):
        assert agent.post_form(url, {"event": "pay"}).status_code == 404, url
    assert states(app, ids[0]) == ["new"] * 3


def test_bad_report_parameters_are_named(agent, post_order):
    run_url = confirm(agent, select_ticked(agent, place_orders(post_order, 1)), "pay")
    response = agent.get(run_url + "?outcome=exploded&page=zero")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "outcome: &#39;exploded&#39; is not one of pending, moved, skipped, error" in page
    assert "page: &#39;zero&#39; is not a page number" in page
