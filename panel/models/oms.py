"""What the state machine leaves behind: timeouts waiting to fire, and a log of every trigger."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from panel.extensions import db
from panel.models.base import UTCDateTime, utcnow


class EventTimeout(db.Model):
    """An event that fires by itself at ``due_at`` unless the item has left ``state_name``."""

    __tablename__ = "event_timeout"
    __table_args__ = (UniqueConstraint("item_id", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("order_item.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    state_name: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class TransitionLog(db.Model):
    """One row per item and trigger, errors included: what ran, what it decided, who did it."""

    __tablename__ = "transition_log"
    __table_args__ = (Index("ix_transition_log_order_created", "order_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("order_item.id"))
    process_name: Mapped[str] = mapped_column(String(100))
    event: Mapped[str | None] = mapped_column(String(100), index=True)
    source_state: Mapped[str] = mapped_column(String(100))
    target_state: Mapped[str | None] = mapped_column(String(100))
    command: Mapped[str | None] = mapped_column(String(200))
    condition: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(120))
    is_error: Mapped[bool] = mapped_column(default=False, index=True)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboundEmail(db.Model):
    """The outbox: a message to a customer, written in the same transaction as its cause."""

    __tablename__ = "outbound_email"
    # Administration > Outbox pages one status newest first.
    __table_args__ = (Index("ix_outbound_email_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(100))
    # queued (never tried), sent, failed (tried again at next_attempt_at) or undeliverable
    # (tries ran out; only a person's retry sends it).
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Tries go on until then (set by the first try, and again by a person's retry); a
    # failure at or after it makes the message undeliverable.
    give_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a failed message is due for its next try; None while queued or when done.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # A document of the order sent along as a PDF, made when the message is sent (a
    # document never changes, so every attempt attaches the same PDF).
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
