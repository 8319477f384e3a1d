"""The Content-Security-Policy in a real browser: no page trips it, and our scripts, loaded
from files, still work under it."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, make_order

pytestmark = pytest.mark.e2e


@pytest.fixture
def violations(page):
    """Every CSP violation and script error the browser reports while the test runs."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('Content Security Policy: ' + e.violatedDirective))")
    return seen


def test_no_page_trips_the_policy_and_panel_js_works(app, page, live_server, accounts,
                                                      violations):
    order = make_order(app)
    make_order(app, order_reference="CSP-2")
    login(page, live_server, accounts["admin"])
    for path in ("/", "/sales/orders/", f"/sales/orders/{order['id']}", "/customers/",
                 f"/customers/{order['customer_id']}", "/sales/reclamations/",
                 "/administration/users/", "/administration/users/new/",
                 "/administration/sign-ins/", "/administration/oms/",
                 "/administration/oms/process/DefaultOrder01",
                 "/administration/transition-log/", "/administration/plugins/"):
        response = page.goto(live_server + path)
        assert response.status == 200, path
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        # Bootstrap's menus, loaded from files, open under the policy
        page.get_by_role("link", name="Sales").first.click()
        expect(page.get_by_role("link", name="Orders").first).to_be_visible()

    page.goto(live_server + "/sales/orders/")  # panel.js: tick all, and the count follows
    page.locator("#bulk-check-all").check()
    expect(page.locator("#bulk-ticked")).to_have_text("2 orders ticked:")
    assert violations == [], "\n".join(sorted(set(violations)))
