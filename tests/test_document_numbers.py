"""Document numbers under concurrency: many issues at once take every number once, with no
gap; an order asked for its invoice by many at once gets one; a number that a rolled-back
issue took goes to the issue that waited for it (PostgreSQL: the counter's row lock)."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Document, Order, OrderItem
from panel.services import documents
from tests.conftest import ON_POSTGRES, place_orders

THREADS = 6
ORDERS_EACH = 4


def sequences(app, kind: str) -> list[int]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(Document.sequence)
                                         .where(Document.kind == kind)))


def test_issues_at_once_take_every_number_once_without_gaps(app, post_order):
    ids = place_orders(post_order, THREADS * ORDERS_EACH)
    start = threading.Barrier(THREADS)

    def work(n: int) -> list[str]:
        numbers = []
        with app.app_context():
            start.wait()
            for order_id in ids[n::THREADS]:
                order = db.session.get(Order, order_id)
                numbers.append(documents.issue_invoice(order, actor=f"user {n}").number)
                db.session.commit()
                order = db.session.get(Order, order_id)
                item = db.session.scalar(sa.select(OrderItem).where(
                    OrderItem.order_id == order_id).order_by(OrderItem.id))
                numbers.append(documents.issue_credit_note(
                    order, [(item, 1000)], actor=f"user {n}").number)
                db.session.commit()
            db.session.remove()
        return numbers

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        numbers = [n for result in pool.map(work, range(THREADS)) for n in result]

    total = THREADS * ORDERS_EACH
    assert len(numbers) == len(set(numbers)) == 2 * total
    assert sequences(app, "invoice") == list(range(1, total + 1))
    assert sequences(app, "credit_note") == list(range(1, total + 1))


def test_one_invoice_when_many_ask_for_it_at_once(app, post_order):
    (order_id,) = place_orders(post_order, 1)
    start = threading.Barrier(THREADS)

    def ask(n: int) -> tuple[str, bool]:
        with app.app_context():
            start.wait()
            invoice, new = documents.issue_invoice_now(order_id, actor=f"user {n}")
            answer = (invoice.number, new)
            db.session.remove()
        return answer

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(ask, range(THREADS)))

    assert len({number for number, _ in answers}) == 1
    assert sorted(new for _, new in answers) == [False] * (THREADS - 1) + [True]
    assert sequences(app, "invoice") == [1]


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks: PostgreSQL only")
def test_a_number_given_back_by_a_rollback_goes_to_the_issue_waiting_for_it(app, post_order):
    first, second = place_orders(post_order, 2)
    numbered, release, waiter_done = threading.Event(), threading.Event(), threading.Event()
    taken: dict[str, str] = {}

    def issue_then_roll_back():
        with app.app_context():
            taken["rolled back"] = documents.issue_invoice(
                db.session.get(Order, first), actor="first").number
            numbered.set()
            release.wait()
            db.session.rollback()
            db.session.remove()

    def issue_and_commit():
        try:
            with app.app_context():
                taken["committed"] = documents.issue_invoice(
                    db.session.get(Order, second), actor="second").number
                db.session.commit()
                db.session.remove()
        finally:
            waiter_done.set()

    holder = threading.Thread(target=issue_then_roll_back)
    holder.start()
    numbered.wait()
    waiter = threading.Thread(target=issue_and_commit)
    waiter.start()
    with app.app_context():
        # Until the second issue waits for the counter's lock (or, were there none, is done).
        while not waiter_done.is_set() and not db.session.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")):
            time.sleep(0.01)
        db.session.remove()
    release.set()
    holder.join()
    waiter.join()

    assert taken["rolled back"] == taken["committed"]
    assert taken["committed"].endswith("-000001")
    with app.app_context():
        assert db.session.execute(sa.select(Document.order_id, Document.number)).all() == [
            (second, taken["committed"])]
