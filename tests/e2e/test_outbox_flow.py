"""End-to-end: mail that was not delivered, as a back-office user meets it in Chromium: the
order page says so, Administration > Outbox lists it by status, and a retry (one at once, or
the ticked ones on the sender's next round) delivers it to a real SMTP server."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.models.base import utcnow
from panel.services import outbox
from tests.e2e.conftest import login, make_order
from tests.smtp import SmtpServer
from tests.test_outbox import app_config, mails, queue  # noqa: F401 - the same settings

pytestmark = pytest.mark.e2e


def run_sender(app) -> outbox.SenderReport:
    """One round of the outbox sender (the worker's, or the mail timer's)."""
    with app.app_context():
        report = outbox.send_outbox()
        db.session.remove()
    return report


def give_up(app, message_id: int) -> None:
    """Try the mail from a week ago until its tries ran out."""
    now = utcnow() - timedelta(days=7)
    with app.app_context():
        for _ in range(200):
            message = outbox.deliver(message_id, now=now).message
            if message.status != "failed":
                break
            now = message.next_attempt_at
        db.session.remove()


def outbox_row(page: Page, message_id: int):
    return page.locator(f'#outbox-table tr.outbox-row[data-email-id="{message_id}"]')


def test_undelivered_mail_is_seen_on_the_order_and_retried_from_the_outbox(
        app, page, live_server, accounts):
    order = make_order(app, order_reference="DE--901")
    failed, lost = queue(app, order["id"], count=2, prefix="About DE--901")
    give_up(app, lost)
    run_sender(app)  # the mail server is down: the other fails too

    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    notice = page.locator("#unsent-mail")
    expect(notice).to_contain_text("1 failed, tried again automatically")
    expect(notice).to_contain_text("1 undeliverable, no more automatic tries")
    notice.get_by_role("link", name="Outbox").click()
    page.wait_for_url(re.compile(r"/administration/outbox/$"))
    expect(page.locator("h4")).to_have_text("Outbox")
    expect(page.locator('#outbox-statuses a[data-status="undeliverable"] .status-count')) \
        .to_have_text("1")

    page.locator('#outbox-statuses a[data-status="undeliverable"]').click()
    expect(page.locator("#outbox-table tr.outbox-row")).to_have_count(1)
    row = outbox_row(page, lost)
    expect(row.locator(".email-status")).to_have_text("undeliverable")
    expect(row.locator(".outbox-error")).to_contain_text("ConnectionRefusedError")
    expect(row.locator(".outbox-next")).to_contain_text("none: gave up")

    server = SmtpServer(app.config["MAIL_PORT"]).start()
    try:
        row.get_by_role("button", name=f"Retry mail #{lost} now").click()
        expect(page.locator(".alert", has_text="Email sent to anna@example.com.")) \
            .to_be_visible()
        expect(page).to_have_url(re.compile(r"/administration/outbox/\?status=undeliverable&per_page=10$"))
        expect(page.locator("#no-mails")).to_have_text("No mails match.")

        page.locator("#outbox-statuses a", has_text="All").click()
        expect(outbox_row(page, lost).locator(".email-status")).to_have_text("sent")
        outbox_row(page, failed).get_by_role("checkbox").check()
        page.locator("#retry-ticked").click()
        expect(page.locator(".alert", has_text="1 mail is due now")).to_be_visible()
        expect(outbox_row(page, failed).locator(".outbox-next")).not_to_be_empty()

        assert run_sender(app).sent == 1
        page.reload()
        expect(outbox_row(page, failed).locator(".email-status")).to_have_text("sent")
    finally:
        server.stop()
    assert sorted(m["subject"] for m in server.inbox.messages) == [
        "About DE--901 1", "About DE--901 2"]
    assert [m.status for m in mails(app)] == ["sent", "sent"]

    page.goto(f"{live_server}/sales/orders/{order['id']}")
    expect(page.locator("#order-overview")).to_be_visible()
    expect(page.locator("#unsent-mail")).to_have_count(0)


def test_outbox_is_in_the_administration_menu_for_admins(app, page, live_server, accounts):
    login(page, live_server, accounts["admin"])
    page.wait_for_load_state("load")  # the dropdown needs Bootstrap's script
    page.locator("nav.navbar a.dropdown-toggle", has_text="Administration").click()
    page.locator("nav.navbar .dropdown-menu a", has_text="Outbox").click()
    page.wait_for_url(re.compile(r"/administration/outbox/$"))
    expect(page.locator("#no-mails")).to_have_text("No mails match.")
