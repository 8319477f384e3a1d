"""Bulk actions from Sales > Orders: freeze a selection, preview and run an event, reports.

Every page here starts or runs something, so all of them are for editors only (viewers get
403 on the pages as well as on the forms).
"""
from __future__ import annotations

from urllib.parse import parse_qsl

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from panel.admin.base import PanelView, editors_only
from panel.admin.csv_export import CSV_COLUMNS, csv_response, order_row
from panel.admin.listing import list_url
from panel.admin.order_query import read_order_query
from panel.i18n import _
from panel.models import BulkRun, Selection
from panel.models.bulk import OUTCOMES
from panel.params import ParameterError, read_ids, read_page
from panel.services import bulk_actions as service
from panel.services import bulk_batches
from panel.services.bulk_actions import BulkError

REPORT_PAGE_SIZE = 100


def _order_ids(values: list[str]) -> list[int]:
    try:
        return read_ids("order", values)
    except ParameterError as exc:
        raise BulkError(str(exc)) from None


def _filter_args(query_string: str) -> MultiDict:
    """The orders list's query string, as the list page sent it along."""
    return MultiDict(parse_qsl(query_string, keep_blank_values=True))


def _wants_json() -> bool:
    accept = request.accept_mimetypes
    return accept.best == "application/json"


class BulkView(PanelView):
    batch_size = bulk_batches.DEFAULT_BATCH

    def is_visible(self) -> bool:
        return False

    def _selection(self, selection_id: int) -> Selection:
        selection = service.get_selection(selection_id)
        if selection is None:
            abort(404)
        return selection

    def _run(self, selection_id: int, run_id: int) -> BulkRun:
        run = service.get_run(run_id, selection_id)
        if run is None:
            abort(404)
        return run

    @expose("/")
    @editors_only
    def index(self):
        return self.render("bulk/index.html", runs=service.latest_runs())

    @expose("/select", methods=("POST",))
    @editors_only
    def select(self):
        """Freeze the ticked orders, or all orders matching the list's filter."""
        form = request.form
        filter_args = _filter_args(form.get("filter", ""))
        back = list_url("orders.index", filter_args)()
        try:
            if form.get("scope") == "all":
                query, errors = read_order_query(filter_args)
                if errors:
                    raise BulkError(_("the filter is not valid (%(errors)s)",
                                      errors="; ".join(map(str, errors))))
                selection = service.freeze_selection(query, current_user)
            else:
                ids = _order_ids(form.getlist("order"))
                selection = service.freeze_selection(ids, current_user)
        except BulkError as exc:
            flash(_("Nothing was selected: %(reason)s.", reason=exc), "error")
            return redirect(back)
        if form.get("action") == "csv":
            return redirect(url_for(".export", selection_id=selection.id), code=303)
        return redirect(url_for(".selection", selection_id=selection.id), code=303)

    @expose("/selections/<int:selection_id>")
    @editors_only
    def selection(self, selection_id: int):
        """The selection: its orders' states, the event picker, and a preview of one event."""
        selection = self._selection(selection_id)
        groups = service.state_groups(selection)
        choices = service.event_choices(selection, groups)
        preview, error = None, None
        event = request.args.get("event", "")
        if "event" in request.args:
            try:
                preview = service.preview(selection, event, groups)
            except BulkError as exc:
                error = str(exc)
        return self.render(
            "bulk/selection.html", selection=selection, groups=groups, choices=choices,
            event=event, preview=preview, error=error, runs=service.runs_of(selection),
        ), (400 if error else 200)

    @expose("/selections/<int:selection_id>/export.csv")
    @editors_only
    def export(self, selection_id: int):
        selection = self._selection(selection_id)
        return csv_response(CSV_COLUMNS, map(order_row, service.iter_selection_orders(selection)),
                            f"orders-selection-{selection.id}.csv")

    @expose("/selections/<int:selection_id>/runs", methods=("POST",))
    @editors_only
    def start(self, selection_id: int):
        """Confirm: start a run of the event over the selection."""
        selection = self._selection(selection_id)
        try:
            run = service.start_run(selection, request.form.get("event", ""), current_user)
        except BulkError as exc:
            flash(_("Nothing was started: %(reason)s.", reason=exc), "error")
            return redirect(url_for(".selection", selection_id=selection.id))
        return redirect(url_for(".run", selection_id=selection.id, run_id=run.id))

    @expose("/selections/<int:selection_id>/runs/<int:run_id>")
    @editors_only
    def run(self, selection_id: int, run_id: int):
        """Progress, and the report per order (pages of REPORT_PAGE_SIZE, by outcome)."""
        selection = self._selection(selection_id)
        run = self._run(selection_id, run_id)
        outcome = request.args.get("outcome", "")
        errors = []
        if outcome and outcome not in OUTCOMES:
            errors.append(_("outcome: %(value)s is not one of %(choices)s",
                            value=repr(outcome), choices=", ".join(OUTCOMES)))
            outcome = ""
        try:
            page_number = read_page("page", request.args.get("page", "1"))
        except ParameterError as exc:
            errors.append(str(exc))
            page_number = 1
        counts = service.outcome_counts(run)
        rows = service.report_page(run, outcome or None, page_number, REPORT_PAGE_SIZE)
        shown_total = counts[outcome] if outcome else run.total_orders
        return self.render(
            "bulk/run.html", selection=selection, run=run, counts=counts, rows=rows,
            outcome=outcome, page=page_number, errors=errors,
            outcome_labels=service.OUTCOME_LABELS,
            has_next=page_number * REPORT_PAGE_SIZE < shown_total,
        ), (400 if errors else 200)

    @expose("/selections/<int:selection_id>/runs/<int:run_id>/batch", methods=("POST",))
    @editors_only
    def batch(self, selection_id: int, run_id: int):
        """Run the next batch as the current user; JSON for panel.js, a redirect to the run
        page (with a flash when the batch was refused or interrupted) for a form."""
        run = self._run(selection_id, run_id)
        back = url_for(".run", selection_id=selection_id, run_id=run_id)
        try:
            result = bulk_batches.run_batch(run.id, current_user, self.batch_size)
        except bulk_batches.BatchRefused as exc:
            message = _("Nothing was run: %(reason)s.", reason=exc)
            if _wants_json():
                return jsonify(status="refused", message=message), 403
            flash(message, "error")
            return redirect(back)
        interrupted = result.status == bulk_batches.INTERRUPTED
        if _wants_json():
            body = jsonify(status=result.status, finished=result.finished,
                           done=result.done_orders, total=result.total_orders,
                           message=result.message)
            # 503 and Retry-After: the database is the trouble; the body says what was saved.
            return (body, 503, {"Retry-After": "5"}) if interrupted else body
        if interrupted:
            flash(_('%(message)s Press "Run next batch" to go on.', message=result.message),
                  "error")
        return redirect(back)

    @expose("/selections/<int:selection_id>/runs/<int:run_id>/report.csv")
    @editors_only
    def report(self, selection_id: int, run_id: int):
        run = self._run(selection_id, run_id)
        return csv_response([str(c) for c in service.REPORT_COLUMNS], service.report_rows(run),
                            f"bulk-run-{run.id}.csv")
