"""End-to-end: an agent's day in Sales > Orders and Customers, driven through Chromium."""
from __future__ import annotations

import copy
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from panel.extensions import db
from panel.models import AddressChange, Customer, CustomerAddress, Order, Shipment
from tests.conftest import ADDRESS, PASSWORD, order_payload
from tests.e2e.conftest import customer_data, login, make_order, open_menu

pytestmark = pytest.mark.e2e

ROW = "#orders-table tbody tr[data-order-reference]"


@pytest.fixture
def orders(app):
    """Three customers' orders and one guest order, oldest first."""
    return {
        "anna": make_order(app, order_reference="DE--101"),
        "max": make_order(
            app, order_reference="DE--102",
            customer=customer_data("max.mustermann@example.com", "Max", "Mustermann"),
        ),
        "bob": make_order(
            app, order_reference="AT--7", store="AT",
            customer=customer_data("bob@example.net", "Bob", "Schneider"),
        ),
        "guest": make_order(
            app, order_reference="DE--103",
            customer={**customer_data("gast@example.org", "Gerd", "Gast"), "is_guest": True},
        ),
    }


def shown_references(page: Page) -> list[str]:
    return page.locator(ROW).evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-order-reference'))"
    )


def search_orders(page: Page, term: str) -> None:
    page.fill("#q", term)
    page.click("#apply-filters")
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("q") == [term])
    expect(page.locator("#q")).to_have_value(term)


def cell_texts(page: Page, reference: str) -> list[str]:
    row = page.locator(f'#orders-table tr[data-order-reference="{reference}"]')
    return [t.strip() for t in row.locator("td").all_inner_texts()]


def billing_address(app, order_id: int) -> dict:
    with app.app_context():
        order = db.session.get(Order, order_id)
        a = order.billing_address
        values = {"first_name": a.first_name, "last_name": a.last_name, "city": a.city,
                  "zip_code": a.zip_code, "country": a.country, "address1": a.address1}
        db.session.remove()
    return values


# 1 -------------------------------------------------------------------------------------


def test_deep_link_login_then_orders_menu(page, live_server, accounts, orders):
    order = orders["anna"]
    page.goto(f"{live_server}/sales/orders/{order['id']}")

    # Anonymous: sent to the login form, which remembers where we were going.
    assert urlsplit(page.url).path == "/login"
    assert parse_qs(urlsplit(page.url).query)["next"] == [f"/sales/orders/{order['id']}"]
    expect(page.get_by_role("button", name="Log in")).to_be_visible()

    # A wrong password first: the message, and still on the login form.
    page.fill("#email", accounts["admin"])
    page.fill("#password", "not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".alert")).to_have_text("Email or password is not correct.")
    expect(page.locator("#current-user")).to_have_count(0)

    login(page, live_server, accounts["admin"], PASSWORD)
    assert urlsplit(page.url).path == f"/sales/orders/{order['id']}"
    expect(page.locator("h4")).to_have_text("View Order: DE--101")
    expect(page.locator("#current-user")).to_contain_text("Admin User")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator("nav.navbar a.dropdown-toggle", has_text="Administration")).to_be_visible()

    open_menu(page, "Sales", "Orders")
    assert urlsplit(page.url).path == "/sales/orders/"
    expect(page.locator("h4")).to_have_text("Overview of Orders")
    expect(page.locator(ROW)).to_have_count(4)
    assert shown_references(page) == ["DE--103", "AT--7", "DE--102", "DE--101"]

    cells = cell_texts(page, "DE--101")
    assert cells[0] == str(order["id"])
    assert cells[1] == "DE--101"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", cells[2]), cells[2]
    assert cells[3] == "Mrs Anna Schmidt"
    assert cells[4] == "anna@example.com"
    assert cells[5] == "new"
    assert cells[6] == "€54.87"
    assert cells[7] == "3"
    assert cells[8].split() == ["View", "Claim", "Return"]
    anna_row = page.locator('tr[data-order-reference="DE--101"]')
    expect(anna_row.locator("a.customer-link")).to_have_attribute(
        "href", f"/customers/{order['customer_id']}")
    expect(anna_row.locator("a.email-link")).to_have_attribute(
        "href", re.compile(r"/sales/messages/\d+/email$"))

    # A guest order has a name but no customer to link to.
    guest_row = page.locator('tr[data-order-reference="DE--103"]')
    expect(guest_row.locator("a.customer-link")).to_have_count(0)
    expect(guest_row.locator("td").nth(3)).to_have_text(re.compile(r"Mrs Gerd Gast\s+guest"))
    expect(page.locator("#result-count")).to_contain_text("4 found")

    open_menu(page, "Customers", "Customers")
    assert urlsplit(page.url).path == "/customers/"
    expect(page.locator("#customers-table tbody tr")).to_have_count(3)  # guests have none

    page.get_by_role("button", name="Log out").click()
    assert urlsplit(page.url).path == "/login"
    expect(page.locator(".alert")).to_have_text("You are logged out.")
    page.goto(f"{live_server}/sales/orders/")
    assert urlsplit(page.url).path == "/login"


# 2 -------------------------------------------------------------------------------------


def test_search_by_reference_last_name_and_email(page, live_server, accounts, orders):
    # A deep link with a search keeps its query string through the login.
    page.goto(f"{live_server}/sales/orders/?q=DE--101")
    login(page, live_server, accounts["agent"])
    assert page.url == f"{live_server}/sales/orders/?q=DE--101"
    assert shown_references(page) == ["DE--101"]

    page.goto(f"{live_server}/sales/orders/")
    expect(page.locator(ROW)).to_have_count(4)

    search_orders(page, "DE--102")
    assert shown_references(page) == ["DE--102"]
    assert cell_texts(page, "DE--102")[3] == "Mrs Max Mustermann"
    expect(page.locator("#result-count")).to_contain_text("1 found")

    # Last name prefix, in any case.
    search_orders(page, "schm")
    assert shown_references(page) == ["DE--101"]
    search_orders(page, "Sch")
    assert shown_references(page) == ["AT--7", "DE--101"]

    # Email prefix.
    search_orders(page, "bob@")
    assert shown_references(page) == ["AT--7"]
    search_orders(page, "max.must")
    assert shown_references(page) == ["DE--102"]

    # Nothing matches: the list says so.
    search_orders(page, "nobody@")
    expect(page.locator(ROW)).to_have_count(0)
    expect(page.locator("#orders-table")).to_contain_text("No orders match.")


# 3 -------------------------------------------------------------------------------------


def test_edit_billing_address_records_history(app, page, live_server, accounts, orders):
    order = orders["anna"]
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/")
    page.locator('tr[data-order-reference="DE--101"]').get_by_role("link", name="View").click()
    expect(page.locator("h4")).to_have_text("View Order: DE--101")
    expect(page.locator("#billing-address")).to_contain_text(
        "Anna Schmidt, Julie-Wolfthorn-Straße 1, 10115 Berlin, DE")
    expect(page.locator("#history")).to_contain_text("Nothing has been changed on this order yet.")

    page.click("#edit-billing-address")
    expect(page.locator("h4")).to_have_text("Edit Address for Order: DE--101")
    expect(page.locator("#f-city")).to_have_value("Berlin")
    expect(page.locator("#f-zip_code")).to_have_value("10115")
    page.fill("#f-city", "Hamburg")
    page.fill("#f-zip_code", "20095")
    page.click("#save-address")

    page.wait_for_url(f"{live_server}/sales/orders/{order['id']}")
    expect(page.locator(".alert-success")).to_contain_text("Address successfully updated.")
    expect(page.locator("#billing-address")).to_contain_text(
        "Anna Schmidt, Julie-Wolfthorn-Straße 1, 20095 Hamburg, DE")
    history = page.locator("#history .history-change")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("Agent User edited the billing address:")
    lines = [t.strip() for t in history.locator("li").all_inner_texts()]
    assert sorted(lines) == ["city: Berlin → Hamburg", "zip_code: 10115 → 20095"]
    expect(history.locator("del")).to_have_text(["Berlin", "10115"])
    expect(history.locator("ins")).to_have_text(["Hamburg", "20095"])

    # The delivery address is a copy of its own and did not change.
    expect(page.locator(".shipment address")).to_contain_text("10115 Berlin, DE")

    with app.app_context():
        saved = db.session.get(Order, order["id"]).billing_address
        assert (saved.city, saved.zip_code) == ("Hamburg", "20095")
        shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order["id"]))
        assert (shipment.address.city, shipment.address.zip_code) == ("Berlin", "10115")
        change = db.session.scalar(select(AddressChange).where(
            AddressChange.order_id == order["id"]))
        assert change.user_name == "Agent User"
        assert change.address_role == "billing"
        assert change.changes == [
            {"field": "city", "old": "Berlin", "new": "Hamburg"},
            {"field": "zip_code", "old": "10115", "new": "20095"},
        ]
        # Editing the order's copy never touches the customer's address book.
        book = db.session.scalars(select(CustomerAddress).where(
            CustomerAddress.customer_id == order["customer_id"])).all()
        assert [(a.city, a.zip_code) for a in book] == [("Berlin", "10115")]
        db.session.remove()


# 4 -------------------------------------------------------------------------------------


def test_invalid_address_shows_field_errors_and_saves_nothing(
    app, page, live_server, accounts, orders
):
    order = orders["anna"]
    before = billing_address(app, order["id"])
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    page.click("#edit-billing-address")

    page.fill("#f-last_name", "")
    page.fill("#f-country", "Germany")
    expect(page.locator("#f-country")).to_have_value("Ge")  # the field's maxlength is 2
    page.fill("#f-city", "Hamburg")
    page.click("#save-address")

    expect(page.locator("h4")).to_have_text("Edit Address for Order: DE--101")
    last_name_error = page.locator('.invalid-feedback[data-error-for="last_name"]')
    expect(last_name_error).to_be_visible()
    expect(last_name_error).to_have_text("Last name must not be empty")
    expect(page.locator("#f-last_name")).to_have_class(re.compile(r"\bis-invalid\b"))
    country_error = page.locator('.invalid-feedback[data-error-for="country"]')
    expect(country_error).to_be_visible()
    expect(country_error).to_contain_text("Country")
    expect(page.locator("#f-country")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator('.invalid-feedback[data-error-for="city"]')).to_have_count(0)
    expect(page.locator(".alert-danger")).to_contain_text("The address was not saved")
    # What the user typed is still in the form.
    expect(page.locator("#f-city")).to_have_value("Hamburg")

    assert billing_address(app, order["id"]) == before
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    expect(page.locator("#billing-address")).to_contain_text("10115 Berlin, DE")
    expect(page.locator("#history")).to_contain_text("Nothing has been changed on this order yet.")
    with app.app_context():
        assert db.session.scalar(select(AddressChange.id)) is None
        db.session.remove()


def test_country_name_instead_of_code_is_refused(app, page, live_server, accounts, orders):
    """ "Germany" sent as it is (no maxlength in the way) is refused next to the field."""
    order = orders["anna"]
    before = billing_address(app, order["id"])
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    page.click("#edit-billing-address")
    page.locator("#f-country").evaluate("el => { el.removeAttribute('maxlength'); }")
    page.fill("#f-country", "Germany")
    page.click("#save-address")

    country_error = page.locator('.invalid-feedback[data-error-for="country"]')
    expect(country_error).to_be_visible()
    expect(page.locator("#f-country")).to_have_value("Germany")
    expect(page.locator(".invalid-feedback")).to_have_count(1)
    assert billing_address(app, order["id"]) == before


# 5 -------------------------------------------------------------------------------------


def test_customer_link_view_and_edit_customer(app, page, live_server, accounts, orders):
    order = orders["max"]
    login(page, live_server, accounts["admin"])
    page.goto(f"{live_server}/sales/orders/")
    page.locator('tr[data-order-reference="DE--102"] a.customer-link').click()

    page.wait_for_url(f"{live_server}/customers/{order['customer_id']}")
    expect(page.locator("h4")).to_have_text("View Customer")
    expect(page.locator("#first-name")).to_have_text("Max")
    expect(page.locator("#last-name")).to_have_text("Mustermann")
    expect(page.locator("#email")).to_have_text("max.mustermann@example.com")
    expect(page.locator("#customer-orders")).to_contain_text("DE--102")

    page.click("#edit-customer")
    form = page.locator("#customer-form")
    expect(form).to_be_visible()
    expect(page.locator("#f-first_name")).to_have_value("Max")
    expect(page.locator("#f-last_name")).to_have_value("Mustermann")
    expect(page.locator("#f-email")).to_have_value("max.mustermann@example.com")
    page.fill("#f-last_name", "Musterfrau")
    page.click("#save-customer")

    page.wait_for_url(f"{live_server}/customers/{order['customer_id']}")
    expect(page.locator(".alert-success")).to_contain_text("Customer successfully updated.")
    expect(page.locator("#last-name")).to_have_text("Musterfrau")
    expect(page.locator("#first-name")).to_have_text("Max")

    with app.app_context():
        customer = db.session.get(Customer, order["customer_id"])
        assert (customer.first_name, customer.last_name, customer.email) == (
            "Max", "Musterfrau", "max.mustermann@example.com")
        db.session.remove()

    # The customers list finds them by the new name.
    page.goto(f"{live_server}/customers/")
    page.fill("#q", "musterf")
    page.locator("#customer-filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"[?&]q=musterf"))
    rows = page.locator("#customers-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Musterfrau")


# 6 -------------------------------------------------------------------------------------


def test_viewer_sees_no_edit_buttons(app, page, live_server, accounts, orders):
    order = orders["anna"]
    login(page, live_server, accounts["viewer"])
    expect(page.locator("#current-user")).to_contain_text("Viewer User")
    expect(page.locator("nav.navbar a.dropdown-toggle", has_text="Administration")).to_have_count(0)

    page.goto(f"{live_server}/sales/orders/{order['id']}")
    expect(page.locator("h4")).to_have_text("View Order: DE--101")
    expect(page.locator("#billing-address")).to_contain_text("10115 Berlin, DE")
    expect(page.locator("#edit-billing-address")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit delivery address")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)

    page.click("#customer-reference")
    page.wait_for_url(f"{live_server}/customers/{order['customer_id']}")
    expect(page.locator("h4")).to_have_text("View Customer")
    expect(page.locator("#last-name")).to_have_text("Schmidt")
    expect(page.locator("#edit-customer")).to_have_count(0)
    expect(page.locator("#add-address")).to_have_count(0)
    expect(page.locator("#addresses").get_by_role("link", name="Edit")).to_have_count(0)

    page.goto(f"{live_server}/customers/")
    expect(page.locator("#customers-table")).to_contain_text("Schmidt")
    expect(page.locator("#customers-table").get_by_role("link", name="Edit")).to_have_count(0)

    # The edit form is not for viewers, and the server refuses a save sent all the same.
    edit_url = (f"{live_server}/sales/orders/{order['id']}/addresses/"
                f"{order['billing_address_id']}/edit")
    response = page.goto(edit_url)
    assert response.status == 403
    expect(page.locator("#save-address")).to_have_count(0)
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    token = page.locator("input[name=csrf_token]").first.input_value()
    form = {**ADDRESS, "city": "Hamburg", "csrf_token": token}
    posted = page.request.post(edit_url, form=form, max_redirects=0)
    assert posted.status == 403
    assert billing_address(app, order["id"])["city"] == "Berlin"


# 7 -------------------------------------------------------------------------------------


def test_check_all_ticks_only_its_own_shipment(page, live_server, accounts, app):
    second = copy.deepcopy(order_payload()["shipments"][0])
    second.update(method="Express", carrier="UPS", price=590, items=[
        {"sku": "HAT-1", "name": "Sun hat", "quantity": 2, "unit_price": 2999, "tax_rate": 19},
    ])
    first = order_payload()["shipments"][0]
    order = make_order(app, order_reference="DE--200", shipments=[first, second],
                       payment={"method": "invoice", "amount": 5487 + 2 * 2999 + 590})
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/{order['id']}")

    shipments = page.locator(".shipment")
    expect(shipments).to_have_count(2)
    one_items = shipments.nth(0).locator("input[name=item]")
    two_items = shipments.nth(1).locator("input[name=item]")
    expect(one_items).to_have_count(3)
    expect(two_items).to_have_count(2)

    def states(items):
        return [items.nth(i).is_checked() for i in range(items.count())]

    shipments.nth(0).locator("input[data-check-all]").check()
    assert states(one_items) == [True, True, True]
    assert states(two_items) == [False, False]

    shipments.nth(1).locator("input[data-check-all]").check()
    shipments.nth(0).locator("input[data-check-all]").uncheck()
    assert states(one_items) == [False, False, False]
    assert states(two_items) == [True, True]


# 8 -------------------------------------------------------------------------------------


def test_script_in_customer_name_is_shown_as_text(app, api_token, page, live_server, accounts):
    script = "<script>alert(1)</script>"
    image = '<img src="x" onerror="alert(2)">'
    payload = order_payload(
        order_reference="DE--666",
        customer=customer_data("mallory@example.com", script, image),
        billing_address={**ADDRESS, "first_name": script, "last_name": image},
    )
    response = app.test_client().post(
        "/api/v1/orders", json=payload, headers={"Authorization": f"Bearer {api_token}"})
    assert response.status_code == 201, response.get_json()
    order_id = response.get_json()["id"]
    with app.app_context():
        customer_id = db.session.get(Order, order_id).customer_id
        db.session.remove()

    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    login(page, live_server, accounts["agent"])

    page.goto(f"{live_server}/sales/orders/")
    page.wait_for_load_state("networkidle")
    name_cell = page.locator('tr[data-order-reference="DE--666"] a.customer-link')
    expect(name_cell).to_have_text(f"Mrs {script} {image}")
    expect(page.locator("img")).to_have_count(0)
    expect(page.locator("#orders-table script")).to_have_count(0)

    page.goto(f"{live_server}/sales/orders/{order_id}")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#customer-name")).to_have_text(f"Mrs {script} {image}")
    expect(page.locator("#billing-address")).to_contain_text(f"{script} {image}, ")
    expect(page.locator("img")).to_have_count(0)

    page.goto(f"{live_server}/customers/{customer_id}")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#first-name")).to_have_text(script)
    expect(page.locator("#last-name")).to_have_text(image)
    expect(page.locator("#addresses")).to_contain_text(script)
    expect(page.locator("img")).to_have_count(0)

    page.goto(f"{live_server}/customers/")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#customers-table")).to_contain_text(script)
    expect(page.locator("img")).to_have_count(0)

    assert dialogs == []
