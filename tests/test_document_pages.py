"""Documents on View Order: editors issue the invoice, everyone signed in downloads the PDFs,
and the email page sends one along, through the outbox, to a real SMTP server."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Document, Order, OrderItem, OutboundEmail
from panel.models.base import utcnow
from panel.services import documents, outbox
from tests.smtp import SmtpServer, real_mail_settings
from tests.test_comments_and_email import text
from tests.test_pdf import pdf_text

ACTOR = "Admin User <admin@example.org>"


@pytest.fixture
def app_config(request):
    return real_mail_settings(request)


@pytest.fixture
def order_id(post_order):
    return post_order().json["id"]


def number(kind: str, sequence: int = 1) -> str:
    return f"{kind}-DE-{utcnow().year}-{sequence:06d}"


def issue_both(app, order_id: int, credited: int = 1999) -> tuple[int, int]:
    """Issue the order's invoice and a credit note for its first item (``credited``);
    return their ids."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        item = db.session.scalar(sa.select(OrderItem).where(OrderItem.order_id == order_id)
                                 .order_by(OrderItem.id))
        invoice = documents.issue_invoice(order, actor=ACTOR)
        note = documents.issue_credit_note(order, [(item, credited)], actor=ACTOR)
        db.session.commit()
        return invoice.id, note.id


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# -- View Order ---------------------------------------------------------------------------


def test_an_agent_issues_the_invoice_on_view_order_once(app, as_role, order_id):
    agent = as_role("agent")
    page = text(agent, agent.get(f"/sales/orders/{order_id}"))
    assert 'id="issue-invoice"' in page and "No documents yet." in page

    response = agent.post_form(f"/sales/documents/invoice/{order_id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/sales/orders/{order_id}#order-documents")
    page = text(agent, response)
    assert f"Invoice {number('INV')} issued." in page
    assert f'data-document-number="{number("INV")}"' in page
    assert "by Agent User &lt;agent@example.org&gt;" in page and "€54.87" in page
    assert 'id="issue-invoice"' not in page

    again = text(agent, agent.post_form(f"/sales/documents/invoice/{order_id}"))
    assert f"The order already has its invoice, {number('INV')}." in again
    assert count(app, Document) == 1


def test_a_viewer_downloads_the_pdf_but_cannot_issue(app, as_role, order_id):
    invoice_id, note_id = issue_both(app, order_id)
    viewer = as_role("viewer")
    page = text(viewer, viewer.get(f"/sales/orders/{order_id}"))
    assert 'id="issue-invoice"' not in page
    assert page.count("Download PDF") == 2

    response = viewer.get(f"/sales/documents/{invoice_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="{number("INV")}.pdf"'
    invoice_text = pdf_text(response.data)
    assert f"Invoice {number('INV')}" in invoice_text and "Total €54.87" in invoice_text
    note_text = pdf_text(viewer.get(f"/sales/documents/{note_id}.pdf").data)
    assert f"Credit note {number('CN')}" in note_text and "Total credited €19.99" in note_text

    assert viewer.post_form(f"/sales/documents/invoice/{order_id}").status_code == 403


def test_documents_need_a_login(app, client, order_id, accounts):
    invoice_id, _ = issue_both(app, order_id)
    response = client.get(f"/sales/documents/{invoice_id}.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert b"%PDF" not in response.data


def test_issuing_without_the_csrf_token_is_refused(app, as_role, order_id):
    agent = as_role("agent")
    response = agent.client.post(f"/sales/documents/invoice/{order_id}")
    assert response.status_code == 400
    assert count(app, Document) == 0


def test_unknown_orders_and_documents(app, as_role):
    agent = as_role("agent")
    page = text(agent, agent.post_form("/sales/documents/invoice/999999"))
    assert "No invoice was issued: there is no order #999999." in page
    assert agent.get("/sales/documents/999999.pdf").status_code == 404
    assert count(app, Document) == 0


# -- the email page -----------------------------------------------------------------------


def send(client, order_id, **form):
    return client.post_form(f"/sales/messages/{order_id}/email", form)


def test_a_mail_with_a_credit_note_attached_reaches_the_customer(app, as_role, order_id,
                                                                  smtp):
    _, note_id = issue_both(app, order_id)
    agent = as_role("agent")
    form = text(agent, agent.get(f"/sales/messages/{order_id}/email"))
    assert f"Invoice {number('INV')} (PDF)" in form and f"Credit note {number('CN')} (PDF)" in form

    preview = text(agent, send(agent, order_id, action="preview", subject="Your refund",
                               body="Attached.", document=str(note_id)))
    assert f'id="preview-attachment">{number("CN")}.pdf<' in preview
    assert re.search(rf'<option value="{note_id}" selected>', preview)

    page = text(agent, send(agent, order_id, action="send", subject="Your refund",
                            body="Your credit note is attached.", document=str(note_id)))
    assert "Email sent to anna@example.com." in page
    assert f'id="copy-attachment"><a href="/sales/documents/{note_id}.pdf">{number("CN")}.pdf<' \
        in page
    (mail,) = smtp.inbox.emails
    assert mail["subject"] == "Your refund"
    assert mail.get_body(("plain",)).get_content().strip() == "Your credit note is attached."
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == f"{number('CN')}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    attached = pdf_text(attachment.get_content())
    assert f"Credit note {number('CN')}" in attached and "Total credited €19.99" in attached
    with app.app_context():
        message = db.session.scalar(sa.select(OutboundEmail))
        assert (message.status, message.document_id) == ("sent", note_id)


@pytest.mark.parametrize("document", ["other order's", "999999", "abc", "-1"])
def test_only_the_orders_own_documents_can_be_attached(app, as_role, post_order, order_id,
                                                       document):
    other = post_order().json["id"]
    other_invoice, _ = issue_both(app, other)
    agent = as_role("agent")
    chosen = str(other_invoice) if document == "other order's" else document
    response = send(agent, order_id, action="send", subject="Hi", body="x", document=chosen)
    assert response.status_code == 400
    assert "Not sent: the document to attach is not one of this order&#39;s." in \
        text(agent, response)
    assert count(app, OutboundEmail) == 0


def test_a_retry_attaches_the_document_as_issued(app, as_role, order_id):
    invoice_id, _ = issue_both(app, order_id)
    agent = as_role("agent")
    page = text(agent, send(agent, order_id, action="send", subject="Your invoice",
                            body="Attached.", document=str(invoice_id)))
    assert "could not be delivered" in page  # no server is listening yet
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.billing_address.city = "Leipzig"
        db.session.commit()
        due = db.session.scalar(sa.select(OutboundEmail.next_attempt_at))
    server = SmtpServer(app.config["MAIL_PORT"]).start()
    try:
        with app.app_context():
            assert outbox.send_outbox(now=due).sent == 1
    finally:
        server.stop()
    (mail,) = server.inbox.emails
    (attachment,) = list(mail.iter_attachments())
    attached = pdf_text(attachment.get_content())
    assert "10115 Berlin" in attached and "Leipzig" not in attached
    assert f"Invoice {number('INV')}" in attached
