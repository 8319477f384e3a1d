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
import itertools
import logging
import queue
import random
import threading
import time
from array import array
from collections import deque
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import event as sql_event
from sqlalchemy import text

from panel.extensions import db
from panel.oms.definitions import Process
from panel.oms.registry import current_registry
from panel.services import demo_data, intake_bulk
from panel.services.intake_schema import (
    AddressIn,
    CustomerIn,
    ItemIn,
    OrderIn,
    PaymentIn,
    ShipmentIn,
)
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


# Demo orders are made as the intake's models without validating them field by field (a
# twentieth of the seeding's time): every value comes from pools whose values passed the intake's
# checks when the pools were made (demo_data.pools), or is composed of such values, digits
# and example domains. Every VERIFY_EVERY-th order is validated in full all the same, and a
# test holds the made orders equal to the validated payloads.
VERIFY_EVERY = 1000


def _parts(person: demo_data.Person, guest: bool) -> tuple:
    """The CustomerIn and the addresses (AddressIn) of a person's orders."""
    return (CustomerIn.model_construct(customer_reference=None, **_customer(person, guest)),
            _address_in(person.address(person.home)),
            _address_in(person.address(person.other)) if person.other else None)


def _address_in(fields: dict) -> AddressIn:
    return AddressIn.model_construct(**fields)


@lru_cache(maxsize=20_000)
def _customer_parts(seed: int, number: int) -> tuple:
    """A registered customer's parts, made once: their next orders share them (the intake
    never changes a payload's models)."""
    return _parts(_person(seed, number), guest=False)


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
    """The orders of one seed, in turn (``order_in(n)`` or ``payload(n)`` for the n-th). It
    remembers only which customer placed each order (people are made again from their
    number when they come back), so a million orders take a few megabytes."""

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
        """The next order as the intake's model (see VERIFY_EVERY)."""
        drawn = self.draw(number)
        person = drawn.person
        customer, home, other = _parts(person, guest=True) if drawn.guest \
            else _customer_parts(self.seed, person.number)
        currency, locale = demo_data.STORES[person.store][:2]
        order = OrderIn.model_construct(
            order_reference=None, store=person.store, currency=currency, locale=locale,
            created_at=drawn.created, customer=customer, billing_address=home,
            shipments=[ShipmentIn.model_construct(
                method=method, carrier=carrier, price=price, requested_delivery_date=None,
                address=other if elsewhere else home,
                items=[_item_in(*item) for item in items])
                for method, carrier, price, elsewhere, items in drawn.shipments],
            payment=PaymentIn.model_construct(method=drawn.payment_method,
                                              amount=drawn.total),
            cart_note=drawn.note)
        if number % VERIFY_EVERY == 0:
            OrderIn.model_validate(order.model_dump())  # ValidationError if the data drifted
        return order


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

    On PostgreSQL the next batch is prepared in a thread of its own (orders made, customers
    looked up, orders planned and aged, ids and references reserved, on a connection of the
    thread's own) while the server writes this one, so that the server's work and Python's
    overlap on two cores. (On SQLite, which writes in this process, a second thread only
    adds contention for Python's lock.) Orders and their ageing draw from random generators
    of their own, so the same seed gives the same data either way.

    On PostgreSQL each table being filled is analysed whenever it has doubled since its
    last ANALYZE (autovacuum may be off, or late): with the statistics of nearly empty
    tables the planner keeps answering the batch's lookups (customers by email, items by
    order) by reading whole tables, and the run slows down as they grow.
    """
    now = datetime.now(UTC).replace(microsecond=0)
    orders = DemoOrders(seed, count, now, random.Random(seed))
    adjust = age_plan(random.Random(f"{seed}:age"), now)
    seeded = Seeded()
    postgres = db.session.get_bind().dialect.name == "postgresql"
    sizes = [min(batch, count - start) for start in range(0, count, batch)]
    # PostgreSQL: the customers of the batches prepared last, which may not be committed
    # yet when the next one is prepared ((reference, email) -> (id, reference)).
    in_flight: dict = {}
    recent: deque = deque()

    def make(index: int) -> list[OrderIn]:
        first = index * batch
        return [orders.order_in(first + i) for i in range(sizes[index])]

    def prepare(index: int) -> intake_bulk.PreparedBatch:
        before = set(in_flight)
        prepared = intake_bulk.prepare_orders_in_bulk(make(index), adjust, in_flight)
        db.session.commit()  # the references and ids are ours; the rows come next
        recent.append(set(in_flight) - before)
        while len(recent) > 2:  # older batches are committed: the database knows them
            for key in recent.popleft():
                in_flight.pop(key, None)
        return prepared

    with _young_collections_only(), _bulk_writing(), (
            _made_ahead(prepare, len(sizes)) if postgres
            else nullcontext(make(index) for index in range(len(sizes)))) as batches:
        for made in batches:
            result = intake_bulk.write_prepared(made) if postgres \
                else intake_bulk.receive_orders_in_bulk(made, adjust=adjust)
            seeded.created += result.created
            seeded.not_started += [error for _, error in result.not_started]
            if postgres and seeded.created < count:
                analyse_grown_tables()
            gc.collect(1)
            if progress:
                progress(seeded.created)
    return seeded


@contextmanager
def _made_ahead(make, count: int):
    """Iterate over ``make(0) ... make(count - 1)``, each made one step ahead of its use in
    a thread with an application context (and so a database session) of its own; an error
    in ``make`` is raised where its result is taken."""
    app = current_app._get_current_object()
    made: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        with app.app_context():
            try:
                for index in range(count):
                    try:
                        item = (make(index), None)
                    except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                        db.session.rollback()
                        item = (None, exc)
                    while not stop.is_set():
                        try:
                            made.put(item, timeout=0.2)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set() or item[1] is not None:
                        return
            finally:
                db.session.remove()

    def results():
        for _ in range(count):
            result, error = made.get()
            if error is not None:
                raise error
            yield result

    thread = threading.Thread(target=produce, name="demo-orders", daemon=True)
    thread.start()
    try:
        yield results()
    finally:
        stop.set()
        thread.join()


SQLITE_CACHE_KIB = 200 * 1024


@contextmanager
def _bulk_writing():
    """Connections set for writing in bulk while seeding, as they are checked out (the
    session and the preparing thread may take any of the pool's); the pool is emptied at
    the end, so that no connection keeps the setting.

    SQLite: ``synchronous=OFF``. The panel's connections use NORMAL, under which every WAL
    checkpoint waits for the disk; a seeding batch fills the WAL and so checkpoints at each
    commit, and those waits were a fifth of the run. A crash of the machine itself (not of
    this process) during the seeding can damage the file; at the end a checkpoint under
    NORMAL writes everything to disk. And a page cache of SQLITE_CACHE_KIB (the default is
    2 MB): the indexes on email and names take rows all over the file, and with a small
    cache each of their inserts reads its pages again. PostgreSQL: ``synchronous_commit =
    off``, which risks nothing but the last commits in a crash of the server.
    """
    engine = db.engine
    statements = (("PRAGMA synchronous=OFF", f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
                  if engine.dialect.name == "sqlite" else ("SET synchronous_commit TO off",))

    def on_checkout(dbapi_connection, record, proxy):
        cursor = dbapi_connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()

    db.session.commit()  # as the first batch would have (the bulk path commits)
    db.session.remove()
    engine.dispose()  # connections checked out from here on get the setting
    sql_event.listen(engine, "checkout", on_checkout)
    try:
        yield
    finally:
        sql_event.remove(engine, "checkout", on_checkout)
        db.session.remove()
        engine.dispose()
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:  # synchronous=NORMAL again: to the disk
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


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
# A table is analysed again once it changed by as many rows as it had when last analysed
# (and by at least this many): a dozen times on the way to a million orders.
ANALYSE_AFTER_ROWS = 5000


def analyse_grown_tables() -> list[str]:
    """ANALYZE the tables demo orders fill that doubled since their last ANALYZE (by the
    server's own counts), on PostgreSQL; return their names."""
    grown = list(db.session.scalars(text(
        "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
        "WHERE s.relname = ANY(:tables) "
        "AND s.n_mod_since_analyze >= GREATEST(c.reltuples, :least)"),
        {"tables": list(GROWING_TABLES), "least": ANALYSE_AFTER_ROWS}))
    db.session.commit()
    if grown:
        started = time.perf_counter()
        db.session.execute(text("ANALYZE " + ", ".join(sorted(grown))))
        db.session.commit()
        log.debug("ANALYZE %s took %.2f s", ", ".join(grown), time.perf_counter() - started)
    return grown
