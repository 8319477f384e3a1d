"""Realistic demo orders: several stores, shipments, payment methods, guests and ages.

Orders go through the intake service's bulk path; older orders are then aged along their
process (pay, ship, deliver, close; some cancelled or returned), history included, as far as
their process has those events.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from panel.oms.definitions import Process
from panel.oms.registry import current_registry
from panel.services import intake_bulk
from panel.services.intake_schema import OrderIn
from panel.services.order_plan import OrderPlan, refresh_item_states

STORES = (
    # store, currency, locale, country, weight
    ("DE", "EUR", "de_DE", "DE", 45),
    ("AT", "EUR", "de_AT", "AT", 15),
    ("US", "USD", "en_US", "US", 25),
    ("GB", "GBP", "en_GB", "GB", 15),
)
FIRST_NAMES = ("Anna", "Lukas", "Mia", "Jonas", "Emma", "Leon", "Sofia", "Paul", "Hannah",
               "Felix", "Olivia", "Noah", "Laura", "Elias", "Marie", "Ben", "Clara", "David",
               "Sarah", "Tom", "Julia", "Max", "Lena", "Jan", "Amelia", "Oliver", "Grace")
LAST_NAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
              "Becker", "Hoffmann", "Koch", "Smith", "Johnson", "Brown", "Taylor", "Wilson",
              "Davies", "Evans", "Gruber", "Huber", "Bauer", "Wolf", "Klein", "Walker",
              "Schulz", "Richter", "Lehmann", "Krüger", "Jones", "Miller", "Garcia")
CITIES = {
    "DE": (("Berlin", "10115"), ("Hamburg", "20095"), ("München", "80331"), ("Köln", "50667")),
    "AT": (("Wien", "1010"), ("Graz", "8010"), ("Linz", "4020"), ("Salzburg", "5020")),
    "US": (("New York", "10001"), ("Chicago", "60601"), ("Austin", "73301"), ("Seattle", "98101")),
    "GB": (("London", "EC1A 1BB"), ("Leeds", "LS1 1UR"), ("Bristol", "BS1 4DJ"),
           ("Manchester", "M1 1AE")),
}
# Matches FIRST_NAMES one to one.
SALUTATIONS = ("Ms", "Mr", "Ms", "Mr", "Ms", "Mr", "Ms", "Mr", "Ms", "Mr", "Ms", "Mr", "Ms",
               "Mr", "Ms", "Mr", "Ms", "Mr", "Ms", "Mr", "Ms", "Mr", "Ms", "Mr", "Ms", "Mr", "Ms")
STREETS = ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Main Street", "High Street",
           "Oak Avenue", "Lindenallee", "Schillerstraße", "Park Lane", "Mühlweg")
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


def _weighted(rng: random.Random, options):
    values, weights = zip(*[(o[:-1] if len(o) > 2 else o[0], o[-1]) for o in options], strict=True)
    return rng.choices(values, weights=weights)[0]


def _address(rng, country, first, last, salutation):
    city, zip_code = rng.choice(CITIES[country])
    return {
        "salutation": salutation,
        "first_name": first,
        "last_name": last,
        "country": country,
        "address1": f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
        "city": city,
        "zip_code": zip_code,
        "phone": f"+{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100000, 9999999)}",
    }


def make_order(rng: random.Random, number: int, count: int, now: datetime) -> dict:
    """The ``number``-th of ``count`` realistic orders of the past year, oldest first."""
    customers = max(1, count // 5)
    store, currency, locale, country = _weighted(rng, STORES)
    guest = rng.random() < 0.1
    customer_no = rng.randrange(customers)
    first = FIRST_NAMES[customer_no % len(FIRST_NAMES)]
    salutation = SALUTATIONS[customer_no % len(FIRST_NAMES)]
    last = LAST_NAMES[(customer_no // len(FIRST_NAMES)) % len(LAST_NAMES)]
    email = (f"guest{number}@example.net" if guest
             else f"{first.lower()}.{customer_no}@example.com")
    billing = _address(rng, country, first, last, salutation)
    shipments = []
    total = 0
    for _ in range(rng.choices((1, 2, 3), weights=(75, 20, 5))[0]):
        method, carrier, price = rng.choice(SHIPPING)
        items = []
        for _ in range(rng.choices((1, 2, 3), weights=(60, 30, 10))[0]):
            sku, name, unit_price = rng.choice(PRODUCTS)
            quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
            discount = rng.choice((0, 0, 0, unit_price // 10))
            items.append({"sku": sku, "name": name, "quantity": quantity,
                          "unit_price": unit_price, "tax_rate": TAX[country],
                          "discount": discount})
            total += (unit_price - discount) * quantity
        total += price
        address = billing
        if rng.random() < 0.2:  # sent somewhere else, e.g. to the office
            address = _address(rng, country, first, last, salutation)
        shipments.append({"method": method, "carrier": carrier, "price": price,
                          "address": address, "items": items})
    created = now - timedelta(days=365) * (1 - (number + rng.random()) / count)
    return {
        "store": store,
        "currency": currency,
        "locale": locale,
        "created_at": created.isoformat(),
        "customer": {"email": email, "salutation": salutation, "first_name": first,
                     "last_name": last, "is_guest": guest},
        "billing_address": billing,
        "shipments": shipments,
        "payment": {"method": _weighted(rng, PAYMENTS), "amount": total},
        "cart_note": rng.choice((None, None, None, "Please ring twice.",
                                 "Gift wrap, please.\nNo invoice in the parcel.")),
    }


def age_plan(rng: random.Random, now: datetime):
    """An ``adjust`` callback for the intake bulk path: move old orders along their process."""
    registry = current_registry()

    def adjust(plan: OrderPlan, payload: OrderIn) -> None:
        created = plan.order["created_at"]
        age_days = (now - created).total_seconds() / 86400
        if age_days < 1 and rng.random() < 0.7:
            return
        path = _weighted(rng, PATHS)
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
    whose items could not start did not."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    adjust = age_plan(rng, now)
    seeded = Seeded()
    while seeded.created < count:
        size = min(batch, count - seeded.created)
        payloads = [OrderIn.model_validate(make_order(rng, seeded.created + i, count, now))
                    for i in range(size)]
        result = intake_bulk.receive_orders_in_bulk(payloads, adjust=adjust)
        seeded.created += result.created
        seeded.not_started += [error for _, error in result.not_started]
        if progress and count > batch:
            progress(seeded.created)
    return seeded


