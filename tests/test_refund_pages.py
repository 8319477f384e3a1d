"""Refund pages: Create Refund from View Order, the Refunds box with Retry and Discard,
Sales > Refunds, the orders list's refund total, and who may do what."""
from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.formatting import format_amount
from panel.models import Order, Refund
from panel.params import ParameterError, read_amount
from tests.refund_support import ADMIN, APP_CONFIG, fresh_provider, paid_order


@pytest.fixture
def app_config():
    return APP_CONFIG


@pytest.fixture(autouse=True)
def provider():
    yield from fresh_provider()


@pytest.fixture
def order(app, post_order):
    """A paid order (payment method "psp"): shoe 19.99, shoe 19.99, socks 9.99, 4.90 shipping."""
    order_id, items, shipments = paid_order(app, post_order)
    return {"id": order_id, "items": items, "shipment": shipments[0]}


def text(client, response) -> str:
    """The page a response leads to, with its whitespace collapsed."""
    if response.status_code == 302:
        response = client.get(response.headers["Location"])
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def words(client, url: str) -> str:
    """What a page says, tags left out."""
    raw = re.sub(r"<[^>]+>", " ", client.get(url).get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(raw))


def create_url(order) -> str:
    return f"/sales/refunds/new/{order['id']}"


def post_refund(client, order, items: dict, **extra):
    """Tick ``items`` ({item id: amount text}) on Create Refund and press Refund."""
    data = {"item": [str(i) for i in items]}
    data.update({f"amount-{i}": amount for i, amount in items.items()})
    data.update(extra)
    return client.post_form(create_url(order), data)


def refunds_in_db(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(sa.select(Refund.id, Refund.status, Refund.total)
                                  .order_by(Refund.id)).all()


def refund_total(app, order) -> int:
    with app.app_context():
        return db.session.get(Order, order["id"]).refund_total


def test_create_refund_offers_each_item_with_what_is_left_to_refund(as_role, order, app):
    admin = as_role("admin")
    post_refund(admin, order, {order["items"][0]: "5.00"})

    page = text(admin, admin.get(create_url(order)))

    assert "Create Refund" in page
    shoe = re.search(rf'<tr data-item-id="{order["items"][0]}".*?</tr>', page).group(0)
    assert "€19.99" in shoe and "€5.00" in shoe and "€14.99" in shoe  # paid, held, left
    assert f'name="amount-{order["items"][0]}" data-refundable="1499" value="14.99"' in shoe
    socks = re.search(rf'<tr data-item-id="{order["items"][2]}".*?</tr>', page).group(0)
    assert 'value="9.99"' in socks
    shipping = re.search(r'<tr data-shipment-id=.*?</tr>', page).group(0)
    assert "Shipment 1 of 1: Standard (DHL)" in shipping and 'value="4.90"' in shipping
    assert re.search(r'id="captured">\s*€54.87', page)
    assert re.search(r'id="left-to-refund">€49.87', page)


def test_refund_two_items_partially_from_view_order(as_role, order, app):
    admin = as_role("admin")
    view = text(admin, admin.get(f"/sales/orders/{order['id']}"))
    assert f'id="refund-order" href="/sales/refunds/new/{order["id"]}">Refund</a>' in view
    assert "No refunds." in view

    response = post_refund(admin, order, {order["items"][0]: "5.00", order["items"][2]: "2,50"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/sales/orders/{order['id']}#order-refunds")
    page = text(admin, response)
    [(refund_id, status, total)] = refunds_in_db(app)
    assert (status, total) == ("succeeded", 750)
    assert (f"Refund #{refund_id} of €7.50 succeeded (provider reference "
            f"PSP-{refund_id}-1).") in page
    box = re.search(r'id="order-refunds".*?</table>', page).group(0)
    assert f"Running shoe (item #{order['items'][0]}): €5.00" in box
    assert f"Socks (item #{order['items'][2]}): €2.50" in box
    assert "succeeded" in box and f"PSP-{refund_id}-1" in box and ADMIN in box
    assert re.search(r'id="refund-total">€7.50<', page)
    listing = text(admin, admin.get("/sales/orders/"))
    assert "€7.50 refunded" in listing
    assert refund_total(app, order) == 750


def test_a_blank_amount_refunds_all_that_is_left_with_the_shipping(as_role, order, app):
    admin = as_role("admin")
    response = post_refund(admin, order, {i: "" for i in order["items"]},
                           shipment=str(order["shipment"]))
    assert response.status_code == 302
    assert refunds_in_db(app)[0][1:] == ("succeeded", 5487)
    page = text(admin, admin.get(create_url(order)))
    assert page.count("nothing left") == 4  # three items and the shipping
    assert re.search(r'id="left-to-refund">€0.00', page)


@pytest.mark.parametrize(("amount", "message"), [
    ("12.345", "Running shoe (item #{0}): '12.345' has more than 2 decimal places"),
    ("12 EUR", "Running shoe (item #{0}): '12 EUR' is not an amount (digits, such as 12.34, "
               "without a currency or grouping)"),
    ("1,000.00", "is not an amount"),
    ("-1", "Running shoe (item #{0}): '-1' is negative; an amount must not be"),
    ("20.00", "Running shoe (item #{0}): €20.00 is more than the €19.99 still refundable"),
    ("0", "Running shoe (item #{0}): the amount must be more than €0.00, or leave it out"),
    ("9" * 5000, "is too large"),
])
def test_a_bad_amount_is_named_kept_in_the_form_and_changes_nothing(as_role, order, app,
                                                                    amount, message):
    admin = as_role("admin")
    response = post_refund(admin, order, {order["items"][0]: amount})

    assert response.status_code == 400
    page = text(admin, response)
    assert "The refund was not made: " in page and message.format(order["items"][0]) in page
    assert f'value="{amount}"' in page  # kept as typed
    assert refunds_in_db(app) == [] and refund_total(app, order) == 0


@pytest.mark.parametrize(("data", "message"), [
    ({}, "there is nothing to refund: tick an item or give an adjustment"),
    ({"item": "x"}, "item: 'x' is not an id"),
    ({"adjustment": "3.00"}, "say why the adjustment is given (the adjustment reason)"),
    ({"adjustment": "3.00", "adjustment_reason": "late\x07"},
     "the adjustment reason contains a control character (U+0007, bell)"),
    ({"adjustment_reason": "late delivery"}, "an adjustment reason needs an adjustment amount"),
    ({"adjustment": "abc"}, "Adjustment amount: 'abc' is not an amount"),
])
def test_bad_input_on_the_page_is_named_and_changes_nothing(as_role, order, app, data,
                                                            message):
    admin = as_role("admin")
    response = admin.post_form(create_url(order), data)
    assert response.status_code == 400
    assert "The refund was not made: " + message in text(admin, response)
    assert refunds_in_db(app) == []


def test_an_adjustment_with_its_reason_is_refunded_and_shown(as_role, order, app):
    admin = as_role("admin")
    response = admin.post_form(create_url(order), {"adjustment": "3",
                                                   "adjustment_reason": "<b>late</b> parcel"})
    page = text(admin, response)
    assert "of €3.00 succeeded" in page
    raw = admin.get(f"/sales/orders/{order['id']}").get_data(as_text=True)
    assert "Adjustment: €3.00 (&lt;b&gt;late&lt;/b&gt; parcel)" in raw
    assert refund_total(app, order) == 300


def test_a_refused_refund_shows_its_message_and_can_be_retried_or_discarded(
        as_role, order, app, provider):
    admin = as_role("admin")
    provider["refusal"] = "card <expired>"
    page = text(admin, post_refund(admin, order, {order["items"][0]: "19.99"}))
    [(first, status, _)] = refunds_in_db(app)
    assert status == "refused"
    assert (f"Refund #{first} of €19.99 is saved, but the payment provider refused it: "
            f"'card <expired>'. Retry or discard it under Refunds.") in page
    assert (f"Refund #{first} of €19.99 was refused by the payment provider: card <expired> "
            f"It still holds its amounts") in words(admin, f"/sales/orders/{order['id']}")
    raw = admin.get(f"/sales/orders/{order['id']}").get_data(as_text=True)
    assert "card &lt;expired&gt;" in raw and "<expired>" not in raw
    assert "Retry</button>" in raw and "Discard</button>" in raw

    provider["refusal"] = None
    page = text(admin, admin.post_form(f"/sales/refunds/{order['id']}/retry",
                                       {"refund": str(first)}))
    assert f"Refund #{first} of €19.99 succeeded (provider reference PSP-{first}-2)." in page
    assert "was refused by the payment provider" not in page
    assert refund_total(app, order) == 1999

    provider["refusal"] = "no"
    post_refund(admin, order, {order["items"][1]: ""})
    second = refunds_in_db(app)[1][0]
    page = text(admin, admin.post_form(f"/sales/refunds/{order['id']}/discard",
                                       {"refund": str(second)}))
    assert f"Refund #{second} discarded; its amounts may be refunded again." in page
    assert refunds_in_db(app)[1][1] == "discarded"
    assert "discarded" in page and "by Admin User" in page
    page = text(admin, admin.post_form(f"/sales/refunds/{order['id']}/discard",
                                       {"refund": str(second)}))
    assert (f"Nothing was done: refund #{second} is discarded; only a refused refund can be "
            f"discarded.") in page
    page = text(admin, admin.post_form(f"/sales/refunds/{order['id']}/retry",
                                       {"refund": "x"}))
    assert "Nothing was done: refund: 'x' is not an id" in page


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_only_the_refund_events_role_may_refund(as_role, order, app, role, provider):
    admin = as_role("admin")
    provider["refusal"] = "declined"
    post_refund(admin, order, {order["items"][0]: "1.00"})
    [(refused_id, _, _)] = refunds_in_db(app)
    provider["refusal"] = None
    user = as_role(role)

    assert user.get(create_url(order)).status_code == 403
    assert post_refund(user, order, {order["items"][1]: "1.00"}).status_code == 403
    for action in ("retry", "discard"):
        response = user.post_form(f"/sales/refunds/{order['id']}/{action}",
                                  {"refund": str(refused_id)})
        assert response.status_code == 403
    assert refunds_in_db(app) == [(refused_id, "refused", 100)]
    view = user.get(f"/sales/orders/{order['id']}").get_data(as_text=True)
    assert "Retry</button>" not in view and "Discard</button>" not in view
    if role == "agent":  # agents see the button, disabled with the reason
        assert ('<button type="button" class="btn btn-outline-primary btn-sm" id="refund-order" '
                'disabled aria-disabled="true" title="Only admins may refund">Refund</button>'
                ) in view
    else:
        assert 'id="refund-order"' not in view


def test_sales_refunds_lists_refunds_newest_first_by_status(as_role, order, app, provider):
    admin = as_role("admin")
    post_refund(admin, order, {order["items"][0]: "1.00"})
    provider["refusal"] = "declined"
    post_refund(admin, order, {order["items"][0]: "2.00"})
    [(first, _, _), (second, _, _)] = refunds_in_db(app)

    every = admin.get("/sales/refunds/").get_data(as_text=True)
    assert re.findall(r'data-refund-id="(\d+)"', every) == [str(second), str(first)]
    refused = admin.get("/sales/refunds/?status=refused").get_data(as_text=True)
    assert re.findall(r'data-refund-id="(\d+)"', refused) == [str(second)]
    assert "declined" in refused
    bad = admin.get("/sales/refunds/?status=lost")
    assert bad.status_code == 400
    assert "status: 'lost' is not one of" in html.unescape(bad.get_data(as_text=True))
    assert as_role("viewer").get("/sales/refunds/").status_code == 200


def test_the_refund_page_of_a_missing_order_says_so(as_role):
    admin = as_role("admin")
    response = admin.get("/sales/refunds/new/999999")
    assert response.status_code == 302
    assert "Sales order #999999 not found." in text(admin, response)
    assert admin.post_form("/sales/refunds/999999/retry", {"refund": "1"}).status_code == 404


@pytest.mark.parametrize(("typed", "digits", "minor"), [
    ("12.34", 2, 1234), ("12,34", 2, 1234), ("12", 2, 1200), ("0.5", 2, 50), (" 7 ", 2, 700),
    ("1234", 0, 1234), ("1.234", 3, 1234), ("0012.30", 2, 1230), ("", 2, None),
])
def test_amounts_are_read_in_minor_units(typed, digits, minor):
    assert read_amount("Amount", typed, digits) == minor


@pytest.mark.parametrize(("typed", "digits"), [
    ("12.3", 0), ("1.", 2), (".5", 2), ("1e3", 2), ("١٢", 2), ("21474836.48", 2), ("+1", 2),
])
def test_other_text_is_not_an_amount(typed, digits):
    with pytest.raises(ParameterError, match="^Amount: "):
        read_amount("Amount", typed, digits)


def test_amounts_are_written_for_form_fields_without_symbol_or_grouping():
    assert [format_amount(123456, "EUR"), format_amount(5, "EUR"), format_amount(1500, "JPY"),
            format_amount(1234, "KWD")] == ["1234.56", "0.05", "1500", "1.234"]
