"""Administration > Stuck items: items that will not move by themselves, and their retry.

Every signed-in user may read the list (as the transition log); only admins may retry, for
a retry runs commands of any event (checked here, on the server, not only by hiding the
buttons).
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from panel.admin.base import PanelView
from panel.admin.listing import ListArgs, list_url
from panel.models.base import utcnow
from panel.oms.registry import current_registry
from panel.oms.retry import retry_items
from panel.params import ParameterError, read_ids
from panel.services import stuck_items
from panel.services.stuck_items import Finder, Limits, StuckQuery
from panel.services.triggers import actor_of

# "Retry all matching" takes at most this many items per press, the longest waiting first.
RETRY_ALL_CAP = 1000
FILTERS = ("process", "state", "error", "reason", "per_page")  # kept across a retry


def read_stuck_query(args) -> tuple[StuckQuery, list[str]]:
    parsed = ListArgs(args)
    query = StuckQuery(
        process=parsed.text("process", max_length=100),
        state=parsed.text("state", max_length=100),
        error=parsed.text("error", max_length=200),
        reason=parsed.text("reason", max_length=20),
        page=parsed.page(),
        per_page=parsed.per_page(),
    )
    return query, parsed.errors + query.check(current_registry())


def finder() -> Finder:
    return Finder(current_registry(), Limits.from_config(current_app.config), utcnow())


class StuckItemsView(PanelView):
    @expose("/")
    def index(self):
        query, errors = read_stuck_query(request.args)
        find = finder()
        page = None if errors else stuck_items.find_stuck(query, find)
        registry = current_registry()
        return self.render(
            "oms/stuck.html", query=query, page=page, errors=errors, now=find.now,
            limits=find.limits, reasons=stuck_items.REASONS,
            counts=stuck_items.count_by_reason(query, find),
            processes=sorted(registry.processes.values(), key=lambda p: p.name),
            state_names=sorted({s for p in registry.processes.values() for s in p.states}),
            page_sizes=self.admin.app.config["PANEL_PAGE_SIZES"],
            page_url=list_url(request.endpoint, request.args),
            can_retry=current_user.is_admin, retry_all_cap=RETRY_ALL_CAP,
        ), (400 if errors else 200)

    @expose("/retry", methods=("POST",))
    def retry(self):
        if not current_user.is_admin:
            abort(403)
        filters = MultiDict({name: request.form.get(name, "") for name in FILTERS
                             if request.form.get(name)})
        back = list_url(".index", filters)()
        if request.form.get("scope") == "all":
            query, errors = read_stuck_query(filters)
            if errors:
                flash("Nothing was retried: " + "; ".join(errors) + ".", "error")
                return redirect(back)
            item_ids = stuck_items.stuck_item_ids(query, finder(), RETRY_ALL_CAP)
        else:
            ticked = request.form.getlist("item")
            if len(ticked) > RETRY_ALL_CAP:
                flash(f"Nothing was retried: at most {RETRY_ALL_CAP:,} items at once "
                      f"({len(ticked):,} were sent).", "error")
                return redirect(back)
            try:
                item_ids = read_ids("item", ticked)
            except ParameterError as exc:
                flash(f"Nothing was retried: {exc}.", "error")
                return redirect(back)
        if not item_ids:
            flash("Nothing was retried: tick the items to retry.", "error")
            return redirect(back)
        report = retry_items(item_ids, actor=actor_of(current_user))
        flash(report.message, "error" if report.failed else "success")
        return redirect(back)
