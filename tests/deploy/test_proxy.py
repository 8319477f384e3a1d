"""The panel behind nginx under /backoffice, as deploy/ ships it (see conftest.py)."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import sqlalchemy as sa

from tests.conftest import order_payload
from tests.deploy.conftest import (
    HOST,
    PROJECT,
    PROXY_ADDRESS,
    PUBLIC,
    Client,
    csrf_token,
    flask_admin_static,
    flask_cli,
    needs_nginx_and_gunicorn,
    parse,
)

pytestmark = [needs_nginx_and_gunicorn, pytest.mark.once_per_run]
ADMIN, PASSWORD = "admin@example.org", "correct horse battery staple"


@pytest.fixture(scope="module")
def accounts(stack):
    flask_cli(stack.env, "users", "create", "--email", ADMIN, "--name", "Ada Admin",
              "--role", "admin", "--password", PASSWORD)
    token = flask_cli(stack.env, "api-tokens", "create", "--name", "storefront").strip()
    return {"token": token}


@pytest.fixture(scope="module")
def admin(stack, accounts):
    client = Client(stack)
    response = client.login(ADMIN, PASSWORD)
    assert response.status == 302, response.text
    return client


def assert_public_urls(html: str) -> int:
    """Every URL on the page is under /backoffice, and an absolute one is https; returns
    how many there were."""
    urls = [(tag, attr, url) for tag, attr, url in parse(html).urls
            if not url.startswith(("#", "mailto:", "data:")) and url != "javascript:void(0)"]
    for tag, attr, url in urls:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            assert (parts.scheme, parts.netloc) == ("https", HOST), (tag, attr, url)
        assert parts.path.startswith("/backoffice/"), (tag, attr, url)
    return len(urls)


def test_an_anonymous_request_is_sent_to_the_https_login_under_the_prefix(stack):
    response = Client(stack).get("/backoffice/sales/orders/?sort=created")
    assert response.status == 302
    # Where a browser on https://panel.example.test/backoffice/sales/orders/ goes next.
    target = urlsplit(urljoin(PUBLIC + "/backoffice/sales/orders/", response.header("Location")))
    assert (target.scheme, target.netloc, target.path) == ("https", HOST, "/backoffice/login")
    assert parse_qs(target.query) == {"next": ["/backoffice/sales/orders/?sort=created"]}
    # The app knows the request came over https: it asks browsers to stay there.
    assert response.header("Strict-Transport-Security") == "max-age=31536000"


def test_the_login_page_points_only_under_the_prefix(stack):
    response = Client(stack).get("/backoffice/login")
    assert response.status == 200
    assert assert_public_urls(response.text) >= 2
    hrefs = {url for _, _, url in parse(response.text).urls}
    assert "/backoffice/static/panel.css" in hrefs
    assert "/backoffice/static/admin/bootstrap/bootstrap4/css/bootstrap.min.css" in hrefs


def test_pages_after_login_point_only_under_the_prefix(admin):
    page = admin.get("/backoffice/sales/orders/")
    assert page.status == 200
    assert "Overview of Orders" in page.text
    assert assert_public_urls(page.text) > 20
    sources = {url for tag, _, url in parse(page.text).urls if tag == "script"}
    assert "/backoffice/static/panel.js" in sources


@pytest.mark.parametrize(("path", "file", "max_age"), [
    ("/backoffice/static/panel.css", PROJECT / "panel" / "static" / "panel.css", 3600),
    ("/backoffice/static/panel.js", PROJECT / "panel" / "static" / "panel.js", 3600),
    ("/backoffice/static/admin/vendor/jquery.min.js",
     Path(flask_admin_static()) / "vendor" / "jquery.min.js", 86400),
    ("/backoffice/static/admin/bootstrap/bootstrap4/css/bootstrap.min.css",
     Path(flask_admin_static()) / "bootstrap" / "bootstrap4" / "css" / "bootstrap.min.css",
     86400),
])
def test_static_files_come_from_nginx(stack, path, file, max_age):
    response = Client(stack).get(path)
    assert response.status == 200
    assert response.body == file.read_bytes()
    # nginx's own caching from the shipped locations, not the app's.
    assert response.header("Cache-Control") == f"max-age={max_age}"
    assert response.header("X-Content-Type-Options") == "nosniff"


def test_a_static_path_outside_the_folders_is_not_served(stack):
    response = Client(stack).get("/backoffice/static/../../wsgi.py")
    assert response.status in (400, 404)
    assert b"create_app" not in response.body


def test_the_session_cookie_is_secure_httponly_and_samesite(stack, accounts):
    client = Client(stack)
    response = client.login(ADMIN, PASSWORD)
    assert response.status == 302
    assert urlsplit(response.header("Location")).path == "/backoffice/"
    sessions = [c for c in client.set_cookies if c.startswith("session=")]
    attributes = {part.strip().split("=")[0].lower(): part.strip()
                  for part in sessions[-1].split(";")[1:]}
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"].lower() in ("samesite=lax", "samesite=strict")
    assert client.get("/backoffice/sales/orders/").status == 200


def test_healthz_answers_json_through_the_proxy(stack):
    response = Client(stack).get("/backoffice/healthz")
    assert response.status == 200
    assert response.header("Content-Type") == "application/json"
    assert json.loads(response.body) == {"status": "ok"}


def comments_of(engine, order_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.text(
            "SELECT message FROM order_comment WHERE order_id = :id ORDER BY id"),
            {"id": order_id}))


def test_a_form_posts_through_the_proxy_with_its_csrf_token(stack, accounts, admin, db_engine):
    created = Client(stack, source="127.0.0.6").request(
        "POST", "/backoffice/api/v1/orders",
        json.dumps(order_payload(order_reference="PROXY-1")).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {accounts['token']}"})
    assert created.status == 201, created.text
    order = json.loads(created.body)
    assert order["url"] == f"{PUBLIC}/backoffice/sales/orders/{order['id']}"
    assert created.header("Location") == order["url"]

    page = admin.get(f"/backoffice/sales/orders/{order['id']}")
    assert page.status == 200
    form = next(f for f in parse(page.text).forms if f["id"] == "comment-form")
    assert form["action"] == f"/backoffice/sales/messages/{order['id']}/comments"
    token = form["fields"]["csrf_token"]

    refused = admin.post_form(form["action"], {"message": "Without a token"},
                              referer=PUBLIC + f"/backoffice/sales/orders/{order['id']}")
    assert refused.status == 400
    assert comments_of(db_engine, order["id"]) == []

    posted = admin.post_form(form["action"], {"message": "Called the customer",
                                              "csrf_token": token},
                             referer=PUBLIC + f"/backoffice/sales/orders/{order['id']}")
    assert posted.status == 302, posted.text
    assert urljoin(PUBLIC + form["action"], posted.header("Location")) == \
        f"{PUBLIC}/backoffice/sales/orders/{order['id']}#comments"
    assert comments_of(db_engine, order["id"]) == ["Called the customer"]
    assert "Called the customer" in admin.get(f"/backoffice/sales/orders/{order['id']}").text


def addresses_of(engine, email_like: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.text(
            "SELECT address FROM login_attempt WHERE email LIKE :e ORDER BY id"),
            {"e": email_like}))


def test_one_trusted_hop_takes_the_address_nginx_saw_not_one_the_client_wrote(
        stack, admin, db_engine):
    # Login throttling counts failures per address (PANEL_LOGIN_MAX_FAILURES=3 here). A
    # client at 127.0.0.4 writing a new X-Forwarded-For each time must still be one address.
    attacker = Client(stack, source="127.0.0.4")
    for n in range(3):
        failed = attacker.login(f"nobody{n}@example.org", "wrong password",
                                **{"X-Forwarded-For": f"198.51.100.{n + 1}"})
        assert failed.status == 400
        assert "Email or password is not correct." in failed.text
    refused = attacker.login("nobody9@example.org", "wrong password",
                             **{"X-Forwarded-For": "198.51.100.9"})
    assert refused.status == 429
    assert "Too many failed logins" in refused.text
    # Someone else, at another address, is not refused.
    other = Client(stack, source="127.0.0.5").login("someone@example.org", "wrong password")
    assert other.status == 400

    assert addresses_of(db_engine, "nobody%") == ["127.0.0.4"] * 4
    assert addresses_of(db_engine, "someone%") == ["127.0.0.5"]
    sign_ins = admin.get("/backoffice/administration/sign-ins/?search=nobody")
    assert sign_ins.status == 200
    assert "127.0.0.4" in sign_ins.text
    assert "198.51.100." not in sign_ins.text
    assert PROXY_ADDRESS not in sign_ins.text


def test_with_no_trusted_hops_the_forwarded_headers_count_for_nothing(
        stack_without_trust, db_engine):
    client = Client(stack_without_trust, source="127.0.0.7")
    response = client.get("/backoffice/sales/orders/")
    assert response.status == 302
    # The app does not learn its prefix or https: the login it names is at the root, and no
    # Strict-Transport-Security goes out over what it takes for plain http.
    target = urlsplit(response.header("Location"))
    assert target.path == "/login"
    assert parse_qs(target.query) == {"next": ["/sales/orders/"]}
    assert response.header("Strict-Transport-Security") is None

    login = client.get("/backoffice/login")
    hrefs = {url for _, _, url in parse(login.text).urls}
    assert "/static/panel.css" in hrefs
    assert not any(url.startswith("/backoffice") for url in hrefs)

    failed = client.post_form("/backoffice/login", {
        "email": "untrusted@example.org", "password": "wrong password",
        "csrf_token": csrf_token(login.text)}, **{"X-Forwarded-For": "198.51.100.50"})
    assert failed.status == 400
    # The address is nginx's, the peer: neither the client's nor the one it wrote.
    assert addresses_of(db_engine, "untrusted%") == [PROXY_ADDRESS]


def orders_with_reference(engine, reference: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM sales_order WHERE order_reference = :r"),
                           {"r": reference})


def test_a_foreign_host_is_refused_through_the_proxy(stack, accounts, db_engine):
    # nginx passes any Host on (its one server block takes them all); the app, told
    # PANEL_TRUSTED_HOSTS=panel.example.test, refuses the others before building a link.
    client = Client(stack, source="127.0.0.8")
    page = client.get("/backoffice/sales/orders/", Host="evil.example")
    assert page.status == 400
    assert page.header("Location") is None
    assert "is not trusted" in page.text

    created = client.request(
        "POST", "/backoffice/api/v1/orders",
        json.dumps(order_payload(order_reference="EVIL-HOST-1")).encode(),
        {"Host": "evil.example", "Content-Type": "application/json",
         "Authorization": f"Bearer {accounts['token']}"})
    assert created.status == 400
    assert created.header("Content-Type") == "application/json"
    assert json.loads(created.body)["error"] == "untrusted_host"
    assert created.header("Location") is None and b"evil.example" not in created.body
    assert orders_with_reference(db_engine, "EVIL-HOST-1") == 0


def test_a_forwarded_host_a_client_writes_is_replaced_by_nginx(stack, accounts, db_engine):
    created = Client(stack, source="127.0.0.9").request(
        "POST", "/backoffice/api/v1/orders",
        json.dumps(order_payload(order_reference="FWD-HOST-1")).encode(),
        {"X-Forwarded-Host": "evil.example", "Content-Type": "application/json",
         "Authorization": f"Bearer {accounts['token']}"})
    assert created.status == 201, created.text
    order = json.loads(created.body)
    assert order["url"] == f"{PUBLIC}/backoffice/sales/orders/{order['id']}"
    assert created.header("Location") == order["url"]


def test_api_errors_answer_json_through_the_proxy(stack):
    client = Client(stack, source="127.0.0.10")
    missing = client.get("/backoffice/api/v2/orders")
    assert missing.status == 404
    assert missing.header("Content-Type") == "application/json"
    assert json.loads(missing.body) == {
        "error": "not_found", "message": "There is no such API endpoint; the API is described "
        "at /backoffice/api/v1/openapi.json."}
    wrong_method = client.get("/backoffice/api/v1/orders")
    assert wrong_method.status == 405
    assert json.loads(wrong_method.body)["error"] == "method_not_allowed"
    assert "POST" in wrong_method.header("Allow")
