"""Refunds: money given back to a customer for some of an order's items, shipping, or an
adjustment, and what the payment provider answered.

A refund is saved (``pending``) before its payment plugin is asked to carry it out, and the
answer is saved after: ``succeeded`` with the provider's reference, or ``refused`` with the
provider's message, to be retried or ``discarded``. Every refund but a discarded one holds
its amounts: they are no longer refundable. ``Order.refund_total`` is the sum of the
succeeded ones.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.base import UTCDateTime, utcnow
from panel.models.order import Order, OrderItem, Shipment

PENDING, SUCCEEDED, REFUSED, DISCARDED = "pending", "succeeded", "refused", "discarded"
# The refunds whose amounts are taken: paid, being paid, or refused but retryable.
HOLDING = (PENDING, SUCCEEDED, REFUSED)


class Refund(db.Model):
    """One refund of an order: its item lines, shipping and adjustment, and its outcome."""

    __tablename__ = "refund"
    __table_args__ = (
        Index("ix_refund_order_status", "order_id", "status"),
        # Sales > Refunds: newest first, all of them or those of one status.
        Index("ix_refund_created_id", "created_at", "id"),
        Index("ix_refund_status_created_id", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"))
    # The reclamation it settles, when it was made from the reclamation's page.
    reclamation_id: Mapped[int | None] = mapped_column(ForeignKey("reclamation.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    # Money in minor units of the order's currency: total = the lines + shipping + adjustment.
    total: Mapped[int] = mapped_column(Integer)
    shipping_amount: Mapped[int] = mapped_column(Integer, default=0)
    adjustment_amount: Mapped[int] = mapped_column(Integer, default=0)
    adjustment_reason: Mapped[str | None] = mapped_column(String(255))
    # The order's payment method when the refund was made: its plugin carries it out.
    payment_method: Mapped[str] = mapped_column(String(64))
    provider_reference: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)  # the provider's last refusal
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The state-machine event that made it, or None when made on the Create Refund page.
    event: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(120))  # "Name <email>", as in the history
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discarded_by: Mapped[str | None] = mapped_column(String(120))
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
    lines: Mapped[list[RefundLine]] = relationship(
        back_populates="refund", order_by="RefundLine.order_item_id")
    shipping: Mapped[list[RefundShipping]] = relationship(
        back_populates="refund", order_by="RefundShipping.shipment_id")

    @property
    def items_amount(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def can_retry(self) -> bool:
        """Refused, or left pending (the provider's answer was never saved)."""
        return self.status in (PENDING, REFUSED)

    @property
    def can_discard(self) -> bool:
        return self.status == REFUSED


class RefundLine(db.Model):
    """The amount a refund gives back for one order item (a unit)."""

    __tablename__ = "refund_line"
    __table_args__ = (UniqueConstraint("refund_id", "order_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund.id"))
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_item.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)

    refund: Mapped[Refund] = relationship(back_populates="lines")
    order_item: Mapped[OrderItem] = relationship()


class RefundShipping(db.Model):
    """The part of a shipment's shipping cost that a refund gives back."""

    __tablename__ = "refund_shipping"
    __table_args__ = (UniqueConstraint("refund_id", "shipment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund.id"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)

    refund: Mapped[Refund] = relationship(back_populates="shipping")
    shipment: Mapped[Shipment] = relationship()
