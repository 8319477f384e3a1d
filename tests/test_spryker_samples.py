"""Spryker's own process files, verbatim (../shared/reference/spryker-oms-samples), load and
lint without errors: each main process file through a plugin that stubs every command,
condition and timeout processor it names, the way the app loads any plugin's processes.
Subprocess files load as part of their main processes. Warnings are allowed; each test shows
them in its assertion message."""
from __future__ import annotations

import re

import pluggy
import pytest

from panel import hookspecs
from panel.plugins import PluginError, build_registry
from tests.plugins.spryker_stubs import SAMPLES, StubbedProcesses

MISSING = "(the samples folder is missing)"


def main_files() -> list[str]:
    """Every sample file with a main="true" process, relative to the samples folder."""
    if not SAMPLES.is_dir():
        return [MISSING]
    return sorted(str(path.relative_to(SAMPLES)) for path in SAMPLES.rglob("*.xml")
                  if 'main="true"' in path.read_text(encoding="utf-8"))


def registry_of(plugin):
    """Build the registry from this one plugin, as create_app does from all of them."""
    pm = pluggy.PluginManager("panel")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    return build_registry(pm)


def require_samples() -> None:
    if not SAMPLES.is_dir():
        pytest.fail(f"the Spryker samples are missing: {SAMPLES} (CI has ../shared beside the "
                    "project; a checkout without it cannot run these tests)")


def test_the_samples_readme_lists_only_files_that_are_there():
    require_samples()
    listed = []
    for block in re.split(r"^## ", (SAMPLES / "README.md").read_text(), flags=re.M)[1:]:
        repository = re.match(r"github\.com/([^/]+)/(\S+)", block)
        folder = f"{repository.group(1)}_{repository.group(2)}"
        listed += [f"{folder}/{line.strip()}" for line in block.splitlines()
                   if line.strip().endswith(".xml")]
    assert listed, "the samples README lists no file"
    assert sorted(listed) == sorted(str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*.xml"))


@pytest.mark.parametrize("name", main_files())
def test_a_spryker_main_process_file_loads_and_lints_without_errors(name):
    require_samples()
    plugin = StubbedProcesses(SAMPLES / name)

    try:
        registry = registry_of(plugin)
    except PluginError as exc:
        pytest.fail(f"{name} does not load:\n{exc}")

    (process,) = registry.processes.values()
    assert process.source == str(SAMPLES / name)
    warnings = registry.warnings.get(process.name, [])
    report = "\n".join(problem.with_level() for problem in warnings)
    assert all(not problem.is_error for problem in warnings), report
    # Every name the file calls is registered (by the stubs): nothing left to a live order.
    assert plugin.names("commands") <= set(registry.commands), report
    assert process.states and process.transitions, report


def test_every_subprocess_file_loads_as_part_of_a_main_process():
    require_samples()
    plugin = StubbedProcesses(*(SAMPLES / name for name in main_files()))
    read = set()
    for process in plugin.loaded:
        for part in (*process.states.values(), *process.events.values(), *process.transitions):
            read.add(part.origin.file)

    assert sorted(str(path) for path in SAMPLES.rglob("*.xml")) == sorted(read)


def test_the_b2c_dummy_payment_reads_as_spryker_reads_it():
    require_samples()
    path = SAMPLES / "spryker-shop_b2c-demo-shop" / "config" / "Zed" / "oms" / "DummyPayment01.xml"
    registry = registry_of(StubbedProcesses(path))
    process = registry.processes["DummyPayment01"]

    # "start grace period" is declared in the main file and again, with a command, in
    # DummyOrderAmendment01: the later one is Spryker's (and ours).
    assert process.events["start grace period"].command == "OrderAmendment/StartGracePeriod"
    assert process.subprocesses == [
        "DummyRefund", "DummyReturn", "CreateGiftCard", "DummyInvoice", "DummyPicking",
        "WarehouseAllocation", "DummyOrderAmendment", "DummyOrderAmendmentAsync"]
    assert process.states["warehouse allocated"].subprocess == "WarehouseAllocation"
    assert process.events["skip timeout"].timeout == "30 minute"
    assert [(w.element, w.message.split(":")[0]) for w in registry.warnings["DummyPayment01"]] == [
        ('<event name="start grace period">',
         'the event "start grace period" is declared twice'),
        ('<event name="export">', "no transition carries this event"),
    ]
