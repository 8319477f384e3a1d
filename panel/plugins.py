"""The plugin manager, made per app: bundled plugins, PANEL_PLUGINS, and entry points.

Every hook is called through pluggy, so a ``wrapper=True`` implementation works on each.
Most are one call (``pm.hook.<name>(...)``). Two kinds are called plugin by plugin, each
call through pluggy with that plugin's implementation and every wrapper
(``call_per_plugin``): the collectors that build the registry at start-up, so that the
registry knows which plugin supplied what, and notifications (``notify``), so that one
plugin that raises is logged and does not keep the others from being told.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pluggy
from flask import Flask, current_app

from panel import config as panel_config
from panel import hookspecs
from panel.models.user import ROLE_RANK
from panel.oms.registry import EXTENSION_KEY, Registry

log = logging.getLogger("panel.plugins")
MANAGER_KEY = "panel.plugins"
ENTRY_POINT_GROUP = "panel"
# Registered first, with trylast hooks, so that every project plugin wins over them.
BUNDLED_PLUGINS = (
    "plugins.default_processes",
    "plugins.default_commands",
    "plugins.dummy_payment",
    # After dummy_payment: of two trylast implementations the one registered first is asked
    # first, so the dummy provider answers for its payment methods before this default.
    "plugins.default_refunds",
    "plugins.default_claim_rules",
    "plugins.default_email_templates",
    "plugins.default_documents",
)


# The bundled plugin whose select_process reads PANEL_DEFAULT_PROCESS and
# PANEL_PAYMENT_PROCESSES: with it blocked, nothing reads them and they are not checked.
SETTINGS_READER = "plugins.default_processes"


class PluginError(RuntimeError):
    """A plugin could not be loaded, or what it supplies is invalid."""


def make_plugin_manager(app: Flask) -> pluggy.PluginManager:
    """Register bundled, configured and installed plugins; refuse misspelled hooks."""
    pm = pluggy.PluginManager("panel")
    pm.add_hookspecs(hookspecs)
    for name in app.config["PANEL_DISABLED_PLUGINS"]:
        pm.set_blocked(name)
    for dotted in dict.fromkeys((*BUNDLED_PLUGINS, *app.config["PANEL_PLUGINS"])):
        if pm.is_blocked(dotted):
            continue
        try:
            module = importlib.import_module(dotted)
        except ImportError as exc:
            raise PluginError(f"cannot import the plugin {dotted!r}: {exc}") from exc
        _register(pm, module, dotted)
    try:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise PluginError(f"an installed plugin (entry point group {ENTRY_POINT_GROUP!r}) "
                          f"could not be registered: {exc}") from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"a plugin implements a hook that does not exist: {exc}") from exc
    if app.config["PANEL_TRACE_PLUGINS"]:
        log.setLevel(logging.INFO)
        if not log.handlers and not logging.getLogger().handlers:
            log.addHandler(logging.StreamHandler())
        pm.trace.root.setwriter(lambda message: log.info("%s", message.rstrip()))
        pm.enable_tracing()
    return pm


def _register(pm: pluggy.PluginManager, module, name: str) -> None:
    if pm.is_registered(module):
        raise PluginError(f"the plugin module {name!r} is registered twice (it is bundled, "
                          f"listed in PANEL_PLUGINS, or installed with an entry point)")
    try:
        pm.register(module, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {name}: {exc}") from exc


def plugin_manager() -> pluggy.PluginManager:
    """The running app's plugin manager."""
    return current_app.extensions[MANAGER_KEY]


def _callers_per_plugin(pm: pluggy.PluginManager, hook_name: str
                        ) -> Iterator[tuple[str, pluggy.HookCaller]]:
    """(plugin name, a caller of that plugin's implementation inside every wrapper) for each
    plugin that implements the hook, highest priority first."""
    hook = getattr(pm.hook, hook_name)
    answering = dict.fromkeys(impl.plugin for impl in reversed(hook.get_hookimpls())
                              if not (impl.wrapper or impl.hookwrapper))
    for plugin in answering:
        others = [other for other in answering if other is not plugin]
        yield pm.get_name(plugin), pm.subset_hook_caller(hook_name, remove_plugins=others)


def call_per_plugin(pm: pluggy.PluginManager, hook_name: str, **kwargs
                    ) -> Iterator[tuple[str, object]]:
    """Call a hook once per plugin that implements it, highest priority first, each call
    through pluggy (a wrapper runs around each); yield (plugin name, answer) for each
    answer that is not None."""
    for name, caller in _callers_per_plugin(pm, hook_name):
        for answer in caller(**kwargs):
            yield name, answer


def notify(hook_name: str, **kwargs) -> None:
    """Call a notification hook plugin by plugin, through pluggy: a plugin that raises is
    logged (logger ``panel.plugins``) and the others are still called."""
    for name, caller in _callers_per_plugin(plugin_manager(), hook_name):
        try:
            caller(**kwargs)
        except Exception:
            log.exception("plugin %s failed in %s", name, hook_name)


def _event_roles(pm: pluggy.PluginManager) -> dict[str, str]:
    """Merge the plugins' event roles; the stricter role wins when they disagree."""
    roles: dict[str, str] = {}
    for plugin, mapping in call_per_plugin(pm, "register_event_roles"):
        for event, role in dict(mapping).items():
            if role not in ("agent", "admin"):
                raise PluginError(f"plugin {plugin}: the role for the event {event!r} must be "
                                  f"'agent' or 'admin', not {role!r}")
            current = roles.get(event)
            if current is None or ROLE_RANK[role] > ROLE_RANK[current]:
                roles[event] = role
    return roles


def path_inside_plugin(plugin: object, source: str | None) -> str:
    """A process file's path inside the folder of the plugin that supplies it
    (``processes/DefaultOrder01.xml``), or only its name when it lies elsewhere; "" for a
    process the plugin built in Python. The pages show this, not the server's paths."""
    if not source or not Path(source).suffix:
        return ""
    path = Path(source)
    module_file = getattr(plugin, "__file__", None)
    if module_file:
        folder = Path(module_file).resolve().parent
        for base in (folder, folder.parent):
            try:
                return path.resolve().relative_to(base).as_posix()
            except ValueError:
                continue
    return path.name


def build_registry(pm: pluggy.PluginManager) -> Registry:
    """Collect processes, commands, conditions and timeout processors, then lint them.

    Raises PluginError listing every error of every process (plugin, file and line, element,
    problem); warnings are logged once, here, and kept for the process pages.
    """
    from panel.oms.lint import lint_process
    from panel.oms.xml_loader import read_process_file

    registry = Registry()
    suppliers = {"process": {}, "command": {}, "condition": {}, "timeout_processor": {}}
    for kind, hook_name, target in (
        ("command", "register_commands", registry.commands),
        ("condition", "register_conditions", registry.conditions),
        ("timeout_processor", "register_timeout_processors", registry.timeout_processors),
    ):
        for plugin, mapping in call_per_plugin(pm, hook_name):
            for name, function in dict(mapping).items():
                if name not in target:  # the higher-priority plugin keeps it
                    target[name] = function
                    suppliers[kind][name] = plugin
    failed: list[tuple[str, object]] = []  # (plugin, problem) of files that do not load
    for plugin, processes in call_per_plugin(pm, "register_processes"):
        for entry in processes:
            if isinstance(entry, (str, Path)):
                loaded = read_process_file(entry)
                if loaded.errors:
                    failed += [(plugin, problem) for problem in loaded.errors]
                    continue
                process = loaded.process
            else:
                process = entry
            if process.name in registry.processes:
                if suppliers["process"][process.name] == plugin:
                    raise PluginError(f"plugin {plugin} supplies the process "
                                      f"{process.name!r} twice")
                continue  # a higher-priority plugin replaced it
            registry.processes[process.name] = process
            suppliers["process"][process.name] = plugin
            registry.source_paths[process.name] = path_inside_plugin(
                pm.get_plugin(plugin), process.source)
    registry.event_roles = _event_roles(pm)
    registry.suppliers = suppliers
    findings = [(suppliers["process"][name], problem)
                for name, process in registry.processes.items()
                for problem in lint_process(process, commands=registry.commands,
                                            conditions=registry.conditions,
                                            timeout_processors=registry.timeout_processors)]
    errors = failed + [(plugin, p) for plugin, p in findings if p.is_error]
    if errors:
        raise PluginError("invalid state-machine process:\n" +
                          "\n".join(f"  plugin {plugin}: {p}" for plugin, p in errors))
    for plugin, problem in findings:
        log.warning("plugin %s: process %s: warning: %s", plugin, problem.process, problem)
        registry.warnings.setdefault(problem.process, []).append(problem)
    return registry


def init_app(app: Flask) -> None:
    """Make the app's plugin manager and registry; refuse settings naming unknown processes."""
    pm = make_plugin_manager(app)
    registry = build_registry(pm)
    if pm.get_plugin(SETTINGS_READER) is not None:
        panel_config.check_processes(app.config, registry.processes)
    app.extensions[MANAGER_KEY] = pm
    app.extensions[EXTENSION_KEY] = registry
