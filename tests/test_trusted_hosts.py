"""PANEL_TRUSTED_HOSTS: a request for another host name is refused (400) before it can put that
name into a link, whether it came as Host or, behind the proxy, as X-Forwarded-Host."""
import pytest
import sqlalchemy as sa

from panel import create_app
from panel.config import trusted_hosts
from panel.extensions import db
from panel.models import Order

TRUSTED = ["panel.example.com", ".example.org"]


def count_orders(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Order))


@pytest.fixture
def app_config():
    return {"TRUSTED_HOSTS": TRUSTED}


@pytest.fixture
def post_to(client, api_token):
    """post_to(host) sends a valid order with that Host header."""
    from tests.conftest import order_payload

    def send(host, **headers):
        return client.post("/api/v1/orders", json=order_payload(), headers={
            "Host": host, "Authorization": f"Bearer {api_token}", **headers})

    return send


@pytest.mark.parametrize("host", ["panel.example.com", "panel.example.com:8443", "example.org",
                                  "shop.example.org"])
def test_an_order_for_a_trusted_host_links_to_that_host(post_to, host):
    response = post_to(host)
    assert response.status_code == 201, response.json
    url = f"http://{host.lower()}/sales/orders/{response.json['id']}"
    assert (response.json["url"], response.headers["Location"]) == (url, url)


@pytest.mark.parametrize("host", ["evil.example", "panel.example.com.evil.example",
                                  "evilexample.org", "127.0.0.1:5000", "pan el.example.com"])
def test_an_order_for_a_foreign_host_is_a_json_400_and_nothing_is_stored(app, post_to, host):
    response = post_to(host)

    assert response.status_code == 400
    assert response.json == {"error": "untrusted_host", "message": "The request's host name is "
                             "not one this server answers to."}
    assert "Location" not in response.headers
    assert count_orders(app) == 0


def test_a_panel_page_for_a_foreign_host_is_a_400_page_not_a_redirect(client):
    response = client.get("/sales/orders/", headers={"Host": "evil.example"})

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    assert "is not trusted" in response.get_data(as_text=True)


def test_the_login_form_for_a_foreign_host_is_refused(client, accounts):
    response = client.post("/login", data={"email": accounts["admin"], "password": "x"},
                           headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "Location" not in response.headers


class TestBehindTheProxy:
    """With PANEL_PROXY_HOPS=1 the host that counts is nginx's X-Forwarded-Host."""

    @pytest.fixture
    def app_config(self):
        return {"TRUSTED_HOSTS": TRUSTED, "PANEL_PROXY_HOPS": 1}

    def test_a_forwarded_foreign_host_is_refused(self, app, post_to):
        response = post_to("panel.example.com", **{"X-Forwarded-Host": "evil.example"})
        assert response.status_code == 400
        assert response.json["error"] == "untrusted_host"
        assert count_orders(app) == 0

    def test_a_forwarded_trusted_host_builds_the_public_url(self, post_to):
        response = post_to("127.0.0.1:8000", **{"X-Forwarded-Host": "panel.example.com",
                                                "X-Forwarded-Proto": "https",
                                                "X-Forwarded-Prefix": "/backoffice"})
        assert response.status_code == 201, response.json
        assert response.headers["Location"] == (
            f"https://panel.example.com/backoffice/sales/orders/{response.json['id']}")


class TestUnsetInDevelopment:
    @pytest.fixture
    def app_config(self):
        return {"TRUSTED_HOSTS": None}

    def test_any_host_is_answered(self, post_to):
        assert post_to("anything.example").status_code == 201


# --- the setting ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, parsed", [
    ("panel.example.com", ["panel.example.com"]),
    (" panel.example.com , .example.org ,", ["panel.example.com", ".example.org"]),
    ("Panel.Example.COM", ["panel.example.com"]),  # browsers send host names in lower case
    ("", None),
    (None, None),
])
def test_the_setting_is_a_comma_separated_list(raw, parsed):
    assert trusted_hosts(raw) == parsed


@pytest.mark.parametrize("raw", ["https://panel.example.com", "panel.example.com:443",
                                 "*.example.org", "panel.example.com/backoffice",
                                 "panel example.com"])
def test_a_setting_that_is_not_a_host_name_stops_the_start(raw):
    with pytest.raises(RuntimeError) as refused:
        trusted_hosts(raw)
    assert str(refused.value).startswith("PANEL_TRUSTED_HOSTS: ")
    assert ".example.org for that domain and all its subdomains" in str(refused.value)


def test_the_app_reads_the_setting_from_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("PANEL_TRUSTED_HOSTS", "panel.example.com,.example.org")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["TRUSTED_HOSTS"] == TRUSTED
    with app.app_context():
        db.engine.dispose()
