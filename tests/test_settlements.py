"""A reclamation settled by a return or a refund made from its page: the form opens with the
claimed items ticked, the return or refund names the reclamation, and the reclamation is
closed with a note that links to it, in the same transaction; nothing else is settled."""
from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Document, Order, Reclamation, Refund, Return, ReturnReason
from panel.oms import engine
from tests.conftest import order_payload

ADMIN = "Admin User <admin@example.org>"


@pytest.fixture
def shipped(app, post_order):
    """A paid and shipped order of three items: (order id, item ids)."""
    order_id = post_order(order_payload()).json["id"]
    with app.app_context():
        for event in ("pay", "ship"):
            assert engine.trigger_event(order_id, event, actor=ADMIN).moved == 3
        items = sorted(i.id for i in db.session.get(Order, order_id).items)
        db.session.add(ReturnReason(name="Damaged", active=True))
        db.session.commit()
    return order_id, items


def claim(client, order_id, items) -> int:
    response = client.post_form(f"/sales/reclamations/new/{order_id}",
                                {"item": [str(i) for i in items], "reason": "Broken sole"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.get_data(as_text=True))


def words(html_page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html_page).split())


def ticked(form_page: str) -> set[int]:
    return {int(value) for value in re.findall(
        r'<input[^>]*name="item"[^>]*value="(\d+)"[^>]*checked', form_page)}


def reclamation(app, reclamation_id):
    with app.app_context():
        found = db.session.get(Reclamation, reclamation_id)
        db.session.expunge(found)
        return found


def test_a_reclamation_is_settled_by_a_return_from_its_page(app, as_role, shipped):
    order_id, items = shipped
    agent = as_role("agent")
    claimed = claim(agent, order_id, items[:2])
    details = page(agent, f"/sales/reclamations/{claimed}")
    link = re.search(r'id="settle-by-return" href="([^"]+)"', details).group(1)

    form_page = page(agent, link)
    assert ticked(form_page) == set(items[:2])
    assert f"This return settles reclamation #{claimed} :" in words(form_page)
    with app.app_context():
        reason = db.session.scalar(sa.select(ReturnReason.id))
    response = agent.post_form(link, {"item": [str(i) for i in items[:2]],
                                      **{f"reason-{i}": str(reason) for i in items[:2]}})
    assert response.status_code == 302, response.get_data(as_text=True)

    with app.app_context():
        made = db.session.scalar(sa.select(Return))
        assert made.reclamation_id == claimed and made.item_count == 2
        assert db.session.get(Order, order_id).open_reclamations == 0
        reference = made.return_reference
    settled = reclamation(app, claimed)
    assert (settled.state, settled.close_note, settled.closed_by_name) == (
        "closed", f"Settled by return {reference}.", "Agent User")
    details = page(agent, f"/sales/reclamations/{claimed}")
    assert f"Return {reference} · 2 items" in words(details)
    assert 'id="settle-by-return"' not in details  # closed: nothing more to settle


def test_a_reclamation_is_settled_by_a_refund_from_its_page(app, as_role, shipped):
    order_id, items = shipped
    admin = as_role("admin")  # the bundled process lets admins refund
    claimed = claim(admin, order_id, items[2:])
    link = re.search(r'id="settle-by-refund" href="([^"]+)"',
                     page(admin, f"/sales/reclamations/{claimed}")).group(1)
    assert ticked(page(admin, link)) == {items[2]}

    response = admin.post_form(link, {"item": str(items[2])})

    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        refund = db.session.scalar(sa.select(Refund))
        assert (refund.reclamation_id, refund.status, refund.total) == (
            claimed, "succeeded", 999)
        credit_note = db.session.scalar(sa.select(Document).where(
            Document.refund_id == refund.id))
        assert credit_note is not None and credit_note.gross_total == 999
        refund_id = refund.id
    assert reclamation(app, claimed).close_note == f"Settled by refund #{refund_id}."
    assert f"Refund #{refund_id} · €9.99 · succeeded" in words(
        page(admin, f"/sales/reclamations/{claimed}"))


def test_an_agent_sees_why_the_refund_button_is_off(app, as_role, shipped):
    order_id, items = shipped
    agent = as_role("agent")
    claimed = claim(agent, order_id, items[:1])
    details = page(agent, f"/sales/reclamations/{claimed}")
    assert re.search(r'id="settle-by-refund" disabled[^>]*title="Only admins may refund"',
                     details)
    response = agent.post_form(f"/sales/refunds/new/{order_id}?reclamation={claimed}",
                               {"item": str(items[0])})
    assert response.status_code == 403
    assert reclamation(app, claimed).state == "open"


@pytest.mark.parametrize("target", ["return", "refund"])
def test_a_closed_or_foreign_reclamation_settles_nothing_and_nothing_is_made(
        app, as_role, shipped, post_order, target):
    order_id, items = shipped
    admin = as_role("admin")
    closed = claim(admin, order_id, items[:1])
    admin.post_form(f"/sales/reclamations/{closed}/close", {"note": "done"})
    other_order = post_order(order_payload()).json["id"]
    with app.app_context():
        other_item = db.session.get(Order, other_order).items[0].id
        reason = db.session.scalar(sa.select(ReturnReason.id))
    foreign = claim(admin, other_order, [other_item])
    url = {"return": "/sales/returns/new", "refund": "/sales/refunds/new"}[target]
    form = {"item": str(items[1]), f"reason-{items[1]}": str(reason)}

    for bad, message in [(closed, f"reclamation #{closed} is closed already"),
                         (foreign, f"reclamation #{foreign} is not a reclamation of order"),
                         ("x1", "reclamation: 'x1' is not an id"),
                         ("\u00b2", "reclamation: '\u00b2' is not an id")]:
        response = admin.post_form(f"{url}/{order_id}?reclamation={bad}", form,
                                   follow_redirects=True)
        assert message in html.unescape(response.get_data(as_text=True))

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Return)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 0
    assert reclamation(app, foreign).state == "open"


def test_a_return_that_fails_leaves_the_reclamation_open(app, as_role, post_order):
    order_id = post_order(order_payload()).json["id"]  # new: nothing may be returned yet
    agent = as_role("agent")
    with app.app_context():
        items = sorted(i.id for i in db.session.get(Order, order_id).items)
        db.session.add(ReturnReason(name="Damaged", active=True))
        db.session.commit()
        reason = db.session.scalar(sa.select(ReturnReason.id))
    claimed = claim(agent, order_id, items[:1])

    response = agent.post_form(f"/sales/returns/new/{order_id}?reclamation={claimed}",
                               {"item": str(items[0]), f"reason-{items[0]}": str(reason)})

    assert response.status_code == 400
    assert reclamation(app, claimed).state == "open"
    with app.app_context():
        assert db.session.get(Order, order_id).open_reclamations == 1
