"""Talking about and to an order's customer: comments, and mails from the back office."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from panel.admin.base import PanelView, editors_only
from panel.extensions import db
from panel.formatting import format_datetime
from panel.i18n import _, current_language
from panel.models import Order, OutboundEmail
from panel.params import parse_id
from panel.services import comments, documents, email_templates, outbox


class CommunicationView(PanelView):
    """Pages under /sales/messages/<order id>/, reached from View Order and the orders list."""

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("orders.index"))

    def _order(self, order_id: int) -> Order:
        order = db.session.get(Order, order_id)
        if order is None:
            abort(404)
        return order

    @expose("/<int:order_id>/comments", methods=("POST",))
    def add_comment(self, order_id: int):
        self._order(order_id)
        try:
            comments.add_comment(order_id, request.form.get("message", ""), current_user)
        except comments.CommentRefused as exc:
            flash(_("The comment was not saved: %(reason)s.", reason=exc), "error")
        else:
            flash(_("Comment added."), "success")
        return redirect(url_for("orders.details", order_id=order_id, _anchor="comments"))

    @expose("/<int:order_id>/email", methods=("GET", "POST"))
    @editors_only
    def email(self, order_id: int):
        order = self._order(order_id)
        templates = email_templates.email_templates()
        form = request.form
        chosen = form.get("template", "")
        subject, body = form.get("subject", ""), form.get("body", "")
        preview = None
        status = 200
        action = form.get("action", "")
        attached = form.get("document", "")
        if request.method == "POST":
            try:
                document_id = _attachment_id(attached)
                if action == "template":
                    if chosen not in templates:
                        raise outbox.EmailRefused(_("choose a template"))
                    subject, body = email_templates.render(templates[chosen], order,
                                                           current_user.name)
                elif action == "preview":
                    preview = outbox.check(order, subject, body, document_id)
                elif action == "send":
                    message = outbox.queue_email(order.id, subject, body,
                                                 template=chosen or None, user=current_user,
                                                 document_id=document_id)
                    message_id = message.id
                    flash_delivery(outbox.deliver(message_id, by_person=True))
                    return redirect(url_for(".email_copy", order_id=order.id,
                                            email_id=message_id))
                else:
                    raise outbox.EmailRefused(
                        _("choose what to do: template, preview or send"))
            except (outbox.EmailRefused, email_templates.TemplateProblem) as exc:
                db.session.rollback()
                flash(_("Not sent: %(reason)s.", reason=exc), "error")
                status = 400
        return self.render("orders/email.html", order=order, templates=templates,
                           chosen=chosen, subject=subject, body=body,
                           preview=preview, documents=documents.documents_of(order.id),
                           attached=attached, template_title=lambda t: email_templates
                           .in_language_of(t.title, current_language())), status

    @expose("/<int:order_id>/emails/<int:email_id>")
    def email_copy(self, order_id: int, email_id: int):
        order = self._order(order_id)
        message = db.session.get(OutboundEmail, email_id)
        if message is None or message.order_id != order.id:
            abort(404)
        attachment = outbox.attachment_of(order, message.document_id)
        return self.render("orders/email_copy.html", order=order, message=message,
                           attachment=attachment)

    @expose("/<int:order_id>/emails/<int:email_id>/resend", methods=("POST",))
    def resend(self, order_id: int, email_id: int):
        message = db.session.get(OutboundEmail, email_id)
        if message is None or message.order_id != order_id:
            abort(404)
        db.session.rollback()
        flash_delivery(outbox.deliver(email_id, by_person=True))
        return redirect(url_for(".email_copy", order_id=order_id, email_id=email_id))


def _attachment_id(value: str) -> int | None:
    """The id of the document chosen to attach ("": none)."""
    if not value:
        return None
    document_id = parse_id(value)
    if document_id is None:
        raise outbox.EmailRefused(_("the document to attach is not one of this order's"))
    return document_id


def flash_delivery(delivery: outbox.Delivery) -> None:
    """Say what a person's try of a mail did."""
    message = delivery.message
    if delivery.outcome == "sent":
        flash(_("Email sent to %(address)s.", address=message.to_address), "success")
    elif delivery.outcome == "already_sent":
        flash(_("That message has already been sent."), "info")
    elif delivery.outcome == "busy":
        flash(_("That message is being sent right now by the outbox; look again in a moment."),
              "info")
    elif delivery.outcome == "missing":
        flash(_("That message does not exist."), "error")
    elif message.next_attempt_at:
        flash(_("Email to %(address)s could not be delivered: %(error)s. It is kept in the "
                "outbox; the next automatic try is at %(at)s.", address=message.to_address,
                error=message.last_error, at=format_datetime(message.next_attempt_at)), "error")
    else:
        flash(_("Email to %(address)s could not be delivered: %(error)s. It is kept in the "
                "outbox; it is not tried again automatically.", address=message.to_address,
                error=message.last_error), "error")
