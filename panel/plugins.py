"""The plugin manager, made per app: bundled plugins, PANEL_PLUGINS, and entry points."""
from __future__ import annotations

import importlib
import logging
from pathlib import Path

import pluggy
from flask import Flask, current_app

from panel import hookspecs
from panel.oms.registry import EXTENSION_KEY, Registry

log = logging.getLogger("panel.plugins")
MANAGER_KEY = "panel.plugins"
ENTRY_POINT_GROUP = "panel"
# Registered first, with trylast hooks, so that every project plugin wins over them.
BUNDLED_PLUGINS = (
    "plugins.default_processes",
    "plugins.default_commands",
    "plugins.dummy_payment",
    "plugins.default_claim_rules",
    "plugins.default_email_templates",
)


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


def call_each(hook_name: str, **kwargs) -> None:
    """Call a notification hook's implementations one by one; log, never raise, failures."""
    pm = plugin_manager()
    if current_app.config["PANEL_TRACE_PLUGINS"]:  # pluggy's own tracing is bypassed here
        log.info("  %s [hook]\n%s", hook_name,
                 "\n".join(f"      {key}: {value}" for key, value in kwargs.items()))
    for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        try:
            impl.function(**{name: kwargs[name] for name in impl.argnames})
        except Exception:
            log.exception("plugin %s failed in %s", pm.get_name(impl.plugin), hook_name)


def plugin_manager() -> pluggy.PluginManager:
    return current_app.extensions[MANAGER_KEY]


def _supplied(pm: pluggy.PluginManager, hook_name: str):
    """Yield (plugin name, result) for each implementation, highest priority first."""
    hook = getattr(pm.hook, hook_name)
    for impl in reversed(hook.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:  # wrappers make sense only around a hook call
            continue
        result = impl.function()
        if result:
            yield pm.get_name(impl.plugin), result


def _event_roles(pm: pluggy.PluginManager) -> dict[str, str]:
    """Merge the plugins' event roles; the stricter role wins when they disagree."""
    from panel.models.user import ROLE_RANK

    roles: dict[str, str] = {}
    for plugin, mapping in _supplied(pm, "register_event_roles"):
        for event, role in dict(mapping).items():
            if role not in ("agent", "admin"):
                raise PluginError(f"plugin {plugin}: the role for the event {event!r} must be "
                                  f"'agent' or 'admin', not {role!r}")
            current = roles.get(event)
            if current is None or ROLE_RANK[role] > ROLE_RANK[current]:
                roles[event] = role
    return roles


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
        for plugin, mapping in _supplied(pm, hook_name):
            for name, function in dict(mapping).items():
                if name not in target:  # the higher-priority plugin keeps it
                    target[name] = function
                    suppliers[kind][name] = plugin
    failed: list[tuple[str, object]] = []  # (plugin, problem) of files that do not load
    for plugin, processes in _supplied(pm, "register_processes"):
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
    pm = make_plugin_manager(app)
    app.extensions[MANAGER_KEY] = pm
    app.extensions[EXTENSION_KEY] = build_registry(pm)
