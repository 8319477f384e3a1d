"""Build, or reuse, the benchmark dataset: a million demo orders with reclamations."""
from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_migrate import upgrade

from panel.extensions import db
from panel.models import EventTimeout, Order, OrderItem, Reclamation, ReclamationItem, User
from panel.models.base import utcnow
from panel.services import demo, intake_bulk
from panel.services.intake_schema import OrderIn
from panel.services.order_plan import refresh_item_states

BENCH_EMAIL = "bench@example.org"
BENCH_PASSWORD = "benchmark password"


def order_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Order)) or 0


def ensure_schema() -> None:
    upgrade()


def build(orders: int, log) -> float | None:
    """Seed up to ``orders`` orders (reusing what is there); return the seconds it took."""
    have = order_count()
    if have >= orders:
        log(f"  reusing {have:,} orders")
        if db.session.get_bind().dialect.name == "postgresql":
            vacuum_analyze()  # an earlier run's writes left dead rows (autovacuum may be off)
        return None
    started = time.perf_counter()
    postgres = db.session.get_bind().dialect.name == "postgresql"

    def progress(n: int) -> None:
        # (seed_orders analyses the growing tables itself on PostgreSQL.)
        if n % 100_000 == 0:
            log(f"  {have + n:,} orders ({n / (time.perf_counter() - started):,.0f} a second)")

    demo.seed_orders(orders - have, seed=have + 1, batch=5000, progress=progress)
    add_reclamations(log)
    if postgres:
        vacuum_analyze()
    elapsed = time.perf_counter() - started
    log(f"  built {orders - have:,} orders in {elapsed:.0f} s")
    return elapsed


def vacuum_analyze() -> None:
    """What autovacuum would do in a while: statistics for the planner, and the visibility
    map that lets index-only scans skip the table."""
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))


def add_reclamations(log, share: float = 0.01) -> None:
    """Open reclamations on about 1 % of orders, written in bulk like the service would."""
    rng = random.Random(7)
    max_id = db.session.scalar(sa.select(sa.func.max(Order.id))) or 0
    chosen = sorted(rng.sample(range(1, max_id + 1), int(max_id * share)))
    now = utcnow()
    for start in range(0, len(chosen), 5000):
        ids = chosen[start:start + 5000]
        orders = db.session.execute(sa.select(Order.id, Order.email, Order.first_name,
                                              Order.last_name).where(Order.id.in_(ids))).all()
        first_items = dict(db.session.execute(
            sa.select(OrderItem.order_id, sa.func.min(OrderItem.id))
            .where(OrderItem.order_id.in_(ids)).group_by(OrderItem.order_id)).all())
        for order in orders:
            reclamation = Reclamation(order_id=order.id, customer_name=f"{order.first_name} "
                                      f"{order.last_name}", customer_email=order.email,
                                      reason="benchmark", state="open", item_count=1,
                                      created_by_name="benchmark", created_at=now)
            reclamation.items = [ReclamationItem(order_item_id=first_items[order.id])]
            db.session.add(reclamation)
        db.session.execute(sa.update(Order).where(Order.id.in_(ids))
                           .values(open_reclamations=Order.open_reclamations + 1))
        db.session.commit()
    log(f"  {len(chosen):,} reclamations")


def ensure_due_timeouts(count: int) -> int:
    """Make ``count`` delivered items due for their close timeout now; return how many."""
    due = db.session.scalar(sa.select(sa.func.count()).select_from(EventTimeout)
                            .where(EventTimeout.due_at <= utcnow())) or 0
    if due < count:
        past = utcnow().replace(microsecond=0)
        rows = db.session.execute(
            sa.select(OrderItem.id, OrderItem.order_id)
            .where(OrderItem.state_name == "delivered",
                   ~sa.exists().where(EventTimeout.item_id == OrderItem.id))
            .limit(count - due)).all()
        if rows:
            db.session.execute(sa.insert(EventTimeout), [
                {"item_id": r.id, "order_id": r.order_id, "state_name": "delivered",
                 "event": "close", "due_at": past} for r in rows])
            db.session.commit()
        due += len(rows)
    return due


# check-timeouts is measured on DummyPayment01's "pay" timeout from "payment pending": it
# runs a command (DummyPayment/Pay captures the payment), its condition (IsPayed) then takes
# the items to "paid", whose onEnter event "confirm" runs another command (the order
# confirmation mail, queued in the outbox) and enters "confirmed", which has a timeout of its
# own ("skip timeout", 30 minutes) to write. The benchmark's app maps this payment method to
# that process; the demo data has none of it.
PAYMENT_METHOD = "dummyPayment"
PAYMENT_PROCESS = "DummyPayment01"
PENDING, PAY = "payment pending", "pay"
# These orders are placed, and the sweep is run, at this moment, long before the demo data's
# year: the demo data has hundreds of thousands of "close" timeouts due by now, and a sweep
# at the real now would fire those first; at SWEEP_AT only these are due.
SWEEP_AT = datetime(2020, 1, 1, tzinfo=UTC)
TIMEOUT_REFERENCE = "BENCH-TIMEOUT"


def due_payment_items() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(EventTimeout).where(
        EventTimeout.state_name == PENDING, EventTimeout.event == PAY,
        EventTimeout.due_at <= SWEEP_AT)) or 0


def ensure_due_payment_timeouts(count: int, log, batch: int = 2000) -> int:
    """At least ``count`` DummyPayment01 items waiting in "payment pending" with their "pay"
    timeout due at SWEEP_AT (demo-like orders through the intake's bulk path, placed two
    hours before it, authorised a minute later); return how many are due."""
    due = due_payment_items()
    tag = int(time.time())
    rng = random.Random(tag)
    placed = SWEEP_AT - timedelta(hours=2)
    authorised = placed + timedelta(minutes=1)

    def adjust(plan, payload) -> None:
        for units in plan.items:
            for unit in units:
                unit["history"].append(("new", PENDING, "authorize", demo.DEMO_ACTOR,
                                        authorised))
                unit["state_name"], unit["state_entered_at"] = PENDING, authorised
        refresh_item_states(plan)

    number = 0
    while due < count:
        payloads = []
        # A demo order has about 2.4 items: ask for a third as many orders as items wanted,
        # then top up, rather than overshoot by a whole batch.
        for _ in range(min(batch, (count - due) // 3 + 1)):
            payload = demo.make_order(rng, number, 1_000_000, placed)
            payload.update(created_at=placed.isoformat(),
                           order_reference=f"{TIMEOUT_REFERENCE}-{tag}-{number}")
            payload["payment"]["method"] = PAYMENT_METHOD
            payloads.append(OrderIn.model_validate(payload))
            number += 1
        intake_bulk.receive_orders_in_bulk(payloads, adjust=adjust)
        before, due = due, due_payment_items()
        if due == before:
            raise RuntimeError(f"no item came due on {PAYMENT_PROCESS}: is the payment method "
                               f"{PAYMENT_METHOD} mapped to it (PANEL_PAYMENT_PROCESSES)?")
    log(f"  {due:,} items due on {PAYMENT_PROCESS} \"{PENDING}\" --{PAY}--> (timeout)")
    return due


def ensure_user() -> None:
    from werkzeug.security import generate_password_hash

    if db.session.scalar(sa.select(User.id).where(User.email == BENCH_EMAIL)) is None:
        db.session.add(User(email=BENCH_EMAIL, name="Benchmark", role="agent", active=True,
                            password_hash=generate_password_hash(BENCH_PASSWORD)))
        db.session.commit()
