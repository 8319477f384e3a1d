"""End-to-end: German in Chromium. A browser set to German gets the login page in German; a
user with an English browser chooses German on My account and works in it (menu, list,
money and dates the German way, the order page, a flash message); then goes back to the
browser's language."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import TIMEOUT_MS, login, make_order, open_menu

pytestmark = pytest.mark.e2e


def test_a_german_browser_gets_the_login_page_in_german(browser, live_server, accounts):
    context = browser.new_context(base_url=live_server, locale="de-DE")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page).to_have_title("Anmelden - Order Panel")
        page.fill("#email", accounts["agent"])
        page.fill("#password", "not the password at all")
        page.get_by_role("button", name="Anmelden").click()
        expect(page.get_by_role("alert")).to_have_text("E-Mail oder Passwort ist nicht korrekt.")
        page.fill("#email", accounts["agent"])
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        expect(page.locator("#current-user")).to_be_visible()
        expect(page.locator("nav.navbar")).to_contain_text("Bestellungen")
    finally:
        context.close()


def test_a_user_chooses_german_and_works_in_it(app, accounts, page: Page, live_server):
    order = make_order(app, order_reference="DE--4711")  # 54.87 EUR
    login(page, live_server, accounts["agent"])  # the page's browser asks for English
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.locator("#current-user").click()
    page.select_option("#f-language", "de")
    page.locator("#save-language").click()
    expect(page.locator(".alert-success")).to_contain_text("Das Panel spricht jetzt Deutsch.")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("h4")).to_have_text("Mein Konto")

    open_menu(page, "Verkauf", "Bestellungen")
    expect(page).to_have_url(re.compile(r"/sales/orders/"))
    row = page.locator(f'tr[data-order-reference="{order["reference"]}"]')
    expect(row).to_contain_text("54,87 €")  # money the German way
    expect(row).to_contain_text(re.compile(r"\d\d\.\d\d\.\d{4} \d\d:\d\d"))  # and the date
    expect(page.locator("#result-count")).to_contain_text("gefunden, Seite 1")
    row.locator('input[name="order"]').check()  # the script's words come from the page
    expect(page.locator("#bulk-ticked")).to_have_text("1 Bestellung angekreuzt:")

    page.goto(f"{live_server}/sales/orders/{order['id']}")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("nav.navbar")).to_contain_text("Abmelden")
    expect(page.get_by_text("54,87 €").first).to_be_visible()

    # Back to the browser's language: English again, the setting's own message in English.
    page.locator("#current-user").click()
    page.select_option("#f-language", "")
    page.locator("#save-language").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "The panel now follows your browser's language.")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h4")).to_have_text("My account")
