"""Text that can be stored and used: control characters, bidirectional controls, invisible-only
names and unusable email addresses are refused by name, in the API and the back-office forms
alike (they validate with the same field types)."""
import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import AddressChange, Customer, Order, OrderAddress, OrderItem
from panel.services.text_fields import email_address
from tests.conftest import order_payload


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def set_path(payload, path, value):
    """set_path(p, "shipments[0].address.first_name", v): write v at that path."""
    steps = [int(s) if s.isdigit() else s for s in re.findall(r"[A-Za-z_]\w*|\d+", path)]
    node = payload
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = value


@pytest.mark.parametrize(
    "path, value, message",
    [
        ("customer.email", "victim@example.com\r\nbcc:attacker@evil.example",
         "is not a valid email address: it contains a control character (U+000D, carriage return)"),
        ("customer.email", "anna@example.com\n",
         "is not a valid email address: it contains a control character (U+000A, line feed)"),
        ("customer.first_name", "An\x07na",
         "contains a control character (U+0007, bell); it must be a single line"),
        ("customer.last_name", "\x1b[31mSchmidt",
         "contains a control character (U+001B, escape)"),
        ("billing_address.city", "Berlin\x7f", "contains a control character (U+007F, delete)"),
        ("billing_address.address1", "Hauptstr.\x851", "contains a control character (U+0085, "
                                                        "next line)"),
        ("shipments[0].items[0].sku", "SHOE\t1", "contains a control character (U+0009, tab)"),
        ("shipments[0].items[0].name", "Running\nshoe",
         "contains a control character (U+000A, line feed)"),
        ("customer.first_name", "\u200b\u200c\u200d",
         "contains only invisible characters; it needs a letter, digit, punctuation mark or "
         "symbol"),
        ("shipments[0].address.first_name", "\ufeff\u2060",
         "contains only invisible characters"),
        ("shipments[0].address.last_name", "\u3164", "contains only invisible characters"),
        ("customer.last_name", "Schmidt\u202egpj.exe",
         "contains a bidirectional control character (U+202E, right-to-left override)"),
        ("billing_address.company", "\u2067ACME\u2069",
         "contains a bidirectional control character (U+2067, right-to-left isolate)"),
        ("payment.method", "invoice\x00", "contains a NUL character (U+0000)"),
        ("cart_note", "Ring twice\x07", "contains a control character (U+0007, bell); only line "
                                        "breaks and tabs are allowed"),
        ("cart_note", "\u202aleft", "contains a bidirectional control character (U+202A"),
        ("cart_note", "\u200b\n\u200b", "contains only invisible characters"),
        ("billing_address.comment", "Back door\x1b", "contains a control character (U+001B"),
    ],
)
def test_unusable_text_is_refused_by_path_and_nothing_is_stored(app, post_order, path, value,
                                                                message):
    payload = order_payload()
    set_path(payload, path, value)

    response = post_order(payload)

    assert response.status_code == 422, response.json
    errors = {e["path"]: e["message"] for e in response.json["errors"]}
    assert message in errors.get(path, ""), errors
    assert (count(app, Order), count(app, OrderItem), count(app, Customer),
            count(app, OrderAddress)) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "value, reason",
    [
        ("anna.example.com", "it needs exactly one @"),
        ("anna@@example.com", "it needs exactly one @"),
        ("an na@example.com", "it contains a space or an invisible character (U+0020, space)"),
        ("anna\u200b@example.com", "it contains a space or an invisible character (U+200B"),
        ("@example.com", "there is nothing before the @"),
        ("anna@localhost", "the domain after the @ needs a dot"),
        ("anna@example..com", "the domain after the @ has an empty part"),
        ("anna@.example.com", "the domain after the @ has an empty part"),
        ("anna@-example.com", "a part of the domain starts or ends with a hyphen"),
        ("anna@exa_mple.com", "'_' cannot stand in the domain"),
        ("anna@10.0.0.1", "the domain must end in a name"),
        ("an<na>@example.com", "'<' cannot stand before the @"),
        (".anna@example.com", "must not start or end with a dot"),
        ("an..na@example.com", "must not start or end with a dot, nor have two dots in a row"),
        ("a" * 65 + "@example.com", "longer than 64 characters"),
    ],
)
def test_email_address_says_what_is_wrong(value, reason):
    with pytest.raises(ValueError) as refused:
        email_address(value)
    assert str(refused.value).startswith("is not a valid email address: ")
    assert reason in str(refused.value)


@pytest.mark.parametrize("value, stored", [
    ("Anna.Schmidt@Example.COM", "anna.schmidt@example.com"),
    ("  anna@example.com ", "anna@example.com"),
    ("o'brien+orders@mail.example.co.uk", "o'brien+orders@mail.example.co.uk"),
    ("jürgen@bücher.example", "jürgen@bücher.example"),
    ("x@xn--p1ai.example", "x@xn--p1ai.example"),
])
def test_email_address_takes_real_addresses(value, stored):
    assert email_address(value) == stored


def test_readable_text_with_joiners_marks_and_line_breaks_is_stored_as_sent(app, post_order):
    payload = order_payload()
    payload["customer"]["first_name"] = "Zoë\u200d"  # a joiner inside readable text is fine
    payload["customer"]["last_name"] = "\u05db\u05d4\u05df"  # Hebrew, right-to-left by itself
    payload["cart_note"] = "Ring twice.\r\n\tThen wait."
    payload["billing_address"]["comment"] = "Back door\nsecond bell"

    response = post_order(payload)

    assert response.status_code == 201, response.json
    with app.app_context():
        order = db.session.get(Order, response.json["id"])
        assert (order.first_name, order.last_name) == ("Zoë\u200d", "\u05db\u05d4\u05df")
        assert order.cart_note == "Ring twice.\r\n\tThen wait."
        assert order.billing_address.comment == "Back door\nsecond bell"


def test_the_openapi_document_states_the_text_rules(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    first_name = schemas["CustomerIn"]["properties"]["first_name"]
    pattern = re.compile(first_name["pattern"])
    assert pattern.search("Anna") and pattern.search("Zoë")
    for refused in ("An\rna", "\u200b", "   ", "Anna\u202e"):
        assert not pattern.search(refused), refused
    note = next(s for s in schemas["OrderIn"]["properties"]["cart_note"]["anyOf"]
                if s.get("type") == "string")
    assert re.search(note["pattern"], "Ring twice.\nThen wait.")
    assert not re.search(note["pattern"], "Ring\x07")


# --- the back-office forms validate with the same types ---------------------------------

@pytest.fixture
def customer_id(app, post_order):
    post_order()
    with app.app_context():
        return db.session.scalar(sa.select(Customer.id))


@pytest.mark.parametrize("field, value, message", [
    ("email", "anna@example.com\r\nbcc:x@evil.example", "contains a control character (U+000D"),
    ("first_name", "\u200b", "contains only invisible characters"),
    ("last_name", "Schmidt\u202e", "contains a bidirectional control character (U+202E"),
    ("company", "ACME\x1b", "contains a control character (U+001B, escape)"),
])
def test_edit_customer_refuses_unusable_text(app, as_role, customer_id, field, value, message):
    form = {"salutation": "Mrs", "first_name": "Anna", "last_name": "Schmidt",
            "email": "anna@example.com", "phone": "", "company": "", field: value}

    response = as_role("agent").post_form(f"/customers/{customer_id}/edit", form)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'data-error-for="{field}"' in page and message in page
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        assert (customer.email, customer.first_name, customer.last_name, customer.company) == (
            "anna@example.com", "Anna", "Schmidt", None)


def address_form(**changes):
    return {"salutation": "Mrs", "first_name": "Anna", "middle_name": "", "last_name": "Schmidt",
            "email": "", "country": "DE", "address1": "Julie-Wolfthorn-Straße 1",
            "address2": "", "address3": "", "company": "", "city": "Berlin",
            "zip_code": "10115", "po_box": "", "phone": "", "cell_phone": "",
            "description": "", "comment": "", **changes}


@pytest.mark.parametrize("field, value, message", [
    ("city", "Pots\x07dam", "contains a control character (U+0007, bell)"),
    ("first_name", "\u2060\u200b", "contains only invisible characters"),
    ("comment", "Back door\x1b", "only line breaks and tabs are allowed"),
])
def test_edit_order_address_refuses_unusable_text(app, as_role, post_order, field, value,
                                                  message):
    order_id = post_order().json["id"]
    with app.app_context():
        address_id = db.session.get(Order, order_id).billing_address_id
    url = f"/sales/orders/{order_id}/addresses/{address_id}/edit"

    response = as_role("agent").post_form(url, address_form(**{field: value}))

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'data-error-for="{field}"' in page and message in page
    with app.app_context():
        address = db.session.get(OrderAddress, address_id)
        assert (address.city, address.first_name, address.comment) == ("Berlin", "Anna", None)
    assert count(app, AddressChange) == 0


def test_an_address_comment_keeps_its_line_breaks(app, as_role, post_order):
    order_id = post_order().json["id"]
    with app.app_context():
        address_id = db.session.get(Order, order_id).billing_address_id
    url = f"/sales/orders/{order_id}/addresses/{address_id}/edit"

    response = as_role("agent").post_form(url, address_form(comment="Back door\r\nsecond bell"))

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(OrderAddress, address_id).comment == "Back door\r\nsecond bell"
