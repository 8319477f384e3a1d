"""Document pages that plugins supply (register_document_templates): a project's page is
used for the PDF, a broken one is reported instead of failing the request, and what a
customer typed is shown as text."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Order, OutboundEmail
from panel.models.base import utcnow
from panel.services import documents
from panel.services.document_templates import render_html
from panel.services.email_templates import TemplateProblem
from tests.conftest import order_payload
from tests.smtp import real_mail_settings
from tests.test_comments_and_email import text
from tests.test_document_pages import issue_both
from tests.test_pdf import pdf_text

ACTOR = "Admin User <admin@example.org>"
PROJECT = ("tests.plugins.document_template_fixture",)


@pytest.fixture
def app_config(request):
    settings = getattr(request, "param", {"PANEL_PLUGINS": PROJECT})
    return real_mail_settings(request, **settings)


def test_hook_register_document_templates(app, as_role, post_order):
    order_id = post_order().json["id"]
    invoice_id, _ = issue_both(app, order_id, credited=500)
    viewer = as_role("viewer")
    pdf = " ".join(pdf_text(viewer.get(f"/sales/documents/{invoice_id}.pdf").data).split())
    number = f"INV-DE-{utcnow().year}-000001"
    assert f"Rechnung {number} for Mrs Anna Schmidt" in pdf
    assert "2 x Running shoe: €39.98" in pdf and "1 x Socks: €9.99" in pdf
    assert "Summe €54.87" in pdf
    assert "Thank you for your order" not in pdf  # not the bundled page


def test_a_broken_page_is_reported_not_a_500(app, as_role, post_order):
    order_id = post_order().json["id"]
    _, note_id = issue_both(app, order_id, credited=500)
    agent = as_role("agent")
    response = agent.get(f"/sales/documents/{note_id}.pdf")
    assert response.status_code == 302
    page = text(agent, response)
    assert (f"The PDF of CN-DE-{utcnow().year}-000001 could not be made: the credit_note "
            "template: &#39;types.SimpleNamespace object&#39; has no attribute "
            "&#39;no_such_value&#39;.") in page


def test_a_mail_whose_document_cannot_be_made_fails_and_is_kept(app, as_role, post_order,
                                                                 smtp):
    order_id = post_order().json["id"]
    _, note_id = issue_both(app, order_id, credited=500)
    agent = as_role("agent")
    page = text(agent, agent.post_form(f"/sales/messages/{order_id}/email", {
        "action": "send", "subject": "Your refund", "body": "Attached.",
        "document": str(note_id)}))
    assert "could not be delivered: TemplateProblem: the credit_note template" in page
    assert smtp.inbox.messages == []
    with app.app_context():
        message = db.session.scalar(sa.select(OutboundEmail))
        assert (message.status, message.document_id) == ("failed", note_id)
        assert message.next_attempt_at is not None


@pytest.mark.parametrize("app_config", [{"PANEL_DISABLED_PLUGINS": (
    "plugins.default_documents",)}], indirect=True)
def test_without_a_page_for_a_kind_the_pdf_says_so(app, post_order):
    order_id = post_order().json["id"]
    invoice_id, _ = issue_both(app, order_id, credited=500)
    with app.app_context():
        invoice = db.session.get(documents.Document, invoice_id)
        with pytest.raises(TemplateProblem, match="no plugin supplies a template for the "
                                                  "document kind 'invoice'"):
            render_html(invoice)


@pytest.mark.parametrize("app_config", [{}], indirect=True)
def test_what_customers_typed_is_escaped_in_the_bundled_page(app, post_order):
    payload = order_payload()
    payload["billing_address"]["company"] = '<img src="x" onerror="alert(1)">Acme & Co'
    payload["shipments"][0]["items"][0]["name"] = "<b>Bold</b> shoe"
    order_id = post_order(payload).json["id"]
    with app.app_context():
        html = render_html(documents.issue_invoice(db.session.get(Order, order_id),
                                                   actor=ACTOR))
    assert "<img" not in html and "<b>Bold" not in html
    assert "&lt;img src=&#34;x&#34; onerror=&#34;alert(1)&#34;&gt;Acme &amp; Co" in html
    assert "&lt;b&gt;Bold&lt;/b&gt; shoe" in html
