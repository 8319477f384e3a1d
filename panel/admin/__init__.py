"""The back-office pages, mounted on Flask-Admin with the Bootstrap 4 theme."""
from __future__ import annotations

from flask import Flask, g
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from markupsafe import Markup

from panel.admin.account import AccountView
from panel.admin.base import AdministrationPage
from panel.admin.bulk import BulkView
from panel.admin.communication import CommunicationView
from panel.admin.customers import CustomersView
from panel.admin.dashboard import DashboardView
from panel.admin.documents import DocumentsView
from panel.admin.layout_cache import init_layout_cache
from panel.admin.mail_catcher import MENU_NAME as MAIL_CATCHER_MENU_NAME
from panel.admin.mail_catcher import MailCatcherView
from panel.admin.oms import OmsView, TransitionLogView
from panel.admin.orders import OrdersView
from panel.admin.outbox import OutboxView
from panel.admin.plugins import PluginsView
from panel.admin.reclamations import ReclamationsView
from panel.admin.refunds import RefundsView, init_refund_helpers
from panel.admin.return_reasons import ReturnReasonsView
from panel.admin.returns import ReturnsView
from panel.admin.saved_views import SavedViewsView
from panel.admin.stuck import StuckItemsView
from panel.admin.users import SignInsView, UsersView
from panel.extensions import db
from panel.i18n import _l
from panel.models import LoginAttempt, User


def init_admin(app: Flask) -> Admin:
    """Build a fresh Admin for this app (views are bound to one Admin, so never shared)."""
    _event_role_helpers(app)
    # The menu's names are translated when a page shows them (lazy text); a category is
    # one object, which Flask-Admin's menu groups its views by.
    SALES, CUSTOMERS, ADMINISTRATION = _l("Sales"), _l("Customers"), _l("Administration")
    init_refund_helpers(app)
    init_layout_cache(app)
    admin = Admin(
        app,
        name="Order Panel",
        url="/",
        theme=Bootstrap4Theme(base_template="panel_base.html", fluid=True),
        index_view=DashboardView(name=_l("Dashboard"), url="/"),
    )
    admin.add_view(OrdersView(name=_l("Orders"), category=SALES, endpoint="orders",
                              url="/sales/orders"))
    admin.add_view(BulkView(name=_l("Bulk actions"), endpoint="bulk", url="/sales/bulk"))
    admin.add_view(SavedViewsView(name=_l("Saved views"), endpoint="saved_views",
                                  url="/sales/views"))
    admin.add_view(CommunicationView(name=_l("Communication"), endpoint="communication",
                                     url="/sales/messages"))
    admin.add_view(DocumentsView(name=_l("Documents"), endpoint="documents",
                                 url="/sales/documents"))
    admin.add_view(ReclamationsView(name=_l("Reclamations"), category=SALES,
                                    endpoint="reclamations", url="/sales/reclamations"))
    admin.add_view(RefundsView(name=_l("Refunds"), category=SALES, endpoint="refunds",
                               url="/sales/refunds"))
    admin.add_view(ReturnsView(name=_l("Returns"), category=SALES, endpoint="returns",
                               url="/sales/returns"))
    admin.add_view(CustomersView(name=_l("Customers"), category=CUSTOMERS, endpoint="customers",
                                 url="/customers"))
    admin.add_view(AccountView(name=_l("My account"), endpoint="account", url="/account"))
    admin.add_view(UsersView(User, db, name=_l("Users"), category=ADMINISTRATION,
                             endpoint="users", url="/administration/users"))
    admin.add_view(SignInsView(LoginAttempt, db, name=_l("Sign-ins"), category=ADMINISTRATION,
                               endpoint="sign_ins", url="/administration/sign-ins"))
    admin.add_view(PluginsView(name=_l("Plugins"), category=ADMINISTRATION, endpoint="plugins",
                               url="/administration/plugins"))
    admin.add_view(ReturnReasonsView(name=_l("Return reasons"), category=ADMINISTRATION,
                                     endpoint="return_reasons",
                                     url="/administration/return-reasons"))
    OmsView.is_visible = TransitionLogView.is_visible = AdministrationPage.is_visible
    StuckItemsView.is_visible = AdministrationPage.is_visible
    admin.add_view(OmsView(name=_l("OMS"), category=ADMINISTRATION, endpoint="oms",
                           url="/administration/oms"))
    admin.add_view(TransitionLogView(name=_l("Transition Log"), category=ADMINISTRATION,
                                     endpoint="transition_log",
                                     url="/administration/transition-log"))
    admin.add_view(StuckItemsView(name=_l("Stuck items"), category=ADMINISTRATION,
                                  endpoint="stuck_items", url="/administration/stuck-items"))
    # In the admins' menu; agents reach it from an order's undelivered mail (and retry).
    OutboxView.is_visible = AdministrationPage.is_visible
    admin.add_view(OutboxView(name=_l("Outbox"), category=ADMINISTRATION, endpoint="outbox",
                              url="/administration/outbox"))
    if app.config.get("PANEL_MAIL_CATCHER"):  # development and demos only (flask demo run)
        admin.add_view(MailCatcherView(name=MAIL_CATCHER_MENU_NAME, endpoint="mail_catcher",
                                       url="/mail-catcher"))
    return admin


def _event_role_helpers(app: Flask) -> None:
    """Template helpers: why the signed-in user may not trigger an event (None: they may),
    and the attributes that disable its button."""
    from flask_login import current_user

    from panel.services.triggers import refusal

    def event_refusal(event: str) -> str | None:
        # Asked for every button of every item on View Order: answer once per request.
        known = g.setdefault("panel_event_refusals", {})
        if event not in known:
            known[event] = refusal(current_user, event)
        return known[event]

    def event_refusals(events) -> list[str]:
        return list(dict.fromkeys(r for r in map(event_refusal, events) if r))

    def event_lock(event: str) -> Markup:
        """An event button's extra attributes: disabled, with the reason, when the user's
        role may not trigger it (a function, not a macro: View Order asks once per button)."""
        why = event_refusal(event)
        if not why:
            return Markup("")
        return Markup(' disabled aria-disabled="true" title="{}"').format(why.capitalize())

    app.jinja_env.globals.update(event_refusal=event_refusal, event_refusals=event_refusals,
                                 event_lock=event_lock)
