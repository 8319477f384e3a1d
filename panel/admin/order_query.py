"""Reading the orders list's URL arguments into a query, with every bad value named, and
the filters it sets as chips that each link to the list without them."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from panel.admin.listing import ListArgs
from panel.formatting import format_date
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


ALL_ORDERS = "all"  # ?view=all: the plain list, whatever the user's default (saved_views.ALL)

# The list's filters in its URL: what "Clear all" takes away (sort, page size and columns stay).
FILTER_KEYS = ("q", "state", "process", "store", "payment", "from", "to", "reclamation")


@dataclass(frozen=True)
class Chip:
    """A filter that is set, as the list shows it above the rows: its text, and the URL of
    the list without it (a plain link: no script needed)."""

    key: str  # the URL parameter it comes from
    text: str
    href: str


def filter_chips(query: order_search.OrderQuery, page_url) -> tuple[list[Chip], str]:
    """The chips of the filters set, and the URL of the list without any filter.

    ``page_url(**changes)`` is the list's URL with some arguments replaced (``listing.
    list_url``). A link leads to page 1; one that would leave no argument at all says
    ``?view=all``, since the bare URL opens the user's default view."""
    def without(**changes) -> str:
        url = page_url(page=[], **changes)
        return url if "?" in url else url_for("orders.index", view=ALL_ORDERS)

    chips = []
    if query.search.strip():
        chips.append(Chip("q", _("Search: %(term)s", term=query.search.strip()), without(q=[])))
    for state in dict.fromkeys(query.states):
        chips.append(Chip("state", _("State: %(state)s", state=state),
                          without(state=[s for s in query.states if s != state])))
    if query.process:
        chips.append(Chip("process", _("Process: %(process)s", process=query.process),
                          without(process=[])))
    for store in dict.fromkeys(query.stores):
        chips.append(Chip("store", _("Store: %(store)s", store=store),
                          without(store=[s for s in query.stores if s != store])))
    for method in dict.fromkeys(query.payment_methods):
        chips.append(Chip("payment", _("Payment Method: %(method)s", method=method),
                          without(payment=[p for p in query.payment_methods if p != method])))
    if query.created_from and query.created_to:
        text = _("Created: %(first)s to %(last)s", first=format_date(query.created_from),
                 last=format_date(query.created_to))
    elif query.created_from:
        text = _("Created: from %(day)s", day=format_date(query.created_from))
    elif query.created_to:
        text = _("Created: up to %(day)s", day=format_date(query.created_to))
    else:
        text = None
    if text:
        chips.append(Chip("created", text, without(**{"from": [], "to": []})))
    if query.open_reclamation:
        chips.append(Chip("reclamation", _("With an open reclamation"),
                          without(reclamation=[])))
    return chips, without(**{key: [] for key in FILTER_KEYS})
