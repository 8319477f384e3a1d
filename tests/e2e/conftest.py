"""Browser fixtures: the test app served on a free port, Debian's Chromium, a page per test.

The live server serves the very ``app`` fixture of tests/conftest.py (wiped database, same
config), so data made through ``app`` or its test client is what the browser sees.
"""
from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from panel.extensions import db
from panel.services.intake import receive_order
from panel.services.intake_schema import OrderIn
from tests.conftest import PASSWORD, order_payload

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
TIMEOUT_MS = 10_000  # generous: the machine may be busy with other test runs
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _QuietRequestHandler(WSGIRequestHandler):
    """Keep the request log out of test output; errors are still logged."""

    def log_request(self, code="-", size="-"):
        pass


def _closing(wsgi_app):
    """Read each response whole and close it before werkzeug starts writing.

    When the browser drops a connection mid-response (it navigates on while a script is
    still loading), werkzeug's development server skips ``close()`` on the response, so a
    static file stays open and its ResourceWarning fails the test under
    ``filterwarnings = error``. Test pages are small, so buffering them costs nothing.
    """

    def app(environ, start_response):
        iterable = wsgi_app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    return app


@pytest.fixture
def live_server(app):
    """Serve the test app on 127.0.0.1 (a free port) in a daemon thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True,
                         request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test; closed before the server stops."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def login(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the form; on /login already (e.g. after a redirect) it stays there."""
    if "/login" not in page.url:
        page.goto(f"{base_url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#current-user")).to_be_visible()


def make_order(app, **overrides) -> dict:
    """Store an order through the intake service; return its id, reference and customer id."""
    with app.app_context():
        result = receive_order(OrderIn.model_validate(order_payload(**overrides)))
        order = result.order
        info = {
            "id": order.id,
            "reference": order.order_reference,
            "customer_id": order.customer_id,
            "billing_address_id": order.billing_address_id,
        }
        db.session.remove()
    return info


def customer_data(email: str, first_name: str, last_name: str) -> dict:
    return {"email": email, "salutation": "Mrs", "first_name": first_name,
            "last_name": last_name}


def open_menu(page: Page, category: str, item: str) -> None:
    """Open a navbar dropdown ("Sales") and click one of its entries ("Orders")."""
    # The dropdown needs Bootstrap's script: a click before the page has loaded does nothing.
    page.wait_for_load_state("load")
    navbar = page.locator("nav.navbar")
    toggle = navbar.locator("a.dropdown-toggle", has_text=category)
    toggle.click()
    menu = toggle.locator("xpath=..").locator(".dropdown-menu")
    link = menu.locator("a", has_text=re.compile(rf"^\s*{re.escape(item)}\s*$"))
    expect(link).to_be_visible()
    link.click()
