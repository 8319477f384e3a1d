"""Sales > Refunds: the list, Create Refund (from View Order), and retrying or discarding a
refund the payment provider refused."""
from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from panel.admin.base import PanelView
from panel.admin.listing import ListArgs, list_url
from panel.extensions import db
from panel.formatting import format_money, minor_digits
from panel.i18n import _
from panel.models import Order
from panel.models.refund import SUCCEEDED
from panel.params import ParameterError, read_amount, read_id, read_ids, shown
from panel.services import refunds, settlements
from panel.services.triggers import actor_of


def refunders_only(view):
    """Refuse a page or form that moves money to users whose role may not refund."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if refunds.refusal(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def init_refund_helpers(app) -> None:
    """Template helpers: why the signed-in user may not refund (None: they may), and the
    names of the refund statuses in the request's language."""
    app.jinja_env.globals["refund_refusal"] = lambda: refunds.refusal(current_user)
    app.jinja_env.globals["refund_statuses"] = refunds.STATUS_NAMES


def read_refund_form(form, order: Order) -> refunds.RefundRequest:
    """The ticked items and shipments with their amounts (blank: all that is refundable),
    and the adjustment, from the Create Refund form; ParameterError names a bad value."""
    digits = minor_digits(order.currency)
    names = {item.id: _("%(name)s (item #%(id)s)", name=item.name, id=item.id)
             for item in order.items}
    numbers = {shipment.id: n for n, shipment in enumerate(order.shipments, 1)}
    items = {}
    for item_id in read_ids("item", form.getlist("item")):
        label = names.get(item_id) or _("item #%(id)s", id=item_id)
        items[item_id] = read_amount(label, form.get(f"amount-{item_id}", ""), digits)
    shipping = {}
    for shipment_id in read_ids("shipment", form.getlist("shipment")):
        label = _("the shipping of shipment %(number)s",
                  number=numbers.get(shipment_id, f"#{shipment_id}"))
        shipping[shipment_id] = read_amount(label, form.get(f"shipping-{shipment_id}", ""),
                                            digits)
    adjustment = read_amount(_("Adjustment amount"), form.get("adjustment", ""), digits) or 0
    return refunds.RefundRequest(items=items, shipping=shipping, adjustment=adjustment,
                                 adjustment_reason=form.get("adjustment_reason", ""))


def flash_outcome(refund) -> None:
    """Say what the payment provider answered."""
    amount = format_money(refund.total, refund.order.currency)
    if refund.status == SUCCEEDED:
        flash(_("Refund #%(id)s of %(amount)s succeeded (provider reference %(reference)s).",
                id=refund.id, amount=amount, reference=refund.provider_reference), "success")
    else:
        flash(_("Refund #%(id)s of %(amount)s is saved, but the payment provider refused it: "
                "%(error)s. Retry or discard it under Refunds.", id=refund.id, amount=amount,
                error=shown(refund.error or "")), "error")


class RefundsView(PanelView):
    @expose("/")
    def index(self):
        parsed = ListArgs(request.args)
        query = refunds.RefundQuery(
            status=parsed.choice("status", ("", *refunds.STATUSES), ""),
            page=parsed.page(),
            per_page=parsed.per_page(),
        )
        page = None if parsed.errors else refunds.find_refunds(query)
        return self.render(
            "refunds/list.html", query=query, page=page, errors=parsed.errors,
            statuses=refunds.STATUSES, page_sizes=self.admin.app.config["PANEL_PAGE_SIZES"],
            page_url=list_url(request.endpoint, request.args),
        ), (400 if parsed.errors else 200)

    @expose("/new/<int:order_id>", methods=("GET", "POST"))
    @refunders_only
    def create(self, order_id: int):
        order = db.session.get(Order, order_id)
        if order is None:
            flash(_("Sales order #%(id)s not found.", id=order_id), "error")
            return redirect(url_for("orders.index"))
        status = 200
        try:  # opened from a reclamation's page: its items, and the refund settles it
            reclamation = settlements.requested_reclamation(
                order, request.values.get("reclamation"))
        except settlements.SettleRefused as exc:
            if request.method == "POST":  # a refund is not made when it cannot settle it
                flash(_("The refund was not made: %(reason)s.", reason=exc), "error")
                return redirect(url_for("orders.details", order_id=order.id))
            flash(_("%(reason)s; the refund would not settle it.", reason=exc), "error")
            reclamation = None
        form = MultiDict({"item": [str(i) for i in settlements.claimed_item_ids(reclamation)]})
        if request.method == "POST":
            form = request.form
            try:
                refund = refunds.create_refund(
                    order.id, read_refund_form(request.form, order),
                    actor=actor_of(current_user), user_name=current_user.name,
                    reclamation_id=reclamation.id if reclamation else None)
            except (ParameterError, refunds.RefundRefused) as exc:
                flash(_("The refund was not made: %(reason)s.", reason=exc), "error")
                status = 400
                order = db.session.get(Order, order_id)
            else:
                flash_outcome(refunds.send_refund(refund.id))
                return redirect(url_for("orders.details", order_id=order_id,
                                        _anchor="order-refunds"))
        return self.render("refunds/create.html", order=order, offer=refunds.offer_for(order),
                           form=form, reclamation=reclamation), status

    def _refund_action(self, order_id: int, action):
        """Run ``action(refund id)`` for the refund named in the form; None when refused."""
        if db.session.get(Order, order_id) is None:
            abort(404)
        try:
            return action(read_id("refund", request.form.get("refund", "")))
        except (ParameterError, refunds.RefundRefused) as exc:
            flash(_("Nothing was done: %(reason)s.", reason=exc), "error")
            return None

    @expose("/<int:order_id>/retry", methods=("POST",))
    @refunders_only
    def retry(self, order_id: int):
        """Send a refused refund to the payment provider again."""
        refund = self._refund_action(
            order_id, lambda refund_id: refunds.retry_refund(order_id, refund_id))
        if refund is not None:
            flash_outcome(refund)
        return redirect(url_for("orders.details", order_id=order_id, _anchor="order-refunds"))

    @expose("/<int:order_id>/discard", methods=("POST",))
    @refunders_only
    def discard(self, order_id: int):
        """Give a refused refund up: its amounts become refundable again."""
        refund = self._refund_action(order_id, lambda refund_id: refunds.discard_refund(
            order_id, refund_id, actor=actor_of(current_user)))
        if refund is not None:
            flash(_("Refund #%(id)s discarded; its amounts may be refunded again.",
                    id=refund.id), "success")
        return redirect(url_for("orders.details", order_id=order_id, _anchor="order-refunds"))
