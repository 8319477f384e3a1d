"""Reclamations (claims): an order and some of its items flagged for the sales team."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.base import UTCDateTime, searchable_string, utcnow

OPEN, CLOSED = "open", "closed"


class Reclamation(db.Model):
    __tablename__ = "reclamation"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    # The customer as on the order when the claim was opened.
    customer_name: Mapped[str] = mapped_column(String(255))
    customer_reference: Mapped[str | None] = mapped_column(String(64))
    customer_email: Mapped[str] = mapped_column(searchable_string(254), index=True)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(8), default=OPEN, index=True)
    item_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    closed_by_name: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_note: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list[ReclamationItem]] = relationship(
        back_populates="reclamation", order_by="ReclamationItem.order_item_id"
    )

    @property
    def is_open(self) -> bool:
        return self.state == OPEN


class ReclamationItem(db.Model):
    __tablename__ = "reclamation_item"
    __table_args__ = (UniqueConstraint("reclamation_id", "order_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reclamation_id: Mapped[int] = mapped_column(ForeignKey("reclamation.id"))
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_item.id"), index=True)

    reclamation: Mapped[Reclamation] = relationship(back_populates="items")
