"""Realistic demo orders: four stores, their customers, shipments, payment methods, guests
and ages.

People and places come from Faker per store locale (``demo_data``): thousands of names with
a long tail, streets, postcodes and phone numbers of each country's shape, some companies,
and repeat customers, a few of them with many orders. Orders go through the intake service's
bulk path; older orders are then aged along their process (pay, ship, deliver, close; some
cancelled or returned), history included, as far as their process has those events.
The same seed gives the same data (a benchmark's dataset stays comparable).
"""
from __future__ import annotations

import bisect
import gc
import logging
import itertools
import random
import time
from array import array
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import text

from panel.extensions import db
from panel.oms.definitions import Process
from panel.oms.registry import current_registry
from panel.services import demo_data, intake_bulk
from panel.services.intake_schema import AddressIn, CustomerIn, ItemIn, OrderIn
from panel.services.order_plan import OrderPlan, refresh_item_states

log = logging.getLogger(__name__)

PRODUCTS = (
    ("210_123", "Canon IXUS 160", 9999), ("066_232", "Samsung Galaxy S5 mini", 29999),
    ("018_213", "Sony Cyber-shot DSC-W830", 7499), ("136_245", "Acer Aspire S7", 129900),
    ("157_221", "HP Slate 10 Plus", 24900), ("033_356", "Sony SmartWatch 3", 17900),
    ("088_142", "Lenovo ThinkCentre E73", 54900), ("127_193", "Toshiba CAMILEO S20", 15999),
    ("194_301", "Kingston DataTraveler 64 GB", 1599), ("176_205", "Logitech MX Master 3", 8999),
    ("112_318", "Fujitsu Esprimo E920", 79900), ("142_207", "Asus Zenbook US303UB", 99900),
    ("051_029", "Sony FDR-AX40", 69900), ("204_311", "Philips Hue Starter Kit", 13999),
    ("209_402", "Bose QuietComfort 45", 27999), ("044_118", "Garmin Forerunner 55", 19999),
    ("093_274", "USB-C Charging Cable 2 m", 1299), ("117_385", "Screen Protector Glass", 999),
)
PAYMENTS = (("invoice", 30), ("creditCard", 35), ("paypal", 25), ("prepayment", 10))
SHIPPING = (("Standard", "DHL", 490), ("Express", "UPS", 1490), ("Standard", "Hermes", 390),
            ("Next Day", "DPD", 990))
TAX = {"DE": "19", "AT": "20", "US": "0", "GB": "20"}
# How far an older order went, by age: (events in turn, weight). Each event moves the items
# only where their process has a transition for it (DefaultOrder01 has all of them).
PATHS = (
    (("pay",), 12), (("pay", "ship"), 20), (("pay", "ship", "deliver"), 25),
    (("pay", "ship", "deliver", "close"), 25), (("cancel",), 10),
    (("pay", "ship", "return"), 8),
)
CANCELING = {"cancel", "return"}  # the item's price counts as canceled
CAPTURING = {"pay"}  # the payment is captured (Payment/Capture sets payment_captured_at)
DEMO_ACTOR = "system (demo data)"


GUEST_SHARE = 0.1  # orders placed without an account
# Of the orders placed with an account, the share by a customer new to the data; the rest go
# to earlier customers in proportion to the orders they placed so far.
NEW_CUSTOMER_SHARE = 0.6
CART_NOTES = {
    "de": ("Bitte zweimal klingeln.", "Bei Abwesenheit bitte beim Nachbarn abgeben.",
           "Als Geschenk verpacken, bitte.\nKeine Rechnung ins Paket."),
    "en": ("Please ring twice.", "Leave it with a neighbour if I am out.",
           "Gift wrap, please.\nNo invoice in the parcel."),
}
NOTE_SHARE = 0.2


class Weighted:
    """Draw one of ``options`` ((value..., weight) tuples) by its weight: the value is the
    option's first element, or the tuple of all but the weight."""

    def __init__(self, options):
        self.values = [o[0] if len(o) == 2 else o[:-1] for o in options]
        self.cumulative = list(itertools.accumulate(o[-1] for o in options))

    def draw(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cumulative,
                                               rng.random() * self.cumulative[-1])]


_PAYMENTS = Weighted(PAYMENTS)
_PATHS = Weighted(PATHS)
_SHIPMENT_COUNTS = Weighted(((1, 75), (2, 20), (3, 5)))
_ITEM_COUNTS = Weighted(((1, 60), (2, 30), (3, 10)))
_QUANTITIES = Weighted(((1, 80), (2, 15), (3, 5)))


@dataclass
class DrawnOrder:
    """One demo order before it becomes a payload: who, what, when."""

    person: demo_data.Person
    guest: bool
    created: datetime
    shipments: list  # (method, carrier, price, ships to the other address, items)
    payment_method: str
    total: int
    note: str | None


@lru_cache(maxsize=20_000)
def _person(seed: int, number: int) -> demo_data.Person:
    return demo_data.make_person(seed, number)


@lru_cache(maxsize=20_000)
def _validated(seed: int, number: int) -> tuple:
    """A registered customer's CustomerIn and addresses (AddressIn), validated once: a
    repeat customer's next orders reuse them (models are not changed once made)."""
    person = _person(seed, number)
    return (_customer_in(person, guest=False), AddressIn.model_validate(person.address(
        person.home)), AddressIn.model_validate(person.address(person.other))
        if person.other else None)


def _customer_in(person: demo_data.Person, guest: bool) -> CustomerIn:
    return CustomerIn.model_validate(_customer(person, guest))


def _customer(person: demo_data.Person, guest: bool) -> dict:
    return {"email": person.email, "salutation": person.salutation,
            "first_name": person.first_name, "last_name": person.last_name,
            "phone": person.phone, "is_guest": guest}


@lru_cache(maxsize=1024)
def _item_in(sku: str, name: str, unit_price: int, quantity: int, discount: int,
             tax_rate: str) -> ItemIn:
    return ItemIn(sku=sku, name=name, unit_price=unit_price, quantity=quantity,
                  discount=discount, tax_rate=tax_rate)


class DemoOrders:
    """The orders of one seed, in turn: ``next()`` draws the next order. It remembers only
    which customer placed each order (people are made again from their number when they
    come back), so a million orders take a few megabytes."""

    def __init__(self, seed: int, count: int, now: datetime, rng: random.Random | None = None):
        self.seed, self.count, self.now = seed, count, now
        self.rng = rng or random.Random(seed)
        self.customer_of_order = array("l")  # a registered customer's number, per order
        self.customer_numbers = array("l")  # the registered customers' numbers
        self.people = 0  # numbers handed out to customers and guests

    def _new_number(self) -> int:
        self.people += 1
        return self.people - 1

    def draw(self, number: int, person: demo_data.Person | None = None,
             guest: bool | None = None) -> DrawnOrder:
        """The ``number``-th of ``count`` orders of the past year, oldest first."""
        rng = self.rng
        if person is None:
            guest = rng.random() < GUEST_SHARE
            if guest:
                person = demo_data.make_person(self.seed, self._new_number())
            else:
                known = self.customer_of_order
                if not known or rng.random() < NEW_CUSTOMER_SHARE:
                    customer = self._new_number()
                    self.customer_numbers.append(customer)
                elif rng.random() * (len(known) + len(self.customer_numbers)) \
                        < len(self.customer_numbers):
                    # Each customer weighs their orders plus one: the first customers of a
                    # small dataset do not take over.
                    customer = self.customer_numbers[rng.randrange(len(self.customer_numbers))]
                else:
                    customer = known[rng.randrange(len(known))]
                known.append(customer)
                person = _person(self.seed, customer)
        country = person.home["country"]
        tax = TAX[country]
        shipments, total = [], 0
        for _ in range(_SHIPMENT_COUNTS.draw(rng)):
            method, carrier, price = SHIPPING[rng.randrange(len(SHIPPING))]
            items = []
            for _ in range(_ITEM_COUNTS.draw(rng)):
                sku, name, unit_price = PRODUCTS[rng.randrange(len(PRODUCTS))]
                quantity = _QUANTITIES.draw(rng)
                discount = unit_price // 10 if rng.random() < 0.25 else 0
                items.append((sku, name, unit_price, quantity, discount, tax))
                total += (unit_price - discount) * quantity
            total += price
            elsewhere = person.other is not None and rng.random() < 0.3
            shipments.append((method, carrier, price, elsewhere, items))
        created = self.now - timedelta(days=365) * (1 - (number + rng.random()) / self.count)
        note = None
        if rng.random() < NOTE_SHARE:
            notes = CART_NOTES["de" if country in ("DE", "AT") else "en"]
            note = notes[rng.randrange(len(notes))]
        return DrawnOrder(person, bool(guest), created, shipments, _PAYMENTS.draw(rng), total,
                          note)

    def payload(self, number: int, **kwargs) -> dict:
        """The next order as the API takes it (plain JSON values)."""
        return as_payload(self.draw(number, **kwargs))

    def order_in(self, number: int) -> OrderIn:
        """The next order, validated: a repeat customer's parts are validated once."""
        drawn = self.draw(number)
        person = drawn.person
        if drawn.guest:
            customer = _customer_in(person, guest=True)
            home = AddressIn.model_validate(person.address(person.home))
            other = AddressIn.model_validate(person.address(person.other)) \
                if person.other else None
        else:
            customer, home, other = _validated(self.seed, person.number)
        store = person.store
        currency, locale = demo_data.STORES[store][:2]
        return OrderIn.model_validate({
            "store": store, "currency": currency, "locale": locale,
            "created_at": drawn.created, "customer": customer, "billing_address": home,
            "shipments": [{"method": method, "carrier": carrier, "price": price,
                           "address": other if elsewhere else home,
                           "items": [_item_in(*item) for item in items]}
                          for method, carrier, price, elsewhere, items in drawn.shipments],
            "payment": {"method": drawn.payment_method, "amount": drawn.total},
            "cart_note": drawn.note,
        })


def as_payload(drawn: DrawnOrder) -> dict:
    person = drawn.person
    currency, locale = demo_data.STORES[person.store][:2]
    home = person.address(person.home)
    other = person.address(person.other) if person.other else None
    return {
        "store": person.store,
        "currency": currency,
        "locale": locale,
        "created_at": drawn.created.isoformat(),
        "customer": _customer(person, drawn.guest),
        "billing_address": home,
        "shipments": [{"method": method, "carrier": carrier, "price": price,
                       "address": dict(other if elsewhere else home),
                       "items": [{"sku": sku, "name": name, "quantity": quantity,
                                  "unit_price": unit_price, "tax_rate": tax,
                                  "discount": discount}
                                 for sku, name, unit_price, quantity, discount, tax in items]}
                      for method, carrier, price, elsewhere, items in drawn.shipments],
        "payment": {"method": drawn.payment_method, "amount": drawn.total},
        "cart_note": drawn.note,
    }


def make_order(rng: random.Random, number: int, count: int, now: datetime) -> dict:
    """One demo order as the API takes it, drawn with ``rng``: a customer of the population
    that seeding ``count`` orders with seed 1 makes (or a guest), the ``number``-th order's
    time. For tools that need orders like the demo data's beside it (the benchmark)."""
    people = max(1, int(count * (1 - GUEST_SHARE) * NEW_CUSTOMER_SHARE))
    person = _person(1, rng.randrange(people))
    return DemoOrders(1, count, now, rng).payload(number, person=person,
                                                   guest=rng.random() < GUEST_SHARE)


def age_plan(rng: random.Random, now: datetime):
    """An ``adjust`` callback for the intake bulk path: move old orders along their process."""
    registry = current_registry()

    def adjust(plan: OrderPlan, payload: OrderIn) -> None:
        created = plan.order["created_at"]
        age_days = (now - created).total_seconds() / 86400
        if age_days < 1 and rng.random() < 0.7:
            return
        path = _PATHS.draw(rng)
        steps = min(len(path), 1 + int(age_days // 3))
        path = path[:steps]
        for units in plan.items:
            for unit in units:
                process = registry.process(unit["process_name"])
                at, source = created, unit["state_name"]
                for event in path:
                    target = _target(process, source, event)
                    if target is None:
                        break
                    at = min(at + timedelta(hours=rng.randint(1, 48)), now)
                    unit["history"].append((source, target, event, DEMO_ACTOR, at))
                    source = target
                    if event in CAPTURING:  # what the capture command would have done
                        captured = plan.order["payment_captured_at"]
                        plan.order["payment_captured_at"] = at if captured is None \
                            else min(captured, at)
                    if event in CANCELING:
                        plan.order["canceled_total"] += unit["price_to_pay"]
                unit["state_name"], unit["state_entered_at"] = source, at
        refresh_item_states(plan)

    return adjust


def _target(process: Process, state: str, event: str) -> str | None:
    """Where ``event`` takes an item in ``state`` without asking a condition, if anywhere."""
    for transition in process.transitions_for(state, event):
        if transition.condition is None:
            return transition.target
    return None


@dataclass
class Seeded:
    created: int = 0
    not_started: list[str] = field(default_factory=list)  # why, per order that did not start


def seed_orders(count: int, *, seed: int = 1, batch: int = 2000, progress=None) -> Seeded:
    """Create ``count`` demo orders in batches; return how many were stored, and why those
    whose items could not start did not. ``progress(created)`` is called after each batch.

    On PostgreSQL the tables being filled are analysed whenever this run has doubled them
    (autovacuum may be off, or late): with the statistics of nearly empty tables the planner
    keeps answering the batch's lookups (customers by email, items by order) by reading
    whole tables, and the run slows down as they grow.
    """
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    orders = DemoOrders(seed, count, now, rng)
    adjust = age_plan(rng, now)
    seeded = Seeded()
    analyse_at = min(batch, count)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    with _young_collections_only():
        while seeded.created < count:
            size = min(batch, count - seeded.created)
            payloads = [orders.order_in(seeded.created + i) for i in range(size)]
            result = intake_bulk.receive_orders_in_bulk(payloads, adjust=adjust)
            seeded.created += result.created
            seeded.not_started += [error for _, error in result.not_started]
            if postgres and seeded.created >= analyse_at and seeded.created < count:
                analyse_growing_tables()
                analyse_at = seeded.created * 2
            gc.collect(1)
            if progress:
                progress(seeded.created)
    return seeded


@contextmanager
def _young_collections_only():
    """Collect only the young generations, once per batch, while seeding: a batch makes
    hundreds of thousands of rows as dicts, and with automatic collection Python scans the
    old objects (the caches of people, the session) again and again, for a sixth of the
    run's time. A full collection follows at the end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect()


# What a demo order writes: the tables whose statistics the next batches' queries rely on.
GROWING_TABLES = ("customer", "customer_address", "sales_order", "order_address", "shipment",
                  "order_item", "item_state_history", "event_timeout")


def analyse_growing_tables() -> None:
    """ANALYZE the tables demo orders fill (PostgreSQL; a fraction of a second each)."""
    db.session.commit()
    started = time.perf_counter()
    db.session.execute(text("ANALYZE " + ", ".join(GROWING_TABLES)))
    db.session.commit()
    log.debug("ANALYZE took %.2f s", time.perf_counter() - started)
