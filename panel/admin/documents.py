"""Documents of an order: issue its invoice from View Order, download any document as PDF."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user

from panel.admin.base import PanelView, editors_only
from panel.extensions import db
from panel.i18n import _
from panel.models import Document
from panel.services import documents
from panel.services.document_templates import TemplateProblem, document_pdf
from panel.services.pdf import PdfError
from panel.services.triggers import actor_of


class DocumentsView(PanelView):
    """Pages under /sales/documents/, reached from View Order."""

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("orders.index"))

    @expose("/invoice/<int:order_id>", methods=("POST",))
    @editors_only
    def issue_invoice(self, order_id: int):
        try:
            invoice, new = documents.issue_invoice_now(order_id, actor=actor_of(current_user))
        except documents.DocumentRefused as exc:
            flash(_("No invoice was issued: %(reason)s.", reason=exc), "error")
            return redirect(url_for("orders.index"))
        if new:
            flash(_("Invoice %(number)s issued.", number=invoice.number), "success")
        else:
            flash(_("The order already has its invoice, %(number)s.", number=invoice.number),
                  "info")
        return redirect(url_for("orders.details", order_id=order_id, _anchor="order-documents"))

    @expose("/<int:document_id>.pdf")
    def pdf(self, document_id: int):
        document = db.session.get(Document, document_id)
        if document is None:
            abort(404)
        try:
            data = document_pdf(document)
        except (PdfError, TemplateProblem) as exc:
            flash(_("The PDF of %(number)s could not be made: %(reason)s.",
                    number=document.number, reason=exc), "error")
            return redirect(url_for("orders.details", order_id=document.order_id,
                                    _anchor="order-documents"))
        return Response(data, mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"'})
