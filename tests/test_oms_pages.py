"""Administration > OMS and Administration > Transition Log, as a viewer sees them."""
import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import render_template

from panel import PROJECT_ROOT
from panel.admin.oms import OmsView, TransitionLogView
from panel.extensions import db
from panel.models import Order, OrderItem
from panel.models.oms import TransitionLog
from panel.oms import graph
from panel.oms.definitions import Event, Process, State, Transition
from panel.oms.registry import EXTENSION_KEY, Registry
from panel.services import oms_stats
from tests.conftest import order_payload

PROCESS = Process.build(
    "Test01",
    states=[State("new"), State("paid", reserved=True), State("shipped"),
            State("<b>bold</b>")],
    events=[Event("pay", manual=True, command="Payment/Capture"),
            Event("ship", command="Shipment/Missing")],
    transitions=[Transition("new", "paid", "pay", happy=True),
                 Transition("paid", "shipped", "ship", happy=True),
                 Transition("shipped", "<b>bold</b>")],
    source="tests/test_oms_pages.py",
)



@pytest.fixture
def oms_app(app):
    """The app with Test01 in its registry and the two views mounted (unless create_app did)."""
    base = app.extensions.get(EXTENSION_KEY) or Registry()
    app.extensions[EXTENSION_KEY] = dataclasses.replace(
        base,
        processes={**base.processes, PROCESS.name: PROCESS},
        commands={**base.commands, "Payment/Capture": lambda *args, **kwargs: None},
    )
    if "oms" not in app.blueprints:
        admin = app.extensions["admin"][0]
        admin.add_view(OmsView(name="OMS", category="Administration", endpoint="oms",
                               url="/administration/oms"))
    if "transition_log" not in app.blueprints:
        admin = app.extensions["admin"][0]
        admin.add_view(TransitionLogView(name="Transition Log", category="Administration",
                                         endpoint="transition_log",
                                         url="/administration/transition-log"))
    return app


@pytest.fixture
def viewer(oms_app, as_role):
    return as_role("viewer")


@pytest.fixture
def orders(oms_app, post_order):
    """Two orders whose items run Test01: DE--1 has 2 new and 1 paid, DE--2 has 3 new."""
    ids = {}
    for reference in ("DE--1", "DE--2"):
        response = post_order(order_payload(order_reference=reference))
        assert response.status_code == 201, response.json
        ids[reference] = response.json["id"]
    with oms_app.app_context():
        db.session.execute(sa.update(OrderItem).values(process_name=PROCESS.name))
        first = db.session.scalars(sa.select(OrderItem).where(
            OrderItem.order_id == ids["DE--1"]).order_by(OrderItem.id)).first()
        first.state_name = "paid"
        db.session.commit()
    return ids


@pytest.fixture
def log(oms_app, orders):
    """Four log rows: DE--1 paid, DE--1 failed to ship, DE--2 paid, DE--2 <script> error."""
    start = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    rows = [
        dict(order_id=orders["DE--1"], event="pay", source_state="new", target_state="paid",
             command="Payment/Capture", actor="agent@example.org"),
        dict(order_id=orders["DE--1"], event="ship", source_state="paid", target_state=None,
             command="Shipment/Missing", actor="agent@example.org", is_error=True,
             error_message="no plugin registers the command Shipment/Missing"),
        dict(order_id=orders["DE--2"], event="pay", source_state="new", target_state="paid",
             command="Payment/Capture", condition="Payment/IsAuthorized", actor="cron"),
        dict(order_id=orders["DE--2"], event=None, source_state="paid", target_state=None,
             actor="cron", is_error=True, error_message="<script>alert(1)</script>"),
    ]
    with oms_app.app_context():
        item = db.session.scalars(sa.select(OrderItem).order_by(OrderItem.id)).first()
        for minutes, row in enumerate(rows):
            db.session.add(TransitionLog(
                process_name=PROCESS.name, item_id=item.id if minutes == 0 else None,
                created_at=start + timedelta(minutes=minutes), **row,
            ))
        db.session.commit()
        return [e.id for e in db.session.scalars(sa.select(TransitionLog).order_by(TransitionLog.id))]


def log_ids(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return [int(i) for i in re.findall(r'data-log-id="(\d+)"', response.get_data(as_text=True))]


def test_process_index_lists_every_process_with_a_link(viewer):
    response = viewer.get("/administration/oms/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert 'data-process="Test01"' in page
    bundled = re.search(r'<tr data-process="DummyPayment01">(.*?)</tr>', page, re.DOTALL)
    # The file inside the plugin's folder, never the server's own path.
    assert "<code>processes/DummyPayment01.xml</code>" in bundled.group(1)
    assert str(PROJECT_ROOT) not in page
    assert 'href="/administration/oms/process/Test01"' in page
    row = re.search(r'<tr data-process="Test01">(.*?)</tr>', page, re.DOTALL).group(1)
    assert [int(n) for n in re.findall(r"<td>(\d+)</td>", row)] == [4, 2, 3]


def test_process_page_shows_the_svg_with_item_counts(viewer, orders):
    response = viewer.get("/administration/oms/process/Test01")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert '<div class="oms-graph' in page and "<svg" in page
    assert "<?xml" not in page
    assert "(5 items)" in page and "(1 item)" in page  # 2 orders x 3 units, one paid
    assert re.search(r'data-state="new"[^>]*>\s*<td>.*?</td>\s*<td class="text-right">5</td>',
                     page, re.DOTALL)
    assert "c: Shipment/Missing (not implemented)" in page
    assert 'id="legend"' in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_bundled_process_page_names_the_plugin_and_the_file_inside_it(app, as_role):
    page = as_role("viewer").get("/administration/oms/process/DummyPayment01").get_data(
        as_text=True)
    source = re.search(r'<p class="text-muted mb-2" id="process-source">(.*?)</p>', page).group(1)
    assert source == ("Source: <code>processes/DummyPayment01.xml</code> in the plugin "
                      "<code>plugins.dummy_payment</code>")
    assert str(PROJECT_ROOT) not in page


def test_process_page_highlights_a_state(viewer):
    page = viewer.get("/administration/oms/process/Test01?state=paid").get_data(as_text=True)
    assert "#ffffcc" in page.lower()
    assert "state <strong>paid</strong> highlighted" in page


def test_process_page_names_an_unknown_state(viewer):
    response = viewer.get("/administration/oms/process/Test01?state=lost")
    assert response.status_code == 400
    assert "state: &#39;lost&#39; is not a state of the process Test01" in \
        response.get_data(as_text=True)


def test_process_page_without_graphviz_shows_the_dot_source(viewer, monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    response = viewer.get("/administration/oms/process/Test01")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Graphviz is not installed; showing the DOT source" in page
    assert '<pre class="border rounded p-2 bg-light" id="dot-source">digraph process {' in page
    assert "<svg" not in page
    assert viewer.get("/administration/oms/process/Test01.svg").status_code == 503


def test_unknown_process_is_404(viewer):
    assert viewer.get("/administration/oms/process/Nope01").status_code == 404
    assert viewer.get("/administration/oms/process/Nope01.svg").status_code == 404


def test_process_svg_download(viewer):
    response = viewer.get("/administration/oms/process/Test01.svg?state=new")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    body = response.get_data(as_text=True)
    assert body.startswith("<?xml") and "<svg" in body and "#ffffcc" in body.lower()


def test_oms_pages_need_a_login(oms_app, client):
    response = client.get("/administration/oms/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.get("/administration/transition-log/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_item_counts_group_items_by_state(oms_app, orders):
    with oms_app.app_context():
        assert oms_stats.item_counts("Test01") == {"new": 5, "paid": 1}
        assert oms_stats.item_counts("Other01") == {}


def test_transition_log_lists_newest_first_with_links(viewer, log, orders):
    response = viewer.get("/administration/transition-log/")
    assert log_ids(response) == list(reversed(log))
    page = response.get_data(as_text=True)
    assert f'href="/sales/orders/{orders["DE--1"]}">DE--1</a>' in page
    assert "no plugin registers the command Shipment/Missing" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("table-danger") == 2
    assert "SHOE-1" in page  # the item of the first row
    assert "Payment/IsAuthorized" in page and "agent@example.org" in page


def test_transition_log_filters_by_order(viewer, log):
    assert log_ids(viewer.get("/administration/transition-log/?order=DE--1")) == [log[1], log[0]]
    assert log_ids(viewer.get("/administration/transition-log/?order=DE--9")) == []


def test_transition_log_filters_by_event(viewer, log):
    assert log_ids(viewer.get("/administration/transition-log/?event=pay")) == [log[2], log[0]]


def test_transition_log_filters_errors_only(viewer, log):
    assert log_ids(viewer.get("/administration/transition-log/?errors=1")) == [log[3], log[1]]
    assert log_ids(viewer.get("/administration/transition-log/?errors=1&order=DE--2&event=")) \
        == [log[3]]
    assert log_ids(viewer.get("/administration/transition-log/?errors=0")) == list(reversed(log))


def test_transition_log_pages(viewer, log):
    page_one = viewer.get("/administration/transition-log/?per_page=10")
    assert "4 found, page 1 of 1" in page_one.get_data(as_text=True)


@pytest.mark.parametrize("query, message", [
    ("errors=yes", "errors: &#39;yes&#39; is not 0 or 1"),
    ("page=zero", "page: &#39;zero&#39; is not a page number"),
    ("per_page=7", "per_page: &#39;7&#39; is not one of 10, 25, 50, 100"),
    ("order=" + "X" * 46, "order: at most 45 characters"),
])
def test_transition_log_names_a_bad_parameter(viewer, query, message):
    response = viewer.get("/administration/transition-log/?" + query)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="query-errors"' in page and message in page
    assert 'id="transition-log-table"' not in page


def test_order_log_include_renders_an_orders_own_rows(oms_app, log, orders):
    with oms_app.test_request_context():
        rows = oms_stats.order_log(db.session.get(Order, orders["DE--1"]))
        html = render_template("oms/order_log.html", log_rows=rows)
    assert [int(i) for i in re.findall(r'data-log-id="(\d+)"', html)] == [log[1], log[0]]
    assert "no plugin registers the command Shipment/Missing" in html
    with oms_app.test_request_context():
        empty = render_template("oms/order_log.html", log_rows=[])
    assert "Nothing happened to this order" in empty
