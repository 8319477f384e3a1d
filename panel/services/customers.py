"""The customer address book: finding customers and correcting their details."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import func, or_, select

from panel.extensions import db
from panel.models import Customer, Order
from panel.services.intake_schema import Email, OptionalText, Text, _Strict
from panel.services.order_search import COUNT_CAP, _starts_with

CUSTOMER_ORDERS_SHOWN = 50


class CustomerDetailsIn(_Strict):
    """The fields of Edit Customer."""

    salutation: Literal["Mr", "Mrs", "Dr", "Ms", "n/a"] | None = None
    first_name: Text(100)
    last_name: Text(100)
    email: Email
    phone: OptionalText(40) = None
    company: OptionalText(100) = None


CUSTOMER_FIELDS = tuple(CustomerDetailsIn.model_fields)


class EmailTaken(ValueError):
    pass


@dataclass
class CustomerQuery:
    search: str = ""
    registered_from: date | None = None
    registered_to: date | None = None
    page: int = 1
    per_page: int = 10


@dataclass
class CustomerPage:
    customers: list[Customer]
    total: int
    total_is_capped: bool
    page: int
    per_page: int

    @property
    def total_label(self) -> str:
        return f"{self.total:,}+" if self.total_is_capped else f"{self.total:,}"

    @property
    def has_next(self) -> bool:
        return len(self.customers) == self.per_page and (
            self.total_is_capped or self.page * self.per_page < self.total
        )


def _filtered(query: CustomerQuery):
    stmt = select(Customer)
    term = " ".join(query.search.split())
    if term:
        parts = term.split(" ", 1)
        conditions = [
            Customer.customer_reference == term,
            _starts_with(Customer.email, term.lower()),
            _starts_with(func.lower(Customer.last_name), term.lower()),
            _starts_with(func.lower(Customer.first_name), term.lower()),
        ]
        if len(parts) == 2:
            conditions.append(
                (func.lower(Customer.first_name) == parts[0].lower())
                & _starts_with(func.lower(Customer.last_name), parts[1].lower())
            )
        stmt = stmt.where(or_(*conditions))
    if query.registered_from:
        start = datetime.combine(query.registered_from, time.min, tzinfo=UTC)
        stmt = stmt.where(Customer.created_at >= start)
    if query.registered_to:
        end = datetime.combine(query.registered_to + timedelta(days=1), time.min,
                               tzinfo=UTC)
        stmt = stmt.where(Customer.created_at < end)
    return stmt


def find_customers(query: CustomerQuery) -> CustomerPage:
    stmt = (
        _filtered(query)
        .order_by(Customer.created_at.desc(), Customer.id.desc())
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    )
    customers = list(db.session.scalars(stmt))
    capped = _filtered(query).with_only_columns(Customer.id).limit(COUNT_CAP + 1)
    total = db.session.scalar(select(func.count()).select_from(capped.subquery()))
    return CustomerPage(customers, min(total, COUNT_CAP), total > COUNT_CAP, query.page,
                        query.per_page)


def customer_orders(customer: Customer) -> tuple[list[Order], int]:
    """The customer's latest orders and how many they have in all."""
    orders = list(
        db.session.scalars(
            select(Order)
            .where(Order.customer_id == customer.id)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(CUSTOMER_ORDERS_SHOWN)
        )
    )
    total = db.session.scalar(
        select(func.count()).select_from(Order).where(Order.customer_id == customer.id)
    )
    return orders, total


def update_customer(customer: Customer, data: CustomerDetailsIn) -> bool:
    """Save the edited details; raise EmailTaken if another customer has the email."""
    other = db.session.scalar(
        select(Customer.id).where(Customer.email == data.email, Customer.id != customer.id)
    )
    if other is not None:
        raise EmailTaken(f"{data.email} belongs to another customer")
    changed = False
    for name in CUSTOMER_FIELDS:
        if getattr(customer, name) != getattr(data, name):
            setattr(customer, name, getattr(data, name))
            changed = True
    db.session.commit()
    return changed
