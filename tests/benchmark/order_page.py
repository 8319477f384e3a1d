"""View Order and "pay" as a browser asks them: orders of many items in mixed states, the
order page read for its event form, the button's POST with its CSRF token, and the redirect
back to the order page followed."""
from __future__ import annotations

import re
from collections import Counter

import sqlalchemy as sa

from panel.extensions import db
from panel.models import OrderItem
from panel.oms import engine
from panel.services import intake
from panel.services.intake_schema import OrderIn
from tests.conftest import order_payload

ACTOR = "benchmark"
# The form of order-wide event buttons (in any attribute order: the template may change).
EVENT_FORM = re.compile(r'id="order-events".*?<form\b[^>]*\baction="([^"]+)"[^>]*>(.*?)</form>',
                        re.S)
CSRF_INPUT = re.compile(r'<input\b[^>]*\bname="csrf_token"[^>]*>')
VALUE = re.compile(r'\bvalue="([^"]+)"')


def order_with_items(app, count: int, reference: str) -> int:
    """A new order of ``count`` items (one unit each) through the intake service."""
    payload = order_payload(order_reference=reference)
    payload["shipments"][0]["items"] = [
        {"sku": f"BENCH-{n}", "name": f"Benchmark product {n}", "quantity": 1,
         "unit_price": 1000, "tax_rate": 19} for n in range(count)]
    payload["payment"]["amount"] = 1000 * count + 490
    with app.app_context():
        return intake.receive_order(OrderIn.model_validate(payload)).summary["id"]


# What mixed_order() leaves, past the items it leaves new: per_state items each in these
# states (DefaultOrder01), by the events that take them there from "new".
FURTHER = (("paid", ("pay",)), ("shipped", ("pay", "ship")),
           ("delivered", ("pay", "ship", "deliver")), ("canceled", ("cancel",)))


def mixed_order(app, reference: str, new: int, per_state: int) -> int:
    """An order of ``new`` items left in "new" and ``per_state`` items in each of paid,
    shipped, delivered and canceled, moved there through the engine (with its history,
    commands and mails) as people would have."""
    order_id = order_with_items(app, new + per_state * len(FURTHER), reference)
    with app.app_context():
        ids = list(db.session.scalars(sa.select(OrderItem.id)
                                      .where(OrderItem.order_id == order_id)
                                      .order_by(OrderItem.id)))
        groups = {state: ids[new + n * per_state:new + (n + 1) * per_state]
                  for n, (state, _) in enumerate(FURTHER)}
        for step in range(3):
            for state, events in FURTHER:
                if step < len(events):
                    result = engine.trigger_event(order_id, events[step], actor=ACTOR,
                                                  item_ids=groups[state])
                    assert result.moved == per_state, result.message
    assert item_states(app, order_id) == expected_states(new, per_state), reference
    return order_id


def expected_states(new: int, per_state: int) -> Counter:
    return Counter({"new": new, **{state: per_state for state, _ in FURTHER}})


def item_states(app, order_id: int) -> Counter:
    with app.app_context():
        return Counter(dict(db.session.execute(
            sa.select(OrderItem.state_name, sa.func.count())
            .where(OrderItem.order_id == order_id).group_by(OrderItem.state_name)).all()))


def event_form(html: str, event: str) -> tuple[str, str]:
    """(action, CSRF token) of the order page's form of order-wide event buttons, which must
    offer ``event``."""
    found = EVENT_FORM.search(html)
    assert found, "the order page has no event form"
    action, form = found.groups()
    assert re.search(rf'<button\b[^>]*\bname="event"[^>]*\bvalue="{re.escape(event)}"', form), \
        f"no {event} button on the order page"
    return action, VALUE.search(CSRF_INPUT.search(form).group(0)).group(1)


def read_form(client, order_id: int, event: str) -> tuple[int, str, str]:
    """(order id, action, token) as the browser has them once the order page is shown."""
    response = client.get(f"/sales/orders/{order_id}")
    assert response.status_code == 200, response.status_code
    return (order_id, *event_form(response.get_data(as_text=True), event))


def press(client, event: str):
    """A call that presses ``event``'s button for the whole order, as the browser does: the
    form's POST, then the GET of the order page it redirects to."""
    def call(form: tuple[int, str, str]) -> str:
        order_id, action, token = form
        response = client.post(action, data={"csrf_token": token, "event": event})
        assert response.status_code == 302, (action, response.status_code)
        location = response.headers["Location"]
        assert location.endswith(f"/sales/orders/{order_id}"), location
        page = client.get(location)
        assert page.status_code == 200, (location, page.status_code)
        page.get_data()
        return action
    return call
