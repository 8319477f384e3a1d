"""Security headers on every response, and no inline script in any page they could block."""
from __future__ import annotations

import re

import pytest

from panel.security import CONTENT_SECURITY_POLICY


@pytest.fixture
def order_id(post_order):
    return post_order().json["id"]


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_the_policy_allows_no_inline_script_and_no_framing():
    policy = directives(CONTENT_SECURITY_POLICY)
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"


@pytest.mark.parametrize("path", ["/sales/orders/", "/sales/orders/{order_id}",
                                  "/administration/users/", "/healthz", "/static/panel.js",
                                  "/api/v1/openapi.json"])
def test_every_kind_of_response_carries_the_headers(as_role, order_id, path):
    response = as_role("admin").get(path.format(order_id=order_id))
    assert response.status_code == 200, path
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    response.close()


def test_the_login_page_carries_them_before_anyone_logs_in(client):
    response = client.get("/login")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_with_personal_data_are_not_cached_but_static_files_are(as_role, order_id):
    admin = as_role("admin")
    assert admin.get(f"/sales/orders/{order_id}").headers["Cache-Control"] == "no-store"
    assert admin.get("/sales/orders/export.csv").headers["Cache-Control"] == "no-store"
    static = admin.get("/static/panel.js")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://panel.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_error_pages_carry_the_headers_too(as_role):
    response = as_role("viewer").get("/administration/users/")
    assert response.status_code == 403
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_no_page_has_an_inline_script_or_event_handler_attribute(as_role, order_id):
    """What the policy would block must not be needed: every script has a src."""
    admin = as_role("admin")
    for path in ("/", "/sales/orders/", f"/sales/orders/{order_id}", "/customers/",
                 "/administration/users/", "/administration/users/new/",
                 "/administration/users/edit/?id=1", "/administration/oms/",
                 "/administration/oms/process/DefaultOrder01", "/sales/reclamations/"):
        page = admin.get(path).get_data(as_text=True)
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [], path
        assert re.findall(r"<[^>]+\son[a-z]+\s*=", page) == [], path
        # Flask-Admin's dropdown toggles say href="javascript:void(0)"; Bootstrap's handler
        # prevents the navigation, so the policy never has to block it. Nothing else.
        assert page.count("javascript:") == page.count('href="javascript:void(0)"'), path


def test_a_nul_character_in_a_form_or_search_is_refused_by_name(app, as_role, order_id):
    """PostgreSQL cannot store or compare U+0000: it must never reach the database."""
    agent = as_role("agent")
    search = agent.get("/sales/orders/?q=DE%00--1")
    assert search.status_code == 400
    assert "The field &#39;q&#39; contains a NUL character" in search.get_data(as_text=True)

    comment = agent.post_form(f"/sales/messages/{order_id}/comments", {"message": "hi\x00there"})
    assert comment.status_code == 400
    assert "contains a NUL character" in comment.get_data(as_text=True)
    from panel.extensions import db
    from panel.models import Comment

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 0
