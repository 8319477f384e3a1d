"""The columns of the orders list: the panel's own, and those plugins add through the
``register_order_columns`` hook; which are shown, and in what order, per list (and so per
saved view).

A plugin column gives its values for a whole page of orders at once (``values(orders)`` ->
``{order id: value}``), so a page asks a plugin once, however many rows it shows: no query
per row. A value is shown as text; ``markupsafe.Markup`` is shown as HTML (the plugin then
escapes what it puts in).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from panel.i18n import _, _l
from panel.params import shown
from panel.plugins import plugin_manager


@dataclass(frozen=True)
class OrderColumn:
    key: str  # its name in the URL (``col=``) and in saved views
    label: str  # what the header says: ``_l("...")`` for a text to translate
    values: Callable[[Sequence], Mapping[int, object]] | None = None  # plugin columns
    sort: str | None = None  # the list's sort key, for the panel's own sortable columns
    shown: bool = True  # shown when the list names no columns


CORE_COLUMNS = (
    OrderColumn("id", "#", sort="id"),
    OrderColumn("reference", _l("Order Reference"), sort="reference"),
    OrderColumn("created", _l("Created"), sort="created"),
    OrderColumn("customer", _l("Customer Full Name")),
    OrderColumn("email", _l("Email"), sort="email"),
    OrderColumn("state", _l("Order State")),
    OrderColumn("grand_total", _l("Grand Total"), sort="grand_total"),
    OrderColumn("items", _l("Number of Items"), sort="items"),
)
CORE_KEYS = frozenset(column.key for column in CORE_COLUMNS)


def available_columns() -> list[OrderColumn]:
    """The panel's columns, then the plugins' (a plugin column may not take a key of the
    panel's, nor one another plugin's column already has: the first one keeps it)."""
    columns = list(CORE_COLUMNS)
    taken = set(CORE_KEYS)
    for answer in plugin_manager().hook.register_order_columns():
        for column in answer or ():
            if not isinstance(column, OrderColumn) or column.values is None:
                raise TypeError(f"register_order_columns must return OrderColumn objects with "
                                f"values, got {column!r}")
            if column.key not in taken:
                taken.add(column.key)
                columns.append(column)
    return columns


def chosen_columns(keys: Sequence[str], available: Sequence[OrderColumn]
                   ) -> tuple[list[OrderColumn], list[str]]:
    """The columns ``keys`` name, in that order (none named: the default ones), and an error
    for each key that names no column."""
    by_key = {column.key: column for column in available}
    if not keys:
        return [column for column in available if column.shown], []
    chosen, errors = [], []
    for key in dict.fromkeys(keys):
        if key in by_key:
            chosen.append(by_key[key])
        else:
            errors.append(_("Columns: %(column)s is not a column of this list (there are "
                            "%(columns)s)", column=shown(key), columns=", ".join(by_key)))
    return chosen, errors


def plugin_values(columns: Sequence[OrderColumn], orders: Sequence) -> dict[str, Mapping]:
    """Each shown plugin column's values for this page of orders: one call per column."""
    return {column.key: (column.values(list(orders)) if orders else {}) or {}
            for column in columns if column.values is not None}
