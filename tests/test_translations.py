"""English and German: every text marked and translated, the language chosen per user (else
by the browser), and money, dates and numbers written the language's way."""
from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest

from panel import i18n_catalog
from panel.extensions import db
from panel.formatting import (
    format_date,
    format_datetime,
    format_duration,
    format_money,
    format_number,
)
from panel.i18n import language_of
from panel.models import User
from tests import i18n_scan

GERMAN_BROWSER = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.6"}


@pytest.mark.parametrize("path", i18n_scan.templates(),
                         ids=lambda p: str(p.relative_to(i18n_scan.ROOT)))
def test_template_marks_every_text_for_translation(path):
    assert i18n_scan.unmarked_in_template(path) == []


def test_flash_messages_are_marked_for_translation():
    found = {str(path.relative_to(i18n_scan.ROOT)): texts for path in i18n_scan.python_views()
             if (texts := i18n_scan.unmarked_in_python(path))}
    assert found == {}


def test_the_scan_finds_unmarked_text(tmp_path):
    """The checks above would catch what they are for."""
    page = tmp_path / "page.html"
    page.write_text('<h1>{{ _("Orders") }}</h1><p title="Retry now">{{ n }} found</p>'
                    '{% trans %}Fine{% endtrans %}{{ m.field("x", "Current password") }}'
                    "<script>var a = 'not text';</script>")
    assert i18n_scan.unmarked_in_template(page) == [
        'title="Retry now"', "{} found", "'Current password'"]
    view = tmp_path / "view.py"
    view.write_text('flash(_("Saved."))\nflash(f"Ended {n} sessions")\n'
                    'flash("Sent" if x else _("Not sent"))\n')
    assert [t.split(":")[0] for t in i18n_scan.unmarked_in_python(view)] == ["line 2", "line 3"]


def test_german_catalog_translates_every_marked_text():
    marked = i18n_catalog.extract()
    german = i18n_catalog.read("de")
    absent = [m.id for m in marked if m.id and german.get(m.id, m.context) is None]
    assert absent == [], "run `make translations` and translate the new texts"
    assert i18n_catalog.untranslated(german) == []


def test_compiled_german_catalog_is_current():
    mo = i18n_catalog.po_path("de").with_suffix(".mo")
    assert mo.read_bytes() == i18n_catalog.compiled(i18n_catalog.read("de")), \
        "the .mo is older than the .po: run `make translations`"


def test_translations_keep_their_placeholders():
    """A translation that drops or renames a %(name)s would fail or lie when shown."""
    placeholder = re.compile(r"%\(\w+\)[sdr]")
    wrong = []
    for message in i18n_catalog.read("de"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(placeholder.findall(ids[-1])) | set(placeholder.findall(ids[0]))
        for string in strings:
            if set(placeholder.findall(string)) - wanted or \
                    not set(placeholder.findall(string)) >= set(placeholder.findall(ids[0])) - {"%(num)d"}:
                wrong.append(ids[0])
    assert wrong == []


def test_language_of_a_locale():
    assert [language_of(x) for x in ("de_DE", "de-AT", "en_GB", "fr_FR", "", None)] == \
        ["de", "de", "en", "en", "en", "en"]


def test_login_page_follows_the_browser(client):
    german = client.get("/login", headers=GERMAN_BROWSER).get_data(as_text=True)
    assert '<html lang="de">' in german and "<title>Anmelden - Order Panel</title>" in german
    assert '<label for="password">Passwort</label>' in german
    for header in ({"Accept-Language": "en-GB"}, {"Accept-Language": "fr-FR"}, {}):
        english = client.get("/login", headers=header).get_data(as_text=True)
        assert '<html lang="en">' in english and '<label for="password">Password</label>' in english


def test_failed_login_is_told_in_german(client, accounts):
    client.csrf_token()
    response = client.client.post("/login", headers=GERMAN_BROWSER, data={
        "email": accounts["agent"], "password": "wrong password here",
        "csrf_token": client.csrf_token()})
    page = response.get_data(as_text=True)
    assert "E-Mail oder Passwort ist nicht korrekt." in page
    empty = client.client.post("/login", headers=GERMAN_BROWSER,
                               data={"csrf_token": client.csrf_token()})
    assert "Dieses Feld wird benötigt." in empty.get_data(as_text=True)  # WTForms' German


def _language_of_user(app, email):
    with app.app_context():
        return db.session.scalar(db.select(User.locale).where(User.email == email))


def test_user_chooses_german_over_an_english_browser(app, as_role, accounts):
    agent = as_role("agent")
    account = agent.get("/account/").get_data(as_text=True)
    assert 'id="f-language"' in account and "My browser's language" in account
    response = agent.post_form("/account/language", {"language": "de"},
                               headers={"Accept-Language": "en"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Das Panel spricht jetzt Deutsch." in page  # the message already in German
    assert "<h4 class=\"mb-3\">Mein Konto</h4>" in page
    assert _language_of_user(app, accounts["agent"]) == "de"
    dashboard = agent.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="de">' in dashboard and " Bestellungen</a>" in dashboard  # the menu
    assert ">Abmelden</button>" in dashboard
    # Back to the browser's language.
    response = agent.post_form("/account/language", {"language": ""},
                               headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "The panel now follows your browser&#39;s language." in response.get_data(as_text=True)
    assert _language_of_user(app, accounts["agent"]) is None
    assert '<html lang="de">' in agent.get("/", headers=GERMAN_BROWSER).get_data(as_text=True)


def test_menu_in_each_language_is_kept_apart(as_role):
    """The layout's cached parts (menu, shortcuts) are kept per language."""
    admin = as_role("admin")
    german = admin.get("/", headers=GERMAN_BROWSER).get_data(as_text=True)
    english = admin.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Übergangsprotokoll" in german and "Tastenkürzel" in german
    assert "Transition Log" in english and "Keyboard shortcuts" in english
    assert "Übergangsprotokoll" not in english


def test_language_setting_refuses_what_it_does_not_know(app, as_role, accounts):
    agent = as_role("agent")
    response = agent.post_form("/account/language", {"language": "xx<script>"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is no language &#39;xx&lt;script&gt;&#39;" in page and "<script>'" not in page
    assert _language_of_user(app, accounts["agent"]) is None
    no_token = agent.client.post("/account/language", data={"language": "de"})
    assert no_token.status_code == 400
    assert _language_of_user(app, accounts["agent"]) is None


def test_language_setting_needs_a_login(client):
    assert client.client.post("/account/language", data={"language": "de"}).status_code == 400
    response = client.post_form("/account/language", {"language": "de"})  # a valid token
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_german_password_rules(as_role):
    agent = as_role("agent")
    agent.post_form("/account/language", {"language": "de"})
    response = agent.post_form("/account/password", {
        "current_password": "correct horse battery", "new_password": "kurz",
        "repeat_password": "kurz"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Das Passwort muss mindestens 15 Zeichen lang sein; es hat 4." in page
    assert "Das Passwort wurde nicht geändert" in page


def test_money_dates_numbers_and_durations_in_each_language(app):
    moment = datetime(2026, 12, 3, 16, 40, tzinfo=UTC)
    with app.test_request_context(headers=GERMAN_BROWSER):
        assert format_money(123456, "EUR") == "1.234,56\xa0€"
        assert format_money(-500, "JPY") == "-500\xa0¥"
        assert format_money(12345, "KWD") == "12,345\xa0KWD"
        assert format_datetime(moment) == "03.12.2026 16:40 UTC"
        assert format_date(moment) == "03.12.2026"
        assert format_number(1234567) == "1.234.567"
        assert format_duration(timedelta(days=2, hours=3)) == "2 Tage 3 h"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert format_money(123456, "EUR") == "€1,234.56"
        assert format_datetime(moment) == "2026-12-03 16:40 UTC"
        assert format_number(1234567) == "1,234,567"
        assert format_duration(timedelta(days=1, hours=3)) == "1 day 3 h"
    with app.test_request_context(headers=GERMAN_BROWSER):
        # What a document or mail is written in is its own, whoever asks.
        assert format_money(123456, "EUR", "en") == "€1,234.56"


@pytest.mark.parametrize("currency", ["EUR", "USD", "GBP", "CHF", "JPY", "KWD", "PLN", "XYZ"])
def test_german_money_is_written_as_babel_writes_it(currency):
    """Our German amounts (read once from the CLDR data) equal Babel's format_currency, which
    takes 15 us an amount. (HUF is left out: CLDR rounds it to whole forints; our amounts
    keep the ISO 4217 fillér.)"""
    from decimal import Decimal

    from babel.numbers import format_currency

    from panel.formatting import minor_digits

    rng = random.Random(currency)
    exponent = minor_digits(currency)
    for amount in [0, 1, -1, 99, 100, 123456, -123456, 10**12 + 7,
                   *(rng.randint(-10**10, 10**10) for _ in range(300))]:
        assert format_money(amount, currency, "de") == format_currency(
            Decimal(amount).scaleb(-exponent), currency, locale="de"), amount
