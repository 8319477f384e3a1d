"""The outbox: mails to customers are written in the transaction that causes them, then
delivered after the commit through Flask-Mail; failures are retried with backoff.
"""
from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.mime.text import MIMEText

from flask import current_app
from flask_mail import Connection, Message
from sqlalchemy import inspect, or_, select

from panel.extensions import db
from panel.locking import lock_row
from panel.models import Document, Order, OutboundEmail
from panel.models.base import utcnow
from panel.services import email_templates
from panel.services.document_templates import document_pdf
from panel.services.text_fields import multi_line, one_line_of_text

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)  # then 2, 4, 8 minutes
MAX_SUBJECT = 255
MAX_BODY = 100_000
SYSTEM_SENDER = "Customer Service"


class EmailRefused(ValueError):
    """The mail was not written; the message says why."""


def check(order: Order, subject: str, body: str, document_id: int | None = None) -> dict:
    """Check a message without writing it; return what would be sent (for Preview),
    with the document to attach, if any."""
    to = (order.email or "").strip()
    if not to:
        raise EmailRefused("the order has no email address to write to")
    try:
        subject = one_line_of_text(subject, "subject", MAX_SUBJECT)
    except ValueError as exc:
        raise EmailRefused(str(exc)) from None
    body = (body or "").replace("\r\n", "\n")
    if not body.strip():
        raise EmailRefused("the message is empty")
    if len(body) > MAX_BODY:
        raise EmailRefused(f"the message is longer than {MAX_BODY:,} characters")
    try:
        multi_line(body)
    except ValueError as exc:
        raise EmailRefused(f"the message {exc}") from None
    return {"to": to, "subject": subject, "body": body,
            "attachment": attachment_of(order, document_id)}


def attachment_of(order: Order, document_id: int | None) -> Document | None:
    """The order's document with this id, to attach (None: no attachment)."""
    if document_id is None:
        return None
    document = db.session.get(Document, document_id)
    if document is None or document.order_id != order.id:
        raise EmailRefused("the document to attach is not one of this order's")
    return document


def compose(order: Order, subject: str, body: str, *, template: str | None,
            created_by: str, document_id: int | None = None) -> OutboundEmail:
    """Check and add an outbox row for the order's customer (the caller commits)."""
    checked = check(order, subject, body, document_id)
    message = OutboundEmail(order_id=order.id, to_address=checked["to"],
                            subject=checked["subject"], body_text=checked["body"],
                            template=template, status="queued", created_by=created_by,
                            document_id=document_id)
    db.session.add(message)
    return message


def queue_email(order_id: int, subject: str, body: str, *, template: str | None,
                user, document_id: int | None = None) -> OutboundEmail:
    """Write a message from a back-office user to the outbox and commit it; with
    ``document_id``, one of the order's documents goes along as a PDF."""
    order = db.session.get(Order, order_id)
    if order is None:
        raise EmailRefused(f"there is no order #{order_id}")
    message = compose(order, subject, body, template=template,
                      created_by=f"{user.name} <{user.email}>", document_id=document_id)
    db.session.commit()
    return message


def queue_order_mail(order: Order, template_name: str, *, actor: str,
                     after_commit: list[Callable[[], None]] | None = None) -> OutboundEmail:
    """Queue one of the state machine's mails inside the running transaction.

    Given the run's ``after_commit`` list (a command's keyword of that name), the mail is
    sent as soon as the transaction has committed; else ``mail send-outbox`` sends it.
    """
    template = email_templates.email_templates()[template_name]
    subject, body = email_templates.render(template, order, SYSTEM_SENDER)
    message = compose(order, subject, body, template=template_name, created_by=actor)
    if after_commit is not None:
        after_commit.append(_delivery_of(message))
    return message


def _delivery_of(message: OutboundEmail) -> Callable[[], None]:
    """Work for after the commit: send this message (by the id it has by then; reading it
    off the committed row would load the whole row again)."""
    state = inspect(message)
    return lambda: deliver(state.identity[0])


class _TimedConnection(Connection):
    """Flask-Mail's connection, with a timeout on the SMTP socket."""

    def configure_host(self):
        timeout = current_app.config["MAIL_TIMEOUT"]
        if self.mail.use_ssl:
            host = smtplib.SMTP_SSL(self.mail.server, self.mail.port, timeout=timeout)
        else:
            host = smtplib.SMTP(self.mail.server, self.mail.port, timeout=timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class _QuotedPrintableMessage(Message):
    """Flask-Mail sends UTF-8 text as 8bit, unwrapped: a body line over 998 bytes (a long
    paragraph, a few hundred non-Latin characters) breaks SMTP's line limit and the server
    refuses the mail. Quoted-printable keeps every line short and 7-bit, whatever is typed."""

    def _mimetext(self, text, subtype="plain"):
        charset = Charset(self.charset or "utf-8")
        charset.body_encoding = QP
        return MIMEText(text or "", _subtype=subtype, _charset=charset)


def _send(message: OutboundEmail) -> None:
    mail = _QuotedPrintableMessage(
        subject=message.subject, recipients=[message.to_address], body=message.body_text,
        sender=current_app.config["MAIL_DEFAULT_SENDER"])
    if message.document_id is not None:
        # Made now, from the document as issued: every attempt attaches the same PDF.
        document = db.session.get(Document, message.document_id)
        mail.attach(document.filename, "application/pdf", document_pdf(document))
    with _TimedConnection(current_app.extensions["mail"]) as connection:
        connection.send(mail)


def deliver(message_id: int, *, now: datetime | None = None) -> OutboundEmail | None:
    """Try to send one message now; record sent, or failed with the server's error.

    The row stays locked while the SMTP server is talked to, so two workers never send the
    same message; a message already sent is left alone.
    """
    message = lock_row(OutboundEmail, message_id, skip_locked=True)
    if message is None or message.status == "sent":
        db.session.rollback()
        return message
    now = now or utcnow()
    message.attempts += 1
    try:
        _send(message)
    except Exception as exc:  # any failure to hand over the mail is recorded, not raised
        message.status = "failed"
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        message.next_attempt_at = (now + FIRST_RETRY * 2 ** (message.attempts - 1)
                                   if message.attempts < MAX_ATTEMPTS else None)
    else:
        message.status, message.sent_at = "sent", now
        message.last_error = message.next_attempt_at = None
    db.session.commit()
    return message


def send_outbox(*, now: datetime | None = None, limit: int | None = None) -> tuple[int, int]:
    """Send queued messages and retry failed ones that are due; return (sent, failed)."""
    now = now or utcnow()
    stmt = (select(OutboundEmail.id).where(or_(
        OutboundEmail.status == "queued",
        (OutboundEmail.status == "failed") & (OutboundEmail.next_attempt_at <= now),
    )).order_by(OutboundEmail.id))
    if limit:
        stmt = stmt.limit(limit)
    ids = db.session.scalars(stmt).all()
    db.session.rollback()
    sent = failed = 0
    for message_id in ids:
        message = deliver(message_id, now=now)
        if message is None:
            continue
        if message.status == "sent":
            sent += 1
        else:
            failed += 1
    return sent, failed


def emails_of(order_id: int) -> list[OutboundEmail]:
    return list(db.session.scalars(select(OutboundEmail).where(
        OutboundEmail.order_id == order_id).order_by(OutboundEmail.created_at, OutboundEmail.id)))
