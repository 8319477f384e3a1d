"""Invoices and credit notes: the command that issues an order's invoice from a process,
and the page that both kinds of document are printed from."""
from pathlib import Path

from panel import hookimpl
from panel.models.document import CREDIT_NOTE, INVOICE
from panel.services import documents
from panel.services.document_templates import DocumentTemplate

PAGE = Path(__file__).parent / "documents" / "document.html"


def issue_invoice(*, order, items, event, actor):
    """Issue the order's invoice, for the whole order (an order that has one keeps it)."""
    documents.issue_invoice(order, actor=actor)


@hookimpl(trylast=True)
def register_commands():
    return {"Invoice/Issue": issue_invoice}


@hookimpl(trylast=True)
def register_document_templates():
    page = PAGE.read_text(encoding="utf-8")
    return [DocumentTemplate(INVOICE, page), DocumentTemplate(CREDIT_NOTE, page)]
