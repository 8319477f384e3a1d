"""Making returns: which items may be returned and why not, the return event triggered on
exactly the returned items with the return saved in the same transaction, refusals that
change nothing, roles, and two people returning the same item at once."""
import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import (
    ItemStateHistory,
    Order,
    OrderItem,
    Return,
    ReturnItem,
    ReturnReason,
    TransitionLog,
    User,
)
from panel.oms import engine
from panel.services import returns
from panel.services.returns import ReturnLine, ReturnRefused
from tests.conftest import order_payload
from tests.plugins import return_fixture
from tests.test_reclamations import page_statements

ACTOR = "setup"


@pytest.fixture
def app_config():
    return {"PANEL_PLUGINS": ("tests.plugins.return_fixture",),
            "PANEL_PAYMENT_PROCESSES": {"dummypayment": "DummyPayment01"}}


@pytest.fixture(autouse=True)
def _accounts_and_calls(accounts):
    return_fixture.RULE_CALLS.clear()
    return accounts


@pytest.fixture
def reasons(app):
    """The return reasons of these tests ({name: id}); the wiped database has none."""
    with app.app_context():
        rows = [ReturnReason(name=name, active=True)
                for name in ("Damaged", "Does not fit", "Retired reason")]
        db.session.add_all(rows)
        db.session.commit()
        rows[2].active = False
        db.session.commit()
        return {row.name: row.id for row in rows}


def place(post_order, *, reference=None, store="DE", method="invoice", skus=None):
    """An order of the given SKUs (one unit each; default: shoe, shoe, socks)."""
    payload = order_payload(store=store, payment={"method": method, "amount": 0})
    if reference:
        payload["order_reference"] = reference
    if skus:
        payload["shipments"][0]["items"] = [
            {"sku": sku, "name": f"Product {sku}", "quantity": 1, "unit_price": 1000,
             "tax_rate": 19} for sku in skus]
    items = payload["shipments"][0]["items"]
    payload["payment"]["amount"] = sum(i["unit_price"] * i["quantity"] for i in items) + 490
    response = post_order(payload)
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.fixture
def shipped(app, post_order):
    """The default order (shoe, shoe, socks), paid and shipped: (order id, item ids)."""
    order_id = place(post_order)
    trigger(app, order_id, "pay", "ship")
    return order_id, item_ids(app, order_id)


def item_ids(app, order_id) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OrderItem.id).where(
            OrderItem.order_id == order_id).order_by(OrderItem.id)))


def states(app, order_id) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OrderItem.state_name).where(
            OrderItem.order_id == order_id).order_by(OrderItem.id)))


def trigger(app, order_id, *events, item_ids=None):
    with app.app_context():
        for event in events:
            result = engine.trigger_event(order_id, event, actor=ACTOR, item_ids=item_ids)
            assert result.error is None, result.error


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def user(role: str) -> User:
    return db.session.scalar(sa.select(User).where(User.role == role))


def make_return(app, order_id, lines, role="agent"):
    """create_return as ``role``: the return's (reference, [item ids]), or the refusal."""
    with app.app_context():
        try:
            made = returns.create_return(order_id, lines, user(role))
        except ReturnRefused as exc:
            return str(exc)
        return made.return_reference, [line.order_item_id for line in made.items]


def nothing_changed(app, order_id, expected_states):
    """No return, no return item, the items where they were, and no history of a return."""
    assert count(app, Return) == 0 and count(app, ReturnItem) == 0
    assert states(app, order_id) == expected_states
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ItemStateHistory)
                                 .where(ItemStateHistory.event.in_(("return", "start-return")))
                                 ) == 0


def page_text(client, response):
    if response.status_code == 302:
        response = client.get(response.headers["Location"])
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def row_of(page: str, item_id: int) -> str:
    return re.search(rf'data-item-id="{item_id}".*?</tr>', page).group(0)


# -- which items may be returned ----------------------------------------------------------


def test_default_process_items_are_returnable_once_shipped(app, as_role, post_order, reasons):
    order_id = place(post_order)
    shoe, other_shoe, socks = item_ids(app, order_id)
    agent = as_role("agent")
    form = page_text(agent, agent.get(f"/sales/returns/new/{order_id}"))
    assert "Create Return" in form
    for item_id in (shoe, other_shoe, socks):
        row = row_of(form, item_id)
        assert 'no: not while "new" (returned from: shipped, delivered)' in row
        assert "disabled" in row and "return-reason" not in row

    trigger(app, order_id, "pay", "ship")
    trigger(app, order_id, "deliver", item_ids=[socks])
    form = page_text(agent, agent.get(f"/sales/returns/new/{order_id}"))
    for item_id in (shoe, socks):
        row = row_of(form, item_id)
        assert '<td class="returnable">yes</td>' in row and "disabled" not in row
        # the offered reasons: the active ones only
        assert ">Damaged</option>" in row and ">Does not fit</option>" in row
        assert "Retired reason" not in row


def test_dummy_payment_returns_by_start_return_from_delivered(app, post_order, reasons):
    order_id = place(post_order, method="dummyPayment", skus=["SHOE-1"])
    with app.app_context():
        db.session.execute(sa.update(OrderItem).where(OrderItem.order_id == order_id)
                           .values(state_name="delivered"))
        db.session.commit()
    (shoe,) = item_ids(app, order_id)

    reference, returned = make_return(app, order_id,
                                      [ReturnLine(shoe, reasons["Damaged"])])

    assert (reference, returned) == ("DE--R-1", [shoe])
    assert states(app, order_id) == ["waiting for return"]
    with app.app_context():
        made = db.session.scalar(sa.select(Return))
        assert made.event == "start-return"
        history = db.session.scalars(sa.select(ItemStateHistory.event).where(
            ItemStateHistory.item_id == shoe).order_by(ItemStateHistory.id)).all()
        assert history[-1] == "start-return"


def test_settings_choose_the_return_event(app, shipped, reasons):
    app.config["PANEL_RETURN_EVENTS"] = ("no-such-event",)
    order_id, (shoe, _, _) = shipped
    refused = make_return(app, order_id, [ReturnLine(shoe, reasons["Damaged"])])
    assert refused == (f"Running shoe (item #{shoe}) cannot be returned: its process "
                       f"DefaultOrder01 has no return event")
    nothing_changed(app, order_id, ["shipped"] * 3)


def test_hook_register_return_rules(app, as_role, post_order, reasons):
    order_id = place(post_order, skus=["FINAL-1", "VOUCHER-1", "SHOE-1"])
    final, voucher, shoe = item_ids(app, order_id)
    trigger(app, order_id, "pay", "ship")
    agent = as_role("agent")
    return_fixture.RULE_CALLS.clear()

    form = page_text(agent, agent.get(f"/sales/returns/new/{order_id}"))

    assert "no: final sale items cannot be returned" in row_of(form, final)
    assert "no: vouchers are refunded, not returned" in row_of(form, voucher)
    assert '<td class="returnable">yes</td>' in row_of(form, shoe)
    # the per-order rule is asked once, about the items the rules before it let through
    assert return_fixture.RULE_CALLS == [(order_id, [voucher, shoe])]
    # a tampered form that ticks a refused item anyway: refused with the rule's reason
    response = agent.post_form(f"/sales/returns/new/{order_id}", {
        "item": [str(voucher), str(shoe)], f"reason-{voucher}": str(reasons["Damaged"]),
        f"reason-{shoe}": str(reasons["Damaged"])})
    assert response.status_code == 400
    assert (f"The return was not created: Product VOUCHER-1 (item #{voucher}) cannot be "
            f"returned: vouchers are refunded, not returned.") in page_text(agent, response)
    nothing_changed(app, order_id, ["shipped"] * 3)


def test_the_rules_ask_as_often_for_2_items_as_for_30(app, as_role, post_order):
    orders = [place(post_order, reference=f"N-{n}", skus=[f"SKU-{i}" for i in range(n)])
              for n in (2, 30)]
    agent = as_role("agent")

    def statements(order_id) -> int:
        return page_statements(app, agent, f"/sales/returns/new/{order_id}")

    statements(orders[0])  # the first request of a session does more
    assert statements(orders[0]) == statements(orders[1])


# -- making a return ------------------------------------------------------------------------


def test_a_return_moves_exactly_its_items_and_is_saved_with_them(app, as_role, shipped,
                                                                 reasons):
    order_id, (shoe, other_shoe, socks) = shipped
    agent = as_role("agent")

    response = agent.post_form(f"/sales/returns/new/{order_id}", {
        "item": [str(shoe), str(socks)],
        f"reason-{shoe}": str(reasons["Does not fit"]), f"note-{shoe}": "  Too small.  ",
        f"reason-{socks}": "", f"note-{socks}": "Wrong colour",
        f"reason-{other_shoe}": str(reasons["Damaged"]),  # not ticked: ignored
    })

    assert response.status_code == 302
    page = page_text(agent, response)
    assert "Return DE--R-1 for order DE--1 created." in page
    assert states(app, order_id) == ["returned", "shipped", "returned"]
    with app.app_context():
        made = db.session.scalar(sa.select(Return))
        assert (made.return_reference, made.store, made.state, made.event, made.item_count,
                made.customer_name, made.customer_email, made.created_by_name) == (
            "DE--R-1", "DE", "open", "return", 2, "Mrs Anna Schmidt", "anna@example.com",
            "Agent User")
        assert [(i.order_item_id, i.reason_id, i.note) for i in made.items] == [
            (shoe, reasons["Does not fit"], "Too small."), (socks, None, "Wrong colour")]
        history = db.session.execute(sa.select(ItemStateHistory.item_id, ItemStateHistory.actor)
                                     .where(ItemStateHistory.event == "return")).all()
        assert sorted(history) == [(shoe, "Agent User <agent@example.org>"),
                                   (socks, "Agent User <agent@example.org>")]
    # the return's page: its items, their states now, reasons and notes
    assert "Return: DE--R-1" in page
    assert "Does not fit: " in row_of(page, shoe) and "Too small." in row_of(page, shoe)
    assert "Wrong colour" in row_of(page, socks)
    assert 'class="badge badge-info state-label item-state">returned<' in row_of(page, shoe)
    assert f'value="{shoe}:refund"' in row_of(page, shoe)  # the events that apply to it now
    assert f'data-item-id="{other_shoe}"' not in page


def test_references_count_per_store(app, post_order, reasons):
    first = place(post_order, reference="DE--1")
    second = place(post_order, reference="DE--2")
    austrian = place(post_order, reference="AT--1", store="AT")
    made = []
    for order_id in (first, second, austrian):
        trigger(app, order_id, "pay", "ship")
        made.append(make_return(app, order_id,
                                [ReturnLine(item_ids(app, order_id)[0], reasons["Damaged"])])[0])
    assert made == ["DE--R-1", "DE--R-2", "AT--R-1"]


@pytest.mark.parametrize("form, message", [
    ({}, "tick at least one item to return"),
    ({"item": ["SHOE"]}, "say why item #SHOE is returned: choose a reason or write one"),
    ({"item": ["SHOE"], "reason-SHOE": "RETIRED"},
     "the reason chosen for item #SHOE is not offered (it was deactivated, or never existed)"),
    ({"item": ["SHOE"], "reason-SHOE": "999"},
     "the reason chosen for item #SHOE is not offered (it was deactivated, or never existed)"),
    ({"item": ["SHOE"], "reason-SHOE": "first"},
     "reason-SHOE: 'first' is not an id (a number from 1 to 2147483647 in the digits 0-9)"),
    ({"item": ["x"]}, "item: 'x' is not an id"),
    ({"item": ["SHOE"], "note-SHOE": "broken \x1b[2J"},
     "the note on item #SHOE contains a control character (U+001B, escape)"),
    ({"item": ["SHOE"], "note-SHOE": "see \u202etxt.exe"},
     "the note on item #SHOE contains a bidirectional control character"),
    ({"item": ["SHOE"], "note-SHOE": "x" * 1001},
     "the note on item #SHOE is 1,001 characters long; at most 1,000 are allowed"),
    ({"item": ["STRANGER"], "reason-STRANGER": "DAMAGED"},
     "item #STRANGER is not an item of order DE--1"),
])
def test_bad_input_names_the_problem_and_changes_nothing(app, as_role, post_order, reasons,
                                                         form, message):
    order_id = place(post_order, reference="DE--1")
    other = place(post_order, reference="DE--2")
    trigger(app, order_id, "pay", "ship")
    values = {"SHOE": str(item_ids(app, order_id)[0]), "STRANGER": str(item_ids(app, other)[0]),
              "RETIRED": str(reasons["Retired reason"]), "DAMAGED": str(reasons["Damaged"])}

    def filled(text: str) -> str:
        for name, value in values.items():
            text = text.replace(name, value)
        return text

    form = {filled(k): [filled(v) for v in v] if isinstance(v, list) else filled(v)
            for k, v in form.items()}
    agent = as_role("agent")
    response = agent.post_form(f"/sales/returns/new/{order_id}", form)
    assert response.status_code == 400
    page = page_text(agent, response)
    assert "The return was not created: " + filled(message) in page
    nothing_changed(app, order_id, ["shipped"] * 3)
    nothing_changed(app, other, ["new"] * 3)


def test_a_refused_form_keeps_what_was_ticked_chosen_and_written(app, as_role, shipped,
                                                                 reasons):
    order_id, (shoe, other_shoe, socks) = shipped
    agent = as_role("agent")
    response = agent.post_form(f"/sales/returns/new/{order_id}", {
        "item": [str(shoe), str(socks)], f"reason-{shoe}": str(reasons["Does not fit"]),
        f"note-{shoe}": "Too <small>", f"note-{socks}": ""})
    assert response.status_code == 400
    page = re.sub(r"\s+", " ", response.get_data(as_text=True))
    assert f"say why item #{socks} is returned" in html.unescape(page)
    shoe_row, socks_row = row_of(page, shoe), row_of(page, socks)
    assert f'value="{shoe}" data-group="return" checked' in shoe_row
    assert f'value="{socks}" data-group="return" checked' in socks_row
    assert f'value="{other_shoe}" data-group="return" checked' not in page
    assert f'<option value="{reasons["Does not fit"]}" selected>' in shoe_row
    assert 'value="Too &lt;small&gt;"' in shoe_row


def test_an_unknown_order_is_refused(app, reasons):
    assert make_return(app, 4242, [ReturnLine(1, reasons["Damaged"])]) == \
        "there is no order #4242"


def test_a_failing_command_undoes_the_move_and_saves_no_return(app, post_order, reasons):
    order_id = place(post_order, method="returns-test", skus=["SHOE-1", "BOOM"])
    shoe, boom = item_ids(app, order_id)
    trigger(app, order_id, "ship")

    refused = make_return(app, order_id, [ReturnLine(shoe, reasons["Damaged"]),
                                          ReturnLine(boom, reasons["Damaged"])])

    assert refused == ('"return" failed and nothing was saved: ReturnsTest/Inspect: '
                       "the warehouse system refused BOOM")
    nothing_changed(app, order_id, ["shipped", "shipped"])
    with app.app_context():  # the failure is logged for both items, as any failed run
        errors = db.session.execute(sa.select(TransitionLog.item_id, TransitionLog.event)
                                    .where(TransitionLog.is_error)).all()
        assert sorted(errors) == [(shoe, "return"), (boom, "return")]
    # the other item alone is returned
    assert make_return(app, order_id, [ReturnLine(shoe, reasons["Damaged"])]) == (
        "DE--R-1", [shoe])


def test_an_item_that_does_not_move_undoes_the_whole_return(app, post_order, reasons):
    order_id = place(post_order, method="returns-test", skus=["SHOE-1", "KEEP"])
    shoe, keep = item_ids(app, order_id)
    trigger(app, order_id, "ship")

    refused = make_return(app, order_id, [ReturnLine(shoe, None, "too big"),
                                          ReturnLine(keep, None, "too big")])

    assert refused == (f'"return" left item #{keep} where it was (no condition of its '
                       f"transitions held)")
    nothing_changed(app, order_id, ["shipped", "shipped"])
    with app.app_context():  # nor is the reference used up
        assert db.session.scalar(sa.text("SELECT count(*) FROM return_sequence")) == 0


def test_an_item_in_an_open_return_is_not_returned_again_until_it_is_closed(
        app, as_role, shipped, reasons):
    order_id, (shoe, _, _) = shipped
    assert make_return(app, order_id, [ReturnLine(shoe, reasons["Damaged"])])[0] == "DE--R-1"
    # the process brings the item back to a returnable state (as DummyReturn's
    # cancel-return, ship-return, delivery-return do)
    with app.app_context():
        db.session.execute(sa.update(OrderItem).where(OrderItem.id == shoe)
                           .values(state_name="delivered"))
        db.session.commit()
    agent = as_role("agent")
    form = page_text(agent, agent.get(f"/sales/returns/new/{order_id}"))
    assert "no: already in open return DE--R-1" in row_of(form, shoe)
    assert make_return(app, order_id, [ReturnLine(shoe, reasons["Damaged"])]) == (
        f"Running shoe (item #{shoe}) cannot be returned: already in open return DE--R-1")

    page = page_text(agent, agent.post_form("/sales/returns/1/close"))
    assert "Return DE--R-1 closed." in page and "Closed" in page
    again = page_text(agent, agent.post_form("/sales/returns/1/close"))
    assert "Not closed: return DE--R-1 is already closed." in again
    with app.app_context():
        closed = db.session.get(Return, 1)
        assert (closed.state, closed.closed_by_name) == ("closed", "Agent User")
    assert make_return(app, order_id, [ReturnLine(shoe, reasons["Damaged"])])[0] == "DE--R-2"


def test_items_of_two_processes_are_returned_one_process_at_a_time(app, shipped, reasons):
    order_id, (shoe, other_shoe, _) = shipped
    with app.app_context():
        db.session.execute(sa.update(OrderItem).where(OrderItem.id == other_shoe)
                           .values(process_name="DummyPayment01"))
        db.session.commit()
    refused = make_return(app, order_id, [ReturnLine(shoe, reasons["Damaged"]),
                                          ReturnLine(other_shoe, reasons["Damaged"])])
    assert refused == ("these items are returned by different events (return, start-return);"
                       " return them one process at a time")
    nothing_changed(app, order_id, ["shipped"] * 3)


# -- who may ----------------------------------------------------------------------------------


def test_viewers_may_look_but_not_create_or_close(app, as_role, shipped, reasons):
    order_id, (shoe, other_shoe, _) = shipped
    assert make_return(app, order_id, [ReturnLine(shoe, reasons["Damaged"])])[0] == "DE--R-1"
    viewer = as_role("viewer")

    assert viewer.get(f"/sales/returns/new/{order_id}").status_code == 403
    assert viewer.post_form(f"/sales/returns/new/{order_id}", {
        "item": str(other_shoe), f"reason-{other_shoe}": str(reasons["Damaged"])}
    ).status_code == 403
    assert viewer.post_form("/sales/returns/1/close").status_code == 403
    assert make_return(app, order_id, [ReturnLine(other_shoe, reasons["Damaged"])],
                       role="viewer") == "viewers may look at returns but not make them"
    with app.app_context():
        with pytest.raises(ReturnRefused, match="viewers may look at returns but not close"):
            returns.close_return(1, user("viewer"))

    for url in ("/sales/returns/", "/sales/returns/1", "/sales/returns/1/slip",
                f"/sales/orders/{order_id}"):
        assert viewer.get(url).status_code == 200, url
    page = viewer.get("/sales/returns/1").get_data(as_text=True)
    assert "close-button" not in page and "event-button" not in page
    order_page = viewer.get(f"/sales/orders/{order_id}").get_data(as_text=True)
    assert 'id="return-order"' not in order_page and "DE--R-1" in order_page
    assert "return-link" not in viewer.get("/sales/orders/").get_data(as_text=True)
    assert count(app, Return) == 1 and states(app, order_id)[1] == "shipped"


def test_an_event_role_on_the_return_event_holds_for_returns_too(app, shipped, reasons,
                                                                 monkeypatch):
    with app.app_context():
        from panel.oms.registry import current_registry

        monkeypatch.setitem(current_registry().event_roles, "return", "admin")
    order_id, (shoe, _, _) = shipped
    assert make_return(app, order_id, [ReturnLine(shoe, reasons["Damaged"])]) == \
        'only admins may trigger "return"'
    nothing_changed(app, order_id, ["shipped"] * 3)
    assert make_return(app, order_id, [ReturnLine(shoe, reasons["Damaged"])],
                       role="admin")[0] == "DE--R-1"


def test_the_return_event_is_not_a_button_of_its_own(app, as_role, shipped):
    """Pressed on View Order, the event would move items that no return records."""
    order_id, (shoe, _, _) = shipped
    admin = as_role("admin")
    page = page_text(admin, admin.get(f"/sales/orders/{order_id}"))
    buttons = re.findall(r'<button[^>]*value="(?:\d+:)?return"[^>]*>', page)
    assert len(buttons) >= 3 and all("disabled" in b for b in buttons)
    assert "Disabled: returns are made with the Return button, which records them." in page
    assert f'href="/sales/returns/new/{order_id}">Return</a>' in page

    for form in ({"event": "return"}, {"item_event": f"{shoe}:return"}):
        result = page_text(admin, admin.post_form(f"/sales/orders/{order_id}/trigger", form))
        assert ("Nothing was triggered: returns are made with the Return button, which "
                "records them.") in result
    assert states(app, order_id) == ["shipped"] * 3


# -- at once --------------------------------------------------------------------------------


def test_two_people_returning_the_same_item_at_once(app, shipped, reasons):
    """On PostgreSQL the order's row lock (FOR UPDATE) serves them one after the other; the
    second finds the item in the first one's open return."""
    order_id, (shoe, _, _) = shipped
    people = 6
    start = threading.Barrier(people)

    def return_item(n):
        with app.app_context():
            someone = user("agent" if n % 2 else "admin")
            start.wait()
            try:
                return returns.create_return(
                    order_id, [ReturnLine(shoe, reasons["Damaged"], f"call {n}")],
                    someone).return_reference
            except ReturnRefused as exc:
                return f"refused: {exc}"

    with ThreadPoolExecutor(max_workers=people) as pool:
        results = list(pool.map(return_item, range(people)))

    winners = [r for r in results if not r.startswith("refused")]
    assert winners == ["DE--R-1"]
    assert all(r == f"refused: Running shoe (item #{shoe}) cannot be returned: already in "
                    f"open return DE--R-1" for r in results if r.startswith("refused"))
    assert count(app, Return) == 1 and count(app, ReturnItem) == 1
    with app.app_context():
        moved = db.session.scalars(sa.select(ItemStateHistory.item_id).where(
            ItemStateHistory.event == "return")).all()
        assert moved == [shoe]
        assert db.session.get(Order, order_id).item_states.split() == ["returned", "shipped"]
