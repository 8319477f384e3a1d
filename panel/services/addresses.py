"""Correcting addresses: an order's copy (recorded field by field) and the address book."""
from __future__ import annotations

from panel.extensions import db
from panel.models import AddressChange, Customer, CustomerAddress, Order, OrderAddress
from panel.models.order import ADDRESS_FIELDS
from panel.services.intake_schema import AddressIn


def update_order_address(
    order: Order, address: OrderAddress, role: str, data: AddressIn, user
) -> AddressChange | None:
    """Apply the edited fields and record each change; None when nothing changed."""
    changes = []
    for name in ADDRESS_FIELDS:
        old, new = getattr(address, name), getattr(data, name)
        if (old or None) != (new or None):
            changes.append({"field": name, "old": old, "new": new})
            setattr(address, name, new)
    if not changes:
        return None
    change = AddressChange(
        order_id=order.id,
        address_id=address.id,
        address_role=role,
        user_id=user.id,
        user_name=user.name,
        changes=changes,
    )
    db.session.add(change)
    db.session.commit()
    return change


CUSTOMER_ADDRESS_FIELDS = (
    "salutation", "first_name", "last_name", "address1", "address2", "address3", "company",
    "zip_code", "city", "country", "phone",
)


def save_customer_address(
    customer: Customer, data: AddressIn, address: CustomerAddress | None = None
) -> CustomerAddress:
    """Add an address to the customer's address book, or update one of theirs."""
    if address is None:
        address = CustomerAddress(customer=customer)
        db.session.add(address)
    for name in CUSTOMER_ADDRESS_FIELDS:
        setattr(address, name, getattr(data, name))
    db.session.commit()
    return address
