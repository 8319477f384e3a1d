"""The flask commands: users, API tokens, order import and demo data."""
import json

import sqlalchemy as sa

from panel.extensions import db
from panel.models import ApiToken, Customer, ItemStateHistory, Order, OrderItem, User
from panel.services.api_tokens import token_for
from tests.conftest import order_payload


def scalar(app, stmt):
    with app.app_context():
        return db.session.scalar(stmt)


def test_users_create_hashes_the_password(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "Eve@Example.org", "--name", "Eve",
                                 "--role", "agent", "--password", "a long secret for eve"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert user.email == "eve@example.org" and user.role == "agent"
        assert "a long secret for eve" not in user.password_hash and user.check_password("a long secret for eve")


def test_users_create_takes_the_password_from_the_environment_or_a_prompt(app, runner):
    env = runner.invoke(args=["users", "create", "--email", "a@example.org", "--name", "A",
                              "--role", "viewer"], env={"PANEL_USER_PASSWORD": "a password from the environment"})
    assert env.exit_code == 0, env.output
    prompt = runner.invoke(args=["users", "create", "--email", "b@example.org", "--name", "B",
                                 "--role", "admin"], input="a typed secret phrase\na typed secret phrase\n")
    assert prompt.exit_code == 0, prompt.output
    with app.app_context():
        users = {u.email: u for u in db.session.scalars(sa.select(User))}
        assert users["a@example.org"].check_password("a password from the environment")
        assert users["b@example.org"].check_password("a typed secret phrase")


def test_users_create_refuses_bad_input(app, runner):
    base = ["users", "create", "--name", "X", "--password", "a password long enough"]
    bad_role = runner.invoke(args=base + ["--email", "x@example.org", "--role", "boss"])
    assert bad_role.exit_code != 0 and "boss" in bad_role.output
    short = runner.invoke(args=["users", "create", "--name", "X", "--email", "x@example.org",
                                "--role", "agent", "--password", "short"])
    assert short.exit_code == 1 and "at least 15 characters" in short.output
    runner.invoke(args=base + ["--email", "x@example.org", "--role", "agent"])
    again = runner.invoke(args=base + ["--email", "X@example.org", "--role", "agent"])
    assert again.exit_code == 1 and "already exists" in again.output
    assert scalar(app, sa.select(sa.func.count()).select_from(User)) == 1


def test_api_tokens_are_printed_once_and_stored_hashed(app, runner):
    result = runner.invoke(args=["api-tokens", "create", "--name", "shop"])
    assert result.exit_code == 0
    token = result.output.strip()
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.name == "shop" and token not in row.token_hash
        assert token_for(token).name == "shop"
    duplicate = runner.invoke(args=["api-tokens", "create", "--name", "shop"])
    assert duplicate.exit_code == 1 and "revoke it first" in duplicate.output
    assert runner.invoke(args=["api-tokens", "revoke", "--name", "shop"]).exit_code == 0
    unknown = runner.invoke(args=["api-tokens", "revoke", "--name", "shop"])
    assert unknown.exit_code == 1 and "no token is named 'shop'" in unknown.output


def test_import_json_lines_reports_bad_records_and_goes_on(app, runner, tmp_path):
    bad_email = order_payload(order_reference="BAD-1")
    bad_email["customer"]["email"] = "nope"
    nul = order_payload(order_reference="NUL-1", cart_note="a\u0000b")
    lines = [
        json.dumps(order_payload(order_reference="IMP-1")),
        json.dumps(bad_email),
        "{not json",
        "",
        json.dumps(order_payload(order_reference="IMP-2")),
        json.dumps(order_payload(order_reference="IMP-1")),  # same again: already present
        json.dumps([1, 2]),
        json.dumps(nul),
    ]
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(args=["orders", "import", str(path)])
    assert result.exit_code == 1
    assert "line 2: customer.email: is not a valid email address" in result.output
    assert "line 3: not valid JSON" in result.output
    assert "line 7: the record must be a JSON object" in result.output
    assert "line 8: cart_note: contains a NUL character (U+0000)" in result.output
    assert "2 created, 1 already present, 4 failed." in result.output
    with app.app_context():
        refs = set(db.session.scalars(sa.select(Order.order_reference)))
    assert refs == {"IMP-1", "IMP-2"}


def test_import_json_array_names_the_line_of_each_bad_record(app, runner, tmp_path):
    conflict = order_payload(order_reference="ARR-1", cart_note="other")
    records = [order_payload(order_reference="ARR-1"), conflict]
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(records, indent=2))
    result = runner.invoke(args=["orders", "import", str(path)])
    assert result.exit_code == 1
    starts = [n for n, line in enumerate(json.dumps(records, indent=2).splitlines(), 1)
              if line == "  {"]
    second_line = starts[1]
    assert f"line {second_line}: an order with the reference ARR-1 already exists" in result.output


def test_import_of_a_clean_file_exits_zero(app, runner, tmp_path):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([order_payload(), order_payload()]))
    result = runner.invoke(args=["orders", "import", str(path)])
    assert result.exit_code == 0 and "2 created" in result.output
    assert scalar(app, sa.select(sa.func.count()).select_from(Order)) == 2


def test_demo_seed_makes_varied_consistent_orders(app, runner):
    result = runner.invoke(args=["demo", "seed", "--orders", "300", "--batch", "120"])
    assert result.exit_code == 0, result.output
    assert "Created 300 orders" in result.output
    with app.app_context():
        orders = db.session.scalars(sa.select(Order)).all()
        assert len(orders) == 300
        assert len({o.store for o in orders}) >= 3
        assert len({o.payment_method for o in orders}) >= 3
        assert any(o.customer_id is None for o in orders)  # some guests
        assert len({len(o.shipments) for o in orders}) >= 2
        counts = dict(db.session.execute(
            sa.select(OrderItem.order_id, sa.func.count()).group_by(OrderItem.order_id)).all())
        states = {}
        for state, order_id in db.session.execute(
                sa.select(OrderItem.state_name, OrderItem.order_id).distinct()):
            states.setdefault(order_id, set()).add(state)
        for order in orders:  # the list columns agree with the items
            assert order.item_count == counts[order.id]
            assert set(order.item_states.split()) == states[order.id]
            assert order.grand_total == order.payment_amount
        assert len({s for group in states.values() for s in group}) >= 5
        # each item's history ends in its current state
        last = dict(db.session.execute(
            sa.select(ItemStateHistory.item_id, ItemStateHistory.to_state)
            .order_by(ItemStateHistory.id)).all())
        for item in db.session.scalars(sa.select(OrderItem)):
            assert last[item.id] == item.state_name
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) > 10
        # an order whose items were paid has its payment captured then, so it can be refunded
        paid = dict(db.session.execute(
            sa.select(OrderItem.order_id, sa.func.min(ItemStateHistory.created_at))
            .join(ItemStateHistory, ItemStateHistory.item_id == OrderItem.id)
            .where(ItemStateHistory.event == "pay").group_by(OrderItem.order_id)).all())
        assert paid and {o.id: o.payment_captured_at for o in orders
                         if o.payment_captured_at is not None} == paid
