"""Login on every page, roles checked on the server, CSRF on every form."""
import re

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def order_id(post_order):
    return post_order().json["id"]


@pytest.fixture
def route_values(app, order_id, accounts):
    """Real ids for every kind of URL argument in the URL map."""
    with app.app_context():
        from panel.extensions import db
        from panel.models import CustomerAddress, Order, User
        from panel.services import bulk_actions
        from panel.services.documents import issue_invoice
        from panel.services.order_search import OrderQuery
        from panel.services.outbox import queue_email
        from panel.services.reclamations import open_reclamation
        from panel.services.saved_views import save_view

        order = db.session.get(Order, order_id)
        ids = {
            "order_id": order.id,
            "address_id": order.billing_address_id,
            "customer_id": order.customer_id,
            "export_type": "csv",
            "name": "DefaultOrder01",
        }
        address = db.session.scalar(db.select(CustomerAddress))
        admin = db.session.scalar(db.select(User).where(User.role == "admin"))
        ids["user_id"] = db.session.scalar(db.select(User.id).where(User.role == "agent"))
        ids["reclamation_id"] = open_reclamation(order.id, [order.items[0].id], "broken",
                                                 admin).id
        ids["reason_id"], ids["return_id"] = a_return(order.id, order.items[1].id, admin)
        ids["email_id"] = queue_email(order.id, "Hello", "A question.", template=None,
                                      user=admin).id
        ids["document_id"] = issue_invoice(order, actor="setup").id
        selection = bulk_actions.freeze_selection([order_id], admin)
        ids["selection_id"] = selection.id
        ids["run_id"] = bulk_actions.start_run(selection, "pay", admin).id
        ids["view_id"] = save_view(admin, "Everything", OrderQuery(), shared=True).id
        customer_address = dict(ids, address_id=address.id)
    return {"ids": ids, "customers.edit_address": customer_address}


def a_return(order_id: int, item_id: int, user) -> tuple[int, int]:
    """(reason id, return id): the item shipped and returned for a reason."""
    from panel.extensions import db
    from panel.models import ReturnReason
    from panel.oms import engine
    from panel.services.returns import ReturnLine, create_return

    reason = ReturnReason(name="Damaged", active=True)
    db.session.add(reason)
    db.session.commit()
    for event in ("pay", "ship"):
        engine.trigger_event(order_id, event, actor="setup", item_ids=[item_id])
    return reason.id, create_return(order_id, [ReturnLine(item_id, reason.id)], user).id


def build_url(app, rule, values) -> str:
    args = values.get(rule.endpoint, values["ids"])
    return rule.build({name: args[name] for name in rule.arguments}, append_unknown=False)[1]


@pytest.fixture
def page_urls(app, route_values):
    """Every back-office GET page in the URL map, with real ids filled in."""
    urls = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "admin.static") or rule.endpoint.startswith("api."):
            continue
        if "GET" not in rule.methods or rule.endpoint in ("auth.login", "healthz"):
            continue
        urls[rule.endpoint] = build_url(app, rule, route_values)
    urls["users.edit_view"] += "?id=1"
    return urls


CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def changing_routes(app, route_values):
    """Every state-changing back-office route in the URL map: (endpoint, method, url)."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") or rule.endpoint == "auth.login":
            continue
        for method in sorted(rule.methods & CHANGING):
            routes.append((rule.endpoint, method, build_url(app, rule, route_values)))
    assert len(routes) > 20  # the enumeration found the panel's forms
    return routes


def table_counts(app) -> dict[str, int]:
    from panel.extensions import db

    with app.app_context():
        return {name: db.session.scalar(db.select(db.func.count()).select_from(table))
                for name, table in db.metadata.tables.items() if name != "login_attempt"}


def test_every_changing_route_sends_anonymous_users_to_login(app, client, changing_routes):
    before = table_counts(app)
    for endpoint, method, url in changing_routes:
        response = client.open(url, method=method, data={"csrf_token": client.csrf_token()})
        if endpoint == "auth.logout":
            assert response.status_code == 302, (endpoint, response.status_code)
            client._token = None  # a logout starts a new session, with a new token
            continue
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert response.headers["Location"].startswith("/login"), endpoint
    assert table_counts(app) == before


def test_every_changing_route_refuses_a_request_without_csrf_token(app, as_role,
                                                                   changing_routes):
    admin = as_role("admin")
    before = table_counts(app)
    for endpoint, method, url in changing_routes:
        response = admin.client.open(url, method=method, data={"event": "pay"})
        assert response.status_code == 400, (endpoint, method, response.status_code)
        assert "CSRF" in response.get_data(as_text=True), endpoint
    assert table_counts(app) == before


# A viewer may log out and look after their own account (password, sessions).
VIEWERS_MAY = re.compile(r"^(auth\.logout|account\.)")


def test_a_viewer_gets_403_on_every_changing_route(app, as_role, changing_routes):
    viewer = as_role("viewer")
    before = table_counts(app)
    checked = 0
    for endpoint, method, url in changing_routes:
        if VIEWERS_MAY.match(endpoint):
            continue
        response = viewer.client.open(url, method=method,
                                      data={"csrf_token": viewer.csrf_token(), "event": "pay"})
        assert response.status_code == 403, (endpoint, method, response.status_code)
        checked += 1
    assert checked == len([r for r in changing_routes if not VIEWERS_MAY.match(r[0])])
    assert checked > 20
    assert table_counts(app) == before


def test_every_api_route_but_the_document_wants_a_token(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(rule.rule, method=method, json={})
            assert response.status_code == 401, (rule.rule, method)
            assert response.json["error"] == "unauthorized"
            checked += 1
    assert checked >= 1


ADMIN_ONLY = re.compile(r"^(users|sign_ins)\.")
EDITORS_ONLY = {"orders.edit_address", "customers.edit", "customers.add_address",
                "customers.edit_address", "reclamations.create", "returns.create",
                "communication.email",
                "bulk.index", "bulk.selection", "bulk.export", "bulk.run", "bulk.report"}
# Money goes back to the customer: the role of the "refund" event (admin in the bundled process).
REFUND_ROLE_ONLY = {"refunds.create"}


def test_every_page_sends_anonymous_users_to_login(client, page_urls):
    assert len(page_urls) >= 10
    for endpoint, url in page_urls.items():
        response = client.get(url)
        assert response.status_code == 302, endpoint
        location = response.headers["Location"]
        assert location.startswith("/login?next="), (endpoint, location)


def test_login_returns_to_where_the_user_was_going(client, accounts, order_id):
    response = client.get(f"/sales/orders/{order_id}")
    target = response.headers["Location"]
    response = client.post(target, data={"email": accounts["agent"], "password": PASSWORD,
                                         "csrf_token": client.csrf_token()})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sales/orders/{order_id}"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, accounts, target):
    response = client.post(f"/login?next={target}",
                           data={"email": accounts["agent"], "password": PASSWORD,
                                 "csrf_token": client.csrf_token()})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_unknown_email_and_wrong_password_get_the_same_answer(client, accounts):
    wrong_password = client.login(accounts["agent"], "wrong password!")
    unknown_email = client.login("nobody@example.org", "wrong password!")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 400
        assert "Email or password is not correct." in response.get_data(as_text=True)

    def page(response, email):
        text = response.get_data(as_text=True).replace(email, "X")
        return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", text)

    assert page(wrong_password, accounts["agent"]) == page(unknown_email, "nobody@example.org")


def test_inactive_user_cannot_log_in(app, client, accounts):
    from panel.extensions import db
    from panel.models import User

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == accounts["agent"]))
        user.active = False
        db.session.commit()
    assert client.login(accounts["agent"]).status_code == 400


def test_navigation_shows_the_users_name_and_role_menus(as_role):
    page = as_role("agent").get("/sales/orders/").get_data(as_text=True)
    assert "Agent User" in page
    assert "Sales" in page and "Customers" in page
    assert "Administration" not in page
    assert "Administration" in as_role("admin").get("/sales/orders/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["viewer", "agent", "admin"])
def test_every_role_reads_every_page_but_only_admins_manage_users(as_role, page_urls, role):
    c = as_role(role)
    for endpoint, url in page_urls.items():
        response = c.get(url)
        if ADMIN_ONLY.match(endpoint):
            # Flask-Admin's disabled extras (details, export, ajax) redirect or refuse.
            expected = {200, 302, 400, 404} if role == "admin" else {403}
            assert response.status_code in expected, (role, endpoint, response.status_code)
        elif endpoint in EDITORS_ONLY and role == "viewer":
            assert response.status_code == 403, (role, endpoint)
        elif endpoint in REFUND_ROLE_ONLY and role != "admin":
            assert response.status_code == 403, (role, endpoint)
        elif endpoint in ("communication.index", "documents.index", "saved_views.index"):
            assert response.headers["Location"] == "/sales/orders/"
        else:
            assert response.status_code == 200, (role, endpoint, url)


def state_changing_requests(order_id, customer_id, address_id):
    return [
        (f"/sales/orders/{order_id}/addresses/{address_id}/edit",
         {"first_name": "A", "last_name": "B", "country": "DE", "address1": "x",
          "city": "y", "zip_code": "1"}),
        (f"/customers/{customer_id}/edit",
         {"first_name": "A", "last_name": "B", "email": "a@example.com"}),
        (f"/customers/{customer_id}/addresses/new",
         {"first_name": "A", "last_name": "B", "country": "DE", "address1": "x",
          "city": "y", "zip_code": "1"}),
        ("/administration/users/new/", {"email": "x@example.org", "name": "X", "role": "agent",
                                        "password": "long enough"}),
    ]


@pytest.fixture
def change_requests(app, order_id):
    from panel.extensions import db
    from panel.models import Order

    with app.app_context():
        order = db.session.get(Order, order_id)
        return state_changing_requests(order.id, order.customer_id, order.billing_address_id)


def test_viewer_gets_403_on_every_state_changing_request(as_role, change_requests, app):
    viewer = as_role("viewer")
    for url, data in change_requests:
        assert viewer.post_form(url, data).status_code == 403, url
    from panel.extensions import db
    from panel.models import AddressChange, User

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AddressChange)) == 0
        assert db.session.scalar(db.select(User).where(User.email == "x@example.org")) is None


def test_agent_cannot_manage_users(as_role):
    agent = as_role("agent")
    assert agent.post_form("/administration/users/new/", {"email": "x@example.org"}).status_code == 403


def test_requests_without_csrf_token_are_refused(as_role, change_requests, app):
    admin = as_role("admin")
    for url, data in change_requests:
        response = admin.client.post(url, data=data)
        assert response.status_code == 400, url
        assert "CSRF" in response.get_data(as_text=True)
    from panel.extensions import db
    from panel.models import AddressChange

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AddressChange)) == 0


def test_logout_requires_post_with_csrf(as_role):
    agent = as_role("agent")
    assert agent.get("/logout").status_code == 405
    assert agent.client.post("/logout").status_code == 400
    assert agent.post_form("/logout").status_code == 302
    assert agent.get("/sales/orders/").status_code == 302


def test_viewer_pages_hide_the_edit_buttons(as_role, order_id, app):
    from panel.extensions import db
    from panel.models import Order

    with app.app_context():
        customer_id = db.session.get(Order, order_id).customer_id
    viewer, agent = as_role("viewer"), as_role("agent")
    for url in (f"/sales/orders/{order_id}", f"/customers/{customer_id}", "/customers/"):
        assert ">Edit" not in viewer.get(url).get_data(as_text=True), url
        assert ">Edit" in agent.get(url).get_data(as_text=True), url


def test_login_session_expires_after_the_configured_hours(app, as_role):
    from datetime import timedelta

    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)
    agent = as_role("agent")
    cookie = agent.client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
