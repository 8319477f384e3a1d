"""The stock list the benchmark compares ours with: Flask-Admin's ModelView(Order) as it
comes, declared like ours (10 rows a page, newest first, the same searches and filters),
mounted at /stock/order/ on the same app and database."""
from __future__ import annotations

from datetime import date

from flask_admin.contrib.sqla import ModelView, filters

from panel.admin.forms import AdminForm
from panel.extensions import db
from panel.models import Order

STOCK = "/stock/order/"


class StockOrders(ModelView):
    """Flask-Admin's list as it comes, with the same page size, order, searches and filters
    declared as ours."""

    form_base_class = AdminForm
    can_view_details = False
    page_size = 10  # ours shows 10 (PANEL_PAGE_SIZES[0], Spryker's default)
    can_set_page_size = False
    column_list = ("id", "order_reference", "created_at", "first_name", "last_name", "email",
                   "item_states", "grand_total", "item_count")
    # Ours searches the reference, the email, the full name and the last name; Flask-Admin
    # ANDs the words of a term, each matched against any of these, so "Anna Müller" works.
    column_searchable_list = ("order_reference", "email", "first_name", "last_name")
    column_filters = (
        filters.DateTimeBetweenFilter(Order.created_at, "Created"),
        filters.IntGreaterFilter(Order.open_reclamations, "Open reclamations"),
        filters.FilterLike(Order.item_states, "Order State"),
        filters.FilterEqual(Order.store, "Store"),
        filters.FilterEqual(Order.payment_method, "Payment method"),
    )
    column_sortable_list = ("id", "order_reference", "created_at", "email", "grand_total")
    column_default_sort = ("created_at", True)  # ours: newest first


def mount(app) -> StockOrders:
    view = StockOrders(Order, db, name="Stock", endpoint="stock", url="/stock/order")
    app.extensions["admin"][0].add_view(view)
    return view


class StockUrls:
    """URLs of the stock list for what our list is asked (its filters are numbered, its sort
    is a column's position in the list, its pages count from 0)."""

    def __init__(self, view: StockOrders):
        self.view = view

    def _filter(self, column: str, operation: str) -> str:
        for index, flt in enumerate(self.view._filters):
            if flt.column.key == column and flt.operation() == operation:
                return f"flt0_{index}"
        raise LookupError((column, operation, [(f.column.key, f.operation())
                                               for f in self.view._filters]))

    def sort(self, column: str) -> int:
        """The position Flask-Admin reads from ``sort=``: of the column in the list's columns
        (not in column_sortable_list)."""
        for index, (name, _) in enumerate(self.view._list_columns):
            if name == column:
                return index
        raise LookupError(column)

    @staticmethod
    def page(our_page: int) -> str:
        """Our page N (from 1) is Flask-Admin's page N - 1 (from 0): the same rows skipped."""
        return f"page={our_page - 1}"

    def state(self, state: str) -> str:
        return f"{self._filter('item_states', 'contains')}={state}"

    def day(self, day: date) -> str:
        return f"{self._filter('created_at', 'between')}={day}+00:00:00+to+{day}+23:59:59"

    def open_reclamation(self) -> str:
        return f"{self._filter('open_reclamations', 'greater than')}=0"
