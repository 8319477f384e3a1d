"""What every back-office page shares."""
from __future__ import annotations

from functools import wraps

from flask import abort, redirect, url_for
from flask_admin import BaseView
from flask_login import current_user


def editors_only(view):
    """Refuse a page to users who may not change anything (viewers): one that changes data
    (its form too), or one that shows what only editors may act on."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.can_edit:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


class PanelView(BaseView):
    """A page for any logged-in user; `panel.security` already turned anonymous users away."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login"))


class AdministrationPage(PanelView):
    """Listed in the Administration menu for admins; readable by every role by its URL
    (the order page links to process graphs, for instance)."""

    def is_visible(self) -> bool:
        return current_user.is_authenticated and current_user.is_admin

