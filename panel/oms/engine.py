"""The engine: trigger an event for items of one order, following Spryker's OMS rules.

Each call works on one order in one database transaction, under a lock on the order row
(PostgreSQL: SELECT ... FOR UPDATE; SQLite: its database write lock), and re-reads the items
after taking it, so that two users pressing "pay" at once move each item once and run the
command once. The order of work follows Spryker's OMS (reference section 2.2):

1. keep the items whose state has a transition carrying the event (the rest are skipped);
2. group them by (process, state) and run the event's command once per group, or once per
   item for commands marked ``@by_item``;
3. per item, take the last-listed transition whose condition holds, else the first one
   without a condition, else the item stays;
4. move: state, history, transition log, the new state's timeouts;
5. fire the onEnter event of each new state (the same steps), at most MAX_EVENT_REPEATS
   times per (event, state) in one run.

Timeouts and event-less transitions are swept by ``panel.oms.sweeps`` with the same run.

A command that raises undoes everything of that order's run; the error goes to the
transition log in a transaction of its own, and the caller gets the message. A caller that
keeps its own record of the outcome (a bulk run's report) passes ``before_commit``: it is
called with the result inside the transaction that commits the run, or the failure, so the
record and what it records are saved together or not at all.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from panel.extensions import db
from panel.locking import lock_row
from panel.models import EventTimeout, ItemStateHistory, Order, OrderItem, TransitionLog
from panel.models.base import utcnow
from panel.models.copy_insert import insert_rows
from panel.models.id_lists import among_ids
from panel.oms.definitions import Process, Transition
from panel.oms.registry import Registry, current_registry

MAX_EVENT_REPEATS = 10


def by_item(command):
    """Mark a command to be called once per item instead of once per group."""
    command.panel_by_item = True
    return command


class CommandFailed(Exception):
    """A command or condition raised, or the loop guard stopped a run."""

    def __init__(self, message: str, *, event: str | None, state: str, process: str,
                 command: str | None = None):
        super().__init__(message)
        self.event, self.state, self.process, self.command = event, state, process, command


@dataclass
class TriggerResult:
    event: str | None
    moved: int = 0
    skipped: int = 0
    stayed: int = 0
    error: str | None = None
    transitions: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def message(self) -> str:
        if self.error:
            return f'"{self.event}" failed, nothing changed: {self.error}'
        if not self.moved and not self.stayed:
            return f'Nothing to do: no item can take "{self.event}" now.'
        parts = [f'"{self.event}" moved {_count(self.moved)}']
        if self.stayed:
            parts.append(f"{_count(self.stayed)} stayed (no condition held)")
        if self.skipped:
            parts.append(f"{_count(self.skipped)} skipped (not in a matching state)")
        return "; ".join(parts) + "."


def _count(n: int) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


class Run:
    """One order's work inside one transaction (the engine's and the sweeps' alike)."""

    def __init__(self, order: Order, registry: Registry, actor: str, now: datetime):
        self.order, self.registry, self.actor, self.now = order, registry, actor, now
        self.repeats: dict[tuple[str | None, str], int] = defaultdict(int)
        self.moved: dict[int, OrderItem] = {}  # item id: the item, each once
        self.transitions: list[tuple[int, str, str]] = []
        # Rows written once, in bulk, when the run finishes (see finish()).
        self.history_rows: list[dict] = []
        self.log_rows: list[dict] = []
        self.timeouts: dict[int, list[dict]] = {}  # item id: the timeouts of its new state

    @property
    def moved_ids(self):
        return self.moved.keys()

    def process(self, item: OrderItem) -> Process:
        return self.registry.process(item.process_name)

    # -- events ------------------------------------------------------------------------
    def trigger(self, event: str, items: list[OrderItem]) -> tuple[int, int]:
        """Run ``event`` on the matching items; return (skipped, stayed)."""
        matching = [i for i in items if self.process(i).has_event(i.state_name, event)]
        stayed = 0
        for (process_name, state), group in _group(matching).items():
            process = self.registry.process(process_name)
            self._guard(event, state, process_name)
            definition = process.events.get(event)
            command = definition.command if definition else None
            if command:
                self._run_command(command, group, event, state, process_name)
            moved = []
            for item in group:
                transition = self._choose(process, state, event, item)
                if transition is None:
                    stayed += 1
                    self._log(item, event, state, None, command, None)
                    self._reset_timeout(item, process, event)
                    continue
                self._move(item, process, transition, command)
                moved.append(item)
            self._fire_on_enter(moved)
        return len(items) - len(matching), stayed

    def move_eventless(self, items: list[OrderItem]) -> None:
        """Take event-less transitions whose condition holds (or that have none)."""
        moved = []
        for item in items:
            process = self.process(item)
            transition = self._choose(process, item.state_name, None, item)
            if transition is not None:
                self._guard(None, item.state_name, process.name)
                self._move(item, process, transition, None)
                moved.append(item)
        self._fire_on_enter(moved)

    def _fire_on_enter(self, moved: list[OrderItem]) -> None:
        for (process_name, state), group in _group(moved).items():
            on_enter = self.registry.process(process_name).on_enter_event(state)
            if on_enter is not None:
                self.trigger(on_enter.name, group)

    def _guard(self, event: str | None, state: str, process: str) -> None:
        self.repeats[(event, state)] += 1
        if self.repeats[(event, state)] > MAX_EVENT_REPEATS:
            raise CommandFailed(
                f'stopped a loop: "{event or "(no event)"}" from "{state}" ran more than '
                f"{MAX_EVENT_REPEATS} times in one run", event=event, state=state,
                process=process)

    # -- commands and conditions ---------------------------------------------------------
    def _run_command(self, name, items, event, state, process_name) -> None:
        command = self.registry.commands.get(name)
        if command is None:
            raise CommandFailed(f"the command {name} is not registered by any plugin",
                                event=event, state=state, process=process_name, command=name)
        try:
            if getattr(command, "panel_by_item", False):
                for item in items:
                    command(order=self.order, items=[item], event=event, actor=self.actor)
            else:
                command(order=self.order, items=items, event=event, actor=self.actor)
        except Exception as exc:  # a plugin's failure of any kind undoes the run
            raise CommandFailed(f"{name}: {exc}" if str(exc) else f"{name} failed",
                                event=event, state=state, process=process_name,
                                command=name) from exc

    def _choose(self, process: Process, state: str, event: str | None,
                item: OrderItem) -> Transition | None:
        candidates: list[Transition] = []
        for transition in process.transitions_for(state, event):
            if transition.condition is None:
                candidates.append(transition)
            elif self._holds(transition.condition, item, event, state, process.name):
                candidates.insert(0, transition)  # the last passing conditional one wins
        return candidates[0] if candidates else None

    def _holds(self, name, item, event, state, process_name) -> bool:
        condition = self.registry.conditions.get(name)
        if condition is None:
            raise CommandFailed(f"the condition {name} is not registered by any plugin",
                                event=event, state=state, process=process_name)
        try:
            return bool(condition(item=item))
        except Exception as exc:
            raise CommandFailed(f"condition {name}: {exc}", event=event, state=state,
                                process=process_name) from exc

    # -- writing -------------------------------------------------------------------------
    def _move(self, item: OrderItem, process: Process, transition: Transition,
              command: str | None) -> None:
        source = item.state_name
        item.state_name = transition.target
        item.state_entered_at = self.now
        self.history_rows.append({"item_id": item.id, "from_state": source,
                                  "to_state": transition.target, "event": transition.event,
                                  "actor": self.actor, "created_at": self.now})
        self._log(item, transition.event, source, transition.target, command,
                  transition.condition)
        self.timeouts[item.id] = []  # the old state's timeouts go; the new state's come
        self._write_timeouts(item, process)
        self.moved[item.id] = item
        self.transitions.append((item.id, source, transition.target))

    def _write_timeouts(self, item: OrderItem, process: Process) -> None:
        rows = self.timeouts.setdefault(item.id, [])
        for event in process.timeout_events_from(item.state_name):
            rows.append({"item_id": item.id, "order_id": item.order_id,
                         "state_name": item.state_name, "event": event.name,
                         "due_at": self._due(item, event)})

    def _due(self, item, event) -> datetime:
        if not event.timeout_processor:
            return self.now + event.timeout_delta
        name = event.timeout_processor
        processor = self.registry.timeout_processors.get(name)
        if processor is None:
            raise CommandFailed(f"the timeout processor {name} is not registered by any plugin",
                                event=event.name, state=item.state_name,
                                process=item.process_name)
        try:
            return processor(item=item, event=event, now=self.now)
        except Exception as exc:
            raise CommandFailed(f"timeout processor {name}: {exc}", event=event.name,
                                state=item.state_name, process=item.process_name) from exc

    def _reset_timeout(self, item: OrderItem, process: Process, event: str) -> None:
        """An item that stays after its timeout fired waits a whole timeout again."""
        definition = process.events.get(event)
        if definition and (definition.timeout or definition.timeout_processor):
            db.session.execute(update(EventTimeout).where(
                EventTimeout.item_id == item.id, EventTimeout.event == event
            ).values(due_at=self._due(item, definition)))

    def _log(self, item, event, source, target, command, condition) -> None:
        self.log_rows.append({
            "order_id": item.order_id, "item_id": item.id, "process_name": item.process_name,
            "event": event, "source_state": source, "target_state": target,
            "command": command, "condition": condition, "actor": self.actor,
            "is_error": False, "error_message": None, "created_at": self.now})

    def finish(self) -> None:
        """Write history, log and timeouts in bulk, and bring the order row's list columns
        in step with its items."""
        finish_runs([self])


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
            .where(among_ids(OrderItem.order_id, [run.order.id for run in runs])).distinct()):
        states[order_id].add(state)
    changed = []
    for run in runs:
        item_states = " ".join(sorted(states[run.order.id]))
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


def _group(items: list[OrderItem]) -> dict[tuple[str, str], list[OrderItem]]:
    groups: dict[tuple[str, str], list[OrderItem]] = defaultdict(list)
    for item in items:
        groups[(item.process_name, item.state_name)].append(item)
    return groups


def lock_order(order_id: int, *, skip_locked: bool = False) -> Order | None:
    """Lock the order row for this transaction and return it (None: gone, or skipped)."""
    return lock_row(Order, order_id, skip_locked=skip_locked)


def load_items(order_id: int, item_ids: Collection[int] | None) -> list[OrderItem]:
    """The order's items (or those of ``item_ids``), read fresh: call it after the lock."""
    stmt = select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.id)
    if item_ids is not None:
        stmt = stmt.where(among_ids(OrderItem.id, item_ids))
    return list(db.session.scalars(stmt.execution_options(populate_existing=True)))


def record_failure(order_id: int, exc: CommandFailed, actor: str, *,
                   before_commit: Callable[[], None] | None = None) -> None:
    """Undo the order's run and write its error to the transition log, committed.

    ``before_commit`` runs first in the new transaction, so that what it writes is committed
    with the log row (and a lock it takes is held from its first statement).
    """
    db.session.rollback()
    if before_commit is not None:
        before_commit()
    db.session.add(TransitionLog(
        order_id=order_id, item_id=None, process_name=exc.process, event=exc.event,
        source_state=exc.state, target_state=None, command=exc.command, actor=actor,
        is_error=True, error_message=str(exc)))
    db.session.commit()


def notify_plugins(order_id: int, event: str | None, transitions, actor: str) -> None:
    """Tell plugins what moved. The move is committed: a plugin that fails is logged and
    the others are still told (one plugin's bug must not hide another's mail)."""
    if transitions:
        from panel.plugins import call_each

        call_each("items_transitioned", order_id=order_id, event=event,
                  transitions=transitions, actor=actor)


def trigger_event(order_id: int, event: str, *, actor: str,
                  item_ids: Collection[int] | None = None,
                  now: datetime | None = None,
                  before_commit: Callable[[TriggerResult], None] | None = None
                  ) -> TriggerResult:
    """Trigger ``event`` for the order's items (all of them, or those in ``item_ids``).

    ``before_commit(result)`` is called with the finished result just before the run's
    commit, or, when a command failed, inside the transaction that records the failure; what
    it writes commits with the run, and if it raises, nothing of the run is committed.
    """
    registry = current_registry()
    now = now or utcnow()
    order = lock_order(order_id)
    if order is None:
        db.session.rollback()
        raise LookupError(f"there is no order #{order_id}")
    items = load_items(order_id, item_ids)
    if item_ids is not None and len(items) != len(set(item_ids)):
        db.session.rollback()
        raise LookupError(f"some of the items do not belong to order {order.order_reference}")
    # Read now: the commit expires the items, and each id read after it would be a query.
    requested = {item.id for item in items}
    run = Run(order, registry, actor, now)
    result = TriggerResult(event)
    try:
        result.skipped, result.stayed = run.trigger(event, items)
        run.finish()
        result.moved = len({item_id for item_id, _, _ in run.transitions} & requested)
        result.transitions = run.transitions
        if before_commit is not None:
            before_commit(result)
        db.session.commit()
    except CommandFailed as exc:
        failed = TriggerResult(event, error=str(exc))
        record_failure(order_id, exc, actor, before_commit=None if before_commit is None
                       else lambda: before_commit(failed))
        return failed
    notify_plugins(order_id, event, run.transitions, actor)
    return result


def start_items(order_id: int, *, actor: str, now: datetime | None = None) -> TriggerResult:
    """Write the timeouts of new items' first state and fire its onEnter event."""
    registry = current_registry()
    now = now or utcnow()
    order = lock_order(order_id)
    run = Run(order, registry, actor, now)
    items = load_items(order_id, None)
    result = TriggerResult(None)
    try:
        for item in items:
            run._write_timeouts(item, run.process(item))
        run._fire_on_enter(items)
        run.finish()
        db.session.commit()
    except CommandFailed as exc:
        record_failure(order_id, exc, actor)
        result.error = str(exc)
        return result
    result.transitions = run.transitions
    notify_plugins(order_id, None, run.transitions, actor)
    return result
