"""Orders, their addresses, shipments and unit items, and what happened to them."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.base import UTCDateTime, searchable_string, utcnow

ADDRESS_FIELDS = (
    "salutation", "first_name", "middle_name", "last_name", "email", "country",
    "address1", "address2", "address3", "company", "city", "zip_code", "po_box",
    "phone", "cell_phone", "description", "comment",
)


class OrderAddress(db.Model):
    """A copy of an address taken with the order: editing it never touches the address book."""

    __tablename__ = "order_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    salutation: Mapped[str | None] = mapped_column(String(8))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    country: Mapped[str] = mapped_column(String(2))
    address1: Mapped[str] = mapped_column(String(255))
    address2: Mapped[str | None] = mapped_column(String(255))
    address3: Mapped[str | None] = mapped_column(String(255))
    company: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(100))
    zip_code: Mapped[str] = mapped_column(String(15))
    po_box: Mapped[str | None] = mapped_column(String(30))
    phone: Mapped[str | None] = mapped_column(String(40))
    cell_phone: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(String(255))
    comment: Mapped[str | None] = mapped_column(Text)

    @property
    def one_line(self) -> str:
        name = " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)
        street = " ".join(p for p in (self.address1, self.address2, self.address3) if p)
        return f"{name}, {street}, {self.zip_code} {self.city}, {self.country}"


class Order(db.Model):
    __tablename__ = "sales_order"
    # The list's sorts, with the id as tie-breaker, each served by one index.
    __table_args__ = (
        Index("ix_sales_order_grand_total_id", "grand_total", "id"),
        Index("ix_sales_order_item_count_id", "item_count", "id"),
        Index("ix_sales_order_created_at_id", "created_at", "id"),
        # The dashboard's orders and revenue per day and store, from the index alone.
        Index("ix_sales_order_created_store_total", "created_at", "store", "currency",
              "grand_total"),
        # Search columns with the date and the id: probing a common name reads the index
        # alone, and so does finding the newest orders among many matches of a prefix.
        Index("ix_sales_order_reference_created_id", "order_reference", "created_at", "id"),
        Index("ix_sales_order_email_created_id", "email", "created_at", "id"),
        Index("ix_sales_order_search_last_name_created_id", "search_last_name", "created_at",
              "id"),
        Index("ix_sales_order_search_full_name_created_id", "search_full_name", "created_at",
              "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_reference: Mapped[str] = mapped_column(searchable_string(45), unique=True)
    store: Mapped[str] = mapped_column(String(16), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The customer as they were when ordering; customer_id links the address book entry
    # (empty for guest orders).
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    customer_reference: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(searchable_string(254))
    salutation: Mapped[str | None] = mapped_column(String(8))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Lower-cased copies for prefix search on an ordinary index.
    search_last_name: Mapped[str] = mapped_column(searchable_string(100))
    search_full_name: Mapped[str] = mapped_column(searchable_string(201))
    billing_address_id: Mapped[int] = mapped_column(ForeignKey("order_address.id"))
    # Money in minor units of `currency`.
    subtotal: Mapped[int] = mapped_column(Integer)
    expense_total: Mapped[int] = mapped_column(Integer)
    discount_total: Mapped[int] = mapped_column(Integer)
    tax_total: Mapped[int] = mapped_column(Integer)
    grand_total: Mapped[int] = mapped_column(Integer)
    refund_total: Mapped[int] = mapped_column(Integer, default=0)
    canceled_total: Mapped[int] = mapped_column(Integer, default=0)
    payment_method: Mapped[str] = mapped_column(String(64), index=True)
    payment_amount: Mapped[int] = mapped_column(Integer)
    payment_captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cart_note: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of the intake payload: the same reference with other content is a conflict.
    intake_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # Kept in step with the items by whoever changes them, so the list needs no subqueries.
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    item_states: Mapped[str] = mapped_column(String(255), default="")
    open_reclamations: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                                   index=True)

    billing_address: Mapped[OrderAddress] = relationship(foreign_keys=[billing_address_id])
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", order_by="Shipment.id"
    )
    items: Mapped[list[OrderItem]] = relationship(back_populates="order", order_by="OrderItem.id")

    @property
    def customer_full_name(self) -> str:
        return " ".join(p for p in (self.salutation, self.first_name, self.last_name) if p)

    @property
    def state_names(self) -> list[str]:
        return self.item_states.split()


class Shipment(db.Model):
    __tablename__ = "shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    method: Mapped[str] = mapped_column(String(100))
    carrier: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(Integer)
    requested_delivery_date: Mapped[date | None] = mapped_column(Date)
    address_id: Mapped[int] = mapped_column(ForeignKey("order_address.id"))

    order: Mapped[Order] = relationship(back_populates="shipments")
    address: Mapped[OrderAddress] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="shipment", order_by="OrderItem.id", viewonly=True
    )


class OrderItem(db.Model):
    """One unit of a product: an item of quantity n arrives as n rows, as Spryker splits them."""

    __tablename__ = "order_item"
    __table_args__ = (
        # The orders list's state filter walks this index newest first (see order_search).
        Index("ix_order_item_state_created_order", "state_name", "order_created_at",
              "order_id"),
        # Stuck items: the items of a process's open states that entered them before a time.
        Index("ix_order_item_process_state_entered", "process_name", "state_name",
              "state_entered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    unit_price: Mapped[int] = mapped_column(Integer)
    discount: Mapped[int] = mapped_column(Integer, default=0)
    tax_rate: Mapped[float] = mapped_column(Numeric(5, 2))
    tax_amount: Mapped[int] = mapped_column(Integer)
    price_to_pay: Mapped[int] = mapped_column(Integer)
    process_name: Mapped[str] = mapped_column(String(100))
    state_name: Mapped[str] = mapped_column(String(100))
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The order's created_at, copied (it never changes) so that the state filter can list
    # orders newest first from one index.
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="items")
    shipment: Mapped[Shipment] = relationship(back_populates="items")


class ItemStateHistory(db.Model):
    __tablename__ = "item_state_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("order_item.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(100))
    to_state: Mapped[str] = mapped_column(String(100))
    event: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AddressChange(db.Model):
    """One save of an order address: who, when, and each changed field's old and new value."""

    __tablename__ = "address_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("order_address.id"))
    address_role: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    user_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # [{"field": ..., "old": ..., "new": ...}, ...]
    changes: Mapped[list] = mapped_column(JSON)


class ReferenceSequence(db.Model):
    """The last order-reference number handed out per store (``DE--1``, ``DE--2``, ...)."""

    __tablename__ = "reference_sequence"

    store: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)
