"""Pressing an event button: which items it acts on, by scope, and who pressed it."""
from __future__ import annotations

from sqlalchemy import select

from panel.extensions import db
from panel.formatting import format_number
from panel.i18n import _, ngettext
from panel.models import OrderItem, Shipment
from panel.models.user import ROLE_RANK
from panel.oms import engine
from panel.oms.registry import current_registry
from panel.services.return_events import return_events


class TriggerRequestError(ValueError):
    """The request names no event, or items or a shipment that are not the order's."""


# The longest event name the log and history columns hold. A longer one cannot be an event
# of any process, and is not quoted back: messages travel in the session cookie's flashes.
MAX_EVENT_NAME = 100


def requested_event(event: str) -> str:
    """The event name a button or form sent, trimmed; TriggerRequestError when it is empty
    or longer than any event can be."""
    event = (event or "").strip()
    if not event:
        raise TriggerRequestError(_("choose an event to trigger"))
    if len(event) > MAX_EVENT_NAME:
        raise TriggerRequestError(_("no process has an event with a name of %(length)s "
                                    "characters (at most %(max)s)",
                                    length=format_number(len(event)), max=MAX_EVENT_NAME))
    return event


def actor_of(user) -> str:
    return f"{user.name} <{user.email}>"


def shipment_item_ids(order_id: int, shipment_id: int, ticked: list[int]) -> list[int]:
    """The ticked items of the shipment, or all of its items when none is ticked."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or shipment.order_id != order_id:
        raise TriggerRequestError(_("that shipment does not belong to this order"))
    ids = list(db.session.scalars(select(OrderItem.id).where(OrderItem.shipment_id == shipment_id)))
    if not ticked:
        return ids
    strangers = set(ticked) - set(ids)
    if strangers:
        raise TriggerRequestError(_("some ticked items are not in that shipment"))
    return ticked


def refusal(user, event: str) -> str | None:
    """Why ``user`` may not trigger ``event`` by hand, or None when they may."""
    if event in return_events():
        return _("returns are made with the Return button, which records them")
    return role_refusal(user, event)


def role_refusal(user, event: str) -> str | None:
    """Why ``user``'s role may not trigger ``event``, or None when it may."""
    needed = current_registry().event_roles.get(event, "agent")
    if ROLE_RANK.get(user.role, 0) >= ROLE_RANK[needed]:
        return None
    # Translators: role is a role's name as it is (agent, admin), event an event's name.
    return _('only %(role)ss may trigger "%(event)s"', role=needed, event=event)


def _require_manual(order_id: int, event: str) -> None:
    """People press buttons; events that only a timeout or onEnter may fire are refused."""
    processes = db.session.scalars(
        select(OrderItem.process_name).where(OrderItem.order_id == order_id).distinct()
    ).all()
    registry = current_registry()
    for name in processes:
        definition = registry.processes[name].events.get(event) if name in registry.processes \
            else None
        if definition is not None and definition.manual:
            return
    raise TriggerRequestError(_('"%(event)s" is not an event that can be triggered by hand here',
                                event=event))


def trigger(order_id: int, event: str, user, *, shipment_id: int | None = None,
            item_ids: list[int] | None = None) -> engine.TriggerResult:
    """Trigger ``event`` for the whole order, a shipment (ticked items or all) or items."""
    event = requested_event(event)
    reason = refusal(user, event)
    if reason:
        raise TriggerRequestError(reason)
    if shipment_id is not None:
        item_ids = shipment_item_ids(order_id, shipment_id, item_ids or [])
    _require_manual(order_id, event)
    try:
        return engine.trigger_event(order_id, event, actor=actor_of(user), item_ids=item_ids)
    except LookupError as exc:
        raise TriggerRequestError(str(exc)) from exc


def result_message(result: engine.TriggerResult) -> str:
    """What pressing the button did, in the request's language (the engine's own
    ``result.message`` is the English the CLI prints and bulk runs store)."""
    if result.error:
        return _('"%(event)s" failed, nothing changed: %(error)s',
                 event=result.event, error=result.error)
    if not result.moved and not result.stayed:
        return _('Nothing to do: no item can take "%(event)s" now.', event=result.event)
    parts = [ngettext('"%(event)s" moved %(num)d item', '"%(event)s" moved %(num)d items',
                      result.moved, event=result.event)]
    if result.stayed:
        parts.append(ngettext("%(num)d item stayed (no condition held)",
                              "%(num)d items stayed (no condition held)", result.stayed))
    if result.skipped:
        parts.append(ngettext("%(num)d item skipped (not in a matching state)",
                              "%(num)d items skipped (not in a matching state)",
                              result.skipped))
    return "; ".join(parts) + "."
