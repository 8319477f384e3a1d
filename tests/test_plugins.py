"""Plugins: every hook through the real app, how plugins are found, blocked and traced, what
stops the app from starting, and the Administration > Plugins page.

The hook tests load tests/plugins/hooks_fixture.py through PANEL_PLUGINS; the entry-point
tests install tests/plugins/example_plugin with pip, as a project would install its plugin.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import re
import shutil
import subprocess
import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from panel import create_app, hookimpl, hookspecs
from panel.extensions import db
from panel.models import EventTimeout, Order, OrderItem
from panel.oms import engine, sweeps
from panel.oms.definitions import Event, Process, State, Transition
from panel.oms.registry import current_registry
from panel.plugins import PluginError, plugin_manager
from panel.services import (
    document_templates,
    email_templates,
    order_columns,
    reclamations,
    refunds,
    returns,
)
from tests.conftest import order_payload
from tests.plugins import hooks_fixture

TESTS = Path(__file__).resolve().parent
EXAMPLE_PLUGIN = TESTS / "plugins" / "example_plugin"
EXAMPLE_MODULE = "panel_example_plugin"
HOOKS = hooks_fixture.NAME  # "tests.plugins.hooks_fixture"
WRAPPERS = "panel_test_wrappers"
ACTOR = "Agent User <agent@example.org>"


@pytest.fixture
def app_config():
    return {"PANEL_PLUGINS": (HOOKS,)}


@pytest.fixture(autouse=True)
def clean_records():
    hooks_fixture.CALLS.clear()
    hooks_fixture.TRANSITIONED.clear()


def make_app(database_url, **config):
    """An app with these settings, for tests about start-up (no database work needed)."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                       "SECRET_KEY": "test-secret", "PANEL_SECRET_KEY_IS_GENERATED": False,
                       **config})


def plugin_module(monkeypatch, name: str, **hooks) -> str:
    """Make an importable plugin module on the spot; each keyword is a hook implementation."""
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    monkeypatch.setitem(sys.modules, name, module)
    return name


def new_order(post_order, method="hooks", items=(("SHOE-1", 1999), ("SOCK-1", 999))) -> int:
    """Post an order paid with ``method``, one unit of each (sku, unit price)."""
    payload = order_payload(payment={"method": method, "amount": 0})
    payload["shipments"][0]["items"] = [
        {"sku": sku, "name": sku, "quantity": 1, "unit_price": price, "tax_rate": 19}
        for sku, price in items
    ]
    payload["payment"]["amount"] = sum(price for _, price in items) + 490
    response = post_order(payload)
    assert response.status_code == 201, response.json
    return response.json["id"]


def items_of(app, order_id) -> list[tuple[int, str, str]]:
    """(item id, process, state) of each item of the order."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(OrderItem.id, OrderItem.process_name, OrderItem.state_name)
            .where(OrderItem.order_id == order_id).order_by(OrderItem.id))]


def states(app, order_id) -> list[str]:
    return [state for _, _, state in items_of(app, order_id)]


def trigger(app, order_id, event, now=None):
    with app.app_context():
        return engine.trigger_event(order_id, event, actor=ACTOR, now=now)


def plugins_page(client) -> dict[str, dict[str, str]]:
    """Administration > Plugins as {plugin: {column heading: cell text}}."""
    response = client.get("/administration/plugins/")
    assert response.status_code == 200
    table = re.search(r'<table[^>]*id="plugins-table".*?</table>',
                      response.get_data(as_text=True), re.S).group(0)
    headings = re.findall(r"<th>(.*?)</th>", table)
    rows = {}
    for name, row in re.findall(r'<tr data-plugin="([^"]+)">(.*?)</tr>', table, re.S):
        cells = [" ".join(re.sub(r"<[^>]+>", " ", cell).split())
                 for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        rows[name] = dict(zip(headings, cells, strict=True))
    return rows


# --- every hook has a test ------------------------------------------------------------------

def hook_names() -> list[str]:
    return sorted(name for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
                  if hasattr(function, "panel_spec"))


def test_plugin_hooks_have_tests():
    defined = set()
    for path in TESTS.rglob("*.py"):
        defined |= set(re.findall(r"^\s*(?:async\s+)?def (test_hook_\w+)\(",
                                  path.read_text(encoding="utf-8"), re.M))
    missing = [name for name in hook_names() if f"test_hook_{name}" not in defined]

    assert hook_names(), "found no hooks in panel/hookspecs.py"
    assert missing == [], f"hooks without a test_hook_<name> test in tests/: {missing}"


# --- the hooks, one by one, through the real app --------------------------------------------

def test_hook_register_processes(app, post_order):
    with app.app_context():
        registry = current_registry()
        built, from_xml = registry.processes["Hooks01"], registry.processes["HooksXml01"]
        suppliers = registry.suppliers["process"]
    assert built.source == hooks_fixture.__file__  # a Process object, as the plugin built it
    assert from_xml.source == str(hooks_fixture.XML_PROCESS)  # a path, loaded from the XML
    assert suppliers["Hooks01"] == suppliers["HooksXml01"] == HOOKS
    assert suppliers["DefaultOrder01"] == "plugins.default_processes"  # the bundled ones stay

    order_id = new_order(post_order, method="hooks-xml")
    result = trigger(app, order_id, "finish")

    assert result.error is None
    assert states(app, order_id) == ["done", "done"]


def test_a_project_process_replaces_a_bundled_one_of_the_same_name(database_url, monkeypatch):
    replacement = Process.build(
        "DefaultOrder01", source="a project plugin",
        states=[State("new"), State("closed")], events=[Event("close", manual=True)],
        transitions=[Transition("new", "closed", "close")])
    name = plugin_module(monkeypatch, "panel_test_replacement",
                         register_processes=lambda: [replacement])

    app = make_app(database_url, PANEL_PLUGINS=(name,))

    with app.app_context():
        registry = current_registry()
        assert registry.processes["DefaultOrder01"] is replacement
        assert registry.suppliers["process"]["DefaultOrder01"] == name


def test_hook_register_commands(app, post_order):
    with app.app_context():
        registry = current_registry()
        assert registry.commands["Payment/Capture"] is hooks_fixture.capture
        assert registry.suppliers["command"]["Payment/Capture"] == HOOKS
        assert registry.suppliers["command"]["Oms/SendOrderShipped"] == "plugins.default_commands"
    order_id = new_order(post_order, method="invoice")  # DefaultOrder01: "pay" runs Payment/Capture
    first, second = [item_id for item_id, _, _ in items_of(app, order_id)]

    result = trigger(app, order_id, "pay")

    assert result.error is None
    assert states(app, order_id) == ["paid", "paid"]
    # the project plugin's command ran, once for the group; the bundled one did not
    assert hooks_fixture.CALLS == [("Payment/Capture", order_id, [first, second], ACTOR)]
    with app.app_context():
        assert db.session.get(Order, order_id).payment_captured_at is None


def test_hook_register_conditions(app, post_order):
    with app.app_context():
        assert current_registry().suppliers["condition"]["Hooks/IsGiftCard"] == HOOKS
    order_id = new_order(post_order, items=[("GIFT-25", 2500), ("SHOE-1", 1999)])
    trigger(app, order_id, "pay")

    result = trigger(app, order_id, "sort")

    assert result.error is None
    assert states(app, order_id) == ["gift card", "done"]


def test_hook_register_timeout_processors(app, post_order):
    order_id = new_order(post_order)
    paid_at = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    next_morning = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)

    trigger(app, order_id, "pay", now=paid_at)

    with app.app_context():
        timeouts = db.session.execute(
            sa.select(EventTimeout.event, EventTimeout.state_name, EventTimeout.due_at)
            .where(EventTimeout.order_id == order_id)).all()
        assert [tuple(t) for t in timeouts] == [("remind", "paid", next_morning)] * 2
        assert sweeps.check_timeouts(now=next_morning - timedelta(minutes=1)).moved == 0
        assert sweeps.check_timeouts(now=next_morning).moved == 2
    assert states(app, order_id) == ["reminded", "reminded"]


def test_hook_select_process(app, post_order):
    chosen = {method: {process for _, process, _ in items_of(app, new_order(post_order, method))}
              for method in ("hooks", "hooks-xml", "invoice")}

    assert chosen == {
        "hooks": {"Hooks01"},
        "hooks-xml": {"HooksXml01"},
        "invoice": {"DefaultOrder01"},  # the plugin returned None: the bundled default decides
    }


def test_hook_items_transitioned(app, post_order):
    order_id = new_order(post_order)
    first, second = [item_id for item_id, _, _ in items_of(app, order_id)]
    assert hooks_fixture.TRANSITIONED == []  # Hooks01 items have nothing to do on arrival

    trigger(app, order_id, "pay")

    assert hooks_fixture.TRANSITIONED == [{
        "order_id": order_id,
        "event": "pay",
        "transitions": [(first, "new", "paid"), (second, "new", "paid")],
        "actor": ACTOR,
        # another connection already saw the new states: the hook ran after the commit
        "committed_states": {first: "paid", second: "paid"},
    }]


def test_items_transitioned_is_not_called_when_a_command_fails(app, post_order):
    order_id = new_order(post_order)

    result = trigger(app, order_id, "explode")

    assert "the warehouse is on fire" in result.error
    assert [call[0] for call in hooks_fixture.CALLS] == ["Hooks/Explode"]
    assert states(app, order_id) == ["new", "new"]
    assert hooks_fixture.TRANSITIONED == []


class TestFailingNotification:
    """A project plugin whose items_transitioned raises, asked before the hooks fixture."""

    FAILING = "panel_test_failing_notification"

    @pytest.fixture
    def app_config(self, monkeypatch):
        def items_transitioned(order_id):
            raise RuntimeError("the ERP is down")

        plugin_module(monkeypatch, self.FAILING, items_transitioned=items_transitioned)
        return {"PANEL_PLUGINS": (HOOKS, self.FAILING)}  # the last one listed is asked first

    def test_it_is_logged_and_the_other_plugins_are_still_told(self, app, post_order, caplog):
        caplog.set_level(logging.ERROR, logger="panel.plugins")
        order_id = new_order(post_order)

        result = trigger(app, order_id, "pay")

        assert result.error is None and states(app, order_id) == ["paid", "paid"]
        assert [call["event"] for call in hooks_fixture.TRANSITIONED] == ["pay"]
        failures = [r for r in caplog.records if r.name == "panel.plugins"]
        assert [r.getMessage() for r in failures] == [
            f"plugin {self.FAILING} failed in items_transitioned"]
        assert "the ERP is down" in str(failures[0].exc_info[1])


# --- hook wrappers ------------------------------------------------------------------------

def wrapper_plugin(monkeypatch, name: str, seen: dict[str, list]) -> str:
    """A plugin with a ``wrapper=True`` implementation of every hook in panel/hookspecs.py:
    each records the outcome of the call it wraps in ``seen[hook name]`` and passes it on,
    except that the select_process wrapper sends the Hooks01 orders to DefaultOrder01."""
    module = types.ModuleType(name)

    def wrapper_of(hook_name):
        def wrapper():
            outcome = yield
            seen.setdefault(hook_name, []).append(outcome)
            if hook_name == "select_process" and outcome == "Hooks01":
                return "DefaultOrder01"
            return outcome
        return hookimpl(wrapper=True)(wrapper)

    for hook_name in hook_names():
        setattr(module, hook_name, wrapper_of(hook_name))
    monkeypatch.setitem(sys.modules, name, module)
    return name


class TestWrappers:
    """The app with the hooks fixture and a wrapper of every hook."""

    @pytest.fixture
    def seen(self, monkeypatch) -> dict[str, list]:
        outcomes: dict[str, list] = {}
        wrapper_plugin(monkeypatch, WRAPPERS, outcomes)
        return outcomes

    @pytest.fixture
    def app_config(self, seen):
        return {"PANEL_PLUGINS": (HOOKS, WRAPPERS)}

    def test_a_wrapper_works_on_every_hook(self, app, post_order, seen):
        order_id = new_order(post_order, method="hooks")
        # the select_process wrapper changed the answer: the order is in DefaultOrder01
        assert {process for _, process, _ in items_of(app, order_id)} == {"DefaultOrder01"}
        trigger(app, order_id, "pay")
        with app.app_context():
            claimable = reclamations.claimable_items(db.session.get(Order, order_id))
            returnable = returns.returnable_items(db.session.get(Order, order_id))
            templates = email_templates.email_templates()
            # Hooks01's capture records nothing: capture by hand, then refund one item.
            db.session.get(Order, order_id).payment_captured_at = datetime.now(UTC)
            db.session.commit()
            refund = refunds.create_refund(order_id, refunds.RefundRequest(
                items={items_of(app, order_id)[0][0]: None}), actor=ACTOR)
            refund_id = refunds.send_refund(refund.id).id
            pages = document_templates.document_templates()
            columns = order_columns.available_columns()

        assert sorted(seen) == hook_names()  # every hook was called through its wrapper
        assert seen["select_process"] == ["Hooks01"]  # the wrapped call's own answer
        assert len(claimable) == 2 and "order confirmation" in templates
        assert set(pages) == {"invoice", "credit_note"}
        assert len(returnable) == 2
        assert [c.key for c in columns] == [c.key for c in order_columns.CORE_COLUMNS]
        supplied = {kind: {key for answer in seen[f"register_{kind}"] for mapping in answer
                           for key in mapping}
                    for kind in ("commands", "conditions", "timeout_processors")}
        assert {"Payment/Capture", "Hooks/Explode", "Oms/SendOrderShipped"} <= \
            supplied["commands"]
        assert "Hooks/IsGiftCard" in supplied["conditions"]
        assert "Hooks/NextMorning" in supplied["timeout_processors"]
        assert seen["items_transitioned"] == [[]]  # a notification's outcome: no answers
        assert seen["select_refundable_amounts"][0].items == {items_of(app, order_id)[0][0]: 1999,
                                                              items_of(app, order_id)[1][0]: 999}
        assert seen["refund_payment"] == [f"RECORDED-{refund_id}"]


# --- plugins installed with an entry point --------------------------------------------------

def _can_build_without_isolation() -> bool:
    """setuptools builds wheels by itself from 70.1 on; before that it needs ``wheel``."""
    if importlib.util.find_spec("wheel") is not None:
        return True
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    major, minor = (int(part) for part in re.findall(r"\d+", version)[:2])
    return (major, minor) >= (70, 1)


@pytest.fixture(scope="session")
def example_plugin_site(tmp_path_factory) -> Path:
    """tests/plugins/example_plugin installed with pip into a folder of its own (pip runs once).

    It is built from a copy, so that setuptools' build/ and *.egg-info stay out of the tree.
    The venv's setuptools is used when it can build a wheel; an older one without ``wheel``
    cannot ("invalid command 'bdist_wheel'"), and then pip builds in an isolated environment.
    """
    root = tmp_path_factory.mktemp("example_plugin")
    source, site = root / "src", root / "site"
    shutil.copytree(EXAMPLE_PLUGIN, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    isolation = ["--no-build-isolation"] if _can_build_without_isolation() else []
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-deps", *isolation, "--target", str(site), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"pip could not install {EXAMPLE_PLUGIN}:\n{' '.join(command)}\n"
                    f"{done.stdout}\n{done.stderr}")
    assert (site / EXAMPLE_MODULE / "__init__.py").is_file()
    return site


@pytest.fixture
def example_plugin(example_plugin_site):
    """The installed example plugin on sys.path for one test, and gone afterwards."""
    sys.path.insert(0, str(example_plugin_site))
    importlib.invalidate_caches()
    yield
    sys.path.remove(str(example_plugin_site))
    for name in [n for n in sys.modules if n == EXAMPLE_MODULE or
                 n.startswith(EXAMPLE_MODULE + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()


class TestInstalledPlugin:
    """The app with only the bundled plugins and the installed example plugin."""

    @pytest.fixture
    def app_config(self, example_plugin):
        return {}

    def test_it_is_registered_under_its_entry_point_name(self, app):
        with app.app_context():
            pm, registry = plugin_manager(), current_registry()
            module = sys.modules[EXAMPLE_MODULE]
            assert pm.get_plugin("example") is module
            assert pm.get_name(module) == "example"
            assert registry.commands["Example/Hello"] is module.hello
            assert registry.suppliers["command"]["Example/Hello"] == "example"

    def test_its_hooks_run(self, app, post_order):
        order_id = new_order(post_order, method="invoice")
        first, second = [item_id for item_id, _, _ in items_of(app, order_id)]

        trigger(app, order_id, "pay")

        assert sys.modules[EXAMPLE_MODULE].SEEN == [{
            "order_id": order_id, "event": "pay", "actor": ACTOR,
            "transitions": [(first, "new", "paid"), (second, "new", "paid")],
        }]

    def test_the_plugins_page_lists_it(self, as_role):
        row = plugins_page(as_role("admin"))["example"]

        assert row["Hooks"] == "items_transitioned register_commands"
        assert row["Commands"] == "Example/Hello"


def test_disabled_plugins_are_not_loaded(database_url, example_plugin):
    app = make_app(database_url, PANEL_PLUGINS=(HOOKS,),
                   PANEL_DISABLED_PLUGINS=("plugins.dummy_payment", "example", HOOKS))

    with app.app_context():
        pm, registry = plugin_manager(), current_registry()
        blocked = {name for name, plugin in pm.list_name_plugin() if plugin is None}
        assert blocked == {"plugins.dummy_payment", "example", HOOKS}
        # a bundled plugin, blocked by its dotted module name
        assert "DummyPayment01" not in registry.processes
        assert "DummyPayment/Pay" not in registry.commands
        assert "DummyPayment/IsAuthorized" not in registry.conditions
        # a PANEL_PLUGINS module, by its dotted name
        assert "Hooks01" not in registry.processes
        assert registry.commands["Payment/Capture"] is not hooks_fixture.capture
        # an installed plugin, by its entry point's name: not even imported
        assert "Example/Hello" not in registry.commands
        assert EXAMPLE_MODULE not in sys.modules
        # the rest is there
        assert "DefaultOrder01" in registry.processes


# --- what stops the app from starting -------------------------------------------------------

def test_a_misspelled_hook_stops_the_app(database_url, monkeypatch):
    name = plugin_module(monkeypatch, "panel_test_misspelled",
                         register_comands=lambda: {"Shop/Capture": print})

    with pytest.raises(PluginError) as caught:
        make_app(database_url, PANEL_PLUGINS=(name,))

    assert "a plugin implements a hook that does not exist" in str(caught.value)
    assert "'register_comands'" in str(caught.value)
    assert name in str(caught.value)


def test_a_plugin_module_that_does_not_exist_stops_the_app(database_url):
    with pytest.raises(PluginError) as caught:
        make_app(database_url, PANEL_PLUGINS=("tests.plugins.no_such_plugin",))

    assert str(caught.value).startswith(
        "cannot import the plugin 'tests.plugins.no_such_plugin': No module named")


def test_an_invalid_process_stops_the_app_naming_element_and_problem(database_url, monkeypatch):
    broken = Process.build(
        "Broken01", source="a test plugin",
        states=[State("new"), State("paid")],
        events=[Event("pay", manual=True, command="Broken/NotRegistered")],
        transitions=[Transition("new", "paid", "pay"), Transition("paid", "nowhere", "pay")])
    name = plugin_module(monkeypatch, "panel_test_broken_process",
                         register_processes=lambda: [broken])

    with pytest.raises(PluginError) as caught:
        make_app(database_url, PANEL_PLUGINS=(name,))

    message = str(caught.value)
    assert message.startswith("invalid state-machine process:")
    assert ('Broken01 (a test plugin): <event name="pay">: the command "Broken/NotRegistered" '
            "is not registered by any plugin") in message
    assert ('Broken01 (a test plugin): <transition> paid -> nowhere on "pay": the target state '
            '"nowhere" does not exist') in message


def test_an_invalid_process_file_stops_the_app_naming_plugin_file_and_element(database_url,
                                                                            monkeypatch):
    path = TESTS / "oms_fixtures" / "broken" / "unknown_target.xml"
    name = plugin_module(monkeypatch, "panel_test_broken_file", register_processes=lambda: [path])

    with pytest.raises(PluginError) as caught:
        make_app(database_url, PANEL_PLUGINS=(name,))

    assert str(caught.value) == (
        "invalid state-machine process:\n"
        f'  plugin {name}: {path}:10: <transition> paid -> shipped on "ship": the target state '
        '"shipped" does not exist')


def test_a_default_process_that_no_plugin_supplies_stops_the_app(database_url):
    with pytest.raises(RuntimeError) as caught:
        make_app(database_url, PANEL_DEFAULT_PROCESS="DefaultOrder1")

    message = str(caught.value)
    assert ("PANEL_DEFAULT_PROCESS names the process 'DefaultOrder1', which no plugin "
            "supplies.") in message
    assert message.endswith("The processes the plugins supply: DefaultOrder01, DummyPayment01.")


def test_a_payment_process_that_no_plugin_supplies_stops_the_app(database_url):
    with pytest.raises(RuntimeError) as caught:
        make_app(database_url, PANEL_PAYMENT_PROCESSES={"dummypayment": "DummyPayment01",
                                                        "invoice": "Invoice01"})

    message = str(caught.value)
    assert ("PANEL_PAYMENT_PROCESSES maps the payment method 'invoice' to the process "
            "'Invoice01', which no plugin supplies.") in message
    assert "dummypayment" not in message  # that one exists
    assert message.endswith("The processes the plugins supply: DefaultOrder01, DummyPayment01.")


def test_the_process_settings_are_not_checked_when_the_plugin_that_reads_them_is_blocked(
        database_url, monkeypatch):
    """A project that blocks plugins.default_processes decides the process itself; the
    settings it no longer reads may name DefaultOrder01, which went with it."""
    own = Process.build("Own01", source="a project plugin", states=[State("new")], events=[],
                        transitions=[])
    name = plugin_module(monkeypatch, "panel_test_own_selection",
                         register_processes=lambda: [own], select_process=lambda order: "Own01")

    app = make_app(database_url, PANEL_PLUGINS=(name,),
                   PANEL_DISABLED_PLUGINS=("plugins.default_processes",))

    with app.app_context():
        assert "DefaultOrder01" not in current_registry().processes
    assert app.config["PANEL_DEFAULT_PROCESS"] == "DefaultOrder01"


# --- tracing --------------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{"PANEL_PLUGINS": (HOOKS,), "PANEL_TRACE_PLUGINS": True}])
def test_trace_plugins_logs_hook_calls(app, post_order, caplog):
    caplog.set_level(logging.INFO, logger="panel.plugins")

    order_id = new_order(post_order)
    trigger(app, order_id, "pay")

    log = "\n".join(r.getMessage() for r in caplog.records if r.name == "panel.plugins")
    assert "select_process [hook]" in log
    assert "finish select_process --> Hooks01 [hook]" in log
    assert "items_transitioned [hook]" in log
    assert f"order_id: {order_id}" in log


def test_hook_calls_are_not_logged_without_trace_plugins(app, post_order, caplog):
    caplog.set_level(logging.INFO, logger="panel.plugins")

    trigger(app, new_order(post_order), "pay")

    assert [r for r in caplog.records if r.name == "panel.plugins"] == []


# --- Administration > Plugins ---------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{}], ids=["bundled plugins only"])
def test_plugins_page_lists_each_plugin_with_its_hooks_and_supplies(as_role):
    rows = plugins_page(as_role("admin"))

    commands = rows["plugins.default_commands"]
    assert "register_commands" in commands["Hooks"].split()
    assert "Payment/Capture" in commands["Commands"].split()
    processes = rows["plugins.default_processes"]
    assert {"register_processes", "select_process"} <= set(processes["Hooks"].split())
    assert processes["Processes"] == "DefaultOrder01"
    dummy = rows["plugins.dummy_payment"]
    assert dummy["Processes"] == "DummyPayment01"
    assert "DummyPayment/IsAuthorized" in dummy["Conditions"].split()
    assert dummy["Timeout processors"] == "OmsTimeout/Initiation"


def test_plugins_page_shows_which_plugin_supplies_a_name_both_register(as_role):
    rows = plugins_page(as_role("admin"))

    assert "Payment/Capture" in rows[HOOKS]["Commands"].split()
    assert "Payment/Capture" not in rows["plugins.default_commands"]["Commands"].split()
    assert rows[HOOKS]["Processes"].split() == ["Hooks01", "HooksXml01"]
    assert rows[HOOKS]["Hooks"].split() == [
        "items_transitioned", "register_commands", "register_conditions", "register_processes",
        "register_timeout_processors", "select_process"]
