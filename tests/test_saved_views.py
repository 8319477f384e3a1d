"""Saved views of the orders list: save, open, share, default, delete; what a view names that
is gone since; who may do what."""
from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import DefaultView, SavedView
from tests.conftest import order_payload


@pytest.fixture
def orders(post_order):
    def make(reference, store="DE", payment="invoice", last="Schmidt"):
        payload = order_payload(order_reference=reference, store=store,
                                payment={"method": payment, "amount": 5487})
        payload["customer"]["last_name"] = last
        response = post_order(payload)
        assert response.status_code == 201, response.json
    make("DE--1")
    make("DE--2", payment="paypal")
    make("AT--1", store="AT", last="Weber")


def listed(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    return re.findall(r'data-order-reference="([^"]+)"', response.get_data(as_text=True))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def views(app) -> list[tuple]:
    with app.app_context():
        return [(v.name, v.shared, v.query) for v in db.session.scalars(
            sa.select(SavedView).order_by(SavedView.id))]


def save(client, name, query, **extra):
    return client.post_form("/sales/views/save", {"name": name, "query": query, **extra})


def view_id(app, name) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(SavedView.id).where(SavedView.name == name))


def test_save_a_list_state_and_open_it_from_its_tab(app, as_role, orders):
    agent = as_role("agent")
    response = save(agent, "DE by PayPal", "store=DE&payment=paypal&sort=reference&dir=asc"
                    "&per_page=25&page=3")
    vid = view_id(app, "DE by PayPal")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"?view={vid}")
    # The page is not part of a view; the rest is kept in the list's own names.
    assert views(app) == [("DE by PayPal", False,
                           "store=DE&payment=paypal&sort=reference&dir=asc&per_page=25")]
    opened = agent.get(f"/sales/orders/?view={vid}")
    assert listed(opened) == ["DE--2"]
    page = text(opened)
    assert re.search(rf'class="nav-link active" data-view-id="{vid}"[^>]*>DE by PayPal', page)
    assert f"/sales/orders/?view={vid}" in page  # the link to share
    assert 'name="per_page" value="25"' in page  # the view's page size
    # The same list reached through its filters shows the view's tab as the current one.
    same = agent.get("/sales/orders/?payment=paypal&store=DE&sort=reference&dir=asc"
                     "&per_page=25")
    assert re.search(rf'class="nav-link active" data-view-id="{vid}"', text(same))


def test_saving_again_under_the_same_name_replaces_the_view(app, as_role, orders):
    agent = as_role("agent")
    save(agent, "Mine", "store=DE")
    save(agent, "Mine", "store=AT")
    assert views(app) == [("Mine", False, "store=AT")]


@pytest.mark.parametrize("name, message", [
    ("", "The view's name is empty"),
    ("   ", "The view's name is empty"),
    ("a" * 81, "The view's name is longer than 80 characters"),
    ("two\nlines", "The view's name contains a control character"),
])
def test_a_bad_name_is_named_and_nothing_is_saved(app, as_role, orders, name, message):
    agent = as_role("agent")
    response = save(agent, name, "store=DE")
    assert response.status_code == 302
    assert message in text(agent.get(response.headers["Location"]))
    assert views(app) == []


def test_a_list_with_bad_filters_is_not_saved(app, as_role, orders):
    agent = as_role("agent")
    response = save(agent, "Broken", "from=2026-13-01")
    page = text(agent.get(response.headers["Location"]))
    assert "The view was not saved: Created from" in page
    assert views(app) == []


def test_personal_views_are_the_owners_and_shared_ones_everyones(app, as_role, orders):
    agent, admin, viewer = as_role("agent"), as_role("admin"), as_role("viewer")
    save(agent, "Agent's own", "store=AT")
    save(admin, "Team: Austria", "store=AT", shared="yes")
    own, shared = view_id(app, "Agent's own"), view_id(app, "Team: Austria")
    tabs = text(viewer.get("/sales/orders/"))
    assert "Team: Austria" in tabs and "Agent's own" not in tabs
    assert listed(viewer.get(f"/sales/orders/?view={shared}")) == ["AT--1"]
    missing = viewer.get(f"/sales/orders/?view={own}")
    assert missing.status_code == 404
    assert "it was deleted, or it is another user's and not shared" in text(missing)
    # Only admins share; the server refuses anybody else's shared view.
    refused = save(agent, "Shared by an agent", "store=DE", shared="yes")
    assert refused.status_code == 403
    assert [name for name, *_ in views(app)] == ["Agent's own", "Team: Austria"]


def test_a_default_view_opens_the_plain_list_url_and_all_orders_still_reachable(
        app, as_role, orders):
    agent = as_role("agent")
    save(agent, "Austria", "store=AT", default="yes")
    assert listed(agent.get("/sales/orders/")) == ["AT--1"]
    assert sorted(listed(agent.get("/sales/orders/?view=all"))) == ["AT--1", "DE--1", "DE--2"]
    assert listed(agent.get("/sales/orders/?store=DE")) == ["DE--2", "DE--1"]
    # Another user's plain list is unchanged.
    assert len(listed(as_role("viewer").get("/sales/orders/"))) == 3
    vid = view_id(app, "Austria")
    agent.post_form(f"/sales/views/{vid}/default", {})  # no longer the default
    assert len(listed(agent.get("/sales/orders/"))) == 3
    agent.post_form(f"/sales/views/{vid}/default", {"default": "yes"})
    assert listed(agent.get("/sales/orders/")) == ["AT--1"]


def test_delete_a_view_own_or_as_admin_a_shared_one(app, as_role, orders):
    agent, admin = as_role("agent"), as_role("admin")
    save(agent, "Mine", "store=DE", default="yes")
    save(admin, "Team", "store=AT", shared="yes")
    mine, team = view_id(app, "Mine"), view_id(app, "Team")
    assert agent.post_form(f"/sales/views/{team}/delete", {}).status_code == 403
    assert agent.post_form(f"/sales/views/{mine}/delete", {}).status_code == 302
    assert [name for name, *_ in views(app)] == ["Team"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DefaultView)) == 0
    assert len(listed(agent.get("/sales/orders/"))) == 3  # the deleted default is gone too
    assert admin.post_form(f"/sales/views/{team}/delete", {}).status_code == 302
    assert views(app) == []


def test_a_view_naming_what_is_gone_says_so_and_is_never_wider(app, as_role, orders):
    agent = as_role("agent")
    save(agent, "Old states", "state=retired-state&store=CH&payment=cheque")
    opened = agent.get(f"/sales/orders/?view={view_id(app, 'Old states')}")
    assert listed(opened) == []
    note = text(opened)
    assert "the state 'retired-state' is in no process now" in note
    assert "no order is of the store 'CH' now" in note
    assert "no order is paid by 'cheque' now" in note
    # A view naming a process that is gone: the list's own error, no list, no 500.
    with app.app_context():
        db.session.add(SavedView(owner_id=db.session.scalar(sa.text(
            "SELECT id FROM user_account WHERE role = 'agent'")), owner_name="Agent User",
            name="Gone process", shared=False, query="process=Gone01&state=new"))
        db.session.commit()
    gone = agent.get(f"/sales/orders/?view={view_id(app, 'Gone process')}")
    assert gone.status_code == 400
    assert "Process: 'Gone01' is not a process of this panel" in text(gone)
    assert listed_or_none(gone) == []


def listed_or_none(response) -> list[str]:
    return re.findall(r'data-order-reference="([^"]+)"', response.get_data(as_text=True))


@pytest.mark.parametrize("url", ["/sales/orders/?view=abc", "/sales/orders/?view=0",
                                 "/sales/orders/?view=99999"])
def test_a_view_that_is_not_there_is_a_clear_404(as_role, orders, url):
    response = as_role("agent").get(url)
    assert response.status_code == 404
    assert "There is no view" in text(response)


def test_the_forms_need_their_csrf_token(app, as_role, orders):
    agent = as_role("agent")
    response = agent.client.post("/sales/views/save", data={"name": "x", "query": "store=DE"})
    assert response.status_code == 400
    assert views(app) == []
