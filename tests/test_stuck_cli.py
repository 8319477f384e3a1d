"""``flask oms stuck [--retry]``: the Stuck items page for cron and the shell, and the
settings that say when an item is stuck."""
from __future__ import annotations

import getpass
from datetime import timedelta

import pytest

from panel import create_app
from panel.config import duration, durations_by_process
from panel.extensions import db
from panel.models import TransitionLog
from tests.plugins import stuck_fixture

# The same plugin and limits as the page's tests: app_config and healthy_services are
# fixtures, which pytest takes from the imported names.
from tests.test_stuck_items import (  # noqa: F401
    age,
    app_config,
    healthy_services,
    log,
    new_order,
    states,
    trigger,
)


def stuck(runner, *args):
    return runner.invoke(args=["oms", "stuck", *args])


def test_lists_the_stuck_items_with_why(app, runner, post_order):
    order_id, (shoe, sock) = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Capture")
    trigger(app, order_id, "pay", [shoe])
    trigger(app, order_id, "hold", [sock])
    age(app, [sock], days=2)

    result = stuck(runner)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "2 stuck item(s)."
    by_item = {line.split("\t")[1]: line.split("\t") for line in lines[:-1]}
    sock_line = by_item[f"item #{sock} SOCK-1"]
    assert sock_line[0] == "DE--1" and sock_line[2] == "Stuck01"
    assert sock_line[3].startswith("waiting since ") and sock_line[4:] == ["Waiting too long"]
    shoe_line = by_item[f"item #{shoe} SHOE-1"]
    assert shoe_line[0] == "DE--1" and shoe_line[2] == "Stuck01"
    assert shoe_line[4:] == ["Last command failed",
                             "Stuck/Capture: Stuck/Capture cannot reach its service"]


def test_filters_and_limit(app, runner, post_order):
    order_id, (shoe, sock) = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Capture")
    trigger(app, order_id, "pay")

    assert stuck(runner, "--reason", "waiting").output == "0 stuck item(s).\n"
    assert stuck(runner, "--error", "cannot reach").output.endswith("2 stuck item(s).\n")
    assert stuck(runner, "--state", "paid").output == "0 stuck item(s).\n"
    limited = stuck(runner, "--limit", "1")
    assert limited.output.endswith("1 stuck item(s) (the limit; there may be more).\n")
    assert f"item #{shoe} " in limited.output  # the longest waiting (then the lowest id) first


@pytest.mark.parametrize("args, message", [
    (["--process", "Nope01"], "error: process: no plugin supplies a process 'Nope01'"),
    (["--process", "Stuck01", "--state", "limbo"], "error: state: 'limbo' is not a state of "
                                                   "Stuck01"),
])
def test_a_bad_filter_is_named_and_fails(app, runner, args, message):
    result = stuck(runner, *args)
    assert result.exit_code == 1 and message in result.output


def test_a_reason_that_does_not_exist_is_a_usage_error(app, runner):
    result = stuck(runner, "--reason", "sleepy")
    assert result.exit_code == 2 and "'sleepy' is not one of" in result.output


def test_retry_moves_them_and_names_the_shell_user(app, runner, post_order):
    order_id, ids = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Invoice")
    trigger(app, order_id, "pay")
    stuck_fixture.FAILING.clear()

    result = stuck(runner, "--retry")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "Retried 2 items: 2 moved, 0 stayed (no condition held).")
    assert states(app, ids) == ["invoiced", "invoiced"]
    actors = {row[4] for row in log(app, TransitionLog.is_error.is_(False),
                                    TransitionLog.event == "pay")}
    assert len(actors) == 1 and actors.pop().startswith(
        f"oms stuck --retry ({getpass.getuser()}@")
    assert stuck(runner).output == "0 stuck item(s).\n"


def test_a_retry_that_fails_exits_with_1(app, runner, post_order):
    order_id, ids = new_order(app, post_order)
    stuck_fixture.FAILING.add("Stuck/Capture")
    trigger(app, order_id, "pay")

    result = stuck(runner, "--retry")

    assert result.exit_code == 1
    assert f"failed in 1 order(s) (#{order_id}: Stuck/Capture" in result.output
    assert states(app, ids) == ["new", "new"]


# -- the settings ------------------------------------------------------------------------

def test_durations_read_like_process_timeouts():
    assert duration("PANEL_SWEEP_INTERVAL", "90 seconds") == timedelta(seconds=90)
    assert durations_by_process("PANEL_STUCK_AFTER", "Stuck01=2 days, Other01=1 day 12 hours,") \
        == {"Stuck01": timedelta(days=2), "Other01": timedelta(days=1, hours=12)}


@pytest.mark.parametrize("name, raw, message", [
    ("PANEL_SWEEP_INTERVAL", "soon", 'PANEL_SWEEP_INTERVAL: the timeout "soon" cannot be read'),
    ("PANEL_SWEEP_INTERVAL", "0 min", "PANEL_SWEEP_INTERVAL: the timeout \"0 min\" is zero"),
    ("PANEL_STUCK_AFTER_DEFAULT", "1 day ago", "PANEL_STUCK_AFTER_DEFAULT: '1 day ago' is not "
                                               "a positive duration"),
    ("PANEL_STUCK_AFTER", "Stuck01", "PANEL_STUCK_AFTER: expected process=duration, got "
                                     "'Stuck01'"),
    ("PANEL_STUCK_AFTER", "Stuck01=later", "PANEL_STUCK_AFTER (Stuck01): the timeout"),
])
def test_a_bad_setting_stops_the_start_and_is_named(monkeypatch, database_url, name, raw,
                                                    message):
    monkeypatch.setenv(name, raw)
    with pytest.raises(RuntimeError) as refused:
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    assert str(refused.value).startswith(message)


def test_the_settings_are_read_from_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("PANEL_SWEEP_INTERVAL", "10 min")
    monkeypatch.setenv("PANEL_STUCK_AFTER", "DummyPayment01=3 days")
    monkeypatch.setenv("PANEL_STUCK_AFTER_DEFAULT", "2 weeks")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    assert (app.config["PANEL_SWEEP_INTERVAL"], app.config["PANEL_STUCK_AFTER"],
            app.config["PANEL_STUCK_AFTER_DEFAULT"]) == (
        timedelta(minutes=10), {"DummyPayment01": timedelta(days=3)}, timedelta(weeks=2))
    with app.app_context():
        db.engine.dispose()


def test_a_limit_for_a_process_that_no_plugin_supplies_stops_the_app(database_url):
    with pytest.raises(RuntimeError) as refused:
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                    "PANEL_STUCK_AFTER": {"Stuck1": timedelta(days=1)}})
    assert ("PANEL_STUCK_AFTER sets a limit for the process 'Stuck1', which no plugin "
            "supplies.") in str(refused.value)
