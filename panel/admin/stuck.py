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
from panel.formatting import format_number
from panel.i18n import _, ngettext
from panel.models.base import utcnow
from panel.oms.registry import current_registry
from panel.oms.retry import RetryReport, retry_items
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


def retry_message(report: RetryReport) -> str:
    """``report.message`` (which the CLI prints in English) in the request's language: each
    clause whole, joined as the English one is."""
    parts = [ngettext("Retried %(num)d item: %(moved)d moved, %(stayed)d stayed "
                      "(no condition held)",
                      "Retried %(num)d items: %(moved)d moved, %(stayed)d stayed "
                      "(no condition held)", report.asked, moved=report.moved,
                      stayed=report.stayed)]
    if report.failed:
        # The errors are the engine's stored messages: data, in English.
        failed_orders = ", ".join(f"#{order_id}: {error}"
                                  for order_id, error in sorted(report.failed.items())[:3])
        more = len(report.failed) - 3
        if more > 0:
            parts.append(_("failed in %(count)d order(s) (%(orders)s, and %(more)d more)",
                           count=len(report.failed), orders=failed_orders, more=more))
        else:
            parts.append(_("failed in %(count)d order(s) (%(orders)s)",
                           count=len(report.failed), orders=failed_orders))
    if report.waiting:
        parts.append(ngettext("%(num)d item left waiting for an event",
                              "%(num)d items left waiting for an event", len(report.waiting)))
    if report.missing:
        parts.append(ngettext("%(num)d item no longer exist", "%(num)d items no longer exist",
                              report.missing))
    return "; ".join(parts) + "."


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
                flash(_("Nothing was retried: %(reason)s.", reason="; ".join(errors)), "error")
                return redirect(back)
            item_ids = stuck_items.stuck_item_ids(query, finder(), RETRY_ALL_CAP)
        else:
            ticked = request.form.getlist("item")
            if len(ticked) > RETRY_ALL_CAP:
                flash(_("Nothing was retried: at most %(cap)s items at once (%(count)s were "
                        "sent).", cap=format_number(RETRY_ALL_CAP),
                        count=format_number(len(ticked))), "error")
                return redirect(back)
            try:
                item_ids = read_ids("item", ticked)
            except ParameterError as exc:
                flash(_("Nothing was retried: %(reason)s.", reason=exc), "error")
                return redirect(back)
        if not item_ids:
            flash(_("Nothing was retried: tick the items to retry."), "error")
            return redirect(back)
        report = retry_items(item_ids, actor=actor_of(current_user))
        flash(retry_message(report), "error" if report.failed else "success")
        return redirect(back)
