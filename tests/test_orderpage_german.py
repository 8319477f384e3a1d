"""View Order, its mails and the customer pages in German.

A back-office user reads the pages in their own language; a mail to a customer is written in
the order's language (its locale), whoever sends it and however it is sent.
"""
import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Order, OutboundEmail, User
from panel.oms import engine
from panel.services import outbox
from tests.conftest import order_payload
from tests.smtp import real_mail_settings

GERMAN = {"Accept-Language": "de"}
NBSP = "\xa0"  # between a German amount and its currency sign


@pytest.fixture
def app_config(request):
    return real_mail_settings(request, PANEL_PLUGINS=("tests.plugins.template_fixture",))


def place(post_order, locale="de_DE", reference="DE--1") -> int:
    response = post_order(order_payload(locale=locale, order_reference=reference))
    assert response.status_code == 201, response.json
    return response.json["id"]


def text(client, response) -> str:
    if response.status_code == 302:
        response = client.get(response.headers["Location"], headers=GERMAN)
    return re.sub(r"[ \t\r\n]+", " ", response.get_data(as_text=True))  # keeps the NBSP


def speaks_german(app, email: str) -> None:
    """The user's own setting (My account): German, whatever the browser asks for."""
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == email).values(locale="de"))
        db.session.commit()


def form_value(page: str, name: str) -> str:
    if name == "body":
        found = re.search(r'<textarea id="body"[^>]*>(.*?)</textarea>', page, re.S)
    else:
        found = re.search(rf'id="{name}" name="{name}"[^>]*value="([^"]*)"', page)
    return found.group(1).replace("&#39;", "'").replace("&amp;", "&")


# --- the pages ----------------------------------------------------------------------------

def test_view_order_in_german(as_role, post_order):
    order_id = place(post_order)
    agent = as_role("agent")
    page = text(agent, agent.get(f"/sales/orders/{order_id}", headers=GERMAN))
    assert "<h4 class=\"mb-0\">Bestellung ansehen: DE--1" in page
    assert "Zurück zu den Bestellungen" in page and ">Reklamieren<" in page
    assert "Bestellübersicht" in page and "Bestellreferenz" in page
    assert "Zwischensumme" in page and "GESAMTSUMME" in page
    assert f'id="grand-total">54,87{NBSP}€<' in page
    assert "Versand: Standard (DHL)" in page and "inkl. 19 % Steuer" in page
    assert "Lieferung 1 von 1" in page and "Gewünschtes Lieferdatum" in page
    assert "schnellstmöglich" in page and "SKU: SHOE-1" in page
    assert re.search(r"Bestelldatum</dt><dd class=\"col-6\">\d\d\.\d\d\.\d{4} \d\d:\d\d UTC",
                     page)
    assert 'title="bewegt 3 Artikel"' in page  # the order's "pay" button
    assert "Mengen und Beträge" in page and "Alle Artikel" in page
    assert "Dokumente" in page and "Rechnung ausstellen" in page
    for kind in ("Statusänderungen", "Kommentare", "E-Mails", "Adressänderungen"):
        assert f">{kind}</label>" in page
    assert "An dieser Bestellung wurde noch nichts geändert." in page
    assert "Noch keine Kommentare." in page and ">Nachricht senden<" in page


def test_history_and_messages_in_german(app, as_role, post_order):
    order_id = place(post_order)
    agent = as_role("agent")
    speaks_german(app, "agent@example.org")  # a flash is written in the request that makes it
    agent.post_form(f"/sales/orders/{order_id}/trigger", {"event": "pay"})
    added = text(agent, agent.post_form(f"/sales/messages/{order_id}/comments",
                                        {"message": "Telefonisch bezahlt."}))
    assert "Kommentar hinzugefügt." in added
    history = re.search(r'id="history".*?</ul>', added).group(0)
    assert "Agent User hat kommentiert:" in history
    assert "pay hat 3 Artikel von <em>new</em> nach <em>paid</em> verschoben" in history

    refused = text(agent, agent.post_form(f"/sales/messages/{order_id}/comments",
                                          {"message": "x" * 10_001}))
    assert ("Der Kommentar wurde nicht gespeichert: die Nachricht ist 10.001 Zeichen lang; "
            "höchstens 10.000 sind erlaubt.") in refused
    nothing = text(agent, agent.post_form(f"/sales/orders/{order_id}/trigger", {"event": ""}))
    assert "Nichts wurde ausgelöst: wählen Sie ein Ereignis zum Auslösen." in nothing
    missing = text(agent, agent.get("/sales/orders/999999"))
    assert "Bestellung #999999 nicht gefunden." in missing


def test_edit_address_and_customer_in_german(app, as_role, post_order):
    order_id = place(post_order)
    agent = as_role("agent")
    speaks_german(app, "agent@example.org")  # no Accept-Language: the setting decides
    with app.app_context():
        order = db.session.get(Order, order_id)
        address_id, customer_id = order.billing_address_id, order.customer_id
    url = f"/sales/orders/{order_id}/addresses/{address_id}/edit"
    form = text(agent, agent.get(url))
    assert "Adresse der Bestellung bearbeiten: DE--1" in form
    assert "Adressdaten (Rechnung)" in form and ">Vorname <span" in form
    assert "Code aus zwei Buchstaben, z. B. DE" in form
    refused = agent.post_form(url, {"first_name": "", "last_name": "Schmidt", "country": "DE",
                                    "address1": "Hauptstr. 1", "city": "Berlin",
                                    "zip_code": "10115"})
    assert refused.status_code == 400
    assert ("Die Adresse wurde nicht gespeichert: Korrigieren Sie die unten markierten "
            "Felder.") in text(agent, refused)

    customers = text(agent, agent.get("/customers/"))
    assert "<h4 class=\"mb-3\">Kunden</h4>" in customers and "Filter anwenden" in customers
    assert 'placeholder="E-Mail, Name oder Kundenreferenz"' in customers
    details = text(agent, agent.get(f"/customers/{customer_id}"))
    assert "Kunde ansehen" in details and "Bestellungen (1)" in details
    assert re.search(r"Registriert am</dt><dd class=\"col-sm-9\">\d\d\.\d\d\.\d{4}", details)
    saved = text(agent, agent.post_form(f"/customers/{customer_id}/edit", {
        "salutation": "Mrs", "first_name": "Anna", "last_name": "Schmidt",
        "email": "anna@example.com", "phone": "030 1234"}))
    assert "Kunde aktualisiert." in saved


# --- mails to customers: in the order's language ----------------------------------------------

def test_order_confirmation_through_the_outbox_is_german_for_a_german_order(app, post_order,
                                                                            smtp):
    german, english = place(post_order), place(post_order, "en_GB", "GB--1")
    with app.app_context():
        work = []
        for order_id in (german, english):
            outbox.queue_order_mail(db.session.get(Order, order_id), "order confirmation",
                                    actor="state machine", after_commit=work)
        db.session.commit()
        for deliver in work:
            deliver()
    mails = {m["subject"]: m["body"] for m in smtp.inbox.messages}
    assert mails["Ihre Bestellung DE--1 ist bestätigt"] == (
        "Guten Tag Frau Anna Schmidt,\n\nvielen Dank für Ihre Bestellung DE--1 über "
        f"54,87{NBSP}€. Wir bereiten sie jetzt vor.\n\nMit freundlichen Grüßen\n"
        "Kundenservice\n")
    assert mails["Your order GB--1 is confirmed"] == (
        "Hello Mrs Anna Schmidt,\n\nthank you for your order GB--1 of €54.87. We are "
        "preparing it.\n\nKind regards,\nCustomer Service\n")


def test_state_machine_mail_of_an_austrian_order_is_german(app, post_order, smtp):
    order_id = place(post_order, "de_AT", "AT--1")
    with app.app_context():
        engine.trigger_event(order_id, "pay", actor="agent")
        engine.trigger_event(order_id, "ship", actor="agent")
    assert [m["subject"] for m in smtp.inbox.messages] == ["Ihre Bestellung AT--1 ist unterwegs"]


def test_english_user_emails_a_german_order_in_german(app, as_role, post_order, smtp):
    order_id = place(post_order)
    agent = as_role("agent")  # English: the browser asks for no language
    url = f"/sales/messages/{order_id}/email"
    picker = text(agent, agent.get(url))
    assert ">Order confirmation</option>" in picker  # the user's language
    form = agent.post_form(url, {"action": "template", "template": "order confirmation"})
    page = form.get_data(as_text=True)
    subject, body = form_value(page, "subject"), form_value(page, "body")
    assert subject == "Ihre Bestellung DE--1 ist bestätigt"
    assert body.startswith("Guten Tag Frau Anna Schmidt,") and f"54,87{NBSP}€" in body
    assert body.endswith("Mit freundlichen Grüßen\nAgent User")
    sent = text(agent, agent.post_form(url, {"action": "send", "template": "order confirmation",
                                             "subject": subject, "body": body}))
    assert "Email sent to anna@example.com." in sent  # the page stays English
    [mail] = smtp.inbox.messages
    assert mail["subject"] == "Ihre Bestellung DE--1 ist bestätigt"
    assert "vielen Dank für Ihre Bestellung DE--1" in mail["body"]
    with app.app_context():
        assert db.session.scalar(sa.select(OutboundEmail.template)) == "order confirmation"


def test_german_user_emails_an_english_order_in_english(app, as_role, post_order, smtp):
    order_id = place(post_order, "en_GB", "GB--1")
    agent = as_role("agent")
    speaks_german(app, "agent@example.org")
    url = f"/sales/messages/{order_id}/email"
    picker = text(agent, agent.get(url))
    assert "E-Mail an den Kunden senden: GB--1" in picker and ">Vorlage verwenden<" in picker
    assert ">Bestellbestätigung</option>" in picker  # titles in the user's language
    page = agent.post_form(url, {"action": "template", "template": "order confirmation"}
                           ).get_data(as_text=True)
    subject, body = form_value(page, "subject"), form_value(page, "body")
    assert subject == "Your order GB--1 is confirmed"
    assert body == ("Hello Mrs Anna Schmidt,\n\nthank you for your order GB--1 of €54.87. We "
                    "are preparing it.\n\nKind regards,\nAgent User")
    sent = text(agent, agent.post_form(url, {"action": "send", "subject": subject,
                                             "body": body}))
    assert "E-Mail an anna@example.com gesendet." in sent
    assert [m["subject"] for m in smtp.inbox.messages] == ["Your order GB--1 is confirmed"]


def test_template_problem_is_told_in_the_users_language(app, as_role, post_order):
    """The mail is rendered in German, the error about it is in the reader's language."""
    order_id = place(post_order)
    agent = as_role("agent")
    url = f"/sales/messages/{order_id}/email"
    english = text(agent, agent.post_form(url, {"action": "template", "template": "broken"}))
    assert "Not sent: the body of &#39;broken&#39;:" in english
    speaks_german(app, "agent@example.org")
    german = text(agent, agent.post_form(url, {"action": "template", "template": "broken"}))
    assert "Nicht gesendet: der Text von &#39;broken&#39;:" in german
    empty = text(agent, agent.post_form(url, {"action": "send", "subject": "", "body": "x"}))
    assert "Nicht gesendet: Betreff ist leer." in empty


def test_a_project_template_in_two_languages(app, as_role, post_order):
    """A project plugin gives its own mail as {language: text}: the order's language is
    picked, English for a language it lacks; the title is in the user's language."""
    agent = as_role("agent")
    for locale, reference, subject, body in (
        ("de_AT", "AT--1", "Ein Gutschein für AT--1",
         f"Liebe(r) Anna, viel Freude mit 54,87{NBSP}€."),
        ("en_US", "US--1", "A voucher for US--1", "Dear Anna, enjoy €54.87."),
        ("fr_FR", "FR--1", "A voucher for FR--1", "Dear Anna, enjoy €54.87."),
    ):
        url = f"/sales/messages/{place(post_order, locale, reference)}/email"
        page = agent.post_form(url, {"action": "template", "template": "voucher"}
                               ).get_data(as_text=True)
        assert (form_value(page, "subject"), form_value(page, "body")) == (subject, body)
    assert ">Voucher</option>" in agent.get(url).get_data(as_text=True)
    speaks_german(app, "agent@example.org")
    assert ">Gutschein</option>" in agent.get(url).get_data(as_text=True)
