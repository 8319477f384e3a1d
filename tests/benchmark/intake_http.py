"""Intake as a storefront meets it: several clients posting orders at once over HTTP to
gunicorn, started with the shipped deploy/gunicorn.conf.py on loopback.

One client in the same process measures how much Python one order costs; this measures how
many orders the service takes per second, which is what a busy storefront needs. Bodies
are serialised before the clock starts, so the clients cost little beside the server, and
every acknowledged order is looked up in the database afterwards.
"""
from __future__ import annotations

import http.client
import json
import random
import threading
import time

import sqlalchemy as sa

from panel.models.base import utcnow
from panel.services import demo
from tests.load.run import Gunicorn


def intake_payload(rng: random.Random, reference: str) -> dict:
    """A new order as a storefront sends it: a customer and address from the demo data's
    population (so new orders look like the dataset's, at the top of its date index), with
    three items, as the benchmark's measure asks."""
    payload = demo.make_order(rng, 1_000_000, 1_000_000, utcnow())
    del payload["created_at"]  # the server's now
    shipment = payload["shipments"][0]
    units = [rng.choice(demo.PRODUCTS) for _ in range(3)]
    shipment["items"] = [{"sku": sku, "name": name, "quantity": 1, "unit_price": price,
                          "tax_rate": demo.TAX[payload["billing_address"]["country"]]}
                         for sku, name, price in units]
    payload["shipments"] = [shipment]
    payload["payment"]["amount"] = sum(price for _, _, price in units) + shipment["price"]
    payload["order_reference"] = reference
    return payload


def post_orders(port: int, token: str, bodies: list[bytes], statuses: list[int]) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for body in bodies:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("POST", "/api/v1/orders", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        finally:
            conn.close()


def intake_over_http(database_url: str, token: str, tag: str, *, clients: int = 8,
                     orders_per_client: int = 250) -> dict:
    """Orders per second with ``clients`` posting at once; every order is checked stored."""
    references = [[f"BENCH-HTTP-{tag}-{c}-{n}" for n in range(orders_per_client)]
                  for c in range(clients)]
    rng = random.Random(tag)
    bodies = [[json.dumps(intake_payload(rng, ref)).encode() for ref in refs]
              for refs in references]
    statuses: list[list[int]] = [[] for _ in range(clients)]
    with Gunicorn(database_url, workers=None, shipped_config=True) as server:
        workers = len(server.worker_pids())
        # One warm-up order per worker, so the clock does not time imports and first
        # connections.
        warm = [json.dumps(intake_payload(rng, f"BENCH-HTTP-{tag}-warm-{n}")).encode()
                for n in range(workers * 2)]
        post_orders(server.port, token, warm, [])
        threads = [threading.Thread(target=post_orders,
                                    args=(server.port, token, bodies[c], statuses[c]))
                   for c in range(clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    sent = clients * orders_per_client
    created = sum(status == 201 for per_client in statuses for status in per_client)
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        # A range on the reference's index: "." is the character after "-".
        stored = conn.scalar(sa.text(
            "SELECT count(*) FROM sales_order WHERE order_reference >= :low"
            " AND order_reference < :high"),
            {"low": f"BENCH-HTTP-{tag}-", "high": f"BENCH-HTTP-{tag}."}) - len(warm)
    engine.dispose()
    if created != sent or stored != sent:
        raise RuntimeError(f"intake over HTTP: sent {sent}, {created} answered 201, "
                           f"{stored} stored")
    return {"clients": clients, "workers": workers, "orders": sent, "seconds": elapsed,
            "orders_per_second": sent / elapsed}
