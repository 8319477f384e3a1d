"""Sales > Orders: the list, View Order, Edit Address for Order, and the CSV download."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from panel.admin.base import PanelView, editors_only
from panel.admin.csv_export import CSV_COLUMNS, csv_response, order_row
from panel.admin.forms import parse_form
from panel.admin.listing import list_url, row_url
from panel.admin.order_query import filter_chips, read_order_query
from panel.admin.saved_views import list_arguments, matching_view
from panel.i18n import _
from panel.models.order import ADDRESS_FIELDS
from panel.oms.registry import current_registry
from panel.params import ParameterError, read_id, read_ids, read_item_event, shown
from panel.services import order_details, order_search, saved_views, timeline, triggers
from panel.services.addresses import update_order_address
from panel.services.intake_schema import SALUTATIONS, AddressIn
from panel.services.order_columns import available_columns, chosen_columns, plugin_values


def _read_trigger_form(form) -> tuple[str, int | None, list[int] | None]:
    """(event, shipment id or None, item ids or None) from a trigger button's form."""
    if form.get("item_event"):  # an item's own button: "<item id>:<event>"
        item_id, event = read_item_event("item_event", form["item_event"])
        return event, None, [item_id]
    shipment = form.get("shipment", "")
    if shipment:
        return (form.get("event", ""), read_id("shipment", shipment),
                read_ids("item", form.getlist("item")))
    return form.get("event", ""), None, None


# A filter with more choices than this can be narrowed by typing (the states always can).
LONG_LIST = 8


class OrdersView(PanelView):
    @expose("/")
    def index(self):
        views, default = saved_views.visible_views(current_user)
        args, opened = list_arguments(request.args, default)
        query, errors = read_order_query(args)
        page = None if errors else order_search.find_orders(query)
        available = available_columns()
        columns = chosen_columns(query.columns, available)[0]
        choices = order_search.filter_choices()
        list_args = saved_views.list_arguments(query)
        current = opened or matching_view(views, list_args)
        registry = current_registry()
        stale = (saved_views.stale_parts(query, registry, choices)
                 if current is not None else [])
        page_url = list_url(request.endpoint, args)
        chips, clear_url = filter_chips(query, page_url)
        return self.render(
            "orders/list.html",
            query=query,
            page=page,
            errors=errors,
            choices=choices,
            processes=sorted(registry.processes),
            long_list=LONG_LIST,
            chips=chips,
            clear_url=clear_url,
            columns=columns,
            column_keys=[c.key for c in columns],
            hidden_columns=[c for c in available if c not in columns],
            plugin_values=plugin_values(columns, page.rows) if page else {},
            views=views,
            current_view=current,
            default_view_id=default.id if default is not None else None,
            stale=stale,
            view_query=urlencode(list_args),
            list_args=list_args,
            page_sizes=self.admin.app.config["PANEL_PAGE_SIZES"],
            page_url=page_url,
            export_url=list_url("orders.export", args)(page=[], per_page=[]),
            row_urls={"view": row_url("orders.details", "order_id"),
                      "customer": row_url("customers.details", "customer_id"),
                      "email": row_url("communication.email", "order_id"),
                      "claim": row_url("reclamations.create", "order_id"),
                      "return": row_url("returns.create", "order_id")},
        ), (400 if errors else 200)

    @expose("/export.csv")
    def export(self):
        query, errors = read_order_query(request.args)
        if errors:
            return Response("; ".join(errors) + "\n", status=400, mimetype="text/plain")
        return csv_response(CSV_COLUMNS, map(order_row, order_search.iter_orders(query)),
                            "orders.csv")

    @expose("/<int:order_id>")
    def details(self, order_id: int):
        kinds = set(request.args.getlist("kind"))
        unknown = kinds - set(timeline.KINDS)
        if unknown:
            flash(_("History has no kind %(kind)s; showing everything.",
                    kind=shown(sorted(unknown)[0])), "error")
            kinds = set()
        details = order_details.load(order_id, kinds or None)
        if details is None:
            flash(_("Sales order #%(id)s not found.", id=order_id), "error")
            return redirect(url_for(".index"))
        return self.render("orders/details.html", d=details, order=details.order,
                           timeline_kinds=timeline.KINDS, chosen_kinds=kinds)

    @expose("/<int:order_id>/trigger", methods=("POST",))
    def trigger(self, order_id: int):
        """An event button: of the order, of a shipment (ticked items or all), or of an item."""
        form = request.form
        try:
            event, shipment_id, item_ids = _read_trigger_form(form)
            result = triggers.trigger(order_id, event, current_user, shipment_id=shipment_id,
                                      item_ids=item_ids)
        except (ParameterError, triggers.TriggerRequestError) as exc:
            flash(_("Nothing was triggered: %(reason)s.", reason=exc), "error")
            return redirect(url_for(".details", order_id=order_id))
        category = "error" if result.error else ("success" if result.moved else "info")
        flash(triggers.result_message(result), category)
        return redirect(url_for(".details", order_id=order_id))

    @expose("/<int:order_id>/addresses/<int:address_id>/edit", methods=("GET", "POST"))
    @editors_only
    def edit_address(self, order_id: int, address_id: int):
        found = order_details.load_address(order_id, address_id)
        if found is None:
            abort(404)
        order, address, role = found
        errors: dict[str, str] = {}
        values = {name: getattr(address, name) or "" for name in ADDRESS_FIELDS}
        if request.method == "POST":
            values = {name: request.form.get(name, "") for name in ADDRESS_FIELDS}
            data, errors = parse_form(AddressIn, request.form, ADDRESS_FIELDS)
            if data is not None:
                change = update_order_address(order, address, role, data, current_user)
                flash(_("Address successfully updated.") if change else _("Nothing was changed."),
                      "success" if change else "info")
                return redirect(url_for(".details", order_id=order.id))
            flash(_("The address was not saved: correct the fields marked below."), "error")
        return self.render(
            "orders/edit_address.html", order=order, address=address, role=role,
            values=values, errors=errors, salutations=SALUTATIONS,
        ), (400 if errors else 200)
