"""Chunked request bodies (no Content-Length) are held to MAX_CONTENT_LENGTH like any other.

Sent through a real HTTP server (werkzeug's, in a thread) from a raw client that writes the
chunks itself: the test client hands the app a stream of known length, and only a server
that de-chunks a body shows what the app then does with one of unknown length.
"""
from __future__ import annotations

import http.client
import json
import threading

import pytest
import sqlalchemy as sa
from werkzeug.serving import WSGIRequestHandler, make_server

from panel.extensions import db
from panel.models import Customer, LoginAttempt, Order
from tests.conftest import order_payload

LIMIT = 4000


@pytest.fixture
def app_config():
    return {"MAX_CONTENT_LENGTH": LIMIT}


class QuietHandler(WSGIRequestHandler):
    def log(self, *args, **kwargs):
        pass


@pytest.fixture
def server(app):
    """The app on 127.0.0.1 and a free port; yields the port."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_port
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def send_chunked(port: int, path: str, body: bytes, headers: dict, chunk: int = 1000):
    """POST ``body`` in chunks of ``chunk`` bytes; return (status, content type, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        chunks = (body[i:i + chunk] for i in range(0, len(body), chunk))
        conn.request("POST", path, body=chunks, headers=headers, encode_chunked=True)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


def order_body(size: int) -> bytes:
    """A valid order as JSON, padded with trailing blanks to exactly ``size`` bytes."""
    body = json.dumps(order_payload()).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def post_chunked(server, api_token):
    def post(body: bytes):
        return send_chunked(server, "/api/v1/orders", body, {
            "Content-Type": "application/json", "Authorization": f"Bearer {api_token}"})
    return post


def test_a_chunked_order_over_the_limit_is_413_and_nothing_is_stored(app, post_chunked):
    body = json.dumps(order_payload(cart_note="x" * LIMIT)).encode()

    status, content_type, answer = post_chunked(body)

    assert (status, content_type) == (413, "application/json")
    assert json.loads(answer) == {
        "error": "too_large",
        "message": f"The request body is too large: at most {LIMIT:,} bytes are accepted."}
    assert count(app, Order) == 0 and count(app, Customer) == 0


def test_a_chunked_order_cut_at_the_limit_into_valid_json_is_still_refused(app, post_chunked):
    # The first LIMIT bytes are a whole order: read only that far, it would be stored.
    status, _, answer = post_chunked(order_body(LIMIT) + b" " * 500)

    assert status == 413, answer
    assert json.loads(answer)["error"] == "too_large"
    assert count(app, Order) == 0


@pytest.mark.parametrize("size", [LIMIT, LIMIT - 1, 1500])
def test_a_chunked_order_up_to_the_limit_is_stored(app, post_chunked, size):
    status, _, answer = post_chunked(order_body(size))

    assert status == 201, answer
    assert count(app, Order) == 1


def test_a_chunked_form_over_the_limit_is_413_on_the_panel_too(app, server):
    form = b"email=anna%40example.org&password=wrong&padding=" + b"x" * LIMIT

    status, content_type, _ = send_chunked(server, "/login", form, {
        "Content-Type": "application/x-www-form-urlencoded"})

    assert status == 413
    assert content_type.startswith("text/html")
    assert count(app, LoginAttempt) == 0
