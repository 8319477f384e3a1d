"""Reading the orders list's URL arguments into a query, with every bad value named."""
from __future__ import annotations

from panel.admin.listing import ListArgs
from panel.i18n import _
from panel.oms.registry import current_registry
from panel.params import shown
from panel.services import order_search
from panel.services.order_columns import available_columns, chosen_columns


def read_order_query(args) -> tuple[order_search.OrderQuery, list[str]]:
    parsed = ListArgs(args)
    query = order_search.OrderQuery(
        search=parsed.text("q"),
        states=parsed.many("state"),
        process=parsed.text("process", max_length=100),
        stores=parsed.many("store"),
        payment_methods=parsed.many("payment"),
        created_from=parsed.day("from", _("Created from")),
        created_to=parsed.day("to", _("Created to")),
        open_reclamation=parsed.choice("reclamation", ("", "open"), "") == "open",
        sort=parsed.choice("sort", tuple(order_search.SORTS), order_search.DEFAULT_SORT),
        descending=parsed.choice("dir", ("asc", "desc"), "desc") == "desc",
        page=parsed.page(),
        per_page=parsed.per_page(),
        columns=parsed.many("col"),
    )
    parsed.date_range(query.created_from, query.created_to, _("Created"))
    if query.process and query.process not in current_registry().processes:
        parsed.errors.append(_("Process: %(process)s is not a process of this panel "
                               "(Administration > OMS lists them)", process=shown(query.process)))
    parsed.errors += chosen_columns(query.columns, available_columns())[1]
    return query, parsed.errors
