"""Demo data from Faker (panel.services.demo_data, demo.DemoOrders) and `demo seed`'s
progress output (panel.progress)."""
from __future__ import annotations

import io
import re
from collections import Counter
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Customer, Order
from panel.progress import Progress
from panel.services import demo, demo_data
from panel.services.intake_schema import OrderIn

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
COUNT = 3000


@pytest.fixture(scope="module")
def payloads() -> list[dict]:
    orders = demo.DemoOrders(1, COUNT, NOW)
    return [orders.payload(n) for n in range(COUNT)]


def test_the_same_seed_gives_the_same_orders_and_another_seed_others():
    def orders(seed):
        made = demo.DemoOrders(seed, 300, NOW)
        return [made.payload(n) for n in range(300)]

    first = orders(7)
    assert first == orders(7)
    other = orders(8)
    assert [p["customer"]["email"] for p in other] != [p["customer"]["email"] for p in first]
    # The validated orders the seeding writes are the same orders as the payloads.
    validated = demo.DemoOrders(7, 300, NOW)
    assert [validated.order_in(n) for n in range(300)] == \
        [OrderIn.model_validate(p) for p in first]


POSTCODES = {
    "DE": r"^\d{5}$",
    "AT": r"^\d{4}$",
    "US": r"^\d{5}(-\d{4})?$",
    "GB": r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$",
}
PHONES = {"DE": r"^(\+49|0|\(0)", "AT": r"^(\+43|0|\(0)", "GB": r"^(\+44|0|\(0)",
          "US": r"^(\+1|001|\(\d{3}\)|\d{3})"}
STREETS = {"DE": r"^\D+ \d+[a-c]?$", "AT": r"^\D+ \d+[a-c]?(/\d+)?$", "US": r"^\d+ \D+$",
           "GB": r"^\d+ \D+$"}
LOCALES = {"DE": ("de_DE", "EUR"), "AT": ("de_AT", "EUR"), "US": ("en_US", "USD"),
           "GB": ("en_GB", "GBP")}


def test_each_store_has_its_countrys_addresses_and_phone_numbers(payloads):
    by_store = Counter(p["store"] for p in payloads)
    assert set(by_store) == set(POSTCODES) and min(by_store.values()) > COUNT * 0.08
    for payload in payloads:
        store, address = payload["store"], payload["billing_address"]
        assert (payload["locale"], payload["currency"]) == LOCALES[store]
        assert address["country"] == store
        assert re.match(POSTCODES[store], address["zip_code"]), address
        assert re.match(PHONES[store], address["phone"]), address
        assert re.match(STREETS[store], address["address1"]), address
        assert payload["customer"]["email"].rsplit("@", 1)[1] in {
            "example.com", "example.net", "example.org"}  # never a real mailbox
    german = [p["billing_address"] for p in payloads if p["store"] == "DE"]
    assert any(set(a["address1"]) & set("äöüß") for a in german)  # Faker's German streets


def test_thousands_of_names_with_a_long_tail(payloads):
    firsts = Counter(p["customer"]["first_name"] for p in payloads)
    lasts = Counter(p["customer"]["last_name"] for p in payloads)
    names = Counter((p["customer"]["first_name"], p["customer"]["last_name"])
                    for p in payloads)
    assert len(names) > 1500 and len(firsts) > 500 and len(lasts) > 500
    # A few names are common, most are rare: the commonest last name is a few per cent of
    # the orders, and a third of the last names occur once.
    assert 0.005 < lasts.most_common(1)[0][1] / COUNT < 0.06
    assert sum(1 for n in lasts.values() if n == 1) > len(lasts) / 3
    assert sum(n for _, n in lasts.most_common(10)) > 5 * sum(
        n for _, n in lasts.most_common()[len(lasts) // 2:][:10])


def test_repeat_customers_guests_and_companies(payloads):
    registered = [p for p in payloads if not p["customer"]["is_guest"]]
    assert 0.07 < 1 - len(registered) / COUNT < 0.13  # about one order in ten is a guest's
    orders_of = Counter(p["customer"]["email"] for p in registered)
    assert orders_of.most_common(1)[0][1] >= 10  # a regular with many orders
    once = sum(1 for n in orders_of.values() if n == 1)
    assert 0.5 < once / len(orders_of) < 0.85  # most order once
    # A repeat customer is the same person each time.
    people = {}
    for p in registered:
        person = (p["customer"]["first_name"], p["customer"]["last_name"], p["store"],
                  p["billing_address"]["address1"])
        assert people.setdefault(p["customer"]["email"], person) == person
    companies = [p["billing_address"].get("company") for p in payloads]
    assert 0.03 < sum(1 for c in companies if c) / COUNT < 0.15
    # Some parcels go to a second address (the office), not the billing one.
    assert any(s["address"]["address1"] != p["billing_address"]["address1"]
               for p in payloads for s in p["shipments"])


def test_make_order_draws_a_customer_of_the_seeded_population():
    import random

    rng = random.Random(3)
    payload = demo.make_order(rng, 10, 1000, NOW)
    OrderIn.model_validate(payload)
    seeded = demo.DemoOrders(1, 1000, NOW)
    emails = {seeded.payload(n)["customer"]["email"] for n in range(1000)}
    drawn = {demo.make_order(rng, n, 1000, NOW)["customer"]["email"] for n in range(50)}
    assert drawn & emails


def test_ascii_names_for_email_addresses():
    assert demo_data.ascii_name("Jörg-Günther") == "joerg-guenther"
    assert demo_data.ascii_name("Strauß") == "strauss"
    assert demo_data.ascii_name("Zoë O'Neill") == "zoe-oneill"


def test_seeding_links_repeat_customers_to_one_customer_record(app, runner):
    result = runner.invoke(args=["demo", "seed", "--orders", "400", "--batch", "150"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        orders = db.session.execute(sa.select(Order.customer_id, Order.email,
                                              Order.last_name)).all()
        customers = db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
        registered = [o for o in orders if o.customer_id is not None]
        assert customers < len(registered) * 0.8
        per_customer = Counter(o.customer_id for o in registered)
        assert per_customer.most_common(1)[0][1] >= 5
        assert len({(o.customer_id, o.email) for o in registered}) == customers


def test_progress_in_a_log_is_a_plain_line_every_few_seconds():
    now = [0.0]
    out = io.StringIO()
    progress = Progress(1000, stream=out, tty=False, every=10, clock=lambda: now[0])
    for now[0], done in ((5, 100), (10, 200), (20, 400), (30, 600), (31, 1000)):
        progress.update(done)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert lines == [
        "  100 / 1,000 orders,  10 %, 20 orders/s, 45 s left",
        "  400 / 1,000 orders,  40 %, 20 orders/s, 30 s left",
        "  600 / 1,000 orders,  60 %, 20 orders/s, 20 s left",
        "  1,000 / 1,000 orders, 100 %, 32 orders/s, 31 s in all",
    ]


def test_progress_on_a_terminal_is_one_bar_redrawn_in_place():
    ticks = iter(range(0, 100, 1)).__next__
    out = io.StringIO()
    progress = Progress(200, unit="orders", stream=out, tty=True, redraw=0, clock=ticks)
    progress.update(50)
    progress.update(100)
    progress.finish()
    text = out.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    frames = text.strip("\n").split("\r")[1:]
    assert frames[0].startswith("  [######------------------] 50 / 200 orders   25 %  "
                                "50 orders/s  3 s left")
    assert frames[1].startswith("  [############------------] 100 / 200 orders   50 %")
    assert "  [############------------] 100 / 200" in frames[2]  # finish: the last count


def test_demo_seed_reports_progress_and_its_build_time(app, runner):
    result = runner.invoke(args=["demo", "seed", "--orders", "30", "--batch", "10"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^  10 / 30 orders,  33 %, [\d,]+ orders/s, .* left$", result.stderr,
                     re.M), result.stderr
    assert re.search(r"^Created 30 orders in \d+\.\d s \([\d,]+ orders/s\)\.$", result.stdout,
                     re.M), result.stdout


def test_demo_seed_without_faker_says_what_to_install(app, runner, monkeypatch):
    import sys

    demo_data.pools.cache_clear()
    monkeypatch.setitem(sys.modules, "faker", None)
    try:
        result = runner.invoke(args=["demo", "seed", "--orders", "5", "--seed", "991"])
    finally:
        demo_data.pools.cache_clear()
    assert result.exit_code == 1
    assert "Demo data needs Faker" in result.output and "'.[demo]'" in result.output
