"""Event buttons of a page about some of an order's items (a reclamation, a return): they
act on those items only, never on the rest of the order."""
from __future__ import annotations

from panel.oms.registry import current_registry
from panel.params import read_item_event
from panel.services.triggers import TriggerRequestError


def read_scoped_trigger(form, scope: list[int], outside: str) -> tuple[str, list[int]]:
    """(event, item ids) from an event button: one item of ``scope``, or all of them.
    ``outside`` is the refusal for an item button of an item that is not in the scope."""
    if not form.get("item_event"):
        return form.get("event", ""), scope
    item_id, event = read_item_event("item_event", form["item_event"])
    if item_id not in scope:
        raise TriggerRequestError(outside)
    return event, [item_id]


def manual_events(items) -> tuple[dict[int, list[str]], list[tuple[str, int]]]:
    """({item id: its manual events}, [(event, how many of the items take it)])."""
    registry = current_registry()
    item_events = {}
    for item in items:
        process = registry.processes.get(item.process_name)
        item_events[item.id] = process.manual_events_from(item.state_name) if process else []
    counts: dict[str, int] = {}
    for events in item_events.values():
        for event in events:
            counts[event] = counts.get(event, 0) + 1
    return item_events, list(counts.items())
