"""Several people refund the same order at once: nothing is refunded twice or above what was
captured, and a refund is sent to the provider once however many press Retry.

On PostgreSQL this exercises the order's row lock (SELECT ... FOR UPDATE), taken before the
held amounts are read; on SQLite the database's write lock does the same job.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Order, OrderItem, Refund, RefundLine
from panel.oms import engine
from panel.services import refunds
from panel.services.refunds import RefundRefused, RefundRequest
from tests.plugins import refund_fixture
from tests.refund_support import ADMIN, APP_CONFIG, fresh_provider, paid_order

THREADS = 8


@pytest.fixture
def app_config():
    return APP_CONFIG


@pytest.fixture(autouse=True)
def provider():
    yield from fresh_provider()


@pytest.fixture
def order(app, post_order) -> tuple[int, list[int]]:
    """A paid order: shoe 19.99, shoe 19.99, socks 9.99, shipping 4.90 (54.87 captured)."""
    order_id, items, _ = paid_order(app, post_order)
    return order_id, items


def at_once(app, work) -> list:
    """Run ``work(n)`` in THREADS threads released together; return each result or the
    RefundRefused it raised."""
    start = threading.Barrier(THREADS)

    def run(n):
        with app.app_context():
            start.wait()
            try:
                return work(n)
            except RefundRefused as exc:
                return exc

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def make_and_send(order_id: int, request: RefundRequest, n: int) -> str:
    made = refunds.create_refund(order_id, request, actor=f"user {n}")
    return refunds.send_refund(made.id).status


def refunded_per_item(app, order_id) -> dict[int, int]:
    with app.app_context():
        return dict(db.session.execute(
            sa.select(RefundLine.order_item_id, sa.func.sum(RefundLine.amount)).join(Refund)
            .where(Refund.order_id == order_id).group_by(RefundLine.order_item_id)).all())


def refund_total(app, order_id) -> int:
    with app.app_context():
        return db.session.get(Order, order_id).refund_total


def test_the_same_item_refunded_by_many_at_once_is_refunded_once(app, order):
    order_id, items = order

    results = at_once(app, lambda n: make_and_send(order_id, RefundRequest(
        items={items[0]: None}), n))

    assert results.count("succeeded") == 1
    refusals = [str(r) for r in results if isinstance(r, RefundRefused)]
    assert len(refusals) == THREADS - 1
    assert all(f"Running shoe (item #{items[0]}) has nothing left to refund" == r
               for r in refusals)
    assert refunded_per_item(app, order_id) == {items[0]: 1999}
    assert refund_total(app, order_id) == 1999
    assert len(refund_fixture.CALLS) == 1


def test_partial_refunds_at_once_never_add_up_to_more_than_was_paid(app, order):
    order_id, items = order

    results = at_once(app, lambda n: make_and_send(order_id, RefundRequest(
        items={items[0]: 700}), n))

    assert results.count("succeeded") == 2  # 14.00 of 19.99; a third 7.00 would be too much
    assert all("€7.00 is more than the €5.99 still refundable" in str(r)
               for r in results if isinstance(r, RefundRefused))
    assert refunded_per_item(app, order_id) == {items[0]: 1400}
    assert refund_total(app, order_id) == 1400


def test_adjustments_at_once_never_add_up_to_more_than_was_captured(app, order):
    order_id, _ = order

    results = at_once(app, lambda n: make_and_send(order_id, RefundRequest(
        adjustment=1000, adjustment_reason=f"goodwill {n}"), n))

    assert results.count("succeeded") == 5  # 50.00 of 54.87 captured
    assert all("the refund of €10.00 is more than the €4.87 left of the captured payment" in
               str(r) for r in results if isinstance(r, RefundRefused))
    assert refund_total(app, order_id) == 5000


def test_retry_pressed_by_many_at_once_sends_the_refund_once(app, order, provider):
    order_id, items = order
    provider["refusal"] = "try again later"
    with app.app_context():
        made = refunds.create_refund(order_id, RefundRequest(items={items[0]: None}),
                                     actor=ADMIN)
        assert refunds.send_refund(made.id).status == "refused"
        refund_id = made.id
    provider["refusal"] = None

    results = at_once(app, lambda n: refunds.retry_refund(order_id, refund_id).status)

    assert results.count("succeeded") == 1
    assert all(str(r) == f"refund #{refund_id} is succeeded already"
               for r in results if isinstance(r, RefundRefused))
    assert refund_fixture.CALLS == [(refund_id, "pending"), (refund_id, "refused")]
    assert refund_total(app, order_id) == 1999


def test_the_page_and_the_refund_event_at_once_never_pay_an_item_twice(app, order):
    order_id, items = order
    with app.app_context():
        for event in ("ship", "return"):
            engine.trigger_event(order_id, event, actor=ADMIN)

    def work(n):
        if n % 2:
            return engine.trigger_event(order_id, "refund", actor=f"user {n}").error or "event"
        return make_and_send(order_id, RefundRequest(items={i: None for i in items}), n)

    at_once(app, work)

    assert refunded_per_item(app, order_id) == {items[0]: 1999, items[1]: 1999, items[2]: 999}
    assert refund_total(app, order_id) == 5487  # the event adds the shipping either way
    with app.app_context():
        states = set(db.session.scalars(sa.select(OrderItem.state_name).where(
            OrderItem.order_id == order_id)))
    assert states == {"refunded"}
