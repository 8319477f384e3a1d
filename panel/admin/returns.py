"""Sales > Returns: return an order's items, list the returns, work them, print their slips."""
from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from panel.admin.base import PanelView, editors_only
from panel.admin.listing import ListArgs, list_url, row_url
from panel.admin.scoped_triggers import manual_events, read_scoped_trigger
from panel.extensions import db
from panel.i18n import _
from panel.models import Order, Return
from panel.params import ParameterError, read_id, read_ids
from panel.services import return_list, return_slip, settlements, triggers
from panel.services import returns as service
from panel.services.pdf import PdfError
from panel.services.return_reasons import offered_reasons


def read_return_query(args) -> tuple[return_list.ReturnQuery, list[str]]:
    parsed = ListArgs(args)
    query = return_list.ReturnQuery(
        search=parsed.text("q"),
        state=parsed.choice("state", return_list.STATES, ""),
        created_from=parsed.day("from", _("Created from")),
        created_to=parsed.day("to", _("Created to")),
        page=parsed.page(),
        per_page=parsed.per_page(),
    )
    parsed.date_range(query.created_from, query.created_to, _("Created"))
    return query, parsed.errors


def read_return_form(form) -> tuple[list[service.ReturnLine], dict]:
    """The ticked items with their reasons and notes, and what to show again on the form
    (reason and note fields are named after their item: ``reason-12``, ``note-12``)."""
    lines = []
    for item_id in read_ids("item", form.getlist("item")):
        reason = form.get(f"reason-{item_id}", "").strip()
        lines.append(service.ReturnLine(
            item_id, read_id(f"reason-{item_id}", reason) if reason else None,
            form.get(f"note-{item_id}", "")))
    return lines, {"reasons": {k: v for k, v in form.items() if k.startswith("reason-")},
                   "notes": {k: v for k, v in form.items() if k.startswith("note-")}}


class ReturnsView(PanelView):
    @expose("/")
    def index(self):
        query, errors = read_return_query(request.args)
        page = None if errors else return_list.find_returns(query)
        references, states = {}, {}
        if page and page.rows:
            ids = {r.order_id for r in page.rows}
            references = dict(db.session.execute(
                db.select(Order.id, Order.order_reference).where(Order.id.in_(ids))).all())
            states = return_list.item_states(r.id for r in page.rows)
        return self.render(
            "returns/list.html", query=query, page=page, errors=errors,
            references=references, states=states,
            page_sizes=self.admin.app.config["PANEL_PAGE_SIZES"],
            page_url=list_url(request.endpoint, request.args),
            row_urls={"view": row_url("returns.details", "return_id"),
                      "slip": row_url("returns.slip", "return_id"),
                      "order": row_url("orders.details", "order_id")},
        ), (400 if errors else 200)

    @expose("/new/<int:order_id>", methods=("GET", "POST"))
    @editors_only
    def create(self, order_id: int):
        order = db.session.get(Order, order_id)
        if order is None:
            flash(_("Sales order #%(id)s not found.", id=order_id), "error")
            return redirect(url_for("orders.index"))
        shown: dict = {"reasons": {}, "notes": {}}
        status = 200
        try:  # opened from a reclamation's page: its items, and the return settles it
            reclamation = settlements.requested_reclamation(
                order, request.values.get("reclamation"))
        except settlements.SettleRefused as exc:
            if request.method == "POST":  # a return is not made when it cannot settle it
                flash(_("The return was not created: %(reason)s.", reason=exc), "error")
                return redirect(url_for("orders.details", order_id=order.id))
            flash(_("%(reason)s; the return would not settle it.", reason=exc), "error")
            reclamation = None
        ticked = set(settlements.claimed_item_ids(reclamation))
        if request.method == "POST":
            try:
                ticked = set(read_ids("item", request.form.getlist("item")))
                lines, shown = read_return_form(request.form)
                made = service.create_return(
                    order.id, lines, current_user,
                    reclamation_id=reclamation.id if reclamation else None)
            except (ParameterError, service.ReturnRefused) as exc:
                flash(_("The return was not created: %(reason)s.", reason=exc), "error")
                status = 400
                order = db.session.get(Order, order_id)
            else:
                flash(_("Return %(reference)s for order %(order)s created.",
                        reference=made.return_reference, order=order.order_reference),
                      "success")
                return redirect(url_for(".details", return_id=made.id))
        return self.render("returns/create.html", order=order, ticked=ticked, shown=shown,
                           rows=service.returnable_items(order), reasons=offered_reasons(),
                           reclamation=reclamation), status

    @expose("/<int:return_id>")
    def details(self, return_id: int):
        found = db.get_or_404(Return, return_id)
        lines = return_list.returned_items(found)
        item_events, events = manual_events(item for _, item in lines)
        return self.render("returns/details.html", sales_return=found, lines=lines,
                           order=db.session.get(Order, found.order_id),
                           item_events=item_events, events=events)

    @expose("/<int:return_id>/trigger", methods=("POST",))
    def trigger(self, return_id: int):
        """Event buttons that act on the returned items only, never the rest of the order."""
        found = db.get_or_404(Return, return_id)
        returned = [line.order_item_id for line in found.items]
        try:
            event, item_ids = read_scoped_trigger(request.form, returned,
                                                  _("that item is not in this return"))
            result = triggers.trigger(found.order_id, event, current_user, item_ids=item_ids)
        except (ParameterError, triggers.TriggerRequestError) as exc:
            flash(_("Nothing was triggered: %(reason)s.", reason=exc), "error")
        else:
            flash(triggers.result_message(result),
                  "error" if result.error else ("success" if result.moved else "info"))
        return redirect(url_for(".details", return_id=return_id))

    @expose("/<int:return_id>/close", methods=("POST",))
    @editors_only
    def close(self, return_id: int):
        found = db.get_or_404(Return, return_id)
        try:
            service.close_return(return_id, current_user)
        except service.ReturnRefused as exc:
            flash(_("Not closed: %(reason)s.", reason=exc), "error")
        else:
            flash(_("Return %(reference)s closed.", reference=found.return_reference), "success")
        return redirect(url_for(".details", return_id=return_id))

    @expose("/<int:return_id>/slip")
    def slip(self, return_id: int):
        """The return slip as a page to print (the browser's print hides the buttons)."""
        return return_slip.slip_html(return_slip.slip_for(db.get_or_404(Return, return_id)))

    @expose("/<int:return_id>/slip.pdf")
    def slip_pdf(self, return_id: int):
        found = db.get_or_404(Return, return_id)
        try:
            data = return_slip.slip_pdf(return_slip.slip_for(found))
        except PdfError as exc:
            flash(_("The return slip could not be made as a PDF: %(reason)s.", reason=exc),
                  "error")
            return redirect(url_for(".slip", return_id=return_id))
        name = f"return-slip-{found.return_reference}.pdf"
        return Response(data, mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
