"""Login on every page, roles checked on the server, CSRF on every form."""
import re

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def order_id(post_order):
    return post_order().json["id"]


@pytest.fixture
def page_urls(app, order_id, accounts):
    """Every back-office GET page in the URL map, with real ids filled in."""
    with app.app_context():
        from panel.extensions import db
        from panel.models import CustomerAddress, Order

        order = db.session.get(Order, order_id)
        ids = {
            "order_id": order.id,
            "address_id": order.billing_address_id,
            "customer_id": order.customer_id,
        }
        address = db.session.scalar(db.select(CustomerAddress))
        customer_address = {"customer_id": order.customer_id, "address_id": address.id}
        from panel.models import User
        from panel.services.reclamations import open_reclamation

        admin = db.session.scalar(db.select(User).where(User.role == "admin"))
        ids["reclamation_id"] = open_reclamation(order.id, [order.items[0].id], "broken",
                                                 admin).id
        from panel.services.outbox import queue_email

        ids["email_id"] = queue_email(order.id, "Hello", "A question.", template=None,
                                      user=admin).id
        from panel.services import bulk_actions

        selection = bulk_actions.freeze_selection([order_id], admin)
        ids["selection_id"] = selection.id
        ids["run_id"] = bulk_actions.start_run(selection, "pay", admin).id
    urls = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "admin.static") or rule.endpoint.startswith("api."):
            continue
        if "GET" not in rule.methods or rule.endpoint in ("auth.login", "healthz"):
            continue
        values = customer_address if rule.endpoint == "customers.edit_address" else ids
        values = dict(values, export_type="csv", name="DefaultOrder01")
        args = {name: values[name] for name in rule.arguments}
        urls[rule.endpoint] = rule.build(args, append_unknown=False)[1]
    urls["users.edit_view"] += "?id=1"
    return urls


ADMIN_ONLY = re.compile(r"^users\.")
EDITORS_ONLY = {"orders.edit_address", "customers.edit", "customers.add_address",
                "customers.edit_address", "reclamations.create", "communication.email",
                "bulk.index", "bulk.selection", "bulk.export", "bulk.run", "bulk.report"}


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
        elif endpoint in ("admin.index", "communication.index"):
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
