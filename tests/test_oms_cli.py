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
    assert "ok    DefaultOrder01: 8 states" in result.output
    assert "ok    DummyPayment01" in result.output and "ok    Test01" in result.output
    assert "3 process(es): 0 error(s), 0 warning(s)." in result.output


WARNINGS = str(FIXTURES / "lenient" / "two_targets.xml")


@pytest.mark.parametrize("app_config", [{"PANEL_PLUGINS": ("tests.plugins.lint_warnings_fixture",)}])
def test_lint_shows_the_warnings_of_the_plugins_processes_and_strict_fails_on_them(runner):
    result = runner.invoke(args=["oms", "lint"])

    assert result.exit_code == 0, result.output
    assert "warn  Targets01: 3 states, 2 events, 1 transitions" in result.output
    assert (f'  warning: {WARNINGS}:14: <transition> new -> paid on "pay": a second <target> '
            '("shipped") is ignored: Spryker takes the first ("paid")') in result.output
    assert "3 process(es): 0 error(s), 4 warning(s)." in result.output
    strict = runner.invoke(args=["oms", "lint", "--strict"])
    assert strict.exit_code == 1
    assert "3 process(es): 0 error(s), 4 warning(s)." in strict.output


def test_lint_of_files_reports_every_problem_of_every_file_with_level_file_and_line(runner):
    lint = FIXTURES / "lint"
    files = [lint / "bad_timeout.xml", FIXTURES / "broken" / "not_well_formed.xml",
             lint / "nowhere.xml", lint / "unreachable.xml", FIXTURES / "broken" / "many_errors.xml"]

    result = runner.invoke(args=["oms", "lint", *map(str, files)])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines == [
        f"FAIL  {files[0]} (Timeout01)",
        f'  error: {files[0]}:17: <event name="pay">: the timeout "soon" cannot be read: write '
        'it like "1 hour", "30min" or "1 day 2 hours"',
        # a file that does not parse, and one that is not there: the others are still checked
        f"FAIL  {files[1]}",
        f"  error: {files[1]}: line 7, column 7: the file is not well-formed XML (mismatched "
        "tag)",
        f"FAIL  {files[2]}",
        f"  error: {files[2]}: (file): the file cannot be read: No such file or directory",
        f"warn  {files[3]} (Unreachable01)",
        f'  warning: {files[3]}:8: <state name="lost">: the state cannot be reached from the '
        'initial state "new"',
        f"FAIL  {files[4]} (Many01)",
        f'  error: {files[4]}:6: <process name="Many01">: the subprocess "Ghost" listed in '
        "<subprocesses> is not declared in any included file",
        f'  error: {files[4]}:13: <transition> new -> payed on "pay": the target state "payed" '
        "does not exist",
        f'  error: {files[4]}:18: <transition> paid -> new on "refund": the event "refund" does '
        "not exist",
        f'  warning: {files[4]}:10: <state name="paid">: the state cannot be reached from the '
        'initial state "new"',
        "5 file(s): 6 error(s), 2 warning(s).",
    ]


def test_lint_of_files_with_warnings_only_passes_unless_strict(runner):
    result = runner.invoke(args=["oms", "lint", WARNINGS])

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"warn  {WARNINGS} (Targets01)\n")
    assert result.output.endswith("1 file(s): 0 error(s), 4 warning(s).\n")
    strict = runner.invoke(args=["oms", "lint", "--strict", WARNINGS])
    assert strict.exit_code == 1
    good = runner.invoke(args=["oms", "lint", "--strict",
                               str(PROJECT_ROOT / "plugins" / "processes" / "DefaultOrder01.xml")])
    assert good.exit_code == 0, good.output
    assert "1 file(s): 0 error(s), 0 warning(s)." in good.output


def test_lint_reports_a_file_that_does_not_load(runner, tmp_path):
    path = tmp_path / "Bad01.xml"
    path.write_text('<statemachine><process name="Bad01" main="true"><states>'
                    '<state name="new"/></states><transitions><transition>'
                    '<source>new</source><target>nowhere</target></transition>'
                    '</transitions></process></statemachine>')
    result = runner.invoke(args=["oms", "lint", str(path)])
    assert result.exit_code == 1
    assert (f'  error: {path}:1: <transition> new -> nowhere: the target state "nowhere" does '
            "not exist") in result.output


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
