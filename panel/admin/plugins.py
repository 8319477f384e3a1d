"""Administration > Plugins: what each loaded plugin implements and supplies."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_admin import expose

from panel.admin.base import AdministrationPage
from panel.oms.registry import current_registry
from panel.plugins import plugin_manager


@dataclass
class PluginInfo:
    name: str
    hooks: list[str]
    supplies: dict[str, list[str]] = field(default_factory=dict)


def loaded_plugins() -> list[PluginInfo]:
    pm = plugin_manager()
    registry = current_registry()
    result = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda pair: pair[0]):
        if plugin is None:  # blocked
            continue
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        supplies = {
            kind: sorted(item for item, supplier in supplied.items() if supplier == name)
            for kind, supplied in registry.suppliers.items()
        }
        result.append(PluginInfo(name, hooks, {k: v for k, v in supplies.items() if v}))
    return result


class PluginsView(AdministrationPage):
    @expose("/")
    def index(self):
        blocked = [name for name, plugin in plugin_manager().list_name_plugin()
                   if plugin is None]
        return self.render("plugins/index.html", plugins=loaded_plugins(), blocked=blocked)
