"""Invoices and credit notes (panel.services.documents): numbers without gaps per kind, store
and year; lines and totals that add up; a document that never changes once issued; credit
notes from plain (item, amount) data, refused when they would credit too much."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Document, DocumentCounter, Order, OrderItem, Refund, Shipment
from panel.models.base import utcnow
from panel.models.document import DocumentChanged
from panel.oms import engine, sweeps
from panel.services import documents
from panel.services.document_templates import document_pdf
from tests.conftest import ADDRESS, order_payload
from tests.plugins import invoicing_fixture
from tests.test_pdf import pdf_text

ACTOR = "Agent User <agent@example.org>"
SPRING = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SELLER = ("Schuhhaus Beispiel GmbH", "Hauptstraße 5", "80331 München", "VAT DE123456789")


@pytest.fixture
def app_config():
    return {"PANEL_PLUGINS": ("tests.plugins.invoicing_fixture",),
            "PANEL_PAYMENT_PROCESSES": {"dummypayment": "DummyPayment01"},
            "PANEL_SELLER": SELLER}


def new_order(post_order, **overrides) -> int:
    response = post_order(order_payload(**overrides))
    assert response.status_code == 201, response.json
    return response.json["id"]


def order_of(order_id: int) -> Order:
    return db.session.get(Order, order_id)


def items_of(order_id: int) -> list[OrderItem]:
    return list(db.session.scalars(sa.select(OrderItem).where(OrderItem.order_id == order_id)
                                   .order_by(OrderItem.id)))


def invoice(app, order_id: int, now=SPRING) -> str:
    with app.app_context():
        number = documents.issue_invoice(order_of(order_id), actor=ACTOR, now=now).number
        db.session.commit()
        return number


def refund_row(app, order_id: int) -> int:
    """A refund for a credit note to name (the refunds' own rules are tested elsewhere)."""
    with app.app_context():
        refund = Refund(order_id=order_id, status="succeeded", total=0,
                        payment_method="invoice", created_by=ACTOR)
        db.session.add(refund)
        db.session.commit()
        return refund.id


def credit(app, order_id: int, amounts: dict[int, int], now=SPRING, **kwargs) -> str:
    """Credit the order's items amounts ({index of the item: amount}) and what kwargs say."""
    with app.app_context():
        items = items_of(order_id)
        note = documents.issue_credit_note(
            order_of(order_id), [(items[index], amount) for index, amount in amounts.items()],
            actor=ACTOR, now=now, **kwargs)
        db.session.commit()
        return note.number


def stored(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(sa.select(
            Document.number, Document.kind, Document.store, Document.year, Document.sequence)
            .order_by(Document.id)).all()


# -- numbers ------------------------------------------------------------------------------


def test_numbers_count_per_kind_store_and_year_from_one(app, post_order):
    de1, de2, de3 = (new_order(post_order) for _ in range(3))
    at1 = new_order(post_order, store="AT")
    new_year = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)

    assert invoice(app, de1) == "INV-DE-2026-000001"
    assert invoice(app, de2, now=datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == \
        "INV-DE-2026-000002"
    assert invoice(app, at1) == "INV-AT-2026-000001"
    assert invoice(app, de3, now=new_year) == "INV-DE-2027-000001"
    assert credit(app, de1, {0: 1999}) == "CN-DE-2026-000001"
    assert credit(app, de3, {0: 1999}, now=new_year) == "CN-DE-2027-000001"
    assert credit(app, de1, {2: 999}) == "CN-DE-2026-000002"
    # 00:30 on New Year's Day in Berlin is still 2026 in UTC.
    berlin = timezone(timedelta(hours=1))
    assert credit(app, de2, {0: 5}, now=datetime(2027, 1, 1, 0, 30, tzinfo=berlin)) == \
        "CN-DE-2026-000003"
    assert stored(app) == [
        ("INV-DE-2026-000001", "invoice", "DE", 2026, 1),
        ("INV-DE-2026-000002", "invoice", "DE", 2026, 2),
        ("INV-AT-2026-000001", "invoice", "AT", 2026, 1),
        ("INV-DE-2027-000001", "invoice", "DE", 2027, 1),
        ("CN-DE-2026-000001", "credit_note", "DE", 2026, 1),
        ("CN-DE-2027-000001", "credit_note", "DE", 2027, 1),
        ("CN-DE-2026-000002", "credit_note", "DE", 2026, 2),
        ("CN-DE-2026-000003", "credit_note", "DE", 2026, 3),
    ]


def test_an_order_has_one_invoice(app, post_order):
    order_id = new_order(post_order)
    first = invoice(app, order_id)
    assert invoice(app, order_id, now=SPRING + timedelta(days=1)) == first
    with app.app_context():
        issued, new = documents.issue_invoice_now(order_id, actor=ACTOR)
        assert (issued.number, new) == (first, False)
    assert [row.number for row in stored(app)] == ["INV-DE-2026-000001"]


def test_an_issue_that_is_rolled_back_leaves_no_gap(app, post_order):
    first, second = new_order(post_order), new_order(post_order)
    with app.app_context():
        taken = documents.issue_invoice(order_of(first), actor=ACTOR, now=SPRING)
        assert taken.number == "INV-DE-2026-000001"
        db.session.rollback()
    assert stored(app) == []
    assert invoice(app, second) == "INV-DE-2026-000001"
    assert invoice(app, first) == "INV-DE-2026-000002"


def test_a_run_that_fails_after_invoicing_keeps_neither_invoice_nor_number(app, post_order):
    broken = new_order(post_order, payment={"method": invoicing_fixture.METHOD, "amount": 5487})
    paid = new_order(post_order, payment={"method": invoicing_fixture.METHOD, "amount": 5487})
    with app.app_context():
        failed = engine.trigger_event(broken, "break", actor=ACTOR)
        assert failed.error and "the accounting system is down" in failed.error
        result = engine.trigger_event(paid, "pay", actor=ACTOR)
        assert result.moved == 3 and not result.error
        assert {i.state_name for i in items_of(paid)} == {"invoiced"}
        assert {i.state_name for i in items_of(broken)} == {"new"}
    year = utcnow().year
    assert [(n, k) for n, k, *_ in stored(app)] == [(f"INV-DE-{year}-000001", "invoice")]
    with app.app_context():
        assert db.session.scalar(sa.select(Document.order_id)) == paid
        assert db.session.scalar(sa.select(Document.issued_by)) == ACTOR


def test_dummy_payments_invoice_generate_issues_the_invoice(app, post_order):
    order_id = new_order(post_order, payment={"method": "dummyPayment", "amount": 5487})
    with app.app_context():
        sweeps.check_timeouts(now=utcnow() + timedelta(seconds=2))
        engine.trigger_event(order_id, "pay", actor=ACTOR)
        assert documents.invoice_of(order_id) is None
        result = engine.trigger_event(order_id, "invoice-generate", actor=ACTOR)
        assert result.moved == 3 and not result.error
        issued = documents.invoice_of(order_id)
        assert (issued.gross_total, issued.issued_by) == (5487, ACTOR)
        assert len(documents.documents_of(order_id)) == 1


# -- lines and totals ---------------------------------------------------------------------


def mixed_order(post_order) -> int:
    """3 shoes at 19 % over two shipments, a discounted book at 7 %, two shipping costs."""
    payload = order_payload(payment={"method": "invoice", "amount": 8477})
    payload["shipments"][0]["items"] = [
        {"sku": "SHOE-1", "name": "Running shoe", "quantity": 2, "unit_price": 1999,
         "tax_rate": 19},
        {"sku": "BOOK-1", "name": "Trail guide", "quantity": 1, "unit_price": 1250,
         "discount": 250, "tax_rate": 7},
    ]
    payload["shipments"].append({
        "method": "Express", "carrier": "UPS", "price": 990,
        "address": dict(ADDRESS, first_name="Max", city="Hamburg", zip_code="20095"),
        "items": [{"sku": "SHOE-1", "name": "Running shoe", "quantity": 1,
                   "unit_price": 1999, "tax_rate": 19}],
    })
    response = post_order(payload)
    assert response.status_code == 201, response.json
    return response.json["id"]


def amounts(line: dict) -> tuple:
    return (line["name"], line["quantity"], line["tax_rate"], line["net"], line["tax"],
            line["gross"])


def test_invoice_lines_are_order_lines_and_shipping_and_totals_are_their_sums(app, post_order):
    order_id = mixed_order(post_order)
    invoice(app, order_id)
    with app.app_context():
        issued = documents.invoice_of(order_id)
        content = issued.content
        # Tax from each line's gross, rounded per line: 5997 * 19/119 = 957.52 -> 958.
        assert [amounts(line) for line in content["lines"]] == [
            ("Running shoe", 3, "19", 5039, 958, 5997),
            ("Trail guide", 1, "7", 935, 65, 1000),
            ("Shipping: Standard (DHL)", 1, "19", 412, 78, 490),
            ("Shipping: Express (UPS)", 1, "19", 832, 158, 990),
        ]
        book = content["lines"][1]
        assert (book["sku"], book["unit_price"], book["discount"]) == ("BOOK-1", 1250, 250)
        assert len(content["lines"][0]["item_ids"]) == 3
        assert content["totals"] == {"net": 7218, "tax": 1259, "gross": 8477}
        assert (issued.net_total, issued.tax_total, issued.gross_total) == (7218, 1259, 8477)
        assert issued.gross_total == order_of(order_id).grand_total
        assert content["tax_summary"] == [
            {"tax_rate": "19", "net": 6283, "tax": 1194, "gross": 7477},
            {"tax_rate": "7", "net": 935, "tax": 65, "gross": 1000},
        ]
        for line in content["lines"]:
            assert line["net"] + line["tax"] == line["gross"]
        pdf = pdf_text(document_pdf(issued))
    assert "Invoice INV-DE-2026-000001" in pdf
    assert "Running shoe" in pdf and "SKU SHOE-1" in pdf and "-€2.50" in pdf
    assert "Tax 19 % on €62.83 €11.94" in pdf and "Tax 7 % on €9.35 €0.65" in pdf
    assert "Total €84.77" in pdf
    assert "Max Anna Schmidt" not in pdf and "Max Schmidt, Julie-Wolfthorn-Straße 1, 20095 Hamburg" in pdf
    for line in SELLER:
        assert line in pdf


def test_a_document_shows_what_was_issued_whatever_happens_to_the_order(app, post_order):
    order_id = new_order(post_order)
    invoice(app, order_id)
    with app.app_context():
        issued = documents.invoice_of(order_id)
        before = (dict(issued.content), pdf_text(document_pdf(issued)))
        order = order_of(order_id)
        order.billing_address.city, order.billing_address.first_name = "Leipzig", "Annegret"
        order.first_name = "Annegret"
        for item in items_of(order_id):
            item.name, item.unit_price, item.price_to_pay = "Renamed shoe", 1, 1
        db.session.execute(sa.update(Shipment).where(Shipment.order_id == order_id)
                           .values(price=0, method="Pigeon"))
        db.session.commit()
    with app.app_context():
        issued = documents.invoice_of(order_id)
        after = (issued.content, pdf_text(document_pdf(issued)))
    assert after == before
    text = after[1]
    assert "Mrs Anna Schmidt" in text and "10115 Berlin" in text and "Leipzig" not in text
    assert "Running shoe" in text and "Renamed" not in text
    assert "Shipping: Standard (DHL)" in text and "Pigeon" not in text
    assert "Total €54.87" in text


def test_an_issued_document_cannot_be_changed(app, post_order):
    order_id = new_order(post_order)
    invoice(app, order_id)
    with app.app_context():
        issued = documents.invoice_of(order_id)
        issued.gross_total = 1
        with pytest.raises(DocumentChanged, match="INV-DE-2026-000001 is issued"):
            db.session.commit()
        db.session.rollback()
        assert documents.invoice_of(order_id).gross_total == 5487


# -- credit notes -------------------------------------------------------------------------


def test_a_credit_note_from_items_and_amounts_shipping_and_an_adjustment(app, post_order):
    order_id = new_order(post_order)
    invoice(app, order_id)
    refund_id = refund_row(app, order_id)
    with app.app_context():
        shoe, _, sock = items_of(order_id)
        note = documents.issue_credit_note(
            order_of(order_id), [(shoe, 1999), (sock, 500)], shipping=490, adjustment=-150,
            adjustment_reason="Restocking fee", refund_id=refund_id, actor=ACTOR, now=SPRING)
        db.session.commit()
        content = note.content
        assert (note.number, note.kind, note.refund_id) == ("CN-DE-2026-000001",
                                                            "credit_note", refund_id)
        assert [amounts(line) for line in content["lines"]] == [
            ("Running shoe", 1, "19", 1680, 319, 1999),
            ("Socks", 1, "19", 420, 80, 500),
            ("Shipping", 1, "19", 412, 78, 490),
            ("Adjustment: Restocking fee", 1, "19", -126, -24, -150),
        ]
        assert [line["item_ids"] for line in content["lines"]] == [[shoe.id], [sock.id], [], []]
        assert content["totals"] == {"net": 2386, "tax": 453, "gross": 2839}
        assert (note.net_total, note.tax_total, note.gross_total) == (2386, 453, 2839)
        assert content["invoice_number"] == "INV-DE-2026-000001"
        assert content["adjustment_reason"] == "Restocking fee"
        text = pdf_text(document_pdf(note))
    assert "Credit note CN-DE-2026-000001" in text and "invoice INV-DE-2026-000001" in text
    assert "Adjustment: Restocking fee" in text and "-€1.50" in text
    assert "Total credited €28.39" in text


def test_a_credit_note_without_an_invoice_says_none(app, post_order):
    order_id = new_order(post_order)
    credit(app, order_id, {0: 999})
    with app.app_context():
        note = db.session.scalar(sa.select(Document))
        assert note.content["invoice_number"] is None
        assert "(invoice" not in pdf_text(document_pdf(note))


def test_a_refund_has_one_credit_note(app, post_order):
    order_id = new_order(post_order)
    refund_id = refund_row(app, order_id)
    assert credit(app, order_id, {0: 1000}, refund_id=refund_id) == "CN-DE-2026-000001"
    assert credit(app, order_id, {0: 1000}, refund_id=refund_id) == "CN-DE-2026-000001"
    other = new_order(post_order)
    with app.app_context(), pytest.raises(
            documents.DocumentRefused, match=f"refund #{refund_id} was credited on another"):
        documents.issue_credit_note(order_of(other), [(items_of(other)[0], 5)],
                                    refund_id=refund_id, actor=ACTOR)
    assert len(stored(app)) == 1


def test_what_was_credited_before_cannot_be_credited_again(app, post_order):
    order_id = new_order(post_order)
    credit(app, order_id, {0: 1000}, shipping=300)
    credit(app, order_id, {0: 999}, shipping=190)
    with app.app_context():
        shoe = items_of(order_id)[0]
        with pytest.raises(documents.DocumentRefused,
                           match=rf"item #{shoe.id} \(SHOE-1\) can be credited €0.00 more, "
                                 r"not €0.01"):
            documents.issue_credit_note(order_of(order_id), [(shoe, 1)], actor=ACTOR)
        db.session.rollback()
        with pytest.raises(documents.DocumentRefused,
                           match="the shipping can be credited €0.00 more, not €0.01"):
            documents.issue_credit_note(order_of(order_id), [], shipping=1, actor=ACTOR)
        db.session.rollback()
    assert len(stored(app)) == 2


def _refused_cases():
    """(lines from the order's items and another order's item, kwargs, expected message)."""
    return [
        (lambda it, other: [(it[0], 0)], {}, "the amount for item #{0} must be more than zero"),
        (lambda it, other: [(it[0], -5)], {}, "the amount for item #{0} must be more than zero"),
        (lambda it, other: [(it[0], 19.99)], {},
         "the amount for item #{0} must be a whole number of minor units, not 19.99"),
        (lambda it, other: [(it[0], True)], {},
         "the amount for item #{0} must be a whole number of minor units, not True"),
        (lambda it, other: [(it[0], 2000)], {},
         "item #{0} (SHOE-1) can be credited €19.99 more, not €20.00"),
        (lambda it, other: [(other, 100)], {}, "item #{other} is not an item of order DE--1"),
        (lambda it, other: [(it[2], 100), (it[2], 100)], {}, "item #{2} is listed twice"),
        (lambda it, other: [("SHOE-1", 100)], {},
         "each line of a credit note is (order item, amount)"),
        (lambda it, other: [], {"shipping": -1}, "the shipping cannot be negative"),
        (lambda it, other: [], {"shipping": "490"},
         "the shipping must be a whole number of minor units, not '490'"),
        (lambda it, other: [], {"shipping": 491},
         "the shipping can be credited €4.90 more, not €4.91"),
        (lambda it, other: [(it[0], 100)], {"adjustment": 100},
         "the adjustment's reason is empty"),
        (lambda it, other: [(it[0], 100)], {"adjustment": 1.5, "adjustment_reason": "x"},
         "the adjustment must be a whole number of minor units, not 1.5"),
        (lambda it, other: [(it[0], 100)],
         {"adjustment": 100, "adjustment_reason": "Goodwill\nand more"},
         "the adjustment's reason contains a control character (U+000A, line feed); it must "
         "be a single line of text without control characters"),
        (lambda it, other: [(it[0], 100)], {"adjustment": 100, "adjustment_reason": "x" * 201},
         "the adjustment's reason is longer than 200 characters"),
        (lambda it, other: [], {}, "a credit note must credit more than nothing: its total "
                                   "is €0.00"),
        (lambda it, other: [(it[0], 1999)],
         {"adjustment": -3000, "adjustment_reason": "Damaged on return"},
         "a credit note must credit more than nothing: its total is -€10.01"),
    ]


@pytest.mark.parametrize("lines, kwargs, message", _refused_cases(),
                         ids=[message for _, _, message in _refused_cases()])
def test_a_bad_credit_note_is_refused_and_changes_nothing(app, post_order, lines, kwargs,
                                                          message):
    order_id, other_id = new_order(post_order), new_order(post_order)
    with app.app_context():
        items, other = items_of(order_id), items_of(other_id)[0]
        expected = message.format(*(i.id for i in items), other=other.id)
        with pytest.raises(documents.DocumentRefused) as refused:
            documents.issue_credit_note(order_of(order_id), lines(items, other), actor=ACTOR,
                                        now=SPRING, **kwargs)
        assert str(refused.value) == expected
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DocumentCounter)) == 0
    assert stored(app) == []
    assert credit(app, order_id, {0: 100}) == "CN-DE-2026-000001"


def test_credit_notes_of_all_kinds_add_up_to_their_lines(app, post_order):
    order_id = mixed_order(post_order)
    with app.app_context():
        items = items_of(order_id)
        for n, item in enumerate(items):
            documents.issue_credit_note(order_of(order_id), [(item, item.price_to_pay - n)],
                                        shipping=n * 10, adjustment=n - 1,
                                        adjustment_reason="Rounding", actor=ACTOR)
        db.session.commit()
        notes = db.session.scalars(sa.select(Document)).all()
        assert len(notes) == len(items) == 4
        for note in notes:
            lines = note.content["lines"]
            assert note.content["totals"] == {
                key: sum(line[key] for line in lines) for key in ("net", "tax", "gross")}
            assert (note.net_total, note.tax_total, note.gross_total) == (
                note.content["totals"]["net"], note.content["totals"]["tax"],
                note.content["totals"]["gross"])
            assert all(line["net"] + line["tax"] == line["gross"] for line in lines)
            assert re.fullmatch(r"CN-DE-\d{4}-00000[1-4]", note.number)
