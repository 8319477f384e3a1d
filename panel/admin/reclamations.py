"""Sales > Reclamations: claim an order's items, list the claims, work and close them."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from panel.admin.base import PanelView, editors_only
from panel.admin.listing import ListArgs, list_url
from panel.admin.scoped_triggers import manual_events, read_scoped_trigger
from panel.extensions import db
from panel.i18n import _
from panel.models import Order, OrderItem, Reclamation
from panel.params import ParameterError, read_ids
from panel.services import reclamations as service
from panel.services import settlements, triggers


class ReclamationsView(PanelView):
    @expose("/")
    def index(self):
        parsed = ListArgs(request.args)
        query = service.ReclamationQuery(
            search=parsed.text("q"),
            state=parsed.choice("state", ("", "open", "closed"), ""),
            page=parsed.page(),
            per_page=parsed.per_page(),
        )
        page = None if parsed.errors else service.find_reclamations(query)
        references = {}
        if page:
            ids = {r.order_id for r in page.rows}
            references = dict(db.session.execute(
                db.select(Order.id, Order.order_reference).where(Order.id.in_(ids))).all())
        return self.render(
            "reclamations/list.html", query=query, page=page, errors=parsed.errors,
            references=references, page_sizes=self.admin.app.config["PANEL_PAGE_SIZES"],
            page_url=list_url(request.endpoint, request.args),
        ), (400 if parsed.errors else 200)

    @expose("/new/<int:order_id>", methods=("GET", "POST"))
    @editors_only
    def create(self, order_id: int):
        order = db.session.get(Order, order_id)
        if order is None:
            flash(_("Sales order #%(id)s not found.", id=order_id), "error")
            return redirect(url_for("orders.index"))
        reason = ""
        ticked: list[int] = []
        status = 200
        if request.method == "POST":
            reason = request.form.get("reason", "")
            try:
                ticked = read_ids("item", request.form.getlist("item"))
                reclamation = service.open_reclamation(order.id, ticked, reason, current_user)
            except (ParameterError, service.ClaimRefused) as exc:
                flash(_("The reclamation was not created: %(reason)s.", reason=exc), "error")
                status = 400
                order = db.session.get(Order, order_id)
            else:
                flash(_("Reclamation #%(id)s for order %(reference)s created.",
                        id=reclamation.id, reference=order.order_reference), "success")
                return redirect(url_for(".details", reclamation_id=reclamation.id))
        return self.render("reclamations/create.html", order=order, reason=reason,
                           ticked=set(ticked), rows=service.claimable_items(order)), status

    def _reclamation(self, reclamation_id: int) -> Reclamation:
        reclamation = db.session.get(Reclamation, reclamation_id)
        if reclamation is None:
            abort(404)
        return reclamation

    @expose("/<int:reclamation_id>")
    def details(self, reclamation_id: int):
        reclamation = self._reclamation(reclamation_id)
        order = db.session.get(Order, reclamation.order_id)
        claimed = service.claimed_item_ids(reclamation)
        items = list(db.session.scalars(
            db.select(OrderItem).where(OrderItem.id.in_(claimed)).order_by(OrderItem.id)))
        item_events, events = manual_events(items)
        settled_returns, settled_refunds = settlements.settled_by(reclamation.id)
        return self.render("reclamations/details.html", reclamation=reclamation, order=order,
                           items=items, item_events=item_events, events=events,
                           settled_returns=settled_returns, settled_refunds=settled_refunds)

    @expose("/<int:reclamation_id>/trigger", methods=("POST",))
    def trigger(self, reclamation_id: int):
        """Event buttons that act on the claimed items only, never the rest of the order."""
        reclamation = self._reclamation(reclamation_id)
        claimed = service.claimed_item_ids(reclamation)
        try:
            event, item_ids = read_scoped_trigger(request.form, claimed,
                                                  _("that item is not claimed here"))
            result = triggers.trigger(reclamation.order_id, event, current_user,
                                      item_ids=item_ids)
        except (ParameterError, triggers.TriggerRequestError) as exc:
            flash(_("Nothing was triggered: %(reason)s.", reason=exc), "error")
        else:
            flash(triggers.result_message(result),
                  "error" if result.error else ("success" if result.moved else "info"))
        return redirect(url_for(".details", reclamation_id=reclamation_id))

    @expose("/<int:reclamation_id>/close", methods=("POST",))
    def close(self, reclamation_id: int):
        self._reclamation(reclamation_id)
        try:
            service.close_reclamation(reclamation_id, request.form.get("note", ""),
                                      current_user)
        except service.ClaimRefused as exc:
            flash(_("Not closed: %(reason)s.", reason=exc), "error")
        else:
            flash(_("Reclamation #%(id)s closed.", id=reclamation_id), "success")
        target = request.form.get("back") == "list"
        return redirect(url_for(".index") if target
                        else url_for(".details", reclamation_id=reclamation_id))
