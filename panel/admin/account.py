"""My account: the signed-in user's own sessions and password, for every role."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from panel.admin.base import PanelView
from panel.extensions import db
from panel.models import User
from panel.services import sessions, sign_ins, users
from panel.services.passwords import MAX_LENGTH, MIN_LENGTH

WRONG_PASSWORD = "The current password is not correct."


class AccountView(PanelView):
    def is_visible(self) -> bool:
        return False  # linked from the user's name in the navigation bar

    def _page(self, errors: dict[str, str] | None = None, status: int = 200):
        return self.render(
            "account/index.html", sessions=sessions.sessions_of(current_user.id),
            current_session=current_user.session_id, errors=errors or {},
            min_length=MIN_LENGTH, max_length=MAX_LENGTH,
        ), status

    @expose("/")
    def index(self):
        return self._page()

    @expose("/sessions/end-others", methods=("POST",))
    def end_other_sessions(self):
        ended = sessions.end_all(current_user.id, sessions.ENDED_BY_USER,
                                 keep=current_user.session_id)
        flash(f"Ended {ended} other session{'s' if ended != 1 else ''}. This one goes on."
              if ended else "There was no other session to end.", "success" if ended else "info")
        return redirect(url_for(".index"))

    @expose("/password", methods=("POST",))
    def change_password(self):
        form = request.form
        new, repeated = form.get("new_password", ""), form.get("repeat_password", "")
        errors: dict[str, str] = {}
        address = request.remote_addr or "unknown"
        # Guessing the current password from a stolen session counts against the same
        # limit as guessing it at the login form.
        attempt, refusal = sign_ins.begin(current_user.email, address, request.user_agent.string)
        if refusal:
            flash(refusal, "error")
            return self._page(status=429)
        user = db.session.get(User, current_user.id)
        if not user.check_password(form.get("current_password", "")):
            sign_ins.finish(attempt, sign_ins.FAILED)
            errors["current_password"] = WRONG_PASSWORD
        else:
            sign_ins.finish(attempt, sign_ins.CONFIRMED)
            if new != repeated:
                errors["repeat_password"] = "The two new passwords are not the same."
            else:
                try:
                    ended = users.set_password(user, new, keep_session=current_user.session_id)
                except users.UserError as exc:
                    errors["new_password"] = str(exc)
                else:
                    flash("Your password was changed."
                          + (f" {ended} other session{'s' if ended != 1 else ''} ended."
                             if ended else ""), "success")
                    return redirect(url_for(".index"))
        flash("The password was not changed: correct the fields marked below.", "error")
        return self._page(errors, 400)
