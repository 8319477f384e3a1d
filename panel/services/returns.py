"""Making returns: which items may be returned and why not, and a return with its items'
return event, together or not at all.

An item may be returned when its process has a return event (``return_events``), its state
takes that event, it is in no open return, and no plugin rule (``register_return_rules``)
refuses it. The rules are the claim rules' kind (``panel.services.item_rules``).

A return is made in one transaction under the order's row lock: the rules are checked again
after the lock is taken, then the engine triggers the return event on exactly the returned
items, and the return is written by the engine's ``before_commit``, so that it commits with
the move or not at all. A command that fails undoes the move and nothing of the return is
saved; an item that did not move (no transition's condition held) undoes the whole return.
Two people returning the same item at once are served one after the other: the second finds
the item in the first one's open return.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from panel.extensions import db
from panel.formatting import format_number
from panel.i18n import _
from panel.models import Order, OrderItem, Return, ReturnItem, ReturnReason, ReturnSequence
from panel.models.base import utcnow
from panel.models.sales_return import CLOSED, OPEN
from panel.oms import engine
from panel.oms.registry import current_registry
from panel.plugins import plugin_manager
from panel.services import sequences, settlements
from panel.services.item_rules import by_order as by_order  # return rules import it here
from panel.services.item_rules import refusals
from panel.services.return_events import return_event, returnable_states
from panel.services.text_fields import multi_line
from panel.services.triggers import actor_of, role_refusal

MAX_NOTE = 1000


class ReturnRefused(ValueError):
    """The return cannot be made (or closed); the message says why, and nothing was saved."""


@dataclass
class ReturnLine:
    """What the form says of one item to return: a reason from the list, free text, or both."""

    item_id: int
    reason_id: int | None = None
    note: str = ""


@dataclass
class ReturnableItem:
    item: OrderItem
    event: str | None  # the return event of the item's process
    blocked_by: str | None  # why it may not be returned, or None when it may

    @property
    def returnable(self) -> bool:
        return self.blocked_by is None


# -- the rules ---------------------------------------------------------------------------


def _process_returns(*, order, item, now):
    """The item's process must be known and have a return event."""
    process = current_registry().processes.get(item.process_name)
    if process is None:
        return _("no plugin supplies its process %(process)s", process=item.process_name)
    if return_event(process) is None:
        return _("its process %(process)s has no return event", process=item.process_name)
    return None


@by_order
def _not_in_open_return(*, order, items, now):
    """An item is in one open return at most."""
    taken = open_returns_of(order.id)
    return {item.id: _("already in open return %(reference)s", reference=taken[item.id])
            for item in items if item.id in taken}


def _state_returns(*, order, item, now):
    """The item's state must take the process's return event."""
    process = current_registry().process(item.process_name)
    event = return_event(process)
    if process.has_event(item.state_name, event):
        return None
    states = ", ".join(returnable_states(process, event))
    return _('not while "%(state)s" (returned from: %(states)s)', state=item.state_name,
             states=states)


CORE_RULES = (_process_returns, _not_in_open_return, _state_returns)


def return_rules() -> list:
    """The panel's own rules, then those of every plugin, highest priority first."""
    plugin_rules = plugin_manager().hook.register_return_rules()
    return [*CORE_RULES, *(rule for rules in plugin_rules for rule in rules)]


def returnable_items(order: Order, now: datetime | None = None) -> list[ReturnableItem]:
    """Each of the order's items, read fresh, with its return event and the first reason a
    rule gives why it may not be returned (None when it may)."""
    now = now or utcnow()
    items = db.session.scalars(
        select(OrderItem).where(OrderItem.order_id == order.id).order_by(OrderItem.id)
        .execution_options(populate_existing=True)
    ).all()
    reasons = refusals(return_rules(), order, items, now)
    processes = current_registry().processes
    return [ReturnableItem(item, _event_of(processes.get(item.process_name)),
                           reasons.get(item.id)) for item in items]


def _event_of(process) -> str | None:
    return return_event(process) if process is not None else None


def open_returns_of(order_id: int) -> dict[int, str]:
    """{order item id: reference of its open return} for one order (one query)."""
    rows = db.session.execute(
        select(ReturnItem.order_item_id, Return.return_reference)
        .join(Return, Return.id == ReturnItem.return_id)
        .where(Return.order_id == order_id, Return.state == OPEN)
    ).all()
    return {item_id: reference for item_id, reference in rows}


# -- making a return ----------------------------------------------------------------------


class _NotMoved(Exception):
    """Some returned items stayed where they were: the return is undone with the move."""


def _checked_lines(lines: list[ReturnLine]) -> list[ReturnLine]:
    """The lines, one per item, with their notes trimmed; ReturnRefused naming the first
    problem (nothing ticked, no reason, a bad note)."""
    unique: dict[int, ReturnLine] = {}
    for line in lines:
        unique.setdefault(line.item_id, ReturnLine(line.item_id, line.reason_id,
                                                   (line.note or "").strip()))
    if not unique:
        raise ReturnRefused(_("tick at least one item to return"))
    for line in unique.values():
        if line.reason_id is None and not line.note:
            raise ReturnRefused(_("say why item #%(id)s is returned: choose a reason or write "
                                  "one", id=line.item_id))
        if len(line.note) > MAX_NOTE:
            raise ReturnRefused(_("the note on item #%(id)s is %(length)s characters long; at "
                                  "most %(most)s are allowed", id=line.item_id,
                                  length=format_number(len(line.note)),
                                  most=format_number(MAX_NOTE)))
        try:
            multi_line(line.note)
        except ValueError as exc:
            # Translators: the problem comes from the check of text fields ("contains ...").
            raise ReturnRefused(_("the note on item #%(id)s %(problem)s", id=line.item_id,
                                  problem=exc)) from None
    return list(unique.values())


def _check_reasons(lines: list[ReturnLine]) -> None:
    offered = set(db.session.scalars(select(ReturnReason.id).where(ReturnReason.active)))
    for line in lines:
        if line.reason_id is not None and line.reason_id not in offered:
            raise ReturnRefused(_("the reason chosen for item #%(id)s is not offered (it was "
                                  "deactivated, or never existed)", id=line.item_id))


def _return_event_for(order: Order, lines: list[ReturnLine], now: datetime) -> str:
    """The one return event of the lines' items, once the rules let each of them go."""
    by_id = {row.item.id: row for row in returnable_items(order, now)}
    for line in lines:
        row = by_id.get(line.item_id)
        if row is None:
            raise ReturnRefused(_("item #%(id)s is not an item of order %(reference)s",
                                  id=line.item_id, reference=order.order_reference))
        if not row.returnable:
            raise ReturnRefused(_("%(name)s (item #%(id)s) cannot be returned: %(why)s",
                                  name=row.item.name, id=row.item.id, why=row.blocked_by))
    events = sorted({by_id[line.item_id].event for line in lines})
    if len(events) > 1:
        raise ReturnRefused(_("these items are returned by different events (%(events)s); "
                              "return them one process at a time", events=", ".join(events)))
    return events[0]


def next_return_reference(store: str) -> str:
    """The next return reference of ``store`` (DE--R-1, DE--R-2, ...)."""
    return f"{store}--R-{sequences.advance(ReturnSequence, store)}"


def create_return(order_id: int, lines: list[ReturnLine], user,
                  now: datetime | None = None, *, reclamation_id: int | None = None) -> Return:
    """Return some of the order's items: trigger their process's return event and save the
    return with the move, in one transaction under the order's lock. ReturnRefused names
    why not, and then nothing was saved and no item moved. With ``reclamation_id``, the
    return settles that open reclamation of the order (panel.services.settlements)."""
    if not user.can_edit:
        raise ReturnRefused(_("viewers may look at returns but not make them"))
    now = now or utcnow()
    lines = _checked_lines(lines)
    order = engine.lock_order(order_id)
    if order is None:
        db.session.rollback()
        raise ReturnRefused(_("there is no order #%(id)s", id=order_id))
    try:
        _check_reasons(lines)
        event = _return_event_for(order, lines, now)
        why_not = role_refusal(user, event)
        if why_not:
            raise ReturnRefused(why_not)
        reclamation = settlements.reclamation_to_settle(order, reclamation_id)
    except settlements.SettleRefused as exc:
        db.session.rollback()
        raise ReturnRefused(str(exc)) from None
    except ReturnRefused:
        db.session.rollback()
        raise
    made = Return(store=order.store, order_id=order.id,
                  customer_name=order.customer_full_name, customer_email=order.email,
                  state=OPEN, event=event, item_count=len(lines), created_by_id=user.id,
                  created_by_name=user.name, created_at=now)
    made.items = [ReturnItem(order_item_id=line.item_id, reason_id=line.reason_id,
                             note=line.note or None)
                  for line in sorted(lines, key=lambda line: line.item_id)]

    def save_with_the_move(result: engine.TriggerResult) -> None:
        if result.error:  # the run is undone: so is the return
            return
        moved = {item_id for item_id, _, _ in result.transitions}
        stayed = [line.item_id for line in lines if line.item_id not in moved]
        if stayed:
            raise _NotMoved(_('"%(event)s" left item #%(id)s where it was (no condition of '
                              'its transitions held)', event=event, id=stayed[0]))
        made.return_reference = next_return_reference(made.store)
        db.session.add(made)
        if reclamation is not None:
            made.reclamation_id = reclamation.id
            settlements.settle(reclamation, order, f"return {made.return_reference}",
                               user.name)

    try:
        result = engine.trigger_event(order.id, event, actor=actor_of(user), now=now,
                                      item_ids=[line.item_id for line in lines],
                                      before_commit=save_with_the_move)
    except (_NotMoved, LookupError) as exc:
        db.session.rollback()
        raise ReturnRefused(str(exc)) from None
    if result.error:
        raise ReturnRefused(_('"%(event)s" failed and nothing was saved: %(error)s',
                              event=event, error=result.error))
    return made


def close_return(return_id: int, user) -> Return:
    """Close an open return for good (its items may then be returned again); closing twice is
    refused. Item states do not change: closing records that the return is dealt with."""
    if not user.can_edit:
        raise ReturnRefused(_("viewers may look at returns but not close them"))
    found = db.session.get(Return, return_id)
    if found is None:
        raise ReturnRefused(_("there is no return #%(id)s", id=return_id))
    engine.lock_order(found.order_id)
    closed = db.session.execute(
        update(Return).where(Return.id == return_id, Return.state == OPEN)
        .values(state=CLOSED, closed_at=utcnow(), closed_by_name=user.name)
    ).rowcount
    if not closed:
        db.session.rollback()
        raise ReturnRefused(_("return %(reference)s is already closed",
                              reference=found.return_reference))
    db.session.commit()
    return db.session.get(Return, return_id, populate_existing=True)
