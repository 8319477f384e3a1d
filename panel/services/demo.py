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
import multiprocessing
import random
import signal
import time
import traceback
from array import array
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import event as sql_event
from sqlalchemy import func, select, text

from panel.extensions import db
from panel.models import Order
from panel.oms.definitions import Process
from panel.oms.registry import current_registry
from panel.services import demo_data, intake_bulk
from panel.services.deferred_indexes import indexes_deferred, restore_missing_indexes
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


def _below(rng: random.Random, n: int) -> int:
    """A whole number from 0 to n - 1 (n up to millions), in a third of ``randrange``'s
    time."""
    return int(rng.random() * n)


def _built(model, **values):
    """``model.model_construct(**values)`` for values that name every field: the same
    instance without its search for defaults and aliases, which was a fifth of making a demo
    order (VERIFY_EVERY still validates orders made so). Other values take
    model_construct."""
    fields = _plain_fields(model)
    if fields is None or values.keys() != fields:
        return model.model_construct(**values)
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(fields))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


@lru_cache
def _plain_fields(model) -> frozenset | None:
    """The model's field names, if model_construct would store the values as given (no
    aliases, no extra fields kept, nothing done after construction); else None."""
    if model.__pydantic_post_init__ or model.model_config.get("extra") == "allow" or any(
            field.alias or field.validation_alias for field in model.__pydantic_fields__.values()):
        return None
    return frozenset(model.__pydantic_fields__)


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
    return (_built(CustomerIn, customer_reference=None, **_customer(person, guest)),
            _address_in(person.address(person.home)),
            _address_in(person.address(person.other)) if person.other else None)


def _address_in(fields: dict) -> AddressIn:
    return _built(AddressIn, **(_defaults(AddressIn) | fields))


@lru_cache
def _defaults(model) -> dict:
    """The model's optional fields with their (immutable) defaults."""
    return {name: field.get_default() for name, field in model.__pydantic_fields__.items()
            if not field.is_required()}


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
                    customer = self.customer_numbers[_below(rng, len(self.customer_numbers))]
                else:
                    customer = known[_below(rng, len(known))]
                known.append(customer)
                person = _person(self.seed, customer)
        country = person.home["country"]
        tax = TAX[country]
        shipments, total = [], 0
        for _ in range(_SHIPMENT_COUNTS.draw(rng)):
            method, carrier, price = SHIPPING[_below(rng, len(SHIPPING))]
            items = []
            for _ in range(_ITEM_COUNTS.draw(rng)):
                sku, name, unit_price = PRODUCTS[_below(rng, len(PRODUCTS))]
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
            note = notes[_below(rng, len(notes))]
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
        order = _built(
            OrderIn,
            order_reference=None, store=person.store, currency=currency, locale=locale,
            created_at=drawn.created, customer=customer, billing_address=home,
            shipments=[_built(
                ShipmentIn,
                method=method, carrier=carrier, price=price, requested_delivery_date=None,
                address=other if elsewhere else home,
                items=[_item_in(*item) for item in items])
                for method, carrier, price, elsewhere, items in drawn.shipments],
            payment=_built(PaymentIn, method=drawn.payment_method, amount=drawn.total),
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
    targets: dict = {}  # (process, state, event) -> where the event takes an item, or None

    def target_of(process_name: str, state: str, event: str) -> str | None:
        key = (process_name, state, event)
        if key not in targets:
            targets[key] = _target(registry.process(process_name), state, event)
        return targets[key]

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
                process_name = unit["process_name"]
                at, source = created, unit["state_name"]
                for event in path:
                    target = target_of(process_name, source, event)
                    if target is None:
                        break
                    at = min(at + timedelta(hours=1 + _below(rng, 48)), now)
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
    restored_indexes: list[str] = field(default_factory=list)  # left out by a killed seed


# From this many batches on, orders are made and planned in a process of their own.
PLAN_APART_FROM_BATCHES = 3
# From this many orders on (and when the seed at least doubles the orders), the orders
# list's indexes are built after the seed instead of kept up to date (deferred_indexes).
DEFER_INDEXES_FROM = 50_000


def seed_orders(count: int, *, seed: int = 1, batch: int = 2000, progress=None,
                plan_apart: bool | None = None, defer_indexes: bool | None = None,
                note=None, now: datetime | None = None) -> Seeded:
    """Create ``count`` demo orders in batches; return how many were stored, and why those
    whose items could not start did not. ``progress(created)`` is called after each batch,
    ``note(text)`` says what takes long besides (building the indexes).

    Making and planning orders is Python's work, writing them (SQLite's inserts, or
    feeding PostgreSQL) is mostly the database's; with ``plan_apart`` (the default from
    PLAN_APART_FROM_BATCHES batches on) the next batches are made and planned in a child
    process while this one writes, so the two overlap on two cores. The child only
    computes: the batches come with ids relative to the batch, and this process gives them
    their customers, references and ids (``intake_bulk.anchor``) under the write lock, so
    other writers may go on meanwhile. Orders and their ageing draw from random generators
    of their own, so the same seed gives the same data either way.

    With ``defer_indexes`` (the default for DEFER_INDEXES_FROM orders or more that at
    least double the orders) the orders list's indexes are built once at the end.

    On PostgreSQL each table being filled is analysed whenever it has doubled since its
    last ANALYZE (autovacuum may be off, or late): with the statistics of nearly empty
    tables the planner keeps answering the batch's lookups (customers by email, items by
    order) by reading whole tables, and the run slows down as they grow.
    """
    now = now or datetime.now(UTC).replace(microsecond=0)
    demo_data.pools(seed)  # Faker's pools, made here (MissingFaker) and shared by a fork
    orders = DemoOrders(seed, count, now, random.Random(seed))
    adjust = age_plan(random.Random(f"{seed}:age"), now)
    seeded = Seeded()
    postgres = db.session.get_bind().dialect.name == "postgresql"
    sizes = [min(batch, count - start) for start in range(0, count, batch)]
    if plan_apart is None:
        plan_apart = len(sizes) >= PLAN_APART_FROM_BATCHES and _can_fork()
    seeded.restored_indexes = restore_missing_indexes()
    if defer_indexes is None:
        defer_indexes = count >= max(DEFER_INDEXES_FROM,
                                     db.session.scalar(select(func.count(Order.id))))

    def plan(index: int, offered: set) -> intake_bulk.PlannedBatch:
        first = index * batch
        return intake_bulk.plan_orders(
            [orders.order_in(first + i) for i in range(sizes[index])], adjust, offered)

    known: dict = {}  # the customers of this seed ((reference, email) -> (id, reference))
    with _young_collections_only(), _bulk_writing(), indexes_deferred(defer_indexes, note), \
            (_planned_apart(plan, len(sizes)) if plan_apart
             else nullcontext(_planned_here(plan, len(sizes)))) as batches:
        for planned in batches:
            result = intake_bulk.write_prepared(intake_bulk.anchor(planned, known))
            seeded.created += result.created
            seeded.not_started += [error for _, error in result.not_started]
            if postgres and seeded.created < count:
                analyse_grown_tables()
            gc.collect(1)
            if progress:
                progress(seeded.created)
    return seeded


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _planned_here(plan, count: int):
    offered: set = set()
    for index in range(count):
        yield plan(index, offered)


class PlanningFailed(RuntimeError):
    """The process that plans demo orders failed, or ended before it was done."""


@contextmanager
def _planned_apart(plan, count: int):
    """Iterate over ``plan(0, offered) ... plan(count - 1, offered)``, each made by a forked
    child process while the one before is used here. The child inherits the application
    (its processes and plugins, the generators' state) and never uses the database: it
    drops the connections it inherited without closing them, as they are this process's.
    The batches come through a pipe whose writing end only the child holds, so a child
    that dies, even halfway through a batch, ends the pipe instead of leaving this process
    waiting. An error in the child is raised here with its traceback; Ctrl+C is this
    process's to handle, which stops the child."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    engine = db.engine

    def work() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        receiving.close()
        engine.dispose(close=False)
        offered: set = set()
        try:
            for index in range(count):
                sending.send((plan(index, offered), None))
                if index % 10 == 9:
                    gc.collect(1)
        except BaseException:  # noqa: BLE001 - handed to the parent
            sending.send((None, traceback.format_exc()))

    child = context.Process(target=work, name="demo-planner", daemon=True)
    child.start()
    sending.close()

    def results():
        for _ in range(count):
            try:
                planned, error = receiving.recv()
            except EOFError:
                child.join()
                raise PlanningFailed(f"the process planning demo orders ended (exit code "
                                     f"{child.exitcode}) before it was done") from None
            if error is not None:
                raise PlanningFailed(f"planning demo orders failed:\n{error}")
            yield planned

    try:
        yield results()
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receiving.close()


SQLITE_CACHE_KIB = 200 * 1024


@contextmanager
def _bulk_writing():
    """Connections set for writing in bulk while seeding, as they are checked out (the
    session may take any of the pool's); the pool is emptied at the end, so that no
    connection keeps the setting.

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
