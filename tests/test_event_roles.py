"""Events that need a role: plugins mark them, buttons say why they are disabled, the server
refuses them, and bulk runs too."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import OrderItem, TransitionLog
from panel.oms import engine
from panel.oms.registry import current_registry
from panel.plugins import PluginError
from panel.services import bulk_actions
from tests.test_plugins import make_app, plugin_module

ACTOR = "test"


def returned_order(app, post_order) -> int:
    order_id = post_order().json["id"]
    with app.app_context():
        for event in ("pay", "ship", "return"):
            assert engine.trigger_event(order_id, event, actor=ACTOR).error is None
    return order_id


def item_states(app, order_id) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(sa.select(OrderItem.state_name)
                                      .where(OrderItem.order_id == order_id)))


def refund_buttons(page: str) -> list[str]:
    return re.findall(r'<button[^>]*value="(?:\d+:)?refund"[^>]*>', page)


def test_agents_see_refund_disabled_with_the_reason_and_admins_can_press_it(app, as_role,
                                                                             post_order):
    order_id = returned_order(app, post_order)
    agent_page = as_role("agent").get(f"/sales/orders/{order_id}").get_data(as_text=True)
    buttons = refund_buttons(agent_page)
    assert len(buttons) >= 3  # order, shipment and item scopes
    assert all("disabled" in b and 'title="Only admins may trigger &#34;refund&#34;"' in b
               for b in buttons), buttons
    assert 'Disabled: only admins may trigger &#34;refund&#34;.' in agent_page

    admin_page = as_role("admin").get(f"/sales/orders/{order_id}").get_data(as_text=True)
    assert refund_buttons(admin_page) and not any("disabled" in b
                                                  for b in refund_buttons(admin_page))
    assert "Disabled:" not in admin_page


@pytest.mark.parametrize("form", [{"event": "refund"}, {"item_event": "ITEM:refund"}])
def test_the_server_refuses_an_agents_refund_and_changes_nothing(app, as_role, post_order,
                                                                  form):
    order_id = returned_order(app, post_order)
    with app.app_context():
        item_id = db.session.scalar(sa.select(OrderItem.id).where(OrderItem.order_id == order_id))
        logged = db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog))
    form = {k: v.replace("ITEM", str(item_id)) for k, v in form.items()}
    agent = as_role("agent")

    response = agent.post_form(f"/sales/orders/{order_id}/trigger", form)

    assert response.status_code == 302
    page = agent.get(f"/sales/orders/{order_id}").get_data(as_text=True)
    assert "Nothing was triggered: only admins may trigger &#34;refund&#34;." in page
    assert item_states(app, order_id) == {"returned"}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog)) == logged

    as_role("admin").post_form(f"/sales/orders/{order_id}/trigger", form)
    assert "refunded" in item_states(app, order_id)


def test_a_bulk_run_of_a_refund_is_refused_to_an_agent(app, as_role, post_order, accounts):
    order_id = returned_order(app, post_order)
    with app.app_context():
        from panel.models import User

        agent = db.session.scalar(sa.select(User).where(User.role == "agent"))
        admin = db.session.scalar(sa.select(User).where(User.role == "admin"))
        selection = bulk_actions.freeze_selection([order_id], agent)
        with pytest.raises(bulk_actions.BulkError, match='only admins may trigger "refund"'):
            bulk_actions.start_run(selection, "refund", agent)
        assert bulk_actions.start_run(selection, "refund", admin).event == "refund"


def test_hook_register_event_roles(monkeypatch, database_url, app_config):
    """A project plugin makes "pay" admin-only; the stricter role wins over a laxer one."""
    strict = plugin_module(monkeypatch, "strict_roles",
                           register_event_roles=lambda: {"pay": "admin", "refund": "agent"})
    app = make_app(database_url, PANEL_PLUGINS=(strict,))
    with app.app_context():
        assert current_registry().event_roles == {"pay": "admin", "refund": "admin"}

    bad = plugin_module(monkeypatch, "bad_roles", register_event_roles=lambda: {"pay": "boss"})
    with pytest.raises(PluginError, match="bad_roles: the role for the event 'pay' must be"):
        make_app(database_url, PANEL_PLUGINS=(bad,))
