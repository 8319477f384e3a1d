"""The orders list, its saved views, its CSV and the dashboard in German: a user whose
language is German (or whose browser asks for it) reads German labels, messages and
numbers; the data's own values (states, stores, references) stay as they are."""
from __future__ import annotations

import csv
import html
import io
import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import User
from tests.conftest import order_payload

GERMAN = {"Accept-Language": "de"}


@pytest.fixture
def orders(post_order):
    for reference, store in (("DE--1", "DE"), ("AT--1", "AT")):
        response = post_order(order_payload(order_reference=reference, store=store,
                                            created_at="2026-03-01T10:00:00+00:00"))
        assert response.status_code == 201, response.json


@pytest.fixture
def german_agent(app, as_role):
    """An agent who chose German on My account."""
    client = as_role("agent")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.role == "agent").values(locale="de"))
        db.session.commit()
    return client


def text(response, status=200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return html.unescape(response.get_data(as_text=True))


def test_the_list_in_german_with_german_money_and_dates(german_agent, orders):
    page = text(german_agent.get("/sales/orders/"))
    assert "<h4 class=\"mb-0\">Übersicht der Bestellungen</h4>" in page
    assert ">Als CSV herunterladen</a>" in page
    assert re.search(r'data-column="reference">\s*<a [^>]*>Bestellreferenz</a>', page)
    assert re.search(r'data-column="grand_total">\s*<a [^>]*>Gesamtsumme</a>', page)
    assert "Alle 2 Bestellungen auswählen, die zu diesem Filter passen" in page
    row = re.search(r'<tr data-order-reference="DE--1">(.*?)</tr>', page, re.S).group(1)
    assert "54,87\xa0€" in row  # German money
    assert "01.03.2026 10:00 UTC" in row  # German date
    assert 'class="badge badge-info state-label">new<' in row  # a state stays its name
    assert ">Ansehen</a>" in row and ">Reklamieren</a>" in row


def test_a_bad_parameter_is_named_in_german(german_agent, orders):
    page = text(german_agent.get("/sales/orders/?from=gestern&sort=x"), 400)
    assert "Erstellt ab: 'gestern' ist kein Datum (JJJJ-MM-TT)" in page
    assert "sort: 'x' ist keiner der Werte created, id, reference" in page
    page = text(german_agent.get("/sales/orders/?from=2026-03-02&to=2026-03-01"), 400)
    assert "Erstellt: der Anfang 02.03.2026 liegt nach dem Ende 01.03.2026" in page


def test_saved_views_speak_german(app, german_agent, orders):
    response = german_agent.post_form("/sales/views/save",
                                      {"name": "Österreich", "query": "store=AT"})
    page = text(german_agent.get(response.headers["Location"]))
    assert "Ansicht 'Österreich' gespeichert." in page
    assert "Ansicht <strong>Österreich</strong>." in page
    assert ">Als meine Standardansicht festlegen</button>" in page
    refused = german_agent.post_form("/sales/views/save", {"name": " ", "query": "store=AT"})
    assert "Die Ansicht wurde nicht gespeichert: Der Name der Ansicht ist leer" in text(
        german_agent.get(refused.headers["Location"]))


def test_the_csv_header_follows_the_browsers_language_the_values_stay(as_role, orders):
    response = as_role("agent").get("/sales/orders/export.csv?store=DE", headers=GERMAN)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["#", "Bestellreferenz", "Erstellt", "Vollständiger Kundenname", "E-Mail",
                       "Bestellstatus", "Gesamtsumme", "Währung", "Anzahl Artikel", "Shop",
                       "Zahlungsart"]
    assert rows[1][1:2] + rows[1][5:6] + rows[1][9:] == ["DE--1", "new", "DE", "invoice"]


def test_the_dashboard_in_german(as_role, post_order):
    assert post_order(order_payload(order_reference="DE--9")).status_code == 201  # today
    page = text(as_role("agent").get("/", headers=GERMAN))
    assert '<h4 class="mb-0">Dashboard</h4>' in page
    assert 'Anzahlen über 10.000 erscheinen als „10.000+“.' in page  # German grouping
    assert "Bestellungen pro Tag, letzte 30 Tage (UTC)" in page
    assert re.search(r'id="orders-period">1 Bestellung<', page)
    assert '<span class="revenue-total">54,87\xa0€</span>' in page
    assert ">Artikel pro Status</h5>" in page
    assert ">Offene Reklamationen</span>" in page


def test_the_filters_and_their_chips_in_german(german_agent, orders):
    page = text(german_agent.get("/sales/orders/?state=new&store=DE&from=2026-03-01"))
    summary = re.search(r'id="filter-state".*?<summary[^>]*>(.*?)</summary>', page, re.S).group(1)
    assert " ".join(re.sub(r"<[^>]+>", " ", summary).split()) == "Status (1) 1 ausgewählt"
    assert 'aria-label="Status eingrenzen" placeholder="Tippen, um die Liste einzugrenzen"' in page
    assert ">Alle Prozesse</label>" in page
    assert re.findall(r'class="filter-chip"[^>]*aria-label="([^"]+)">([^<]+)<', page) == [
        ("Status: new entfernen", "Status: new "), ("Shop: DE entfernen", "Shop: DE "),
        ("Erstellt: ab 01.03.2026 entfernen", "Erstellt: ab 01.03.2026 ")]
    assert 'id="clear-filters" href="/sales/orders/?view=all">Alle entfernen</a>' in page
    assert ">Anwenden</button>" in page and ">Filter anwenden</button>" in page
