"""The outbox: mails to customers are written in the transaction that causes them, then
delivered after the commit through Flask-Mail; failures are tried again on a schedule
(panel.services.mail_schedule) by any number of senders, each mail once per due period.
"""
from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.mime.text import MIMEText

from flask import current_app
from flask_mail import Connection, Message
from sqlalchemy import inspect, or_, select

from panel.extensions import db
from panel.formatting import format_number
from panel.i18n import _, _l
from panel.locking import lock_row
from panel.models import Document, Order, OutboundEmail
from panel.models.base import utcnow
from panel.services import email_templates
from panel.services.document_templates import document_pdf
from panel.services.mail_schedule import RetrySchedule
from panel.services.text_fields import multi_line, one_line_of_text

MAX_SUBJECT = 255
MAX_BODY = 100_000
# Who signs the state machine's mails: written in the order's language (email_templates).
SYSTEM_SENDER = _l("Customer Service")


class EmailRefused(ValueError):
    """The mail was not written; the message says why."""


def check(order: Order, subject: str, body: str, document_id: int | None = None) -> dict:
    """Check a message without writing it; return what would be sent (for Preview),
    with the document to attach, if any."""
    to = (order.email or "").strip()
    if not to:
        raise EmailRefused(_("the order has no email address to write to"))
    try:
        subject = one_line_of_text(subject, _("subject"), MAX_SUBJECT)
    except ValueError as exc:
        raise EmailRefused(str(exc)) from None
    body = (body or "").replace("\r\n", "\n")
    if not body.strip():
        raise EmailRefused(_("the message is empty"))
    if len(body) > MAX_BODY:
        raise EmailRefused(_("the message is longer than %(max)s characters",
                             max=format_number(MAX_BODY)))
    try:
        multi_line(body)
    except ValueError as exc:
        raise EmailRefused(_("the message %(problem)s", problem=exc)) from None
    return {"to": to, "subject": subject, "body": body,
            "attachment": attachment_of(order, document_id)}


def attachment_of(order: Order, document_id: int | None) -> Document | None:
    """The order's document with this id, to attach (None: no attachment)."""
    if document_id is None:
        return None
    document = db.session.get(Document, document_id)
    if document is None or document.order_id != order.id:
        raise EmailRefused(_("the document to attach is not one of this order's"))
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
        raise EmailRefused(_("there is no order #%(id)s", id=order_id))
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


@dataclass(frozen=True)
class Delivery:
    """What one call of ``deliver`` did: ``sent``, ``failed`` (tried again later),
    ``undeliverable`` (its tries ran out), or it did not try: ``busy`` (another sender holds
    the message right now), ``not_due``, ``already_sent``, ``missing``."""

    outcome: str
    message: OutboundEmail | None = None

    @property
    def tried(self) -> bool:
        return self.outcome in ("sent", "failed", "undeliverable")


def is_due(message: OutboundEmail, now: datetime) -> bool:
    """Whether the outbox's senders should try the message at ``now``: never tried yet, or
    failed and its next try has come. Undeliverable and sent messages never are."""
    if message.status == "queued":
        return True
    return (message.status == "failed" and message.next_attempt_at is not None
            and message.next_attempt_at <= now)


def deliver(message_id: int, *, now: datetime | None = None, by_person: bool = False) -> Delivery:
    """Try to send one message once; record sent, or the failure and the next try.

    The decision to try is taken under the message's row lock, so any number of senders on
    any number of machines give a message one try per due period: a sender that meets a
    message another one holds leaves it (``busy``), and one that gets it after the other's
    failure finds it no longer due. ``by_person`` (Resend, Retry) tries a message that is not
    due too, an undeliverable one included, and starts a new period of tries.
    """
    message = lock_row(OutboundEmail, message_id, skip_locked=True)
    if message is None:
        db.session.rollback()
        exists = db.session.scalar(
            select(OutboundEmail.id).where(OutboundEmail.id == message_id)) is not None
        db.session.rollback()
        return Delivery("busy" if exists else "missing")
    now = now or utcnow()
    if message.status == "sent":
        db.session.rollback()
        return Delivery("already_sent", message)
    schedule = RetrySchedule.from_config(current_app.config)
    if by_person:
        message.give_up_at = now + schedule.give_up_after
    elif not is_due(message, now):
        db.session.rollback()
        return Delivery("not_due", message)
    message.attempts += 1
    message.last_attempt_at = now
    if message.give_up_at is None:
        message.give_up_at = now + schedule.give_up_after
    try:
        _send(message)
    except Exception as exc:  # any failure to hand over the mail is recorded, not raised
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        message.next_attempt_at = schedule.next_try(message.attempts, now, message.give_up_at)
        message.status = "failed" if message.next_attempt_at else "undeliverable"
    else:
        message.status, message.sent_at = "sent", now
        message.last_error = message.next_attempt_at = None
    db.session.commit()
    return Delivery(message.status, message)


@dataclass
class SenderReport:
    """What one sender did itself in one round (mails another sender handled are not in
    it): the counts add up to what reached the SMTP server."""

    sent: int = 0
    failed: int = 0
    undeliverable: int = 0
    left: int = 0  # due when listed, then tried by another sender first (or already sent)

    @property
    def line(self) -> str:
        text = f"send-outbox: {self.sent} sent, {self.failed} failed"
        if self.undeliverable:
            text += f", {self.undeliverable} undeliverable (tries ran out)"
        if self.left:
            text += f"; {self.left} left to another sender"
        return text + "."


def due_ids(now: datetime, limit: int | None = None) -> list[int]:
    """The messages due at ``now``, oldest first."""
    stmt = (select(OutboundEmail.id).where(or_(
        OutboundEmail.status == "queued",
        (OutboundEmail.status == "failed") & (OutboundEmail.next_attempt_at <= now),
    )).order_by(OutboundEmail.id))
    if limit:
        stmt = stmt.limit(limit)
    ids = list(db.session.scalars(stmt))
    db.session.rollback()
    return ids


def send_outbox(*, now: datetime | None = None, limit: int | None = None) -> SenderReport:
    """Try every message due (queued, or failed with its next try come), once each.

    ``now`` is for tests that play a clock forward; without it each try reads the clock
    when it happens, so a long round never schedules from a time already past.
    """
    report = SenderReport()
    for message_id in due_ids(now or utcnow(), limit):
        delivery = deliver(message_id, now=now)
        if delivery.tried:
            setattr(report, delivery.outcome, getattr(report, delivery.outcome) + 1)
        else:
            report.left += 1
    return report


def emails_of(order_id: int) -> list[OutboundEmail]:
    return list(db.session.scalars(select(OutboundEmail).where(
        OutboundEmail.order_id == order_id).order_by(OutboundEmail.created_at, OutboundEmail.id)))
