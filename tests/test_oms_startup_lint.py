"""Lint at start-up: errors stop the app (all of them named at once, with plugin, file and
line); warnings never do: they are logged once, with the plugin and the file, and shown on
Administration > OMS."""
from __future__ import annotations

import logging
import re
import sys
import types

import pytest

from panel import create_app, hookimpl
from panel.oms.definitions import Event, Process, State, Transition
from panel.oms.registry import EXTENSION_KEY
from panel.plugins import PluginError
from tests.plugins import lint_warnings_fixture

WARNED = "tests.plugins.lint_warnings_fixture"
FILE = str(lint_warnings_fixture.PROCESS)
BROKEN = lint_warnings_fixture.PROCESS.parent.parent / "broken"


def make_app(database_url, **config):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                       "SECRET_KEY": "test-secret", "PANEL_SECRET_KEY_IS_GENERATED": False,
                       **config})


def plugin_module(monkeypatch, name: str, **hooks) -> str:
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    monkeypatch.setitem(sys.modules, name, module)
    return name


def test_warnings_never_stop_start_up_and_are_logged_once_with_plugin_and_file(
        database_url, caplog):
    caplog.set_level(logging.WARNING, logger="panel.plugins")

    app = make_app(database_url, PANEL_PLUGINS=(WARNED,))

    assert "Targets01" in app.extensions[EXTENSION_KEY].processes
    logged = [r.getMessage() for r in caplog.records
              if r.name == "panel.plugins" and r.levelno == logging.WARNING]
    prefix = f"plugin {WARNED}: process Targets01: warning: {FILE}:"
    assert logged == [
        f'{prefix}14: <transition> new -> paid on "pay": a second <target> ("shipped") is '
        'ignored: Spryker takes the first ("paid")',
        f'{prefix}16: <transition> new -> paid on "pay": a second <event> ("ship") is ignored: '
        'Spryker takes the first ("pay")',
        f'{prefix}8: <state name="shipped">: the state cannot be reached from the initial '
        'state "new"',
        f'{prefix}21: <event name="ship">: no transition carries this event: it never fires',
    ]
    assert [str(w) for w in app.extensions[EXTENSION_KEY].warnings["Targets01"]] == [
        line.split(": warning: ", 1)[1] for line in logged]


def test_every_error_of_every_process_stops_start_up_at_once(database_url, monkeypatch):
    built = Process.build("Built01", source="a test plugin", states=[State("new")],
                          events=[Event("pay", manual=True, command="Built/Missing")],
                          transitions=[Transition("new", "new", "pay")])
    name = plugin_module(monkeypatch, "panel_test_many_broken", register_processes=lambda: [
        BROKEN / "many_errors.xml", BROKEN / "not_well_formed.xml", built,
        lint_warnings_fixture.PROCESS])

    with pytest.raises(PluginError) as caught:
        make_app(database_url, PANEL_PLUGINS=(name,))

    many, broken = BROKEN / "many_errors.xml", BROKEN / "not_well_formed.xml"
    assert str(caught.value).splitlines() == [
        "invalid state-machine process:",
        f'  plugin {name}: {many}:6: <process name="Many01">: the subprocess "Ghost" listed in '
        "<subprocesses> is not declared in any included file",
        f'  plugin {name}: {many}:13: <transition> new -> payed on "pay": the target state '
        '"payed" does not exist',
        f'  plugin {name}: {many}:18: <transition> paid -> new on "refund": the event "refund" '
        "does not exist",
        f"  plugin {name}: {broken}: line 7, column 7: the file is not well-formed XML "
        "(mismatched tag)",
        f'  plugin {name}: Built01 (a test plugin): <event name="pay">: the command '
        '"Built/Missing" is not registered by any plugin',
    ]  # and no warnings among them (Targets01 has four)


@pytest.mark.parametrize("app_config", [{"PANEL_PLUGINS": (WARNED,)}])
def test_the_oms_pages_show_a_process_warnings(app, as_role):
    viewer = as_role("viewer")

    index = viewer.get("/administration/oms/").get_data(as_text=True)
    row = re.search(r'<tr data-process="Targets01">(.*?)</tr>', index, re.DOTALL).group(1)
    assert ('<a class="badge badge-warning" href="/administration/oms/process/Targets01'
            '#lint-warnings">4 warnings</a>') in row
    clean = re.search(r'<tr data-process="DefaultOrder01">(.*?)</tr>', index, re.DOTALL).group(1)
    assert '<span class="text-muted">ok</span>' in clean

    page = viewer.get("/administration/oms/process/Targets01").get_data(as_text=True)
    items = re.findall(r'<li class="list-group-item lint-warning">\s*(.*?)\s*</li>', page,
                       re.DOTALL)
    assert items[0] == (f"<code>{FILE}:14</code> <strong>&lt;transition&gt; new -&gt; paid on "
                        "&#34;pay&#34;</strong>: a second &lt;target&gt; (&#34;shipped&#34;) is "
                        "ignored: Spryker takes the first (&#34;paid&#34;)")
    assert len(items) == 4
    assert 'id="lint-warnings"' not in viewer.get(
        "/administration/oms/process/DefaultOrder01").get_data(as_text=True)
