"""Customers of the store and their address book."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.base import UTCDateTime, searchable_string, utcnow


class Customer(db.Model):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_reference: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(searchable_string(254), unique=True)
    salutation: Mapped[str | None] = mapped_column(String(8))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    company: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    addresses: Mapped[list[CustomerAddress]] = relationship(
        back_populates="customer", order_by="CustomerAddress.id", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.salutation, self.first_name, self.last_name) if p)


class CustomerAddress(db.Model):
    __tablename__ = "customer_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    salutation: Mapped[str | None] = mapped_column(String(8))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    address1: Mapped[str] = mapped_column(String(255))
    address2: Mapped[str | None] = mapped_column(String(255))
    address3: Mapped[str | None] = mapped_column(String(255))
    company: Mapped[str | None] = mapped_column(String(100))
    zip_code: Mapped[str] = mapped_column(String(15))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(40))

    customer: Mapped[Customer] = relationship(back_populates="addresses")
