"""My account: the signed-in user's own sessions and password, for every role."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from panel.admin.base import PanelView
from panel.extensions import db
from panel.i18n import LANGUAGES, _, _l, ngettext, refresh_language
from panel.models import User
from panel.services import sessions, sign_ins, users
from panel.services.passwords import MAX_LENGTH, MIN_LENGTH

WRONG_PASSWORD = _l("The current password is not correct.")


class AccountView(PanelView):
    def is_visible(self) -> bool:
        return False  # linked from the user's name in the navigation bar

    def _page(self, errors: dict[str, str] | None = None, status: int = 200):
        return self.render(
            "account/index.html", sessions=sessions.sessions_of(current_user.id),
            current_session=current_user.session_id, errors=errors or {},
            min_length=MIN_LENGTH, max_length=MAX_LENGTH, languages=LANGUAGES,
            chosen_language=current_user.locale,
        ), status

    @expose("/")
    def index(self):
        return self._page()

    @expose("/sessions/end-others", methods=("POST",))
    def end_other_sessions(self):
        ended = sessions.end_all(current_user.id, sessions.ENDED_BY_USER,
                                 keep=current_user.session_id)
        flash(ngettext("Ended %(num)d other session. This one goes on.",
                       "Ended %(num)d other sessions. This one goes on.", ended)
              if ended else _("There was no other session to end."),
              "success" if ended else "info")
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
            errors["current_password"] = str(WRONG_PASSWORD)
        else:
            sign_ins.finish(attempt, sign_ins.CONFIRMED)
            if new != repeated:
                errors["repeat_password"] = _("The two new passwords are not the same.")
            else:
                try:
                    ended = users.set_password(user, new, keep_session=current_user.session_id)
                except users.UserError as exc:
                    errors["new_password"] = str(exc)
                else:
                    flash(ngettext("Your password was changed. %(num)d other session ended.",
                                   "Your password was changed. %(num)d other sessions ended.",
                                   ended) if ended else _("Your password was changed."),
                          "success")
                    return redirect(url_for(".index"))
        flash(_("The password was not changed: correct the fields marked below."), "error")
        return self._page(errors, 400)

    @expose("/language", methods=("POST",))
    def change_language(self):
        """The user's language: one of LANGUAGES, or "" for the browser's."""
        chosen = request.form.get("language", "")
        if chosen and chosen not in LANGUAGES:
            flash(_("There is no language %(code)r; choose one of the list.", code=chosen[:20]),
                  "error")
            return self._page(status=400)
        user = db.session.get(User, current_user.id)
        user.locale = chosen or None
        db.session.commit()
        refresh_language(chosen or None)
        flash(_("The panel now speaks %(language)s.", language=LANGUAGES[chosen])
              if chosen else _("The panel now follows your browser's language."), "success")
        return redirect(url_for(".index"))
