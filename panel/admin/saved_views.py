"""Saved views of the orders list: which arguments the list reads (a view's, the user's
default, or the URL's), and the forms that save, delete and make a view the default."""
from __future__ import annotations

from urllib.parse import parse_qsl

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from panel.admin.base import PanelView
from panel.admin.order_query import read_order_query
from panel.i18n import _
from panel.models import SavedView
from panel.params import parse_id, shown
from panel.services import saved_views

ALL = "all"  # ?view=all: the plain list, whatever the user's default


def list_arguments(args: MultiDict, default: SavedView | None
                   ) -> tuple[MultiDict, SavedView | None]:
    """The arguments the orders list reads, and the saved view they come from, if any:
    ``?view=ID`` opens that view (with the URL's page); a URL without arguments opens the
    user's default view; anything else is read as it is."""
    if "view" in args:
        wanted = args.get("view", "")
        if wanted == ALL:
            return MultiDict(), None
        view_id = parse_id(wanted)
        view = saved_views.find_view(view_id, current_user) if view_id else None
        if view is None:
            abort(404, description=_("There is no view %(view)s: it was deleted, or it is "
                                     "another user's and not shared.", view=shown(wanted)))
    elif not args and default is not None:
        view = default
    else:
        return args, None
    read = saved_views.arguments_of(view)
    if "page" in args:
        read.setlist("page", args.getlist("page"))
    return read, view


def matching_view(views: list[SavedView], list_args: list[tuple[str, str]]
                  ) -> SavedView | None:
    """The saved view whose list this is: the same arguments (``saved_views.list_arguments``:
    search, filters, sort, page size, columns)."""
    current = sorted(list_args)
    for view in views:
        if sorted(parse_qsl(view.query, keep_blank_values=True)) == current:
            return view
    return None


class SavedViewsView(PanelView):
    """The forms of the views' bar above the orders list (no page of its own)."""

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("orders.index"))

    @expose("/save", methods=("POST",))
    def save(self):
        form = request.form
        query, errors = read_order_query(MultiDict(parse_qsl(form.get("query", ""),
                                                             keep_blank_values=True)))
        if errors:
            flash(_("The view was not saved: %(reasons)s", reasons="; ".join(errors)), "error")
            return redirect(url_for("orders.index"))
        try:
            view = saved_views.save_view(current_user, form.get("name", ""), query,
                                         shared=form.get("shared") == "yes",
                                         default=form.get("default") == "yes")
        except PermissionError as exc:
            abort(403, description=str(exc))
        except saved_views.ViewRefused as exc:
            flash(_("The view was not saved: %(reasons)s", reasons=str(exc)), "error")
            return redirect(url_for("orders.index", **_args_of(form.get("query", ""))))
        if view.shared:
            flash(_("View %(name)s saved, shared with everyone.", name=repr(view.name)),
                  "success")
        else:
            flash(_("View %(name)s saved.", name=repr(view.name)), "success")
        return redirect(url_for("orders.index", view=view.id))

    @expose("/<int:view_id>/delete", methods=("POST",))
    def delete(self, view_id: int):
        try:
            name = saved_views.delete_view(current_user, view_id)
        except PermissionError as exc:
            abort(403, description=str(exc))
        except saved_views.ViewRefused as exc:
            flash(str(exc), "error")
        else:
            flash(_("View %(name)s deleted.", name=repr(name)), "success")
        return redirect(url_for("orders.index", view=ALL))

    @expose("/<int:view_id>/default", methods=("POST",))
    def default(self, view_id: int):
        make = request.form.get("default") == "yes"
        try:
            view = saved_views.set_default(current_user, view_id if make else None)
        except saved_views.ViewRefused as exc:
            flash(str(exc), "error")
            return redirect(url_for("orders.index", view=ALL))
        if view is not None:
            flash(_("The orders list now opens with the view %(name)s.", name=repr(view.name)),
                  "success")
            return redirect(url_for("orders.index", view=view.id))
        flash(_("The orders list now opens with all orders."), "success")
        return redirect(url_for("orders.index", view=view_id))


def _args_of(query: str) -> dict:
    return MultiDict(parse_qsl(query, keep_blank_values=True)).to_dict(flat=False)
