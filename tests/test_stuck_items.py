"""Administration > Stuck items: which items it lists and why, its filters, the retry and who
may do it (the process is in tests/plugins/stuck_fixture.py)."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import OrderItem, TransitionLog
from panel.models.base import utcnow
from panel.oms import engine, sweeps
from panel.oms.registry import current_registry
from panel.oms.retry import retry_items
from panel.services.stuck_items import Finder, Limits, StuckQuery, count_by_reason
from tests.conftest import order_payload
from tests.plugins import stuck_fixture

ADMIN = "Admin User <admin@example.org>"
AGENT = "Agent User <agent@example.org>"
URL = "/administration/stuck-items/"


@pytest.fixture
def app_config():
    return stuck_fixture.app_config()


@pytest.fixture(autouse=True)
def healthy_services():
    yield from stuck_fixture.healthy()


def new_order(app, post_order, skus=("SHOE-1", "SOCK-1")) -> tuple[int, list[int]]:
    payload = order_payload()
    payload["shipments"][0]["items"] = [
        {"sku": sku, "name": sku, "quantity": 1, "unit_price": 1000, "tax_rate": 19}
        for sku in skus]
    payload["payment"]["amount"] = 1000 * len(skus) + 490
    response = post_order(payload)
    assert response.status_code == 201, response.json
    order_id = response.json["id"]
    with app.app_context():
        return order_id, list(db.session.scalars(sa.select(OrderItem.id).where(
            OrderItem.order_id == order_id).order_by(OrderItem.id)))


def states(app, ids) -> list[str]:
    with app.app_context():
        return [db.session.get(OrderItem, i).state_name for i in ids]


def trigger(app, order_id, event, ids=None, now=None):
    with app.app_context():
        return engine.trigger_event(order_id, event, actor=AGENT, item_ids=ids, now=now)


def retry(app, ids):
    with app.app_context():
        return retry_items(ids, actor=ADMIN)


def age(app, ids, days: float) -> None:
    """Say the items entered their states ``days`` ago."""
    with app.app_context():
        db.session.execute(sa.update(OrderItem).where(OrderItem.id.in_(ids)).values(
            state_entered_at=utcnow() - timedelta(days=days)))
        db.session.commit()


def log(app, *where, newest_first=False) -> list[tuple]:
    """The transition log rows matching ``where`` as (item, event, source, target, actor,
    is_error, error) tuples, oldest first by item."""
    with app.app_context():
        order = (TransitionLog.id.desc(),) if newest_first else (TransitionLog.item_id,
                                                                 TransitionLog.id)
        return [(r.item_id, r.event, r.source_state, r.target_state, r.actor, r.is_error,
                 r.error_message) for r in db.session.scalars(
                     sa.select(TransitionLog).where(*where).order_by(*order))]


def log_size(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog))


def listed(page: str) -> dict[int, set[str]]:
    """{item id: {reason, ...}} of the rows on a Stuck items page."""
    rows = re.findall(r'<tr class="stuck-row" data-item-id="(\d+)">(.*?)</tr>', page, re.S)
    return {int(item_id): set(re.findall(r'data-reason="(\w+)"', body))
            for item_id, body in rows}


def read(client, query: str = "") -> str:
    response = client.get(URL + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


# -- what is listed ----------------------------------------------------------------------

def test_items_whose_last_command_failed_are_listed_with_the_error(app, post_order,
                                                                    as_role):
    order_id, (shoe, sock) = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Capture")
    assert trigger(app, order_id, "pay", [shoe]).error  # only the ticked item was tried

    page = read(as_role("admin"))
    assert listed(page) == {shoe: {"failed"}}
    assert "Stuck/Capture cannot reach its service" in html.unescape(page)
    assert '"pay" failed' in html.unescape(page)


def test_an_error_in_an_on_enter_event_further_along_is_logged_against_the_items_tried(
        app, post_order):
    order_id, ids = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Invoice")

    result = trigger(app, order_id, "pay")

    assert result.error and states(app, ids) == ["new", "new"]
    error = 'Stuck/Invoice: Stuck/Invoice cannot reach its service (in "invoice" from "paid")'
    assert log(app, TransitionLog.is_error) == [
        (item_id, "pay", "new", None, AGENT, True, error) for item_id in ids]


def test_a_later_success_or_stay_takes_an_item_off_the_list(app, post_order, as_role):
    order_id, (shoe, sock) = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Capture")
    trigger(app, order_id, "pay")
    admin = as_role("admin")
    assert set(listed(read(admin))) == {shoe, sock}

    stuck_fixture.FAILING.clear()
    trigger(app, order_id, "pay", [shoe])  # by hand, from the order page
    assert set(listed(read(admin))) == {sock}


def test_overdue_timeouts_are_listed_once_a_sweep_interval_has_passed(app, post_order,
                                                                      as_role):
    order_id, (shoe, sock) = new_order(app, post_order)
    trigger(app, order_id, "reserve", now=utcnow() - timedelta(hours=1, minutes=2))  # due 2 min ago
    other_id, (late, _) = new_order(app, post_order)
    trigger(app, other_id, "reserve", [late], now=utcnow() - timedelta(hours=1, minutes=10))

    page = read(as_role("admin"))

    assert listed(page) == {late: {"overdue"}}  # 10 min > the 5 min sweep interval
    assert 'Timeout "release" was due' in html.unescape(page)


def test_an_item_with_two_overdue_timeouts_is_listed_and_counted_once(app, post_order,
                                                                     as_role):
    order_id, ids = new_order(app, post_order)
    trigger(app, order_id, "reserve", now=utcnow() - timedelta(hours=3))  # both overdue

    page = read(as_role("admin"))

    assert listed(page) == {i: {"overdue"} for i in ids}
    assert "2 found" in page
    assert re.search(r'data-reason="overdue" [^>]*>Timeout overdue <span[^>]*>2<', page)


def test_items_waiting_longer_than_their_process_allows_are_listed(app, post_order,
                                                                   as_role):
    order_id, (shoe, sock) = new_order(app, post_order)
    trigger(app, order_id, "pay")
    trigger(app, order_id, "ship", [shoe])
    trigger(app, order_id, "deliver", [shoe])  # delivered is final: never stuck
    age(app, [shoe, sock], days=2)
    fresh_id, fresh = new_order(app, post_order)
    age(app, fresh, days=0.5)

    page = read(as_role("admin"))

    assert listed(page) == {sock: {"waiting"}}  # invoiced for 2 days, over Stuck01's 1 day
    assert "Longer than 1 day in a state that is not final" in page


def test_the_default_limit_holds_for_processes_not_named(app, post_order, as_role):
    app.config["PANEL_PAYMENT_PROCESSES"] = {"invoice": "StuckStart01"}
    order_id, ids = new_order(app, post_order)
    assert states(app, ids) == ["confirmed", "confirmed"]
    age(app, ids, days=29)
    admin = as_role("admin")
    assert listed(read(admin)) == {}
    age(app, ids, days=31)  # over the 30 days default
    assert listed(read(admin)) == {i: {"waiting"} for i in ids}


def test_an_item_can_be_stuck_for_several_reasons(app, post_order, as_role):
    order_id, (shoe, sock) = new_order(app, post_order)
    trigger(app, order_id, "reserve", now=utcnow() - timedelta(days=3))
    stuck_fixture.FAILING.add("Stuck/Release")
    with app.app_context():
        result = sweeps.check_timeouts(now=utcnow() - timedelta(days=2))
    assert len(result.errors) == 1

    page = read(as_role("admin"))

    assert listed(page) == {shoe: {"failed", "overdue", "waiting"},
                            sock: {"failed", "overdue", "waiting"}}
    assert "2 found" in page  # each item once
    assert [row[:5] for row in log(app, TransitionLog.is_error)] == [
        (shoe, "release", "reserved", None, "timeout"),
        (sock, "release", "reserved", None, "timeout")]


# -- filters ---------------------------------------------------------------------------

def test_filters_by_process_state_error_and_reason(app, post_order, as_role):
    order_id, (shoe, sock) = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Capture")
    trigger(app, order_id, "pay", [shoe])
    trigger(app, order_id, "hold", [sock])
    age(app, [sock], days=2)
    admin = as_role("admin")

    assert set(listed(read(admin))) == {shoe, sock}
    assert set(listed(read(admin, "?reason=failed"))) == {shoe}
    assert set(listed(read(admin, "?reason=waiting"))) == {sock}
    assert set(listed(read(admin, "?reason=overdue"))) == set()
    assert set(listed(read(admin, "?error=REACH+its"))) == {shoe}  # any case
    assert set(listed(read(admin, "?error=100%25"))) == set()  # % is a character, not a wildcard
    assert set(listed(read(admin, "?process=Stuck01&state=waiting"))) == {sock}
    assert set(listed(read(admin, "?process=StuckStart01"))) == set()


@pytest.mark.parametrize("query, message", [
    ("?reason=sleepy", "reason: 'sleepy' is not one of failed, overdue, waiting"),
    ("?process=Nope01", "process: no plugin supplies a process 'Nope01'"),
    ("?process=Stuck01&state=nirvana", "state: 'nirvana' is not a state of Stuck01"),
    ("?page=0", "page"),
    ("?per_page=7", "per_page"),
])
def test_bad_filters_are_named_and_nothing_is_listed(app, as_role, query, message):
    response = as_role("viewer").get(URL + query)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert message in page and 'id="stuck-table"' not in page


# -- retry -----------------------------------------------------------------------------

def test_retry_of_a_failed_command_runs_it_again_and_logs_who(app, post_order, as_role):
    order_id, (shoe, sock) = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Invoice")
    trigger(app, order_id, "pay")
    stuck_fixture.FAILING.clear()
    admin = as_role("admin")

    response = admin.post_form(URL + "retry", {"item": [str(shoe)]})

    assert response.status_code == 302
    assert states(app, [shoe, sock]) == ["invoiced", "new"]
    moves = log(app, TransitionLog.item_id == shoe, TransitionLog.is_error.is_(False))
    assert [row[1:5] for row in moves] == [
        ("pay", "new", "paid", ADMIN), ("invoice", "paid", "invoiced", ADMIN)]
    page = read(admin)
    assert "Retried 1 item: 1 moved, 0 stayed" in page
    assert set(listed(page)) == {sock}


def test_a_retry_that_fails_again_is_logged_and_changes_nothing_else(app, post_order,
                                                                      as_role):
    order_id, ids = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Capture")
    trigger(app, order_id, "pay")
    admin = as_role("admin")

    admin.post_form(URL + "retry", {"item": [str(i) for i in ids]})

    assert states(app, ids) == ["new", "new"]
    page = html.unescape(read(admin))
    assert f"failed in 1 order(s) (#{order_id}: Stuck/Capture: Stuck/Capture cannot" in page
    newest = log(app, newest_first=True)[:2]
    assert {(row[0], row[5], row[1], row[4]) for row in newest} == {
        (i, True, "pay", ADMIN) for i in ids}
    assert listed(page) == {i: {"failed"} for i in ids}


def test_retry_fires_an_overdue_timeout(app, post_order):
    order_id, ids = new_order(app, post_order)
    trigger(app, order_id, "reserve", now=utcnow() - timedelta(hours=3))

    report = retry(app, ids)

    assert (report.moved, report.failed) == (2, {})
    assert states(app, ids) == ["released", "released"]
    assert stuck_fixture.CALLS[-1] == ("Stuck/Release", ids, ADMIN)


def test_retry_checks_event_less_transitions_and_logs_a_stay(app, post_order):
    order_id, (shoe, sock) = new_order(app, post_order)
    trigger(app, order_id, "hold")
    stuck_fixture.CLEARED.add("SHOE-1")

    report = retry(app, [shoe, sock])

    assert (report.moved, report.stayed) == (1, 1)
    assert states(app, [shoe, sock]) == ["cleared", "waiting"]
    stay = log(app, TransitionLog.item_id == sock, newest_first=True)[0]
    assert stay[1:6] == (None, "waiting", None, ADMIN, False)


def test_a_failed_condition_check_is_listed_and_retried(app, post_order):
    order_id, (shoe, sock) = new_order(app, post_order)
    trigger(app, order_id, "hold")
    stuck_fixture.FAILING.add("Stuck/IsCleared")
    with app.app_context():
        result = sweeps.check_conditions()
    assert len(result.errors) == 1
    assert [row[:3] for row in log(app, TransitionLog.is_error)] == [
        (shoe, None, "waiting"), (sock, None, "waiting")]

    stuck_fixture.FAILING.clear()
    stuck_fixture.CLEARED.update({"SHOE-1", "SOCK-1"})
    report = retry(app, [shoe, sock])

    assert report.moved == 2 and states(app, [shoe, sock]) == ["cleared", "cleared"]


def test_a_failed_start_starts_again(app, post_order):
    app.config["PANEL_PAYMENT_PROCESSES"] = {"invoice": "StuckStart01"}
    stuck_fixture.FAILING.add("Stuck/Confirm")
    order_id, ids = new_order(app, post_order)
    assert states(app, ids) == ["received", "received"]
    stuck_fixture.FAILING.clear()

    report = retry(app, ids)

    assert report.moved == 2 and states(app, ids) == ["confirmed", "confirmed"]


def test_an_item_that_waits_for_a_person_is_left_and_the_retry_says_why(app, post_order):
    order_id, ids = new_order(app, post_order)
    trigger(app, order_id, "pay")
    before = log_size(app)

    report = retry(app, ids + [999_999])

    assert report.moved == 0 and report.missing == 1
    assert set(report.waiting.values()) == {'"invoiced" waits for an event: "ship"'}
    assert "2 items left waiting for an event; 1 item no longer exist" in report.message
    assert log_size(app) == before


def test_retry_all_matching_takes_the_filter(app, post_order, as_role):
    order_id, (shoe, sock) = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Capture")
    trigger(app, order_id, "pay", [shoe])
    trigger(app, order_id, "hold", [sock])
    age(app, [sock], days=2)
    stuck_fixture.FAILING.clear()
    admin = as_role("admin")

    response = admin.post_form(URL + "retry", {"scope": "all", "reason": "failed"})

    assert response.headers["Location"].endswith("?reason=failed")
    assert states(app, [shoe, sock]) == ["invoiced", "waiting"]


def test_only_admins_may_retry(app, post_order, as_role):
    order_id, ids = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Invoice")
    trigger(app, order_id, "pay")
    stuck_fixture.FAILING.clear()
    before = log_size(app)

    for role in ("agent", "viewer"):
        client = as_role(role)
        assert set(listed(read(client))) == set(ids)  # they may read the list
        assert "Retry ticked items" not in read(client)
        assert client.post_form(URL + "retry", {"item": [str(ids[0])]}).status_code == 403

    assert states(app, ids) == ["new", "new"]
    assert log_size(app) == before


def test_retry_needs_a_csrf_token_and_a_signed_in_user(app, post_order, as_role, client):
    order_id, ids = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Invoice")
    trigger(app, order_id, "pay")
    stuck_fixture.FAILING.clear()

    assert client.get(URL).status_code == 302  # to the login page
    assert client.post(URL + "retry", data={"item": str(ids[0])}).status_code in (302, 400)
    admin = as_role("admin")
    assert admin.client.post(URL + "retry", data={"item": str(ids[0])}).status_code == 400
    assert states(app, ids) == ["new", "new"]


@pytest.mark.parametrize("items, message", [
    ([], "tick the items to retry"),
    (["x1"], "item"),
])
def test_a_bad_retry_request_is_named_and_changes_nothing(app, as_role, items, message):
    admin = as_role("admin")
    response = admin.post_form(URL + "retry", {"item": items})
    assert response.status_code == 302
    page = html.unescape(read(admin))
    assert "Nothing was retried" in page and message in page


def test_the_order_page_counts_a_failure_once_however_many_items_it_was_for(
        app, post_order, as_role):
    order_id, ids = new_order(app, post_order, skus=("A-1", "B-1", "C-1"))
    stuck_fixture.FAILING.add("Stuck/Capture")
    trigger(app, order_id, "pay")
    trigger(app, order_id, "pay", now=utcnow() + timedelta(seconds=1))

    page = html.unescape(as_role("agent").get(f"/sales/orders/{order_id}").get_data(
        as_text=True))

    assert "The last step failed, and nothing has moved since." in page
    assert "Before it, 1 more failure since the items last moved" in page


def test_pages_merge_the_reasons_longest_waiting_first_and_count_each_item_once(
        app, post_order, as_role):
    stuck_fixture.FAILING.add("Stuck/Capture")
    expected = []  # item ids, the longest waiting first
    for n, event in enumerate(["pay", "hold", "reserve", "pay", "hold", "reserve"]):
        order_id, ids = new_order(app, post_order)
        trigger(app, order_id, event)  # pay fails: those stay in "new", failed
        age(app, ids, days=20 - n)  # all over Stuck01's 1 day: every item is waiting
        expected += ids
    admin = as_role("admin")

    first = read(admin, "?per_page=10")
    second = read(admin, "?per_page=10&page=2")

    assert list(listed(first)) + list(listed(second)) == expected
    assert "12 found, page 1 of 2" in first
    assert listed(first)[expected[0]] == {"failed", "waiting"}  # one row, both reasons
    failed = read(admin, "?reason=failed")
    assert list(listed(failed)) == expected[0:2] + expected[6:8]
    assert re.search(r'data-reason="failed" [^>]*>Last command failed <span[^>]*>4<', first)


def test_the_reason_counts_follow_the_other_filters_and_say_when_there_are_more(
        app, post_order, as_role):
    stuck_fixture.FAILING.add("Stuck/Capture")
    for _ in range(3):
        order_id, ids = new_order(app, post_order)
        trigger(app, order_id, "pay")  # 2 failed items an order

    page = read(as_role("admin"), "?state=paid")  # none is in "paid"

    assert re.search(r'data-reason="failed" [^>]*>Last command failed <span[^>]*>0<', page)
    with app.app_context():
        finder = Finder(current_registry(), Limits.from_config(app.config), utcnow())
        counts = count_by_reason(StuckQuery(process="Stuck01"), finder, cap=5)
    assert counts == {"failed": (5, True), "overdue": (0, False), "waiting": (0, False)}


def test_a_retry_keeps_the_filters_and_the_page_size(app, post_order, as_role):
    order_id, ids = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Capture")
    trigger(app, order_id, "pay")

    response = as_role("admin").post_form(URL + "retry", {
        "item": [str(ids[0])], "reason": "failed", "per_page": "50", "error": "reach"})

    query = response.headers["Location"].split("?")[1]
    assert sorted(query.split("&")) == ["error=reach", "per_page=50", "reason=failed"]
