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

Timeouts and event-less transitions are swept by ``panel.oms.sweeps``, and new orders are
started by ``panel.oms.starts``, with the same run; ``panel.oms.bulk_writer`` writes what runs
did.

What has to wait for the commit (mail to send, plugins to tell) is kept on the run as a list
of after-commit work, and done by ``Run.committed`` once the caller has committed; a run
that fails is dropped with its list.

A command that raises undoes everything of that order's run; the error goes to the
transition log in a transaction of its own, a row for each item the run was for
(``panel.oms.failures``), and the caller gets the message. A caller that
keeps its own record of the outcome (a bulk run's report) passes ``before_commit``: it is
called with the result inside the transaction that commits the run, or the failure, so the
record and what it records are saved together or not at all.
"""
from __future__ import annotations

import inspect
import logging
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import select, update

from panel.extensions import db
from panel.locking import lock_row
from panel.models import EventTimeout, Order, OrderItem
from panel.models.base import utcnow
from panel.models.id_lists import among_ids
from panel.oms.bulk_writer import finish_runs
from panel.oms.definitions import Process, Transition
from panel.oms.failures import attempts_for, record_failure
from panel.oms.registry import Registry, current_registry
from panel.plugins import notify

MAX_EVENT_REPEATS = 10
log = logging.getLogger(__name__)


def by_item(command):
    """Mark a command to be called once per item instead of once per group."""
    command.panel_by_item = True
    return command


@cache
def takes_after_commit(command: Callable) -> bool:
    """Whether a command declares the optional ``after_commit`` keyword (or takes any)."""
    try:
        parameters = inspect.signature(command).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature takes only the basics
        return False
    return any(p.name == "after_commit" or p.kind is p.VAR_KEYWORD for p in parameters)


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
        # Read now: after the commit, each read of the expired order row would be a query.
        self.order_id = order.id
        self.repeats: dict[tuple[str | None, str], int] = defaultdict(int)
        self.moved: dict[int, OrderItem] = {}  # item id: the item, each once
        self.transitions: list[tuple[int, str, str]] = []
        # Rows written once, in bulk, when the run finishes (see finish()).
        self.history_rows: list[dict] = []
        self.log_rows: list[dict] = []
        self.timeouts: dict[int, list[dict]] = {}  # item id: the timeouts of its new state
        # What waits for the commit: commands append to it (see register_commands).
        self.after_commit: list[Callable[[], None]] = []

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

    def start(self, items: list[OrderItem]) -> None:
        """Let new items enter their process's initial state: write its timeouts and fire its
        onEnter event. Items that are somewhere else already are left alone."""
        starting = [i for i in items if i.state_name == self.process(i).initial_state]
        for item in starting:
            self._write_timeouts(item, self.process(item))
        self._fire_on_enter(starting)

    def move_eventless(self, items: list[OrderItem], *, log_stays: bool = False) -> int:
        """Take event-less transitions whose condition holds (or that have none); return
        how many items stayed. ``log_stays`` logs those too (a retry by hand does; the sweep,
        which asks every few minutes, does not)."""
        moved, stayed = [], 0
        for item in items:
            process = self.process(item)
            transition = self._choose(process, item.state_name, None, item)
            if transition is not None:
                self._guard(None, item.state_name, process.name)
                self._move(item, process, transition, None)
                moved.append(item)
            else:
                stayed += 1
                if log_stays:
                    self._log(item, None, item.state_name, None, None, None)
        self._fire_on_enter(moved)
        return stayed

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
        extra = {"after_commit": self.after_commit} if takes_after_commit(command) else {}
        try:
            if getattr(command, "panel_by_item", False):
                for item in items:
                    command(order=self.order, items=[item], event=event, actor=self.actor,
                            **extra)
            else:
                command(order=self.order, items=items, event=event, actor=self.actor, **extra)
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

    def committed(self, event: str | None) -> None:
        """Do what waited for the run's commit: the work its commands left (mail to send),
        then tell the plugins what moved (``event`` is None when items moved by themselves).

        The moves are committed, so a piece of work that fails is logged and the rest still
        runs: one failure must not hide another plugin's news or a customer's mail.
        """
        for work in self.after_commit:
            try:
                work()
            except Exception:
                db.session.rollback()
                log.exception("work after the commit of order #%s failed", self.order_id)
        notify_plugins(self.order_id, event, self.transitions, self.actor)


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


def in_batches(order_ids: list[int], size: int, attempt: Callable[[list[int]], None],
               failed: Callable[[int, CommandFailed], None]) -> None:
    """Work through orders ``size`` at a time: ``attempt(ids)`` does a batch in one
    transaction and commits it. When a command fails, the batch is undone and done again
    order by order, so that only the failing order is left as it was; ``failed(id, exc)``
    is then called for it, after the rollback, to record the failure."""
    for start in range(0, len(order_ids), size):
        chunk = order_ids[start:start + size]
        try:
            attempt(chunk)
        except CommandFailed as exc:
            db.session.rollback()
            if len(chunk) == 1:
                failed(chunk[0], exc)
            else:
                for order_id in chunk:
                    _attempt_alone(order_id, attempt, failed)


def _attempt_alone(order_id: int, attempt, failed) -> None:
    try:
        attempt([order_id])
    except CommandFailed as exc:
        db.session.rollback()
        failed(order_id, exc)


def notify_plugins(order_id: int, event: str | None, transitions, actor: str) -> None:
    """Tell plugins what moved (the move is committed; see ``panel.plugins.notify``)."""
    if transitions:
        notify("items_transitioned", order_id=order_id, event=event,
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
    attempts = attempts_for((i for i in items if run.process(i).has_event(i.state_name, event)),
                            event)
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
        record_failure(order_id, exc, actor, attempts=attempts,
                       before_commit=None if before_commit is None
                       else lambda: before_commit(failed))
        return failed
    run.committed(event)
    return result
