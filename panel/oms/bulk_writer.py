"""Write what engine runs did, a handful of statements for any number of items and orders.

A run (``panel.oms.engine.Run``) moves items in memory and collects the rows its moves need.
When it finishes, this writes them: the items' new states, grouped by value; the history,
transition log and timeout rows, one statement per table; and the order rows' list columns.
Whatever else a plugin's command changed through the ORM is left to the session's flush,
and nothing is written twice: a state that a flush already wrote is not written again.
"""
from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from panel.extensions import db
from panel.models import EventTimeout, ItemStateHistory, Order, OrderItem, TransitionLog
from panel.models.copy_insert import insert_rows
from panel.models.id_lists import among_ids

if TYPE_CHECKING:  # only for annotations: the engine imports this module
    from panel.oms.engine import Run


def finish_runs(runs: list[Run]) -> None:
    """Write the rows of several orders' runs in one statement per table, and bring each
    order row's list columns in step with its items (one query for all of them)."""
    _write_new_states([item for run in runs for item in run.moved.values()])
    db.session.flush()  # whatever else commands changed
    timeouts = {item_id: rows for run in runs for item_id, rows in run.timeouts.items()}
    if timeouts:
        db.session.connection().execute(
            delete(EventTimeout.__table__).where(among_ids(EventTimeout.item_id, timeouts)))
    new_timeouts = [row for rows in timeouts.values() for row in rows]
    for model, batch in ((ItemStateHistory, [r for run in runs for r in run.history_rows]),
                         (TransitionLog, [r for run in runs for r in run.log_rows]),
                         (EventTimeout, new_timeouts)):
        insert_rows(model.__table__, batch)
    states: dict[int, set[str]] = defaultdict(set)
    for order_id, state in db.session.execute(
            select(OrderItem.order_id, OrderItem.state_name)
            .where(among_ids(OrderItem.order_id, [run.order_id for run in runs])).distinct()):
        states[order_id].add(state)
    changed = []
    for run in runs:
        item_states = " ".join(sorted(states[run.order_id]))
        if item_states != run.order.item_states:
            changed.append((run.order, {"item_states": item_states}))
    _write_grouped(Order, changed)


# Moved items mostly land in a few states at one moment, and orders in a few combinations
# of states: one UPDATE per distinct value is a handful of statements where the ORM's flush
# would send one per row (the costliest statements of a sweep, measured on PostgreSQL).
def _write_new_states(items: list[OrderItem]) -> None:
    """Write the moved items' state columns, grouped by value. Items a plugin's query made
    the session flush meanwhile are written already and left out."""
    pending = []
    for item in items:
        changed = instance_state(item).committed_state  # the attributes set since the flush
        if "state_name" in changed or "state_entered_at" in changed:
            pending.append(item)
    _write_grouped(OrderItem, [
        (item, {"state_name": item.state_name, "state_entered_at": item.state_entered_at})
        for item in pending])


def _write_grouped(model, changes: list[tuple[object, dict]]) -> None:
    """Give each row its new column values with one UPDATE per distinct set of values, and
    record them in the session as the rows' committed state, so that its flush does not
    write them again."""
    groups: dict[tuple, list] = defaultdict(list)
    for row, values in changes:
        for name, new in values.items():
            set_committed_value(row, name, new)
        groups[tuple(sorted(values.items()))].append(row.id)
    table = model.__table__
    connection = db.session.connection()
    for values, ids in groups.items():
        connection.execute(update(table).where(among_ids(table.c.id, ids)).values(dict(values)))
