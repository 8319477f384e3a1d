"""POST /api/v1/orders: validation, idempotency, linking customers, totals and units."""
import copy
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Customer, ItemStateHistory, Order, OrderItem
from tests.conftest import order_payload


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_order_is_stored_with_totals_units_and_state(app, post_order):
    response = post_order()
    assert response.status_code == 201
    body = response.json
    assert body["order_reference"] == "DE--1"
    assert body["grand_total"] == 5487 and body["item_count"] == 3
    with app.app_context():
        order = db.session.get(Order, body["id"])
        assert (order.subtotal, order.expense_total, order.discount_total) == (4997, 490, 0)
        assert order.tax_total == 319 + 319 + 160  # tax contained in 19.99, 19.99, 9.99 at 19 %
        assert order.item_states == "new"
        skus = [i.sku for i in order.items]
        assert skus == ["SHOE-1", "SHOE-1", "SOCK-1"]  # quantity 2 became two unit rows
        assert {i.process_name for i in order.items} == {"DefaultOrder01"}
        history = db.session.scalars(sa.select(ItemStateHistory)).all()
        assert [(h.from_state, h.to_state) for h in history] == [(None, "new")] * 3


def test_references_are_generated_per_store_in_sequence(post_order):
    refs = [post_order().json["order_reference"] for _ in range(2)]
    refs.append(post_order(order_payload(store="AT")).json["order_reference"])
    assert refs == ["DE--1", "DE--2", "AT--1"]


def test_generated_reference_skips_one_a_storefront_already_used(post_order):
    assert post_order(order_payload(order_reference="DE--1")).status_code == 201
    assert post_order().json["order_reference"] == "DE--2"


def test_same_reference_and_content_returns_the_existing_order(app, post_order):
    first = post_order(order_payload(order_reference="SHOP-1"))
    again = post_order(order_payload(order_reference="SHOP-1"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"] and again.json["created"] is False
    assert count(app, Order) == 1


def test_same_reference_with_other_content_is_a_conflict(app, post_order):
    post_order(order_payload(order_reference="SHOP-1"))
    other = order_payload(order_reference="SHOP-1", cart_note="changed")
    response = post_order(other)
    assert response.status_code == 409
    assert "SHOP-1" in response.json["message"]
    assert count(app, Order) == 1


def test_customer_is_linked_by_reference_then_email_else_created(app, post_order):
    post_order()  # creates anna@example.com
    with app.app_context():
        anna = db.session.scalar(sa.select(Customer))
        assert anna.customer_reference == f"DE--C{anna.id}"
        assert [a.city for a in anna.addresses] == ["Berlin"]  # billing copied to address book
    by_email = order_payload()
    by_email["customer"]["email"] = "ANNA@example.com"
    post_order(by_email)
    by_ref = order_payload()
    by_ref["customer"] = dict(by_ref["customer"], email="other@example.com",
                              customer_reference=anna.customer_reference)
    post_order(by_ref)
    new = order_payload()
    new["customer"]["email"] = "bob@example.com"
    post_order(new)
    with app.app_context():
        rows = db.session.execute(sa.select(Order.email, Order.customer_id).order_by(Order.id)).all()
    assert [r.customer_id for r in rows[:3]] == [anna.id] * 3
    assert rows[3].customer_id not in (None, anna.id)
    assert count(app, Customer) == 2


def test_guest_order_links_no_customer(app, post_order):
    payload = order_payload()
    payload["customer"]["is_guest"] = True
    body = post_order(payload).json
    with app.app_context():
        assert db.session.get(Order, body["id"]).customer_id is None
    assert count(app, Customer) == 0


def test_process_is_chosen_by_payment_method_setting(app, post_order):
    app.config["PANEL_PAYMENT_PROCESSES"] = {"prepayment": "DummyPayment01"}
    payload = order_payload(payment={"method": "prepayment", "amount": 5487})
    body = post_order(payload).json
    with app.app_context():
        assert {i.process_name for i in db.session.get(Order, body["id"]).items} == {"DummyPayment01"}


def test_discount_and_several_shipments_add_up(app, post_order):
    payload = order_payload()
    second = copy.deepcopy(payload["shipments"][0])
    second["price"] = 990
    second["items"] = [{"sku": "HAT", "name": "Hat", "quantity": 1, "unit_price": 2000,
                        "tax_rate": 7, "discount": 500}]
    payload["shipments"].append(second)
    payload["payment"]["amount"] = 5487 + 990 + 1500
    body = post_order(payload).json
    with app.app_context():
        order = db.session.get(Order, body["id"])
        assert order.grand_total == 7977 and order.discount_total == 500
        assert len(order.shipments) == 2
        hat = [i for i in order.items if i.sku == "HAT"][0]
        assert (hat.price_to_pay, hat.tax_amount) == (1500, 98)



def test_every_value_of_a_two_shipment_order_is_stored_as_sent(app, post_order):
    """Each row and value where it belongs (on PostgreSQL the order's rows are written by
    one statement from JSON, on SQLite by one INSERT per table)."""
    awkward = 'Ring "twice" \\ then\nwait; ünïcödé, tab\there'
    payload = order_payload(created_at="2026-03-01T14:30:00+02:00", cart_note=awkward)
    payload["billing_address"].update(company="Acme \"GmbH\"", address2=None)
    office = dict(copy.deepcopy(payload["billing_address"]), address1="Büroweg 7", city="Köln",
                  zip_code="50667")
    payload["shipments"].append({
        "method": "Express", "carrier": "UPS", "price": 990,
        "requested_delivery_date": "2026-03-05", "address": office,
        "items": [{"sku": "HAT", "name": "Hat", "quantity": 2, "unit_price": 2000,
                   "tax_rate": "7.5", "discount": 500}]})
    payload["payment"]["amount"] = 5487 + 990 + 3000
    response = post_order(payload)
    assert response.status_code == 201, response.json
    with app.app_context():
        order = db.session.get(Order, response.json["id"])
        assert order.created_at.isoformat() == "2026-03-01T12:30:00+00:00"
        assert order.cart_note == awkward
        assert order.billing_address.company == 'Acme "GmbH"'
        assert order.billing_address.address2 is None
        first, second = sorted(order.shipments, key=lambda s: s.id)
        assert (first.method, first.address.city, first.requested_delivery_date) == (
            "Standard", "Berlin", None)
        assert (second.method, second.carrier, second.price, second.address.address1,
                second.address.city, str(second.requested_delivery_date)) == (
            "Express", "UPS", 990, "Büroweg 7", "Köln", "2026-03-05")
        assert second.address_id != order.billing_address_id
        hats = [i for i in order.items if i.sku == "HAT"]
        assert [(i.shipment_id, i.price_to_pay, str(i.tax_rate), i.discount) for i in hats] == [
            (second.id, 1500, "7.50", 500)] * 2
        assert {i.shipment_id for i in order.items if i.sku != "HAT"} == {first.id}
        assert all(i.order_created_at == order.created_at == i.state_entered_at
                   for i in order.items)
        history = db.session.execute(sa.select(ItemStateHistory.item_id, ItemStateHistory.to_state)
                                     .order_by(ItemStateHistory.item_id)).all()
        assert history == [(i.id, "new") for i in sorted(order.items, key=lambda i: i.id)]


# --- validation: one test per rule; every bad request stores nothing -------------------

def errors_of(response):
    assert response.status_code == 422, response.json
    return {e["path"]: e["message"] for e in response.json["errors"]}


@pytest.mark.parametrize(
    "change, path",
    [
        (lambda p: p.pop("store"), "store"),
        (lambda p: p.update(store="de"), "store"),
        (lambda p: p.update(currency="EURO"), "currency"),
        (lambda p: p.update(locale="German"), "locale"),
        (lambda p: p.update(order_reference="has space"), "order_reference"),
        (lambda p: p.update(order_reference="x" * 46), "order_reference"),
        (lambda p: p.update(created_at="yesterday"), "created_at"),
        (lambda p: p["customer"].update(email="not-an-email"), "customer.email"),
        (lambda p: p["customer"].update(first_name="   "), "customer.first_name"),
        (lambda p: p["customer"].update(salutation="Sir"), "customer.salutation"),
        (lambda p: p["billing_address"].pop("city"), "billing_address.city"),
        (lambda p: p["billing_address"].update(country="Germany"), "billing_address.country"),
        (lambda p: p["billing_address"].update(zip_code="1" * 16), "billing_address.zip_code"),
        (lambda p: p.update(shipments=[]), "shipments"),
        (lambda p: p["shipments"][0].update(items=[]), "shipments[0].items"),
        (lambda p: p["shipments"][0].update(price=-1), "shipments[0].price"),
        (lambda p: p["shipments"][0].update(requested_delivery_date="soon"),
         "shipments[0].requested_delivery_date"),
        (lambda p: p["shipments"][0]["items"][0].update(quantity=0),
         "shipments[0].items[0].quantity"),
        (lambda p: p["shipments"][0]["items"][0].update(quantity="2"),
         "shipments[0].items[0].quantity"),
        (lambda p: p["shipments"][0]["items"][0].update(unit_price=19.99),
         "shipments[0].items[0].unit_price"),
        (lambda p: p["shipments"][0]["items"][1].update(tax_rate=101),
         "shipments[0].items[1].tax_rate"),
        (lambda p: p["shipments"][0]["items"][1].update(discount=5000),
         "shipments[0].items[1]"),
        (lambda p: p["shipments"][0]["items"][0].pop("sku"), "shipments[0].items[0].sku"),
        (lambda p: p["payment"].update(amount=1), "payment.amount"),
        (lambda p: p.update(unknown_field=1), "unknown_field"),
    ],
)
def test_invalid_field_is_named_and_nothing_is_stored(app, post_order, change, path):
    payload = order_payload()
    change(payload)
    errors = errors_of(post_order(payload))
    assert path in errors, errors
    assert count(app, Order) == 0 and count(app, OrderItem) == 0 and count(app, Customer) == 0


def test_every_bad_field_is_listed_at_once(post_order):
    payload = order_payload(currency="x")
    payload["customer"]["email"] = "nope"
    payload["shipments"][0]["items"][0]["quantity"] = -1
    assert {"currency", "customer.email", "shipments[0].items[0].quantity"} <= set(
        errors_of(post_order(payload))
    )


def test_too_many_units_are_refused(post_order):
    payload = order_payload()
    payload["shipments"][0]["items"][0]["quantity"] = 1000
    errors = errors_of(post_order(payload))
    assert "at most 1000 units" in " ".join(errors.values())


def test_payment_amount_error_says_the_grand_total(post_order):
    payload = order_payload(payment={"method": "invoice", "amount": 100})
    assert errors_of(post_order(payload))["payment.amount"] == (
        "is 100 but the order's grand total is 5487"
    )


def test_malformed_json_and_wrong_content_type(client, api_token, app):
    auth = {"Authorization": f"Bearer {api_token}"}
    bad = client.post("/api/v1/orders", data="{", headers=auth, content_type="application/json")
    assert bad.status_code == 400 and "not valid JSON" in bad.json["message"]
    form = client.post("/api/v1/orders", data={"a": "b"}, headers=auth)
    assert form.status_code == 415
    array = client.post("/api/v1/orders", json=[1], headers=auth)
    assert array.status_code == 422
    assert count(app, Order) == 0


# --- authentication -------------------------------------------------------------------

def test_missing_or_unknown_token_is_401(client, app, api_token):
    assert client.post("/api/v1/orders", json=order_payload()).status_code == 401
    wrong = client.post("/api/v1/orders", json=order_payload(),
                        headers={"Authorization": "Bearer op_wrong"})
    assert wrong.status_code == 401 and wrong.json["error"] == "unauthorized"
    assert count(app, Order) == 0


def test_revoked_token_is_refused(app, runner, post_order):
    assert post_order().status_code == 201
    assert runner.invoke(args=["api-tokens", "revoke", "--name", "storefront"]).exit_code == 0
    assert post_order().status_code == 401


def test_api_needs_no_csrf_token_and_no_login(post_order):
    # Bearer-token requests are not browser form posts: CSRF does not apply to them.
    assert post_order().status_code == 201


# --- OpenAPI ----------------------------------------------------------------------------

def test_openapi_document_is_generated_from_the_validating_schema(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    schemas = doc["components"]["schemas"]
    order = schemas["OrderIn"]
    assert set(order["required"]) >= {"store", "currency", "locale", "customer",
                                       "billing_address", "shipments", "payment"}
    item = schemas["ItemIn"]
    assert item["properties"]["quantity"]["minimum"] == 1
    post = doc["paths"]["/api/v1/orders"]["post"]
    assert {"201", "200", "401", "409", "422"} <= set(post["responses"])
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    for ref in refs:  # every reference resolves inside the document
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_a_nul_character_is_refused_by_path_and_nothing_is_stored(app, post_order):
    payload = order_payload(order_reference="NUL-1")
    payload["customer"]["first_name"] = "An\u0000na"
    payload["shipments"][0]["items"][0]["name"] = "\u0000"

    response = post_order(payload)

    assert response.status_code == 422
    assert response.json["errors"] == [
        {"path": "customer.first_name",
         "message": "contains a NUL character (U+0000), which cannot be stored"},
        {"path": "shipments[0].items[0].name",
         "message": "contains a NUL character (U+0000), which cannot be stored"},
    ]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_an_order_whose_total_would_not_fit_is_refused_by_name(app, post_order):
    payload = order_payload(order_reference="HUGE-1")
    item = payload["shipments"][0]["items"][0]
    item.update(unit_price=2**31 - 1, quantity=2, discount=0)

    response = post_order(payload)

    assert response.status_code == 422
    messages = " ".join(e["message"] for e in response.json["errors"])
    assert "the order's subtotal is larger than 2,147,483,647 minor units" in messages
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


# --- created_at: an order from a real storefront, never one from the far past or future ---

RANGE = "must be from 2000-01-01T00:00:00Z to 15 minutes after the server's clock"


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("created_at, why", [
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00 is before 2000"),
    ("0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00+05:00 is before 2000"),
    ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00+00:00 is before 2000"),
    ("1999-12-31T23:59:59Z", "1999-12-31T23:59:59+00:00 is before 2000"),
    ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59+00:00 is in the future"),
    (lambda now: iso(now + timedelta(minutes=20)), "is in the future"),
])
def test_created_at_outside_the_accepted_range_is_refused(app, post_order, created_at, why):
    if callable(created_at):
        created_at = created_at(datetime.now(UTC))
    response = post_order(order_payload(created_at=created_at))
    message = errors_of(response)["created_at"]
    assert message.startswith(RANGE + "; ") and why in message, message
    assert count(app, Order) == 0 and count(app, OrderItem) == 0 and count(app, Customer) == 0


@pytest.mark.parametrize("created_at", [
    "2000-01-01T00:00:00Z",
    "2000-01-01T00:00:00",  # no offset: UTC
    "2000-01-01T01:00:00+01:00",
    lambda now: iso(now + timedelta(minutes=10)),  # a storefront's clock a little ahead
])
def test_created_at_inside_the_range_is_stored(app, post_order, created_at):
    if callable(created_at):
        created_at = created_at(datetime.now(UTC))
    response = post_order(order_payload(created_at=created_at))
    assert response.status_code == 201, response.json
    assert count(app, Order) == 1


def test_openapi_document_states_the_created_at_range(client):
    order = client.get("/api/v1/openapi.json").json["components"]["schemas"]["OrderIn"]
    description = order["properties"]["created_at"]["description"]
    assert "from 2000-01-01T00:00:00Z to 15 minutes after the server's clock" in description
