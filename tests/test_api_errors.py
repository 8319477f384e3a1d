"""Every error answer under /api/ is the API's JSON problem, whatever produced it: an unknown
path, a method no route takes, a body too large, a plugin that fails. The panel's own pages
keep their HTML error pages."""
import sys
import types

import pytest
import sqlalchemy as sa

from panel import hookimpl
from panel.extensions import db
from panel.models import Order
from tests.conftest import order_payload


@pytest.fixture
def app_config():
    """A small body limit, so the 413 test sends little."""
    return {"MAX_CONTENT_LENGTH": 2000}


def count_orders(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Order))


def problem_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    body = response.json
    assert set(body) == {"error", "message"}, body
    return body


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v2/orders", "/api/v1/orders/1",
                                  "/api/", "/api"])
def test_an_unknown_api_path_is_a_json_404(client, path):
    body = problem_of(client.get(path), 404)
    assert body == {"error": "not_found", "message": "There is no such API endpoint; the API is "
                    "described at /api/v1/openapi.json."}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_a_method_the_orders_endpoint_does_not_take_is_a_json_405_with_allow(
        client, api_token, method):
    response = client.open("/api/v1/orders", method=method,
                           headers={"Authorization": f"Bearer {api_token}"})
    body = problem_of(response, 405)
    assert body == {"error": "method_not_allowed",
                    "message": f"{method} is not allowed here; this endpoint takes POST."}
    assert "POST" in response.headers["Allow"].split(", ")


def test_post_on_the_document_is_a_json_405(client):
    response = client.post("/api/v1/openapi.json", json={})
    assert problem_of(response, 405)["message"] == (
        "POST is not allowed here; this endpoint takes GET.")
    assert "GET" in response.headers["Allow"]


def test_a_body_over_the_limit_is_a_json_413_and_nothing_is_stored(app, client, api_token):
    payload = order_payload(cart_note="x" * 3000)
    response = client.post("/api/v1/orders", json=payload,
                           headers={"Authorization": f"Bearer {api_token}"})
    assert problem_of(response, 413) == {
        "error": "too_large",
        "message": "The request body is too large: at most 2,000 bytes are accepted."}
    assert count_orders(app) == 0


def _fail(order):
    raise RuntimeError("secret detail: password=hunter2")


class TestAPluginThatFails:
    @pytest.fixture
    def app_config(self, monkeypatch):
        plugin = types.ModuleType("panel_test_failing_plugin")
        plugin.select_process = hookimpl(_fail)
        monkeypatch.setitem(sys.modules, plugin.__name__, plugin)
        # As in production: TESTING would re-raise instead of answering 500.
        return {"PANEL_PLUGINS": (plugin.__name__,), "PROPAGATE_EXCEPTIONS": False}

    def test_an_unexpected_failure_is_a_json_500_without_details(self, app, post_order):
        response = post_order()
        body = problem_of(response, 500)
        assert body["error"] == "internal_error"
        assert "hunter2" not in response.get_data(as_text=True)
        assert count_orders(app) == 0


def test_the_panel_keeps_its_html_error_pages(client, as_role):
    assert client.get("/nothing/here").mimetype == "text/html"
    agent = as_role("agent")
    response = agent.get("/nothing/here")
    assert (response.status_code, response.mimetype) == (404, "text/html")
    response = agent.client.delete("/sales/orders/")
    assert (response.status_code, response.mimetype) == (405, "text/html")


class TestBehindAProxyPrefix:
    """Behind nginx the app sees /api/... inside the script root /backoffice."""

    @pytest.fixture
    def app_config(self):
        return {"PANEL_PROXY_HOPS": 1}

    def test_unknown_api_paths_under_the_prefix_answer_json(self, client):
        response = client.get("/api/v2/orders", headers={"X-Forwarded-Prefix": "/backoffice"})
        assert problem_of(response, 404)["message"] == (
            "There is no such API endpoint; the API is described at "
            "/backoffice/api/v1/openapi.json.")

    def test_panel_paths_under_the_prefix_stay_html(self, client):
        response = client.get("/nothing", headers={"X-Forwarded-Prefix": "/backoffice"})
        assert (response.status_code, response.mimetype) == (404, "text/html")
