"""View Order and Edit Address for Order: what the page shows, and every change recorded."""
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from panel.extensions import db
from panel.models import AddressChange, Order, OrderAddress
from tests.conftest import ADDRESS, order_payload


@pytest.fixture
def order(app, post_order):
    payload = order_payload(order_reference="DE--7", cart_note="Ring twice.\nThen wait.")
    payload["shipments"].append({
        "method": "Express", "carrier": "UPS", "price": 990,
        "requested_delivery_date": "2026-12-24",
        "address": dict(ADDRESS, first_name="Max", city="Hamburg", zip_code="20095"),
        "items": [{"sku": "HAT", "name": "Hat", "quantity": 1, "unit_price": 1000,
                   "tax_rate": 19}],
    })
    payload["payment"]["amount"] = 5487 + 990 + 1000
    response = post_order(payload)
    assert response.status_code == 201, response.json
    with app.app_context():
        return db.session.get(Order, response.json["id"])


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_order_page_shows_overview_customer_shipments_and_payments(as_role, order):
    page = text(as_role("viewer").get(f"/sales/orders/{order.id}"))
    assert "View Order: DE--7" in page and "Back to Orders" in page
    assert "Running shoe x 2" in page and "€39.98" in page
    assert re.search(r'id="grand-total">€74.77<', page)
    assert "Shipment 1 of 2" in page and "Shipment 2 of 2" in page
    assert "Request delivery date</dt><dd class=\"col-6\">2026-12-24" in page
    assert "ASAP" in page  # the first shipment has no requested date
    assert "Sku: SHOE-1" in page and "(DefaultOrder01)" in page
    assert "Anna Schmidt, Julie-Wolfthorn-Straße 1, 10115 Berlin, DE" in page
    assert "Previous orders count</dt><dd class=\"col-sm-9\">1<" in page
    assert "Ring twice. Then wait." in page
    assert re.search(r"<td>invoice</td><td[^>]*>€74.77</td>", page)
    assert page.count('data-check-all="shipment-') == 2


def test_unknown_order_redirects_with_a_message(as_role):
    agent = as_role("agent")
    response = agent.get("/sales/orders/999999")
    assert response.status_code == 302
    assert "Sales order #999999 not found." in text(agent.get(response.headers["Location"]))


def count_queries(app, client, url):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_order_page_issues_the_same_queries_for_1_or_100_items(app, as_role, post_order):
    small = order_payload(order_reference="ONE", payment={"method": "invoice", "amount": 2489})
    small["shipments"][0]["items"] = [dict(small["shipments"][0]["items"][0], quantity=1)]
    big = order_payload(order_reference="HUNDRED", payment={"method": "invoice",
                                                            "amount": 100 * 1999 + 490})
    big["shipments"][0]["items"] = [
        {"sku": f"SKU-{n}", "name": f"Product {n}", "quantity": 1, "unit_price": 1999,
         "tax_rate": 19} for n in range(100)
    ]
    one, hundred = post_order(small).json["id"], post_order(big).json["id"]
    agent = as_role("agent")
    agent.get(f"/sales/orders/{one}")  # warm up the session
    assert count_queries(app, agent, f"/sales/orders/{one}") == \
        count_queries(app, agent, f"/sales/orders/{hundred}")


def address_form(**changes):
    form = {"salutation": "Mrs", "first_name": "Anna", "middle_name": "", "last_name": "Schmidt",
            "email": "", "country": "DE", "address1": "Julie-Wolfthorn-Straße 1",
            "address2": "", "address3": "", "company": "", "city": "Berlin",
            "zip_code": "10115", "po_box": "", "phone": "", "cell_phone": "",
            "description": "", "comment": ""}
    form.update(changes)
    return form


def billing(app, order):
    with app.app_context():
        return db.session.get(OrderAddress, order.billing_address_id)


def test_edit_billing_address_saves_and_records_each_field(app, as_role, order):
    agent = as_role("agent")
    url = f"/sales/orders/{order.id}/addresses/{order.billing_address_id}/edit"
    form_page = text(agent.get(url))
    assert "Edit Address for Order: DE--7" in form_page
    assert 'value="Julie-Wolfthorn-Straße 1"' in form_page
    response = agent.post_form(url, address_form(city="Potsdam", zip_code="14467",
                                                 company="ACME GmbH"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sales/orders/{order.id}"
    page = text(agent.get(response.headers["Location"]))
    assert "Address successfully updated." in page
    assert "Anna Schmidt, Julie-Wolfthorn-Straße 1, 14467 Potsdam, DE" in page
    assert "Agent User edited the billing address:" in page
    assert "city</span>: <del>Berlin</del> → <ins>Potsdam</ins>" in page
    assert "company</span>: <del>(empty)</del> → <ins>ACME GmbH</ins>" in page
    address = billing(app, order)
    assert (address.city, address.zip_code, address.company) == ("Potsdam", "14467", "ACME GmbH")
    with app.app_context():
        change = db.session.scalar(sa.select(AddressChange))
        assert change.user_name == "Agent User" and change.address_role == "billing"
        assert {c["field"] for c in change.changes} == {"city", "zip_code", "company"}


def test_editing_the_billing_copy_leaves_the_address_book_alone(app, as_role, order):
    as_role("agent").post_form(
        f"/sales/orders/{order.id}/addresses/{order.billing_address_id}/edit",
        address_form(city="Potsdam"))
    with app.app_context():
        customer = db.session.get(Order, order.id)
        from panel.models import Customer

        book = db.session.get(Customer, customer.customer_id).addresses
        assert [a.city for a in book] == ["Berlin"]


def test_saving_without_changes_records_nothing(app, as_role, order):
    agent = as_role("agent")
    response = agent.post_form(
        f"/sales/orders/{order.id}/addresses/{order.billing_address_id}/edit", address_form())
    assert "Nothing was changed." in text(agent.get(response.headers["Location"]))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AddressChange)) == 0


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"last_name": ""}, "last_name", "Last name must not be empty"),
        ({"first_name": "   "}, "first_name", "First name must not be empty"),
        ({"country": "Germany"}, "country", "Country must be a two-letter country code such as DE"),
        ({"zip_code": "1" * 16}, "zip_code", "Zip code must be at most 15 characters long"),
        ({"email": "no-at-sign"}, "email", "Email is not a valid email address"),
        ({"salutation": "King"}, "salutation", "Salutation must be one of &#39;Mr&#39;, &#39;Mrs&#39;, &#39;Dr&#39;, &#39;Ms&#39; or &#39;n/a&#39;"),
        ({"city": ""}, "city", "City must not be empty"),
    ],
)
def test_invalid_address_is_refused_and_nothing_changes(app, as_role, order, changes, field,
                                                         message):
    agent = as_role("agent")
    url = f"/sales/orders/{order.id}/addresses/{order.billing_address_id}/edit"
    response = agent.post_form(url, address_form(**{"city": "Potsdam", **changes}))
    assert response.status_code == 400
    page = text(response)
    assert f'data-error-for="{field}">{message}' in page
    assert "The address was not saved" in page
    assert 'value="Potsdam"' in page or field == "city"  # the user's input is kept
    assert billing(app, order).city == "Berlin"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AddressChange)) == 0


def test_delivery_address_of_a_shipment_can_be_edited_too(app, as_role, order):
    with app.app_context():
        shipment = db.session.get(Order, order.id).shipments[1]
        url = f"/sales/orders/{order.id}/addresses/{shipment.address_id}/edit"
    agent = as_role("agent")
    response = agent.post_form(url, address_form(first_name="Max", city="Lübeck",
                                                 zip_code="23552"))
    assert response.status_code == 302
    page = text(agent.get(f"/sales/orders/{order.id}"))
    assert "edited the shipping address" in page and "Lübeck" in page


def test_address_of_another_order_is_not_editable_here(app, as_role, order, post_order):
    other = post_order(order_payload(order_reference="OTHER")).json["id"]
    with app.app_context():
        other_address = db.session.get(Order, other).billing_address_id
    agent = as_role("agent")
    assert agent.get(f"/sales/orders/{order.id}/addresses/{other_address}/edit").status_code == 404
    response = agent.post_form(f"/sales/orders/{order.id}/addresses/{other_address}/edit",
                               address_form(city="Nowhere"))
    assert response.status_code == 404
