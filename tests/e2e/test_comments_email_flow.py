"""End-to-end: comments for the team and mails to the customer, driven through Chromium.

Mail goes to a real SMTP server (aiosmtpd, tests/smtp.py) on 127.0.0.1; what it received,
what the pages show and what the database holds are checked side by side.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from panel.extensions import db
from panel.models import Comment, OutboundEmail
from tests.e2e.conftest import login, make_order, open_menu
from tests.smtp import SmtpServer, real_mail_settings

pytestmark = pytest.mark.e2e

REFERENCE = "DE--501"
CUSTOMER_EMAIL = "anna@example.com"  # order_payload()'s customer
AGENT_ACTOR = "Agent User <agent@example.org>"
SENDER = "orders@shop.example"
TIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"
SCRIPT = "<script>alert(1)</script>"

DELAY_SUBJECT = f"Your order {REFERENCE} is delayed"
DELAY_BODY = (
    f"Hello Mrs Anna Schmidt,\n\nwe are sorry: your order {REFERENCE} will leave our "
    "warehouse later than planned. We will write again as soon as it ships.\n\n"
    "Kind regards,\nAgent User"
)


# fixtures ------------------------------------------------------------------------------


@pytest.fixture
def app_config(request):
    """Real delivery: to the ``smtp`` fixture's server, or to a port nobody listens on."""
    return real_mail_settings(request, sender=SENDER)


@pytest.fixture
def order(app):
    # An English order: the mails to its customer are written in English.
    return make_order(app, order_reference=REFERENCE, locale="en_GB")


# helpers -------------------------------------------------------------------------------


def open_order(page: Page, base_url: str, order_id: int) -> None:
    page.goto(f"{base_url}/sales/orders/{order_id}")
    expect(page.locator("h4")).to_have_text(f"View Order: {REFERENCE}")


def send_comment(page: Page, message: str) -> None:
    page.fill("#message", message)
    page.get_by_role("button", name="Send Message").click()
    expect(page.locator(".alert", has_text="Comment added.")).to_be_visible()


def history_kinds(page: Page) -> list[str]:
    return page.locator("#history li[data-kind]").evaluate_all(
        "lis => lis.map(li => li.getAttribute('data-kind'))")


def db_comments(app, order_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.scalars(select(Comment).where(Comment.order_id == order_id)
                                  .order_by(Comment.id)).all()
        result = [(c.author_name, c.message) for c in rows]
        db.session.remove()
    return result


def db_emails(app, order_id: int) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(select(OutboundEmail).where(
            OutboundEmail.order_id == order_id).order_by(OutboundEmail.id)).all()
        result = [{"id": m.id, "to": m.to_address, "subject": m.subject, "body": m.body_text,
                   "template": m.template, "status": m.status, "attempts": m.attempts,
                   "created_by": m.created_by, "last_error": m.last_error,
                   "sent_at": m.sent_at} for m in rows]
        db.session.remove()
    return result


# 1 -------------------------------------------------------------------------------------


def test_two_line_comment_shows_at_once_and_in_history(app, page, live_server, accounts, order):
    login(page, live_server, accounts["agent"])
    open_order(page, live_server, order["id"])
    expect(page.locator("#comments .comment")).to_have_count(0)
    expect(page.locator("#comments")).to_contain_text("No comments yet.")

    page.locator("#message").fill("I'll take this one.\nCalled the customer.")
    page.get_by_role("button", name="Send Message").click()

    expect(page.locator(".alert", has_text="Comment added.")).to_be_visible()
    assert urlsplit(page.url).path == f"/sales/orders/{order['id']}"
    assert urlsplit(page.url).fragment == "comments"
    comment = page.locator("#comments .comment")
    expect(comment).to_have_count(1)
    expect(comment.locator(".comment-author")).to_have_text("Agent User")
    expect(comment.locator("small")).to_have_text(re.compile(rf"^{TIME}$"))
    # inner_text follows the rendering: the newline survives only if the break is shown.
    expect(comment.locator(".comment-text")).to_have_text(
        "I'll take this one.\nCalled the customer.", use_inner_text=True)
    assert comment.locator(".comment-text").evaluate(
        "e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    expect(page.locator("#message")).to_have_value("")  # the form is empty again

    entries = page.locator("#history li[data-kind]")
    expect(entries).to_have_count(1)
    assert history_kinds(page) == ["comment"]
    expect(entries.first).to_have_text(re.compile(
        rf"^{TIME} · Agent User commented: I'll take this one\.\nCalled the customer\.$"),
        use_inner_text=True)

    assert db_comments(app, order["id"]) == [
        ("Agent User", "I'll take this one.\nCalled the customer.")]


# 2 -------------------------------------------------------------------------------------


def test_template_mail_from_orders_list_arrives_and_shows_in_history(
        app, page, live_server, accounts, order, smtp):
    login(page, live_server, accounts["agent"])
    open_order(page, live_server, order["id"])
    send_comment(page, "Warehouse says: two days late.")

    open_menu(page, "Sales", "Orders")
    page.wait_for_url(re.compile(r"/sales/orders/?(\?.*)?$"))
    link = page.locator(f'#orders-table tr[data-order-reference="{REFERENCE}"] a.email-link')
    expect(link).to_have_text(CUSTOMER_EMAIL)
    link.click()

    page.wait_for_url(re.compile(rf"/sales/messages/{order['id']}/email$"))
    expect(page.locator("h4")).to_have_text(f"Send email to customer: {REFERENCE}")
    to = page.locator("#email-to")
    expect(to).to_have_value(f"Mrs Anna Schmidt <{CUSTOMER_EMAIL}>")
    expect(to).not_to_be_editable()
    expect(page.locator("#subject")).to_have_value("")
    expect(page.locator("#body")).to_have_value("")
    expect(page.locator("#email-preview")).to_have_count(0)

    page.locator("#template").select_option(label="Shipping delay")
    page.locator("#use-template").click()
    expect(page.locator("#subject")).to_have_value(DELAY_SUBJECT)
    expect(page.locator("#body")).to_have_value(DELAY_BODY)
    expect(page.locator("#template")).to_have_value("shipping delay")
    expect(page.locator("#email-preview")).to_have_count(0)

    page.locator("#preview").click()
    preview = page.locator("#email-preview")
    expect(preview).to_be_visible()
    expect(preview).to_contain_text(f"To: {CUSTOMER_EMAIL}")
    expect(page.locator("#preview-subject")).to_have_text(DELAY_SUBJECT)
    expect(page.locator("#preview-body")).to_have_text(DELAY_BODY, use_inner_text=True)
    # Preview keeps what was typed and sends nothing.
    expect(page.locator("#subject")).to_have_value(DELAY_SUBJECT)
    expect(page.locator("#body")).to_have_value(DELAY_BODY)
    assert smtp.inbox.messages == []
    assert db_emails(app, order["id"]) == []

    page.locator("#send").click()

    page.wait_for_url(re.compile(rf"/sales/messages/{order['id']}/emails/\d+$"))
    expect(page.locator(".alert", has_text=f"Email sent to {CUSTOMER_EMAIL}.")).to_be_visible()
    expect(page.locator("#email-status")).to_have_text("sent")
    expect(page.locator("#copy-subject")).to_have_text(DELAY_SUBJECT)
    expect(page.locator("#copy-body")).to_have_text(DELAY_BODY, use_inner_text=True)
    expect(page.locator("#email-error")).to_have_count(0)
    expect(page.locator("#resend")).to_have_count(0)
    copy_path = urlsplit(page.url).path

    assert smtp.inbox.messages == [{"to": [CUSTOMER_EMAIL], "subject": DELAY_SUBJECT,
                                    "body": DELAY_BODY + "\n", "from": SENDER}]
    emails = db_emails(app, order["id"])
    assert len(emails) == 1
    stored = emails[0]
    assert copy_path == f"/sales/messages/{order['id']}/emails/{stored['id']}"
    assert {k: stored[k] for k in ("to", "subject", "body", "template", "status", "attempts",
                                   "created_by", "last_error")} == {
        "to": CUSTOMER_EMAIL, "subject": DELAY_SUBJECT, "body": DELAY_BODY,
        "template": "shipping delay", "status": "sent", "attempts": 1,
        "created_by": AGENT_ACTOR, "last_error": None}
    assert stored["sent_at"] is not None

    # Back on View Order: the history holds the mail (newest) and the comment.
    page.get_by_role("link", name="View Order").click()
    page.wait_for_url(re.compile(rf"/sales/orders/{order['id']}$"))
    assert history_kinds(page) == ["email", "comment"]
    email_entry = page.locator('#history li[data-kind="email"]')
    expect(email_entry).to_contain_text(f"{AGENT_ACTOR} emailed {CUSTOMER_EMAIL}:")
    expect(email_entry.locator(".email-status")).to_have_text("sent")
    copy_link = email_entry.get_by_role("link", name=DELAY_SUBJECT)
    expect(copy_link).to_have_attribute("href", copy_path)
    expect(page.locator('#history li[data-kind="comment"]')).to_contain_text(
        "Agent User commented: Warehouse says: two days late.")

    # Only "Emails" ticked: only the mail.
    filter_form = page.locator("#history-filter")
    filter_form.get_by_label("Emails").check()
    filter_form.get_by_role("button", name="Show").click()
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("kind") == ["email"])
    expect(page.locator("#history li[data-kind]")).to_have_count(1)
    assert history_kinds(page) == ["email"]
    expect(page.locator("#kind-email")).to_be_checked()
    for kind in ("state", "comment", "address", "reclamation"):
        expect(page.locator(f"#kind-{kind}")).not_to_be_checked()
    expect(page.locator('#history li[data-kind="email"] .email-status')).to_have_text("sent")
    # The comment is still listed under Comments; only the history is filtered.
    expect(page.locator("#comments .comment")).to_have_count(1)

    # The link opens the stored copy.
    page.locator('#history li[data-kind="email"]').get_by_role(
        "link", name=DELAY_SUBJECT).click()
    page.wait_for_url(re.compile(rf"{re.escape(copy_path)}$"))
    expect(page.locator("#copy-subject")).to_have_text(DELAY_SUBJECT)
    assert len(smtp.inbox.messages) == 1  # looking sends nothing


# 3 -------------------------------------------------------------------------------------


def test_server_down_then_resend_delivers_once(app, page, live_server, accounts, order):
    port = app.config["MAIL_PORT"]  # nothing listens there yet
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/messages/{order['id']}/email")
    page.fill("#subject", "About your order")
    page.fill("#body", "Hello Anna,\nit ships tomorrow.")

    page.locator("#send").click()

    page.wait_for_url(re.compile(rf"/sales/messages/{order['id']}/emails/\d+$"))
    expect(page.locator(".alert", has_text="could not be delivered")).to_contain_text(
        f"Email to {CUSTOMER_EMAIL} could not be delivered: ConnectionRefusedError")
    expect(page.locator("#email-status")).to_have_text("failed")
    expect(page.locator("#email-error")).to_contain_text("ConnectionRefusedError")
    expect(page.locator("#email-copy")).to_contain_text("1 attempt")
    expect(page.locator("#email-copy")).to_contain_text("Next automatic try:")
    resend = page.get_by_role("button", name="Resend")
    expect(resend).to_be_visible()
    [failed] = db_emails(app, order["id"])
    assert (failed["status"], failed["attempts"], failed["sent_at"]) == ("failed", 1, None)
    assert failed["last_error"].startswith("ConnectionRefusedError")

    server = SmtpServer(port).start()
    try:
        resend.click()
        expect(page.locator(".alert", has_text=f"Email sent to {CUSTOMER_EMAIL}.")) \
            .to_be_visible()
        expect(page.locator("#email-status")).to_have_text("sent")
        expect(page.locator("#email-copy")).to_contain_text("2 attempts")
        expect(page.locator("#email-error")).to_have_count(0)
        expect(page.locator("#resend")).to_have_count(0)
    finally:
        server.stop()

    assert server.inbox.messages == [{"to": [CUSTOMER_EMAIL], "subject": "About your order",
                                      "body": "Hello Anna,\nit ships tomorrow.\n",
                                      "from": SENDER}]
    [sent] = db_emails(app, order["id"])
    assert sent["id"] == failed["id"]
    assert (sent["status"], sent["attempts"], sent["last_error"]) == ("sent", 2, None)
    assert sent["sent_at"] is not None


# 4 -------------------------------------------------------------------------------------


def test_script_comment_is_shown_as_text(app, page, live_server, accounts, order):
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    login(page, live_server, accounts["agent"])
    open_order(page, live_server, order["id"])

    send_comment(page, SCRIPT)

    expect(page.locator("#comments .comment .comment-text")).to_have_text(SCRIPT)
    expect(page.locator('#history li[data-kind="comment"]')).to_contain_text(
        f"Agent User commented: {SCRIPT}")
    expect(page.locator("#comments script, #history script")).to_have_count(0)
    page.reload()  # the stored comment, rendered afresh
    expect(page.locator("#comments .comment .comment-text")).to_have_text(SCRIPT)
    page.wait_for_load_state("load")
    assert dialogs == []
    assert db_comments(app, order["id"]) == [("Agent User", SCRIPT)]
