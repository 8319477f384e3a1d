"""The oms commands: lint, check-timeouts, check-conditions and the worker loop."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel import PROJECT_ROOT
from panel.extensions import db
from panel.models import OrderItem
from panel.models.base import utcnow
from panel.oms import engine
from tests.conftest import order_payload
from tests.plugins import engine_fixture

FIXTURES = PROJECT_ROOT / "tests" / "oms_fixtures"


@pytest.fixture
def app_config():
    return {"PANEL_PLUGINS": ("tests.plugins.engine_fixture",)}


def test_lint_lists_the_processes_it_checked(runner):
    result = runner.invoke(args=["oms", "lint"])
    assert result.exit_code == 0, result.output
    assert "ok  DefaultOrder01: 8 states" in result.output
    assert "ok  DummyPayment01" in result.output and "ok  Test01" in result.output
    assert "3 process(es), no problems." in result.output


def test_lint_of_files_names_each_problem(runner):
    broken = sorted((FIXTURES / "lint").glob("*.xml"))
    assert broken, "the lint fixtures are missing"
    result = runner.invoke(args=["oms", "lint", *map(str, broken)])
    assert result.exit_code == 1
    assert "problem(s)" in result.output
    good = runner.invoke(args=["oms", "lint", str(PROJECT_ROOT / "plugins" / "processes" /
                                                   "DefaultOrder01.xml")])
    assert good.exit_code == 0 and "1 process(es), no problems." in good.output


def test_lint_reports_a_file_that_does_not_load(runner, tmp_path):
    path = tmp_path / "Bad01.xml"
    path.write_text('<statemachine><process name="Bad01" main="true"><states>'
                    '<state name="new"/></states><transitions><transition>'
                    '<source>new</source><target>nowhere</target></transition>'
                    '</transitions></process></statemachine>')
    result = runner.invoke(args=["oms", "lint", str(path)])
    assert result.exit_code == 1
    assert "Bad01.xml" in result.output and "nowhere" in result.output


def paid_and_delivered(app, post_order, when):
    order_id = post_order(order_payload(payment={"method": "test", "amount": 5487})).json["id"]
    with app.app_context():
        for event in ("pay", "ship", "deliver"):
            engine.trigger_event(order_id, event, actor="setup", now=when)
    return order_id


def test_check_timeouts_prints_what_it_did(app, runner, post_order):
    paid_and_delivered(app, post_order, utcnow() - timedelta(days=2))
    paid_and_delivered(app, post_order, utcnow())  # not due yet
    result = runner.invoke(args=["oms", "check-timeouts", "--limit", "10"])
    assert result.exit_code == 0
    assert "check-timeouts: 3 item(s) moved in 1 order(s), 0 error(s)." in result.output


def test_check_conditions_and_worker_rounds(app, runner, post_order):
    order_id = post_order(order_payload(payment={"method": "test", "amount": 5487})).json["id"]
    with app.app_context():
        engine.trigger_event(order_id, "hold", actor="setup")
        engine_fixture.RELEASED.update(db.session.scalars(sa.select(OrderItem.id)))
    try:
        result = runner.invoke(args=["oms", "worker", "--rounds", "2", "--interval", "0.1"])
    finally:
        engine_fixture.RELEASED.clear()
    assert result.exit_code == 0
    assert result.output.count("check-timeouts: ") == 2
    assert "check-conditions: 3 item(s) moved in 1 order(s)" in result.output
    with app.app_context():
        assert set(db.session.scalars(sa.select(OrderItem.state_name))) == {"released"}
