"""New items enter their process's initial state: its timeouts are written, its onEnter
event fires.

The intake commits an order's rows first; its items start here afterwards, in a transaction
of their own under the order's lock, with the engine's rules, whichever way the order came
(the API, ``orders import``, the bulk path of demo data). A command that fails leaves the
order stored with its items in the initial state: the failure is in the order's transition
log, and the caller gets its message. Many orders start BATCH at a time, as the timeout
sweep works.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from panel.extensions import db
from panel.locking import lock_rows
from panel.models import Order, OrderItem
from panel.models.base import utcnow
from panel.models.id_lists import among_ids
from panel.oms.bulk_writer import finish_runs
from panel.oms.definitions import Process
from panel.oms.engine import CommandFailed, Run, in_batches
from panel.oms.failures import record_failure, start_attempts
from panel.oms.registry import current_registry

BATCH = 50


def needs_start(process: Process) -> bool:
    """Whether new items of ``process`` have something to do at once: an onEnter event or
    timeouts out of its initial state."""
    state = process.initial_state
    return bool(process.on_enter_event(state) or process.timeout_events_from(state))


def start_orders(order_ids: Iterable[int], *, actor: str, now: datetime | None = None,
                 batch: int = BATCH) -> dict[int, str]:
    """Start the items of new orders that are in their initial state; return
    ``{order id: error}`` for the orders whose start failed (nothing of their start is
    kept, and the error is in their transition log)."""
    registry = current_registry()
    now = now or utcnow()
    failures: dict[int, str] = {}

    def attempt(chunk: list[int]) -> None:
        orders = lock_rows(Order, chunk)
        items: dict[int, list[OrderItem]] = defaultdict(list)
        for item in db.session.scalars(
                select(OrderItem).where(among_ids(OrderItem.order_id, list(orders)))
                .order_by(OrderItem.id).execution_options(populate_existing=True)):
            items[item.order_id].append(item)
        runs = []
        for order_id, order in orders.items():
            run = Run(order, registry, actor, now)
            run.start(items[order_id])
            runs.append(run)
        finish_runs(runs)
        db.session.commit()
        for run in runs:
            run.committed(None)

    def failed(order_id: int, exc: CommandFailed) -> None:
        record_failure(order_id, exc, actor,
                       attempts=lambda: start_attempts(order_id, registry))
        failures[order_id] = str(exc)

    in_batches(list(order_ids), batch, attempt, failed)
    return failures
