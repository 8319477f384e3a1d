"""Returns: items a customer sends back, each with a reason, and the reasons to choose from."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.base import UTCDateTime, searchable_string, utcnow

OPEN, CLOSED = "open", "closed"


class ReturnReason(db.Model):
    """A reason offered on Create Return. Admins keep the list; a reason is deactivated,
    never deleted, so that the returns that give it still read the same."""

    __tablename__ = "return_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


class Return(db.Model):
    """A return of some of an order's items: made once their return event moved them."""

    __tablename__ = "sales_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_reference: Mapped[str] = mapped_column(searchable_string(45), unique=True)
    store: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    # The reclamation it settles, when it was made from the reclamation's page.
    reclamation_id: Mapped[int | None] = mapped_column(ForeignKey("reclamation.id"), index=True)
    # The customer as on the order when the return was made.
    customer_name: Mapped[str] = mapped_column(String(255))
    customer_email: Mapped[str] = mapped_column(searchable_string(254), index=True)
    state: Mapped[str] = mapped_column(String(8), default=OPEN, index=True)
    event: Mapped[str] = mapped_column(String(100))  # the return event that moved the items
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    closed_by_name: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list[ReturnItem]] = relationship(
        back_populates="sales_return", order_by="ReturnItem.order_item_id"
    )

    @property
    def is_open(self) -> bool:
        return self.state == OPEN


class ReturnItem(db.Model):
    __tablename__ = "return_item"
    __table_args__ = (UniqueConstraint("return_id", "order_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("sales_return.id"))
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_item.id"), index=True)
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("return_reason.id"))
    note: Mapped[str | None] = mapped_column(Text)

    sales_return: Mapped[Return] = relationship(back_populates="items")
    reason: Mapped[ReturnReason | None] = relationship()


class ReturnSequence(db.Model):
    """The last return-reference number handed out per store (``DE--R-1``, ``DE--R-2``)."""

    __tablename__ = "return_sequence"

    store: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)
