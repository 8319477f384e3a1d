"""End-to-end: issue an order's invoice on View Order, download its PDF, and mail it to the
customer, in Chromium. The PDFs are read back with pypdf; the mail arrives at a real SMTP
server (tests/smtp.py)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from panel.extensions import db
from panel.models import Document, OutboundEmail
from panel.models.base import utcnow
from tests.e2e.conftest import login, make_order
from tests.smtp import real_mail_settings
from tests.test_pdf import pdf_text

pytestmark = pytest.mark.e2e

REFERENCE = "DE--601"


@pytest.fixture
def app_config(request):
    return real_mail_settings(request)


def invoice_number() -> str:
    return f"INV-DE-{utcnow().year}-000001"


def download_pdf(page: Page, link) -> tuple[str, str]:
    """Click a download link; return the file name the browser got and the PDF's text."""
    with page.expect_download() as started:
        link.click()
    download = started.value
    with open(download.path(), "rb") as data:
        return download.suggested_filename, pdf_text(data.read())


def test_issue_the_invoice_on_view_order_and_download_it(page: Page, live_server, app,
                                                          accounts):
    order = make_order(app, order_reference=REFERENCE)
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    box = page.locator("#order-documents")
    expect(box).to_contain_text("No documents yet.")

    box.get_by_role("button", name="Issue invoice").click()

    expect(page.locator(".alert-success")).to_contain_text(f"Invoice {invoice_number()} issued.")
    row = page.locator(f'#documents-table tr[data-document-number="{invoice_number()}"]')
    expect(row).to_contain_text("Invoice")
    expect(row).to_contain_text("€54.87")
    expect(row).to_contain_text("Agent User <agent@example.org>")
    expect(box.get_by_role("button", name="Issue invoice")).to_have_count(0)

    filename, text = download_pdf(page, row.get_by_role("link", name="Download PDF"))
    assert filename == f"{invoice_number()}.pdf"
    assert f"Invoice {invoice_number()}" in text and f"Order {REFERENCE}" in text
    assert "Running shoe" in text and "Socks" in text and "Total €54.87" in text
    with app.app_context():
        assert db.session.execute(select(Document.number, Document.issued_by)).all() == [
            (invoice_number(), "Agent User <agent@example.org>")]


def test_a_viewer_downloads_but_sees_no_issue_button(page: Page, live_server, app, accounts,
                                                     as_role):
    order = make_order(app, order_reference=REFERENCE)
    as_role("agent").post_form(f"/sales/documents/invoice/{order['id']}")
    login(page, live_server, accounts["viewer"])
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    box = page.locator("#order-documents")
    expect(box.get_by_role("button", name="Issue invoice")).to_have_count(0)
    _, text = download_pdf(page, box.get_by_role("link", name="Download PDF"))
    assert f"Invoice {invoice_number()}" in text


def test_mail_the_invoice_from_the_email_page(page: Page, live_server, app, accounts, smtp):
    order = make_order(app, order_reference=REFERENCE)
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    page.get_by_role("button", name="Issue invoice").click()
    expect(page.locator(".alert-success")).to_be_visible()

    page.locator("#customer-email").click()
    page.fill("#subject", "Your invoice")
    page.fill("#body", "Please find your invoice attached.")
    page.select_option("#document", label=f"Invoice {invoice_number()} (PDF)")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-attachment")).to_have_text(f"{invoice_number()}.pdf")
    page.get_by_role("button", name="Send").click()

    expect(page.locator(".alert-success")).to_contain_text("Email sent to anna@example.com.")
    expect(page.locator("#copy-attachment")).to_have_text(f"{invoice_number()}.pdf")
    (mail,) = smtp.inbox.emails
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == f"{invoice_number()}.pdf"
    assert f"Invoice {invoice_number()}" in pdf_text(attachment.get_content())
    with app.app_context():
        message = db.session.scalar(select(OutboundEmail))
        assert (message.status, message.subject) == ("sent", "Your invoice")
