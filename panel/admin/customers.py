"""Customers > Customers: the list, View Customer, Edit Customer, and the address book."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose

from panel.admin.base import PanelView, editors_only
from panel.admin.forms import parse_form
from panel.admin.listing import ListArgs, list_url
from panel.extensions import db
from panel.i18n import _
from panel.models import Customer, CustomerAddress
from panel.services import customers as service
from panel.services.addresses import CUSTOMER_ADDRESS_FIELDS, save_customer_address
from panel.services.intake_schema import SALUTATIONS, AddressIn


class CustomersView(PanelView):
    @expose("/")
    def index(self):
        parsed = ListArgs(request.args)
        query = service.CustomerQuery(
            search=parsed.text("q"),
            registered_from=parsed.day("from", _("Registered from")),
            registered_to=parsed.day("to", _("Registered to")),
            page=parsed.page(),
            per_page=parsed.per_page(),
        )
        parsed.date_range(query.registered_from, query.registered_to, _("Registered"))
        page = None if parsed.errors else service.find_customers(query)
        return self.render(
            "customers/list.html", query=query, page=page, errors=parsed.errors,
            page_sizes=self.admin.app.config["PANEL_PAGE_SIZES"],
            page_url=list_url(request.endpoint, request.args),
        ), (400 if parsed.errors else 200)

    def _customer(self, customer_id: int) -> Customer:
        customer = db.session.get(Customer, customer_id)
        if customer is None:
            abort(404)
        return customer

    @expose("/<int:customer_id>")
    def details(self, customer_id: int):
        customer = self._customer(customer_id)
        orders, order_total = service.customer_orders(customer)
        return self.render("customers/details.html", customer=customer, orders=orders,
                           order_total=order_total)

    @expose("/<int:customer_id>/edit", methods=("GET", "POST"))
    @editors_only
    def edit(self, customer_id: int):
        customer = self._customer(customer_id)
        values = {name: getattr(customer, name) or "" for name in service.CUSTOMER_FIELDS}
        errors: dict[str, str] = {}
        if request.method == "POST":
            values = {name: request.form.get(name, "") for name in service.CUSTOMER_FIELDS}
            data, errors = parse_form(service.CustomerDetailsIn, request.form,
                                      service.CUSTOMER_FIELDS)
            if data is not None:
                try:
                    changed = service.update_customer(customer, data)
                except service.EmailTaken as exc:
                    db.session.rollback()
                    errors = {"email": str(exc)}
                else:
                    flash(_("Customer successfully updated.") if changed
                          else _("Nothing was changed."), "success" if changed else "info")
                    return redirect(url_for(".details", customer_id=customer.id))
            flash(_("The customer was not saved: correct the fields marked below."), "error")
        return self.render("customers/edit.html", customer=customer, values=values,
                           errors=errors, salutations=SALUTATIONS), (400 if errors else 200)

    @expose("/<int:customer_id>/addresses/new", methods=("GET", "POST"))
    @editors_only
    def add_address(self, customer_id: int):
        return self._address_form(self._customer(customer_id), None)

    @expose("/<int:customer_id>/addresses/<int:address_id>/edit", methods=("GET", "POST"))
    @editors_only
    def edit_address(self, customer_id: int, address_id: int):
        customer = self._customer(customer_id)
        address = db.session.get(CustomerAddress, address_id)
        if address is None or address.customer_id != customer.id:
            abort(404)
        return self._address_form(customer, address)

    def _address_form(self, customer: Customer, address: CustomerAddress | None):
        fields = CUSTOMER_ADDRESS_FIELDS
        if address is None:
            values = {name: "" for name in fields}
            values.update(first_name=customer.first_name, last_name=customer.last_name,
                          salutation=customer.salutation or "")
        else:
            values = {name: getattr(address, name) or "" for name in fields}
        errors: dict[str, str] = {}
        if request.method == "POST":
            values = {name: request.form.get(name, "") for name in fields}
            data, errors = parse_form(AddressIn, request.form, fields)
            if data is not None:
                save_customer_address(customer, data, address)
                flash(_("Address successfully saved."), "success")
                return redirect(url_for(".details", customer_id=customer.id))
            flash(_("The address was not saved: correct the fields marked below."), "error")
        return self.render("customers/address.html", customer=customer, address=address,
                           fields=fields, values=values, errors=errors,
                           salutations=SALUTATIONS), (400 if errors else 200)
