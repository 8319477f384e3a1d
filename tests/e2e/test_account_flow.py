"""My account in Chromium: a user sees their sessions, ends the other ones (that browser is
logged out at its next click), and changes their password; an admin ends a user's
sessions from Administration > Users."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a brand new passphrase here"


def second_browser(browser, live_server):
    context = browser.new_context(base_url=live_server)
    return context, context.new_page()


def test_a_user_ends_their_other_session_and_changes_their_password(
        page, browser, live_server, accounts):
    laptop_context, laptop = second_browser(browser, live_server)
    try:
        login(laptop, live_server, accounts["viewer"])
        login(page, live_server, accounts["viewer"])

        page.locator("#current-user").click()
        expect(page.get_by_role("heading", name="My account")).to_be_visible()
        rows = page.locator("table.sessions tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text="This session")).to_have_count(1)

        page.get_by_role("button", name="End all other sessions").click()
        expect(page.get_by_text("Ended 1 other session. This one goes on.")).to_be_visible()
        expect(rows.filter(has_text="ended by the user")).to_have_count(1)

        laptop.goto(f"{live_server}/sales/orders/")
        expect(laptop).to_have_url(f"{live_server}/login?next=/sales/orders/")

        page.fill("#f-current_password", "correct horse battery")
        page.fill("#f-new_password", "password")
        page.fill("#f-repeat_password", "password")
        page.get_by_role("button", name="Change password").click()
        expect(page.locator('[data-error-for="new_password"]')).to_contain_text(
            "at least 15 characters")

        page.fill("#f-current_password", "correct horse battery")
        page.fill("#f-new_password", NEW_PASSWORD)
        page.fill("#f-repeat_password", NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_text("Your password was changed.")).to_be_visible()

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_text("You are logged out.")).to_be_visible()
        login(page, live_server, accounts["viewer"], NEW_PASSWORD)
    finally:
        laptop_context.close()


def test_an_admin_ends_all_sessions_of_a_user(page, browser, live_server, accounts, app):
    from panel.extensions import db
    from panel.models import User

    with app.app_context():
        agent_id = db.session.scalar(db.select(User.id).where(User.email == accounts["agent"]))
    agent_context, agent = second_browser(browser, live_server)
    try:
        login(agent, live_server, accounts["agent"])
        login(page, live_server, accounts["admin"])
        page.goto(f"{live_server}/administration/users/edit/?id={agent_id}")
        expect(page.locator("#user-sessions")).to_contain_text("1 open")

        page.get_by_role("button", name="End all sessions").click()
        expect(page.get_by_text("Ended 1 session of agent@example.org.")).to_be_visible()

        agent.reload()
        expect(agent.locator("#email")).to_be_visible()  # the login form
    finally:
        agent_context.close()
