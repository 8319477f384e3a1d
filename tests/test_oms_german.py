"""The state machine's pages in German: Stuck items, bulk actions, the process graph, the
Transition Log, the Outbox and Plugins, for a user whose language is German (their texts,
flash messages and labels of stored values; dates and counts written the German way). The
names from the process files (states, events, processes) stay as they are.

The English of the same pages is what their own tests check (test_stuck_items.py,
test_bulk_actions.py, test_oms_pages.py, test_outbox.py, test_plugins.py).
"""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import OutboundEmail, User
from panel.models.base import utcnow
from panel.oms import engine
from panel.services import outbox
from tests.conftest import place_orders
from tests.plugins import stuck_fixture

AGENT = "Agent User <agent@example.org>"
GERMAN_MOMENT = re.compile(r"\d\d\.\d\d\.\d{4} \d\d:\d\d UTC")


@pytest.fixture
def app_config():
    return stuck_fixture.app_config()


@pytest.fixture(autouse=True)
def healthy_services():
    yield from stuck_fixture.healthy()


@pytest.fixture
def german(app, accounts, as_role):
    """german("admin"): a client signed in as that role, whose language setting is German."""

    def make(role: str):
        with app.app_context():
            db.session.execute(sa.update(User).where(User.email == accounts[role])
                               .values(locale="de"))
            db.session.commit()
        return as_role(role)

    return make


def text(response, status: int = 200) -> str:
    """The page as a user reads it: tags gone, entities decoded, spaces collapsed."""
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:3000]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def followed(client, response) -> str:
    assert response.status_code in (302, 303), response.status_code
    return text(client.get(response.headers["Location"]))


def test_stuck_items_and_their_retry_in_german(app, post_order, german):
    [order_id] = place_orders(post_order)
    stuck_fixture.FAILING.add("Stuck/Capture")
    with app.app_context():
        assert engine.trigger_event(order_id, "pay", actor=AGENT).error
    stuck_fixture.FAILING.clear()
    admin = german("admin")

    page = text(admin.get("/administration/stuck-items/"))
    assert "Hängende Artikel, die am längsten hängenden zuerst" in page
    assert "Letzter Befehl fehlgeschlagen" in page  # the reason's label; its key stays
    assert "Angehakte Artikel erneut versuchen" in page and "Filter anwenden" in page
    failure = re.search(r'„pay“ fehlgeschlagen am (\S+ \S+ UTC)', page)
    assert failure and GERMAN_MOMENT.fullmatch(failure.group(1)), page
    assert "Stuck/Capture cannot reach its service" in page  # the engine's message: data
    assert re.search(r"hängt seit \d\d\.\d\d\.\d{4}", page)
    raw = admin.get("/administration/stuck-items/").get_data(as_text=True)
    assert 'title="Höchstens 1.000 Artikel pro Klick, die am längsten wartenden zuerst"' in raw

    with app.app_context():
        items = [item.id for item in engine.load_items(order_id, None)]
    response = admin.post_form("/administration/stuck-items/retry",
                               {"item": [str(i) for i in items]})
    assert (f"{len(items)} Artikel erneut versucht: {len(items)} verschoben, 0 geblieben "
            "(keine Bedingung erfüllt).") in followed(admin, response)

    response = admin.post_form("/administration/stuck-items/retry", {})
    assert ("Nichts wurde erneut versucht: Haken Sie die Artikel an, die erneut versucht "
            "werden sollen.") in followed(admin, response)
    # A wrong filter is named in German; the parameter and its value stay as they are.
    page = text(admin.get("/administration/stuck-items/?reason=lost"), 400)
    assert "reason: 'lost' ist keiner der Werte failed, overdue, waiting" in page


def test_a_bulk_action_in_german(app, post_order, german):
    ids = place_orders(post_order, 2)
    agent = german("agent")
    response = agent.post_form("/sales/bulk/select", {"order": [str(i) for i in ids]})
    assert response.status_code == 303
    selection_url = response.headers["Location"]

    page = text(agent.get(selection_url + "?event=pay"))
    assert "Ereignis für die ausgewählten Bestellungen auslösen" in page
    assert "Vorschau: „pay“" in page
    assert "2 von 2 Bestellungen mit 6 Artikeln würden verschoben." in page
    assert "0 Bestellungen würden übersprungen." in page
    assert "wechselt zu paid" in page  # the target state's name stays
    assert "Bestätigen: „pay“ für 2 Bestellungen auslösen" in page

    page = text(agent.get(selection_url + "?event=deliver"), 400)
    assert "„deliver“ ist kein Ereignis, das sich jetzt für einen Artikel dieser Bestellungen" \
        in page

    response = agent.post_form(selection_url + "/runs", {"event": "pay"})
    run_url = response.headers["Location"]
    raw = agent.get(run_url).get_data(as_text=True)
    assert 'data-text-done="Fertig."' in raw  # what panel.js says, in German
    assert "Klicken Sie auf „Nächsten Stapel ausführen“" in html.unescape(raw)
    page = text(agent.get(run_url))
    assert "Nächsten Stapel ausführen" in page and "0 / 2 Bestellungen erledigt" in page
    assert re.search(r"Gestartet \d\d\.\d\d\.\d{4} \d\d:\d\d UTC von Agent User", page)

    response = agent.post_form(run_url + "/batch")
    page = followed(agent, response)
    assert "2 / 2 Bestellungen erledigt" in page
    assert "verschoben 2" in page and "Bericht" in page  # the outcome's label and count
    assert 'data-outcome="moved"' in agent.get(run_url).get_data(as_text=True)  # its value

    report = agent.get(run_url + "/report.csv").get_data(as_text=True)
    assert next(csv.reader(io.StringIO(report))) == [
        "#", "Bestellreferenz", "Ergebnis", "Artikel verschoben", "Artikel übersprungen",
        "Nachricht", "Ausgeführt von"]


def test_the_process_graph_and_transition_log_in_german(app, post_order, german):
    [order_id] = place_orders(post_order)
    viewer = german("viewer")

    page = text(viewer.get("/administration/oms/"))
    assert "Prozesse der Bestell-Zustandsmaschine" in page and "Zeichnen" in page

    page = text(viewer.get("/administration/oms/process/Stuck01?state=new"))
    assert "Prozess: Stuck01" in page
    assert "Graph: Status new hervorgehoben" in page
    assert "Artikel pro Status" in page and "Legende" in page
    # The drawing's own words (in the SVG, or the DOT source without Graphviz).
    assert "(manuell)" in page and "(beim Eintritt)" in page and "(3 Artikel)" in page
    assert "Timeout: 1 hour" in page  # the process file's timeout is a value

    page = text(viewer.get("/administration/oms/process/Stuck01?state=lost"), 400)
    assert "Diese Parameter wurden ignoriert:" in page
    assert "state: 'lost' ist kein Status des Prozesses Stuck01" in page

    stuck_fixture.FAILING.add("Stuck/Capture")
    with app.app_context():
        engine.trigger_event(order_id, "pay", actor=AGENT)
    page = text(viewer.get("/administration/transition-log/?errors=1"))
    assert "Übergangsprotokoll" in page and "Übergänge, die neuesten zuerst" in page
    assert "Ausgangsstatus" in page and "Nur Fehler" in page
    assert GERMAN_MOMENT.search(page)


def test_the_outbox_in_german(app, post_order, german):
    [order_id] = place_orders(post_order)
    with app.app_context():
        writer = db.session.scalar(sa.select(User))
        mail_id = outbox.queue_email(order_id, "Ihre Bestellung", "Body", template=None,
                                     user=writer).id
        now = utcnow()
        db.session.execute(sa.update(OutboundEmail).where(OutboundEmail.id == mail_id).values(
            status="failed", attempts=1, last_error="ConnectionRefusedError",
            last_attempt_at=now, next_attempt_at=now + timedelta(minutes=1),
            give_up_at=now + timedelta(days=2)))
        db.session.commit()
    agent = german("agent")

    raw = agent.get("/administration/outbox/").get_data(as_text=True)
    assert re.search(r'data-status="failed"[^>]*>Fehlgeschlagen <span[^>]*>1<', raw)
    page = text(agent.get("/administration/outbox/"))
    assert "Postausgang" in page and "Letzte Stunde" in page and "Alle Status" in page
    assert "Jetzt erneut versuchen" in page and "Alle fehlgeschlagenen erneut versuchen" in page
    assert re.search(r"Versuche bis \d\d\.\d\d\.\d{4} \d\d:\d\d UTC", page)
    assert "ConnectionRefusedError" in page  # the mail server's answer: data

    response = agent.post_form("/administration/outbox/retry", {"email": [str(mail_id)]})
    assert "1 E-Mail ist jetzt fällig, mit einem neuen Zeitraum für Versuche" in followed(
        agent, response)
    page = text(agent.get("/administration/outbox/?status=lost"), 400)
    assert "status: 'lost' ist keiner der Werte queued, failed, undeliverable, sent" in page


def test_the_plugins_page_in_german(german):
    page = text(german("admin").get("/administration/plugins/"))
    assert "Mitgelieferte Plugins kommen mit Order Panel" in page
    assert "Timeout-Prozessoren" in page
    assert stuck_fixture.NAME in page  # a plugin's name stays
