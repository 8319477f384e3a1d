"""Reclamations, returns, refunds and return reasons in German: a user whose language is
German (their setting, or the browser's Accept-Language) reads the pages, the messages and
the services' refusals in German, with German money and dates; form fields keep their input
format, and what admins typed (return reason names) stays as it was typed."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.formatting import format_date
from panel.models import OrderItem, ReturnReason, TransitionLog, User
from panel.models.base import utcnow
from panel.oms import engine
from panel.services import refunds
from tests.refund_support import ADMIN, APP_CONFIG, fresh_provider, paid_order

GERMAN = {"Accept-Language": "de"}


@pytest.fixture
def app_config():
    return {**APP_CONFIG, "PANEL_RETURN_ADDRESS": ("Order Panel Retouren", "Lagerstraße 5")}


@pytest.fixture(autouse=True)
def provider():
    yield from fresh_provider()


@pytest.fixture
def order(app, post_order):
    """A paid order (shoe 19.99, shoe 19.99, socks 9.99, 4.90 shipping): id and item ids."""
    order_id, items, _ = paid_order(app, post_order)
    return {"id": order_id, "items": items}


def shipped(app, order, when=None):
    with app.app_context():
        assert engine.trigger_event(order["id"], "ship", actor=ADMIN, now=when).moved == 3


def german_user(app, accounts, as_role, role: str):
    """A client logged in as ``role``, whose own setting is German (no Accept-Language)."""
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == accounts[role])
                           .values(locale="de"))
        db.session.commit()
    return as_role(role)


def text_of(markup: str) -> str:
    """What HTML says, tags left out, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def text(response) -> str:
    return text_of(response.get_data(as_text=True))


def test_a_german_agent_claims_items_and_reads_why_one_may_not_be(app, accounts, as_role,
                                                                    order):
    app.config["PANEL_CLAIM_WINDOW_DAYS"] = 14
    delivered = utcnow() - timedelta(days=20)
    with app.app_context():
        for event in ("ship", "deliver"):
            engine.trigger_event(order["id"], event, actor=ADMIN, now=delivered,
                                 item_ids=order["items"][:1])
    agent = german_user(app, accounts, as_role, "agent")
    url = f"/sales/reclamations/new/{order['id']}"

    page = text(agent.get(url))
    assert "Reklamation anlegen" in page and "Zurück zu den Bestellungen" in page
    assert "19,99 €" in page and "€19.99" not in page
    assert (f"nein: geliefert am {delivered:%d.%m.%Y}, vor mehr als 14 Tagen "
            f"(Reklamationsfrist)") in page

    nothing = agent.post_form(url, {"reason": "Defekt"})
    assert nothing.status_code == 400
    assert ("Die Reklamation wurde nicht angelegt: kreuzen Sie mindestens einen Artikel zum "
            "Reklamieren an.") in text(nothing)

    made = agent.post_form(url, {"item": [str(order["items"][2])], "reason": "Loch"},
                           follow_redirects=True)
    page = text(made)
    assert "Reklamation #1 zur Bestellung DE--1 angelegt." in page
    assert "Übersicht der Reklamation: 1" in page and "Offen" in page
    assert re.search(rf"Eröffnet {utcnow():%d\.%m\.%Y} \d\d:\d\d UTC von ", page)
    assert "Per Retoure erledigen" in page

    again = agent.post_form(url, {"item": [str(order["items"][2])]})
    assert (f"Socks (Artikel #{order['items'][2]}) kann nicht reklamiert werden: bereits in "
            f"offener Reklamation #1.") in text(again)

    closed = agent.post_form("/sales/reclamations/1/close", {"back": "list"},
                             follow_redirects=True)
    page = text(closed)
    assert "Reklamation #1 geschlossen." in page
    assert "Übersicht der Reklamationen" in page and "Geschlossen" in page


def test_create_refund_in_german_keeps_the_input_format_of_amounts(as_role, order):
    admin = as_role("admin")
    url = f"/sales/refunds/new/{order['id']}"
    socks = order["items"][2]

    form = " ".join(admin.get(url, headers=GERMAN).get_data(as_text=True).split())
    page = text(admin.get(url, headers=GERMAN))
    assert "Erstattung anlegen" in page and "Noch zu erstatten 54,87 €" in page
    assert re.search(rf'name="amount-{socks}" data-refundable="999" value="9.99"', form)
    assert f'aria-label="Erstattungsbetrag von Artikel {socks}"' in form

    too_much = admin.post_form(url, {"item": [str(socks)], f"amount-{socks}": "99.00"},
                               headers=GERMAN)
    assert too_much.status_code == 400
    assert (f"Die Erstattung wurde nicht angelegt: Socks (Artikel #{socks}): 99,00 € ist mehr "
            f"als die noch erstattbaren 9,99 €.") in text(too_much)

    made = admin.post_form(url, {"item": [str(socks)], f"amount-{socks}": "2,50"},
                           headers=GERMAN, follow_redirects=True)
    assert ("Erstattung #1 über 2,50 € war erfolgreich (Referenz des Anbieters PSP-1-1)."
            in text(made))
    box = text_of(re.search(r'id="order-refunds".*?</table>', made.get_data(as_text=True),
                            re.S).group(0))
    assert f"Socks (Artikel #{socks}): 2,50 €" in box and "erfolgreich" in box

    listing = text(admin.get("/sales/refunds/?status=succeeded", headers=GERMAN))
    assert "Übersicht der Erstattungen" in listing and "Erfolgreich" in listing
    assert re.search(r"1 \d\d\.\d\d\.\d{4} \d\d:\d\d UTC DE--1 2,50 € erfolgreich PSP-1-1",
                     listing)


def test_a_german_agent_reads_why_the_refund_button_is_off(as_role, order):
    """The refusal keeps its capitals: it no longer goes through |capitalize."""
    page = as_role("agent").get(f"/sales/orders/{order['id']}", headers=GERMAN)
    assert ('id="refund-order" disabled aria-disabled="true" '
            'title="Nur Benutzer mit der Rolle admin dürfen erstatten">Erstatten</button>'
            ) in page.get_data(as_text=True)


def test_returns_and_their_slip_in_german(app, as_role, order):
    shipped(app, order)
    with app.app_context():
        db.session.add(ReturnReason(name="Damaged", active=True))
        db.session.commit()
    agent = as_role("agent")
    shoe = order["items"][0]
    url = f"/sales/returns/new/{order['id']}"

    form = text(agent.get(url, headers=GERMAN))
    assert "Retoure anlegen" in form and "Retournierbar" in form
    assert "- auswählen - Damaged" in form  # the reason's name is data: as it was typed

    no_reason = agent.post_form(url, {"item": [str(shoe)]}, headers=GERMAN)
    assert (f"Die Retoure wurde nicht angelegt: geben Sie an, warum Artikel #{shoe} "
            f"retourniert wird: Wählen Sie einen Grund oder schreiben Sie einen."
            ) in text(no_reason)

    with app.app_context():
        reason = db.session.scalar(sa.select(ReturnReason.id))
    made = agent.post_form(url, {"item": [str(shoe)], f"reason-{shoe}": str(reason)},
                           headers=GERMAN, follow_redirects=True)
    page = text(made)
    assert "Retoure DE--R-1 zur Bestellung DE--1 angelegt." in page
    assert "Retoure: DE--R-1" in page and 'mit dem Ereignis „return“' in page

    listing = text(agent.get("/sales/returns/?from=2026-02-30", headers=GERMAN))
    assert "Übersicht der Retouren" in listing and "Erstellt ab: '2026-02-30'" in listing

    view = text(agent.get(f"/sales/orders/{order['id']}", headers=GERMAN))
    assert "hat 1 Artikel retourniert: Retoure DE--R-1" in view

    slip = agent.get("/sales/returns/1/slip", headers=GERMAN).get_data(as_text=True)
    assert '<html lang="de">' in slip
    page = text(agent.get("/sales/returns/1/slip", headers=GERMAN))
    assert "Retourenschein DE--R-1" in page and "Senden an Order Panel Retouren" in page
    assert f"Bestellung DE--1 vom {format_date(utcnow(), 'de')}" in page

    closed = agent.post_form("/sales/returns/1/close", {}, headers=GERMAN,
                             follow_redirects=True)
    assert "Retoure DE--R-1 geschlossen." in text(closed)


def test_return_reasons_in_german_keep_their_names(app, accounts, as_role):
    admin = german_user(app, accounts, as_role, "admin")
    url = "/administration/return-reasons/"

    added = admin.post_form(url + "new", {"name": "Too small"}, follow_redirects=True)
    page = text(added)
    assert "Retourengrund „Too small“ hinzugefügt." in page
    assert "Retourengründe" in page and "Neuer Grund" in page

    twin = admin.post_form(url + "new", {"name": "too SMALL"}, follow_redirects=True)
    assert ("Nichts wurde geändert: es gibt bereits einen Grund namens 'Too small'."
            in text(twin))


def test_the_refund_event_logs_its_refusal_in_english_whoever_triggers_it(app, order):
    """The Transition Log keeps one language: the state machine's refund is not translated."""
    with app.app_context():
        refund = refunds.create_refund(order["id"], refunds.RefundRequest(
            adjustment=5000, adjustment_reason="Goodwill"), actor=ADMIN)
        refunds.send_refund(refund.id)
        for event in ("ship", "return"):
            engine.trigger_event(order["id"], event, actor=ADMIN)
    with app.test_request_context(headers=GERMAN):
        result = engine.trigger_event(order["id"], "refund", actor=ADMIN)
        assert result.error == ("Payment/Refund: the refund of €54.87 is more than the €4.87 "
                                "left of the captured payment of €54.87")
    with app.app_context():
        logged = db.session.scalar(sa.select(TransitionLog.error_message).where(
            TransitionLog.is_error, TransitionLog.item_id.in_(order["items"])).limit(1))
        states = set(db.session.scalars(sa.select(OrderItem.state_name).where(
            OrderItem.order_id == order["id"])))
    assert "the refund of €54.87 is more than" in logged and states == {"returned"}
