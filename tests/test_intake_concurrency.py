"""Storefronts retry and send in parallel: the same order is stored once, a customer once."""
import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from panel.extensions import db
from panel.models import Customer, Order
from tests.conftest import order_payload

THREADS = 8


def post_in_parallel(app, token, payloads):
    clients = [app.test_client() for _ in payloads]
    start = threading.Barrier(len(payloads))

    def send(args):
        client, payload = args
        start.wait()
        response = client.post("/api/v1/orders", json=payload,
                               headers={"Authorization": f"Bearer {token}"})
        return response.status_code, response.json

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(send, zip(clients, payloads, strict=True)))


def counts(app):
    with app.app_context():
        return (db.session.scalar(sa.select(sa.func.count()).select_from(Order)),
                db.session.scalar(sa.select(sa.func.count()).select_from(Customer)))


def test_same_order_sent_at_once_is_stored_once(app, api_token):
    results = post_in_parallel(app, api_token,
                               [order_payload(order_reference="WEB-1")] * THREADS)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201]
    assert len({body["id"] for _, body in results}) == 1
    assert counts(app) == (1, 1)


def test_orders_of_one_new_customer_at_once_create_the_customer_once(app, api_token):
    results = post_in_parallel(app, api_token, [order_payload() for _ in range(THREADS)])
    assert [status for status, _ in results] == [201] * THREADS
    assert len({body["order_reference"] for _, body in results}) == THREADS
    assert counts(app) == (THREADS, 1)
