"""The customer address book: finding customers and correcting their details."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import func, or_, select

from panel.extensions import db
from panel.i18n import _
from panel.models import Customer, Order
from panel.services.intake_schema import Email, OptionalText, StrictModel, Text
from panel.services.order_search import starts_with, within_days
from panel.services.paging import ResultPage, fetch_page

CUSTOMER_ORDERS_SHOWN = 50


class CustomerDetailsIn(StrictModel):
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


def _filtered(query: CustomerQuery):
    stmt = select(Customer)
    term = " ".join(query.search.split())
    if term:
        parts = term.split(" ", 1)
        conditions = [
            Customer.customer_reference == term,
            starts_with(Customer.email, term.lower()),
            starts_with(func.lower(Customer.last_name), term.lower()),
            starts_with(func.lower(Customer.first_name), term.lower()),
        ]
        if len(parts) == 2:
            conditions.append(
                (func.lower(Customer.first_name) == parts[0].lower())
                & starts_with(func.lower(Customer.last_name), parts[1].lower())
            )
        stmt = stmt.where(or_(*conditions))
    return stmt.where(
        *within_days(Customer.created_at, query.registered_from, query.registered_to))


def find_customers(query: CustomerQuery) -> ResultPage:
    """One page of matching customers, newest first."""
    return fetch_page(_filtered(query), (Customer.created_at.desc(), Customer.id.desc()),
                      Customer.id, query.page, query.per_page)


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
        raise EmailTaken(_("%(email)s belongs to another customer", email=data.email))
    changed = False
    for name in CUSTOMER_FIELDS:
        if getattr(customer, name) != getattr(data, name):
            setattr(customer, name, getattr(data, name))
            changed = True
    db.session.commit()
    return changed
