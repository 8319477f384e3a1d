"""Administration > Return reasons: the list Create Return offers, kept by admins."""
from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from panel.admin.base import AdministrationPage
from panel.i18n import _
from panel.services import return_reasons as service


def admins_only(view):
    """Refuse a change of the reasons to anyone but an admin (the page itself is readable)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


class ReturnReasonsView(AdministrationPage):
    @expose("/")
    def index(self):
        return self.render("returns/reasons.html", reasons=service.all_reasons())

    def _done(self, change, message):
        """Make the change; flash why not, or ``message(name of the reason)``."""
        try:
            reason = change()
        except service.ReasonRefused as exc:
            flash(_("Nothing was changed: %(reason)s.", reason=exc), "error")
        else:
            flash(message(reason.name), "success")
        return redirect(url_for(".index"))

    @expose("/new", methods=("POST",))
    @admins_only
    def add(self):
        return self._done(lambda: service.add_reason(request.form.get("name", "")),
                          lambda name: _('Return reason "%(name)s" added.', name=name))

    @expose("/<int:reason_id>/rename", methods=("POST",))
    @admins_only
    def rename(self, reason_id: int):
        return self._done(
            lambda: service.rename_reason(reason_id, request.form.get("name", "")),
            lambda name: _('Return reason renamed to "%(name)s".', name=name))

    @expose("/<int:reason_id>/active", methods=("POST",))
    @admins_only
    def activate(self, reason_id: int):
        active = request.form.get("active") == "1"
        if active:
            return self._done(lambda: service.set_active(reason_id, active),
                              lambda name: _('Return reason "%(name)s" is offered again.',
                                             name=name))
        return self._done(lambda: service.set_active(reason_id, active),
                          lambda name: _('Return reason "%(name)s" is no longer offered.',
                                         name=name))
