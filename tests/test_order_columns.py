"""The orders list's columns: shown, hidden and ordered per list (and saved view), and a
plugin's column asked once per page, its values escaped."""
from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import SavedView
from tests.conftest import order_payload
from tests.plugins import column_fixture


@pytest.fixture
def app_config():
    return {"PANEL_PLUGINS": ("tests.plugins.column_fixture",)}


@pytest.fixture(autouse=True)
def calls():
    column_fixture.CALLS.clear()
    return column_fixture.CALLS


@pytest.fixture
def orders(post_order):
    for n in range(12):
        payload = order_payload(order_reference=f"DE--{n + 1}")
        if n >= 3:  # three orders of anna@, nine customers with one each
            payload["customer"]["email"] = f"c{n}@example.com"
        assert post_order(payload).status_code == 201


def headers(page: str) -> list[str]:
    return re.findall(r'<th(?: class="money")? data-column="([^"]+)"', page)


def get(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def test_the_default_columns_and_the_plugins_column_hidden(as_role, orders, calls):
    page = get(as_role("agent"), "/sales/orders/")
    assert headers(page) == ["id", "reference", "created", "customer", "email", "state",
                             "grand_total", "items"]
    assert "Loyalty tier" in page  # offered in the column picker, not shown
    assert 'data-column="loyalty">' not in page.split('id="orders-table"')[1]
    assert calls == []  # a hidden column is not asked


def test_columns_chosen_and_ordered_by_the_url(as_role, orders, calls):
    agent = as_role("agent")
    page = get(agent, "/sales/orders/?col=email&col=loyalty&col=reference&per_page=10")
    assert headers(page) == ["email", "loyalty", "reference"]
    table = page.split('id="orders-table"')[1]
    row = re.search(r'<tr data-order-reference="DE--3">(.*?)</tr>', table, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert "anna@example.com" in cells[0]
    assert cells[1].strip() == "Gold &lt;3+ orders&gt;"  # the plugin's text, escaped
    assert cells[2].strip() == "DE--3"
    assert calls == [10]  # once for the page's ten orders
    # The filters form and the pager keep the columns.
    assert re.search(r'<input type="hidden" name="col" value="email">', page)
    assert "col=email&amp;col=loyalty&amp;col=reference" in page


def test_moving_a_column_is_a_link(as_role, orders):
    page = get(as_role("agent"), "/sales/orders/?col=id&col=email&col=items")
    move = re.search(r'<a href="([^"]+)" class="move-column" aria-label="Move Email left">',
                     page).group(1)
    moved = get(as_role("agent"), html.unescape(move))
    assert headers(moved) == ["email", "id", "items"]


def test_an_unknown_column_is_named(as_role, orders):
    page = get(as_role("agent"), "/sales/orders/?col=id&col=margin", status=400)
    assert "Columns: &#39;margin&#39; is not a column of this list" in page


def test_hook_register_order_columns(app, as_role, orders, calls):
    """A plugin's column costs the same statements for a page of 10 rows or of 50."""
    agent = as_role("agent")
    statements = {"count": 0}

    def count(*_args):
        statements["count"] += 1

    counted = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            for size in (10, 50):
                get(agent, f"/sales/orders/?col=reference&col=loyalty&per_page={size}")
                statements["count"] = 0  # the second request of each size, memos warm
                get(agent, f"/sales/orders/?col=reference&col=loyalty&per_page={size}")
                counted.append(statements["count"])
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    assert counted[0] == counted[1] > 0
    assert calls[-1] == 12  # the larger page shows all twelve orders, in one call


def test_a_saved_view_keeps_its_columns(app, as_role, orders):
    agent = as_role("agent")
    agent.post_form("/sales/views/save", {"name": "Loyal", "query":
                                          "col=reference&col=loyalty&sort=email&dir=asc"})
    with app.app_context():
        view = db.session.scalar(sa.select(SavedView))
        assert view.query == "sort=email&dir=asc&col=reference&col=loyalty"
    page = get(agent, f"/sales/orders/?view={view.id}")
    assert headers(page) == ["reference", "loyalty"]
