"""End-to-end: markup, script and template payloads are shown as text on every page, in Chromium.

Payloads go in through the JSON API and through the back office's forms, then every page that
shows them is opened with a dialog recorder. The browser context bypasses the
Content-Security-Policy on purpose: the policy would stop an injected inline script anyway,
and these tests are about the escaping underneath it. On each page the test checks that no
dialog opened, that no element a payload would inject exists, and that the payload is there
as literal text (or as the literal value of a form field).

Mail goes to a real SMTP server (aiosmtpd) and is read back raw: the customer's data must not
be evaluated by the mail templates' Jinja sandbox, and subject and body arrive literally.

The number of (payload, place) pairs checked is printed at the end of the module.
"""
from __future__ import annotations

import re
from email import message_from_bytes, policy
from html import escape
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADDRESS, order_payload
from tests.e2e.conftest import login, make_order
from tests.smtp import Inbox, SmtpServer, real_mail_settings

pytestmark = [pytest.mark.e2e, pytest.mark.once_per_run]

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SVG = "'><svg onload=alert(1)>"
JS_URL = "javascript:alert(1)"
SSTI = "{{7*7}}"
SSTI_CONFIG = "{{ config }}"
TEXTAREA = "</textarea><script>alert(1)</script>"
# Right-to-left marks, Hebrew, Arabic, combining marks, astral-plane characters. (Not the
# bidirectional overrides: the intake fields and address forms refuse those, see
# tests/test_text_fields.py.)
RTL = "\u200fשלום עולם مرحبا بالعالم Z\u0351\u0358alg\u0336o 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🚀\u200e end"
RTL_LONG = " ".join([RTL] * 60)  # about 3,000 characters
# An email address has no spaces, and no < or > before its @ (they would open an address of
# their own in a To header): an attribute break-out made of what an address may hold.
ATTR_EMAIL = "'onfocus='alert`1`'autofocus='@example.com"

PAYLOADS = {
    "script": SCRIPT, "img": IMG, "svg": SVG, "js-url": JS_URL, "ssti": SSTI,
    "ssti-config": SSTI_CONFIG, "textarea": TEXTAREA, "rtl": RTL,
}
ONE_LINE = " ".join(p for k, p in PAYLOADS.items() if k != "rtl")  # 154 characters
MULTI_LINE = "\n".join(PAYLOADS.values()) + "\n" + RTL_LONG
ALL = dict(PAYLOADS)  # what ONE_LINE/MULTI_LINE carry (ONE_LINE: all but rtl)
ONE_LINE_SET = {k: p for k, p in PAYLOADS.items() if k != "rtl"}

SENDER = "orders@shop.example"

# What a payload would leave in the page had it been parsed as markup.
INJECTED_JS = """() => ({
  img_x: document.querySelectorAll('img[src="x"]').length,
  svg_onload: document.querySelectorAll('svg[onload]').length,
  event_handlers: document.querySelectorAll('[onerror], [onload]').length,
  alert_scripts: Array.from(document.scripts).filter(s => s.textContent.includes('alert(')).length,
  js_urls: document.querySelectorAll(
    '[href^="javascript:alert"], [src^="javascript:"], [action^="javascript:"]').length,
})"""
CLEAN = {"img_x": 0, "svg_onload": 0, "event_handlers": 0, "alert_scripts": 0, "js_urls": 0}

TALLY: set[tuple[str, str]] = set()


# fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def report_tally(request):
    yield
    pages = len({place.split(" ", 1)[0] for _, place in TALLY})
    line = (f"test_payloads: {len(TALLY)} payload x place checks "
            f"({len({p for p, _ in TALLY})} payloads, {len({pl for _, pl in TALLY})} places "
            f"in {pages} areas)")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + line)


@pytest.fixture
def app_config(request):
    return real_mail_settings(request, sender=SENDER)


class RawInbox(Inbox):
    """The shared inbox, keeping each message's raw bytes too."""

    def __init__(self):
        super().__init__()
        self.raw = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.raw.append(envelope.content)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.inbox = RawInbox()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def page(browser, live_server):
    """A context that ignores the CSP, so an injected inline script would really run."""
    context = browser.new_context(base_url=live_server, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


class Probe:
    """Records every dialog the page opens and checks what a page shows."""

    def __init__(self, page: Page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.dialogs: list[str] = []
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message} on {self.page.url}")
        dialog.dismiss()

    def open(self, path: str, heading: str | re.Pattern | None = None) -> None:
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status == 200, (path, response)
        if heading is not None:
            expect(self.page.locator("h4")).to_have_text(heading)
        self.settle(path)

    def settle(self, where: str) -> None:
        """The page has loaded: no dialog opened and no injected element exists."""
        self.page.wait_for_load_state("load")
        assert self.page.evaluate(INJECTED_JS) == CLEAN, where
        assert self.dialogs == [], where

    def text(self, place: str, selector: str, payloads: dict[str, str]) -> None:
        """Each payload is part of the element's rendered text, literally."""
        shown = self.page.locator(selector).inner_text()
        for name, payload in payloads.items():
            assert payload in shown, f"{name!r} not shown as text in {place} ({selector})"
            TALLY.add((name, place))

    def value(self, place: str, selector: str, expected: str,
              payloads: dict[str, str]) -> None:
        """A form field holds exactly the stored text (quotes and </textarea> included)."""
        expect(self.page.locator(selector)).to_have_value(expected)
        for name, payload in payloads.items():
            assert payload in expected, (name, place)
            TALLY.add((name, place))


def carrying(value: str) -> dict[str, str]:
    """The payloads a value contains."""
    return {name: p for name, p in PAYLOADS.items() if p in value}


def api_order() -> dict:
    """An order whose every free-text field that the API takes carries payloads."""
    payload = order_payload(order_reference="XSS-1", cart_note=MULTI_LINE)
    payload["customer"].update(email=ATTR_EMAIL, first_name=SCRIPT, last_name=IMG, phone=JS_URL)
    payload["billing_address"].update(
        first_name=SSTI, middle_name=SVG, last_name=SSTI_CONFIG, address1=TEXTAREA,
        address2=JS_URL, company=IMG, city=RTL, phone=SCRIPT, email="bill@example.com",
        description=SVG, comment=MULTI_LINE)
    shipment = payload["shipments"][0]
    shipment.update(method=SCRIPT, carrier=IMG)
    shipment["address"].update(
        first_name=SVG, last_name=SCRIPT, address1=IMG, address2=SSTI, address3=SSTI_CONFIG,
        company=TEXTAREA, city=JS_URL)
    shipment["items"][0].update(name=ONE_LINE, sku=SVG)
    shipment["items"][1].update(name=RTL, sku=TEXTAREA)
    return payload


# 0 -------------------------------------------------------------------------------------


def test_the_probe_notices_injected_markup(page, live_server, accounts):
    """Were a payload parsed as markup on a served page, the probe would say so."""
    probe = Probe(page, live_server)
    login(page, live_server, accounts["agent"])
    probe.open("/sales/orders/", "Overview of Orders")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=alert(7)>')")
    expect(page.locator('img[src="x"]')).to_have_count(1)
    page.wait_for_function("() => document.querySelector('img[src=\"x\"]').complete")
    for _ in range(50):  # the error event runs the handler, which opens the dialog
        if probe.dialogs:
            break
        page.wait_for_timeout(100)
    assert probe.dialogs and probe.dialogs[0].startswith("alert: 7")
    with pytest.raises(AssertionError):
        probe.settle("the canary")


# 1 -------------------------------------------------------------------------------------


def test_api_payloads_are_text_on_every_page(app, page, live_server, accounts, post_order):
    response = post_order(api_order())
    assert response.status_code == 201, response.get_data(as_text=True)
    order_id = response.json["id"]
    probe = Probe(page, live_server)
    # A javascript: URL as the place to go after logging in is not followed.
    page.goto(f"{live_server}/login?next={quote(JS_URL)}")
    login(page, live_server, accounts["agent"])
    assert page.url.startswith(live_server + "/"), page.url
    probe.settle("login with next=javascript:")
    TALLY.add(("js-url", "login next"))
    customer_name = f"Mrs {SCRIPT} {IMG}"

    # Orders list
    probe.open("/sales/orders/", "Overview of Orders")
    row = '#orders-table tr[data-order-reference="XSS-1"]'
    probe.text("orders-list customer", f"{row} a.customer-link", carrying(customer_name))
    probe.text("orders-list email", f"{row} a.email-link", {"attr-email": ATTR_EMAIL})
    TALLY.add(("attr-email", "orders-list email"))

    # View Order
    probe.open(f"/sales/orders/{order_id}", "View Order: XSS-1")
    probe.text("order customer-name", "#customer-name", carrying(customer_name))
    probe.text("order customer-email", "#customer-email", {"attr-email": ATTR_EMAIL})
    billing = api_order()["billing_address"]
    probe.text("order billing-address", "#billing-address",
               carrying(" ".join(billing[k] for k in
                                 ("first_name", "middle_name", "last_name", "address1",
                                  "address2", "city"))))
    delivery = api_order()["shipments"][0]["address"]
    probe.text("order delivery-address", "#shipment-1 address",
               carrying(" ".join(delivery[k] for k in
                                 ("first_name", "last_name", "address1", "address2",
                                  "address3", "company", "city"))))
    probe.text("order shipping-method", "#shipment-1 .card-body > .row", {"script": SCRIPT,
                                                                           "img": IMG})
    probe.text("order items", "#shipment-1 .items-table tbody", {**ONE_LINE_SET, "rtl": RTL})
    probe.text("order totals", "#totals", {**ONE_LINE_SET, "rtl": RTL})
    probe.text("order cart-note", "#cart-note .card-body", ALL)
    expect(page.locator("#cart-note .card-body")).to_have_text(MULTI_LINE, use_inner_text=True)

    # Customers
    customer_id = int(page.locator("#customer-reference").get_attribute("href").rsplit("/", 1)[1])
    probe.open("/customers/", "Customers")
    probe.text("customers-list row", "#customers-table tbody", {
        "script": SCRIPT, "img": IMG, "attr-email": ATTR_EMAIL})
    probe.open(f"/customers/{customer_id}", "View Customer")
    expect(page.locator("#first-name")).to_have_text(SCRIPT)
    expect(page.locator("#last-name")).to_have_text(IMG)
    expect(page.locator("#email")).to_have_text(ATTR_EMAIL)
    probe.text("customer profile", "#customer-profile",
               {"script": SCRIPT, "img": IMG, "attr-email": ATTR_EMAIL, "js-url": JS_URL})
    probe.text("customer addresses", "#addresses tbody", carrying(
        " ".join(billing[k] for k in ("first_name", "last_name", "address1", "address2",
                                      "company", "city"))))

    # Forms showing stored values: every quote and </textarea> must stay inside the field.
    probe.open(f"/customers/{customer_id}/edit")
    probe.value("customer-edit first_name", "#f-first_name", SCRIPT, {"script": SCRIPT})
    probe.value("customer-edit last_name", "#f-last_name", IMG, {"img": IMG})
    probe.value("customer-edit email", "#f-email", ATTR_EMAIL, {})
    TALLY.add(("attr-email", "customer-edit email"))
    probe.value("customer-edit phone", "#f-phone", JS_URL, {"js-url": JS_URL})
    probe.open(f"/customers/{customer_id}")
    page.locator("#addresses tbody a", has_text="Edit").click()
    page.wait_for_url(re.compile(r"/addresses/\d+/edit$"))
    probe.settle("customer address edit")
    for field in ("first_name", "last_name", "address1", "address2", "company", "city",
                  "phone"):
        probe.value(f"customer-address-edit {field}", f"#f-{field}", billing[field],
                    carrying(billing[field]))

    probe.open(f"/sales/orders/{order_id}")
    page.locator("#edit-billing-address").click()
    page.wait_for_url(re.compile(r"/addresses/\d+/edit$"))
    probe.settle("order billing address edit")
    for field in ("first_name", "middle_name", "last_name", "address1", "address2", "company",
                  "city", "phone", "description", "comment"):
        probe.value(f"order-address-edit {field}", f"#f-{field}", billing[field],
                    carrying(billing[field]))
    probe.open(f"/sales/orders/{order_id}")
    page.get_by_role("link", name="Edit delivery address").click()
    page.wait_for_url(re.compile(r"/addresses/\d+/edit$"))
    probe.settle("order delivery address edit")
    for field in ("first_name", "last_name", "address1", "address2", "address3", "company",
                  "city"):
        probe.value(f"delivery-address-edit {field}", f"#f-{field}", delivery[field],
                    carrying(delivery[field]))

    # Send-email page: the To field's value
    probe.open(f"/sales/messages/{order_id}/email", "Send email to customer: XSS-1")
    probe.value("email-form to", "#email-to", f"{customer_name} <{ATTR_EMAIL}>",
                carrying(customer_name))
    TALLY.add(("attr-email", "email-form to"))

    # Reclamation: create (reason), list, details, close (note), search
    probe.open(f"/sales/reclamations/new/{order_id}", "Create Reclamation")
    probe.text("claim header", "#reclamation-form .card-header", carrying(customer_name))
    probe.text("claim items", "#claim-items tbody", {**ONE_LINE_SET, "rtl": RTL})
    page.locator("#claim-items input[name=item]").first.check()
    page.fill("#reason", MULTI_LINE)
    page.click("#create-reclamation")
    page.wait_for_url(re.compile(r"/sales/reclamations/\d+$"))
    probe.settle("reclamation created")
    reclamation_path = page.url.removeprefix(live_server)
    expect(page.locator("#reclamation-reason")).to_have_text(MULTI_LINE, use_inner_text=True)
    probe.text("reclamation reason", "#reclamation-reason", ALL)
    probe.text("reclamation customer", "#reclamation-details", {
        **carrying(customer_name), "attr-email": ATTR_EMAIL})
    probe.text("reclamation items", "#claimed-items tbody", {**ONE_LINE_SET})
    probe.open("/sales/reclamations/", "Overview of Reclamations")
    probe.text("reclamations-list row", "#reclamations-table tbody", {
        **carrying(customer_name), "attr-email": ATTR_EMAIL})
    page.fill("#q", SCRIPT)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"q="))
    probe.settle("reclamations search")
    expect(page.locator("#reclamations-table tr[data-reclamation-id]")).to_have_count(1)
    probe.value("reclamations-search box", "#q", SCRIPT, {"script": SCRIPT})
    probe.open(reclamation_path)
    page.fill("#note", MULTI_LINE)
    page.click("#close-button")
    expect(page.locator("#close-note")).to_have_text(MULTI_LINE, use_inner_text=True)
    probe.settle("reclamation closed")
    probe.text("reclamation close-note", "#close-note", ALL)

    probe.open(f"/sales/orders/{order_id}")
    probe.text("order history reclamation-opened",
               '#history li[data-kind="reclamation"]:has-text("opened")', ALL)
    probe.text("order history reclamation-closed",
               '#history li[data-kind="reclamation"]:has-text("closed")', ALL)

    # Orders list search, then "select all matching": the selection describes the search.
    probe.open("/sales/orders/")
    page.fill("#q", IMG)
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"q="))
    probe.settle("orders search")
    expect(page.locator("#orders-table tr[data-order-reference]")).to_have_count(1)
    probe.value("orders-search box", "#q", IMG, {"img": IMG})
    page.click("#bulk-select-all")
    page.wait_for_url(re.compile(r"/sales/bulk/selections/\d+$"))
    probe.settle("bulk selection")
    expect(page.locator("#selection-description")).to_have_text(
        f'All orders matching: search "{IMG}"')
    TALLY.add(("img", "bulk-selection description"))
    page.select_option("#bulk-event", "pay")
    page.click("#preview-button")
    page.wait_for_url(re.compile(r"event=pay"))
    probe.settle("bulk preview")
    page.click("#confirm-button")
    page.wait_for_url(re.compile(r"/runs/\d+"))
    expect(page.locator("#run-status")).to_contain_text("done")
    probe.settle("bulk run")
    probe.text("bulk-run description", "#bulk-run", {"img": IMG})


# 2 -------------------------------------------------------------------------------------


def test_form_payloads_are_text_on_every_page(app, page, live_server, accounts, smtp):
    order = make_order(app, order_reference="XSS-2")
    probe = Probe(page, live_server)
    login(page, live_server, accounts["agent"])

    # Edit Customer
    probe.open(f"/customers/{order['customer_id']}/edit")
    customer = {"first_name": TEXTAREA, "last_name": SSTI_CONFIG, "phone": IMG,
                "company": f"{SVG} {JS_URL}", "email": "x@example.com"}
    for field, value in customer.items():
        page.fill(f"#f-{field}", value)
    page.click("#save-customer")
    page.wait_for_url(re.compile(rf"/customers/{order['customer_id']}$"))
    probe.settle("customer saved")
    expect(page.locator("#first-name")).to_have_text(TEXTAREA)
    expect(page.locator("#last-name")).to_have_text(SSTI_CONFIG)
    probe.text("customer profile (form)", "#customer-profile", carrying(" ".join(
        customer.values())))
    probe.open("/customers/")
    probe.text("customers-list row (form)", "#customers-table tbody",
               {"textarea": TEXTAREA, "ssti-config": SSTI_CONFIG})
    probe.open(f"/customers/{order['customer_id']}/edit")
    for field, value in customer.items():
        probe.value(f"customer-edit {field} (form)", f"#f-{field}", value, carrying(value))

    # Edit an address in the customer's address book
    probe.open(f"/customers/{order['customer_id']}")
    page.locator("#addresses tbody a", has_text="Edit").click()
    page.wait_for_url(re.compile(r"/addresses/\d+/edit$"))
    book = {"first_name": SVG, "last_name": RTL, "address1": SCRIPT, "address2": TEXTAREA,
            "company": IMG, "city": SSTI}
    for field, value in book.items():
        page.fill(f"#f-{field}", value)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/customers/{order['customer_id']}$"))
    probe.settle("customer address saved")
    probe.text("customer addresses (form)", "#addresses tbody", carrying(" ".join(
        book.values())))

    # Edit the order's billing address
    probe.open(f"/sales/orders/{order['id']}")
    page.click("#edit-billing-address")
    page.wait_for_url(re.compile(r"/addresses/\d+/edit$"))
    address = {"first_name": SCRIPT, "middle_name": RTL, "last_name": IMG,
               "address1": SVG, "address2": TEXTAREA, "address3": JS_URL, "company": SSTI,
               "city": SSTI_CONFIG, "description": IMG, "comment": MULTI_LINE}
    for field, value in address.items():
        page.fill(f"#f-{field}", value)
    page.click("#save-address")
    page.wait_for_url(re.compile(rf"/sales/orders/{order['id']}(#.*)?$"))
    probe.settle("order address saved")
    probe.text("order billing-address (form)", "#billing-address", carrying(" ".join(
        address[k] for k in ("first_name", "middle_name", "last_name", "address1", "address2",
                             "address3", "city"))))
    probe.text("order history address (form)", '#history li[data-kind="address"]', ALL)
    page.click("#edit-billing-address")
    page.wait_for_url(re.compile(r"/addresses/\d+/edit$"))
    probe.settle("order address edit again")
    for field, value in address.items():
        probe.value(f"order-address-edit {field} (form)", f"#f-{field}", value, carrying(value))

    # A comment
    probe.open(f"/sales/orders/{order['id']}")
    page.fill("#message", MULTI_LINE)
    page.get_by_role("button", name="Send Message").click()
    expect(page.locator(".alert", has_text="Comment added.")).to_be_visible()
    probe.settle("comment added")
    expect(page.locator("#comments .comment-text")).to_have_text(MULTI_LINE, use_inner_text=True)
    probe.text("order comments (form)", "#comments .comment-text", ALL)
    probe.text("order history comment (form)", '#history li[data-kind="comment"]', ALL)

    # A state change, so the history holds every kind
    page.locator('#order-events button[name="event"][value="pay"]').click()
    expect(page.locator('#history li[data-kind="state"]').first).to_be_visible()
    probe.settle("event triggered")

    # An email: preview (the form comes back with the values), then send
    probe.open(f"/sales/messages/{order['id']}/email")
    subject = ONE_LINE
    page.fill("#subject", subject)
    page.fill("#body", MULTI_LINE)
    page.click("#preview")
    expect(page.locator("#email-preview")).to_be_visible()
    probe.settle("email preview")
    probe.value("email-form subject after preview", "#subject", subject, ONE_LINE_SET)
    probe.value("email-form body after preview", "#body", MULTI_LINE, ALL)
    expect(page.locator("#preview-body")).to_have_text(MULTI_LINE, use_inner_text=True)
    probe.text("email preview subject", "#preview-subject", ONE_LINE_SET)
    probe.text("email preview body", "#preview-body", ALL)
    page.click("#send")
    page.wait_for_url(re.compile(rf"/sales/messages/{order['id']}/emails/\d+$"))
    error = page.locator("#email-error")
    assert error.count() == 0, error.inner_text()
    expect(page.locator("#email-status")).to_have_text("sent")
    probe.settle("email copy")
    copy_path = page.url.removeprefix(live_server)
    expect(page.locator("#copy-body")).to_have_text(MULTI_LINE, use_inner_text=True)
    probe.text("email copy subject", "#copy-subject", ONE_LINE_SET)
    probe.text("email copy body", "#copy-body", ALL)
    [raw] = smtp.inbox.raw
    # One body line of about 6,000 bytes went out within SMTP's 998-byte line limit.
    assert max(len(line) for line in raw.splitlines()) <= 998
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["subject"] == subject
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n") == MULTI_LINE + "\n"

    # A reclamation through its form
    probe.open(f"/sales/reclamations/new/{order['id']}")
    page.locator("#claim-items input[name=item]").first.check()
    page.fill("#reason", ONE_LINE)
    page.click("#create-reclamation")
    page.wait_for_url(re.compile(r"/sales/reclamations/\d+$"))
    probe.settle("reclamation created (form)")
    probe.text("reclamation reason (form)", "#reclamation-reason", ONE_LINE_SET)

    # View Order: the history shows every kind, each with its payloads as text
    probe.open(f"/sales/orders/{order['id']}")
    kinds = page.locator("#history li[data-kind]").evaluate_all(
        "lis => lis.map(li => li.getAttribute('data-kind'))")
    assert set(kinds) == {"state", "comment", "email", "address", "reclamation"}, kinds
    email_entry = page.locator('#history li[data-kind="email"]')
    expect(email_entry.get_by_role("link", name=subject)).to_have_attribute("href", copy_path)
    probe.text("order history email (form)", '#history li[data-kind="email"]', ONE_LINE_SET)
    probe.text("order history reclamation (form)", '#history li[data-kind="reclamation"]',
               ONE_LINE_SET)
    probe.text("order history comment (reload)", '#history li[data-kind="comment"]', ALL)
    probe.text("order history address (reload)", '#history li[data-kind="address"]', ALL)
    probe.text("order comments (reload)", "#comments .comment-text", ALL)
    probe.text("order customer-name (form)", "#billing-address", carrying(
        f"{SCRIPT} {RTL} {IMG}"))


# 3 -------------------------------------------------------------------------------------


def test_mail_template_does_not_evaluate_customer_data(app, page, live_server, accounts,
                                                         smtp, post_order):
    """The customer's name and the item names hold template syntax and markup; a template
    mail quotes them, and the sent message carries them, literally."""
    payload = order_payload(order_reference="XSS-3", locale="en_GB")  # mails in English
    payload["customer"].update(first_name=SSTI, last_name=SSTI_CONFIG,
                               email="tpl@example.com")
    payload["billing_address"] = dict(ADDRESS, first_name=SSTI, last_name=SSTI_CONFIG)
    items = payload["shipments"][0]["items"]
    items[0]["name"] = f"{SCRIPT} {{{{ config.SECRET_KEY }}}}"
    items[1]["name"] = f"{TEXTAREA} {{% for x in range(3) %}}X{{% endfor %}}"
    response = post_order(payload)
    assert response.status_code == 201, response.get_data(as_text=True)
    order_id = response.json["id"]
    probe = Probe(page, live_server)
    login(page, live_server, accounts["agent"])

    probe.open(f"/sales/messages/{order_id}/email", "Send email to customer: XSS-3")
    page.locator("#template").select_option(label="Order update")
    page.locator("#use-template").click()
    expect(page.locator("#subject")).to_have_value("An update on your order XSS-3")
    probe.settle("template used")
    rendered = page.locator("#body").input_value()
    greeting = f"Hello Mrs {SSTI} {SSTI_CONFIG},"
    assert rendered.startswith(greeting + "\n"), rendered
    assert f"- {items[0]['name']}: new" in rendered, rendered
    assert f"- {items[1]['name']}: new" in rendered, rendered
    for evaluated in ("49", "test-secret", "<Config", "XXX"):
        assert evaluated not in rendered, evaluated
    for name in ("ssti", "ssti-config", "script", "textarea"):
        TALLY.add((name, "mail template body"))

    subject = f"An update on your order XSS-3 {ONE_LINE}"
    body = rendered + "\n" + MULTI_LINE
    page.fill("#subject", subject)
    page.fill("#body", body)
    page.click("#send")
    page.wait_for_url(re.compile(rf"/sales/messages/{order_id}/emails/\d+$"))
    expect(page.locator(".alert", has_text="Email sent to tpl@example.com.")).to_be_visible()
    probe.settle("template mail copy")
    expect(page.locator("#copy-subject")).to_have_text(subject)
    expect(page.locator("#copy-body")).to_have_text(body, use_inner_text=True)
    probe.text("template mail copy body", "#copy-body", ALL)

    [raw] = smtp.inbox.raw
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["subject"] == subject
    TALLY.update((name, "mail subject") for name in ONE_LINE_SET)
    texts = [part for part in mail.walk() if part.get_content_type() == "text/plain"]
    htmls = [part for part in mail.walk() if part.get_content_type() == "text/html"]
    assert len(texts) == 1
    sent = texts[0].get_content().replace("\r\n", "\n")
    assert sent == body + "\n"
    TALLY.update((name, "mail text part") for name in PAYLOADS)
    for evaluated in ("49", "test-secret", "<Config", "XXX"):
        assert evaluated not in sent, evaluated
    assert b"test-secret" not in raw
    # The panel sends plain text only; should an HTML part appear, it must escape everything.
    for part in htmls:
        html = part.get_content()
        for name, text in PAYLOADS.items():
            if name != "rtl":
                assert text not in html and escape(text, quote=False) in html, name
            TALLY.add((name, "mail html part"))
    assert [p.get_content_type() for p in mail.walk() if not p.is_multipart()] == [
        "text/plain"]

    # The stored copy's link in the order's history, with the payload subject as its text
    probe.open(f"/sales/orders/{order_id}", "View Order: XSS-3")
    probe.text("order history email (template)", '#history li[data-kind="email"]',
               ONE_LINE_SET)
    probe.text("order customer-name (template)", "#customer-name",
               {"ssti": SSTI, "ssti-config": SSTI_CONFIG})
    expect(page.locator("#customer-name")).to_have_text(f"Mrs {SSTI} {SSTI_CONFIG}")
