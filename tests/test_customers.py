"""Customers > Customers: finding, viewing and correcting customers and their addresses."""
import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Customer, CustomerAddress, Order
from tests.conftest import order_payload


def post_customer(post_order, email, first, last, reference=None):
    payload = order_payload()
    payload["customer"].update(email=email, first_name=first, last_name=last)
    return post_order(payload).json["id"]


@pytest.fixture
def customers(app, post_order):
    post_customer(post_order, "anna@example.com", "Anna", "Schmidt")
    post_customer(post_order, "anna@example.com", "Anna", "Schmidt")  # second order
    post_customer(post_order, "bob@example.com", "Bob", "Schmidtke")
    post_customer(post_order, "carla@example.org", "Carla", "Weber")
    with app.app_context():
        return {c.email: c.id for c in db.session.scalars(sa.select(Customer))}


def emails(response):
    return re.findall(r"<td>([\w.]+@[\w.]+)</td>", response.get_data(as_text=True))


@pytest.mark.parametrize(
    "term, expected",
    [
        ("anna@", ["anna@example.com"]),
        ("Schmidt", ["bob@example.com", "anna@example.com"]),
        ("weber", ["carla@example.org"]),
        ("Bob", ["bob@example.com"]),
        ("Carla Web", ["carla@example.org"]),
        ("nobody", []),
    ],
)
def test_customer_search(as_role, customers, term, expected):
    response = as_role("viewer").get("/customers/", query_string={"q": term})
    assert response.status_code == 200
    assert emails(response) == expected


def test_customer_search_by_reference(app, as_role, customers):
    with app.app_context():
        ref = db.session.get(Customer, customers["bob@example.com"]).customer_reference
    assert emails(as_role("viewer").get("/customers/", query_string={"q": ref})) == ["bob@example.com"]


def test_registered_date_filter_names_bad_dates(as_role, customers):
    response = as_role("viewer").get("/customers/?from=31.12.2026")
    assert response.status_code == 400
    assert "Registered from: &#39;31.12.2026&#39; is not a date" in response.get_data(as_text=True)


def test_view_customer_shows_profile_addresses_and_orders(as_role, customers):
    page = as_role("viewer").get(f"/customers/{customers['anna@example.com']}").get_data(as_text=True)
    assert "View Customer" in page
    assert 'id="first-name">Anna<' in page and 'id="email">anna@example.com<' in page
    assert "Julie-Wolfthorn-Straße 1" in page  # the address book entry made at intake
    assert "Orders (2)" in page
    assert page.count("/sales/orders/") >= 2


def test_edit_customer(app, as_role, customers):
    agent = as_role("agent")
    cid = customers["anna@example.com"]
    response = agent.post_form(f"/customers/{cid}/edit", {
        "salutation": "Dr", "first_name": "Anna", "last_name": "Schmidt-Weber",
        "email": "Anna.SW@example.com", "phone": "+49 30 1234", "company": ""})
    assert response.status_code == 302
    page = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "Customer successfully updated." in page and "Schmidt-Weber" in page
    with app.app_context():
        customer = db.session.get(Customer, cid)
        assert (customer.last_name, customer.email, customer.salutation) == (
            "Schmidt-Weber", "anna.sw@example.com", "Dr")
        # The orders keep the customer as they were when ordering.
        assert {o.last_name for o in db.session.scalars(sa.select(Order).where(
            Order.customer_id == cid))} == {"Schmidt"}


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"email": "bob@example.com"}, "email", "bob@example.com belongs to another customer"),
        ({"email": "not an email"}, "email", "is not a valid email address"),
        ({"first_name": ""}, "first_name", "must not be empty"),
        ({"last_name": "x" * 101}, "last_name", "must be at most 100 characters long"),
    ],
)
def test_edit_customer_refuses_bad_input(app, as_role, customers, changes, field, message):
    form = {"salutation": "", "first_name": "Anna", "last_name": "Schmidt",
            "email": "anna@example.com", "phone": "", "company": ""}
    form.update(changes)
    cid = customers["anna@example.com"]
    response = as_role("agent").post_form(f"/customers/{cid}/edit", form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert f'data-error-for="{field}"' in response.get_data(as_text=True)
    with app.app_context():
        customer = db.session.get(Customer, cid)
        assert (customer.email, customer.first_name, customer.last_name) == (
            "anna@example.com", "Anna", "Schmidt")


def test_add_and_edit_customer_address(app, as_role, customers):
    agent = as_role("agent")
    cid = customers["carla@example.org"]
    form = {"salutation": "Ms", "first_name": "Carla", "last_name": "Weber",
            "address1": "Ring 5", "address2": "", "address3": "", "company": "",
            "zip_code": "1010", "city": "Wien", "country": "AT", "phone": ""}
    assert agent.post_form(f"/customers/{cid}/addresses/new", form).status_code == 302
    with app.app_context():
        added = db.session.scalar(sa.select(CustomerAddress).where(
            CustomerAddress.customer_id == cid, CustomerAddress.city == "Wien"))
        assert added is not None
    form.update(city="Graz", zip_code="8010")
    response = agent.post_form(f"/customers/{cid}/addresses/{added.id}/edit", form)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(CustomerAddress, added.id).city == "Graz"
    bad = agent.post_form(f"/customers/{cid}/addresses/new", dict(form, zip_code=""))
    assert bad.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerAddress).where(
            CustomerAddress.customer_id == cid)) == 2


def test_address_of_another_customer_is_not_editable(app, as_role, customers):
    with app.app_context():
        bobs = db.session.scalar(sa.select(CustomerAddress.id).where(
            CustomerAddress.customer_id == customers["bob@example.com"]))
    response = as_role("agent").get(f"/customers/{customers['anna@example.com']}/addresses/{bobs}/edit")
    assert response.status_code == 404
