"""Administration > Users: back-office accounts, for admins only."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import inspect
from wtforms import PasswordField, SelectField
from wtforms.validators import InputRequired, Length, ValidationError

from panel.admin.forms import AdminForm
from panel.admin.model_views import PanelModelView
from panel.extensions import db
from panel.i18n import _, _l, ngettext
from panel.models import User
from panel.models.user import ROLES
from panel.services import passwords, sessions, users
from panel.services.text_fields import email_address


def _valid_email(form, field) -> None:
    try:
        email_address(field.data or "")
    except ValueError as exc:
        raise ValidationError(_("The email %(problem)s.", problem=exc)) from None


def _valid_name(form, field) -> None:
    try:
        users.checked_name(field.data or "")
    except users.UserError as exc:
        raise ValidationError(str(exc)) from None


def _password_policy(form, field) -> None:
    """The one password policy, with this account's email and name as context."""
    if field.data:
        reason = passwords.problem(field.data, email=form.email.data or "",
                                   name=form.name.data or "")
        if reason:
            raise ValidationError(reason)


def _session_end_reason(model: User) -> str | None:
    """Why saving this form ends the user's sessions (password, role, deactivation), or
    None when nothing that a session depends on changed."""
    state = inspect(model)
    if state.attrs.active.history.has_changes() and not model.active:
        return sessions.DEACTIVATED
    if state.attrs.password_hash.history.has_changes():
        return sessions.PASSWORD_CHANGED
    if state.attrs.role.history.has_changes():
        return sessions.ROLE_CHANGED
    return None


class UsersView(PanelModelView):
    form_base_class = AdminForm  # one CSRF scheme for the whole app (see STACK.md)
    named_filter_urls = True
    can_view_details = False
    edit_template = "users/edit.html"
    # Accounts are deactivated, never deleted: history rows name who did what. (Flask-Admin's
    # delete button and list filters also confirm with inline onclick handlers, which the
    # Content-Security-Policy refuses to run.)
    can_delete = False
    column_list = ("email", "name", "role", "active", "last_login_at", "created_at")
    column_searchable_list = ("email", "name")
    column_sortable_list = ("email", "name", "role", "active", "last_login_at", "created_at")
    column_default_sort = ("email", False)
    form_columns = ("email", "name", "role", "active", "password")
    form_extra_fields = {
        "password": PasswordField(
            _l("Password"),
            description=_l("At least %(least)d characters; common passwords, repeats and the "
                           "user's own name or email are refused. Leave empty to keep the "
                           "current password. Saving a new password, role or deactivation "
                           "ends the user's sessions.", least=passwords.MIN_LENGTH),
            validators=[_password_policy],
        )
    }
    column_labels = {"email": _l("Email"), "name": _l("Name"), "role": _l("Role"),
                     "active": _l("Active"), "last_login_at": _l("Last login"),
                     "created_at": _l("Created")}
    form_overrides = {"role": SelectField}
    form_args = {
        "role": {"choices": list(ROLES)},
        "email": {"validators": [InputRequired(), Length(max=254), _valid_email]},
        "name": {"validators": [InputRequired(), Length(max=100), _valid_name]},
    }

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.is_admin

    def on_model_change(self, form, model, is_created):
        model.email = model.email.strip().lower()
        with db.session.no_autoflush:
            taken = db.session.scalar(
                db.select(User.id).where(User.email == model.email, User.id != model.id)
            )
        if taken is not None:
            raise ValidationError(_("A user with the email %(email)s already exists.",
                                    email=model.email))
        if form.password.data:
            model.set_password(form.password.data)
        elif is_created:
            raise ValidationError(_("A new user needs a password."))
        reason = None if is_created else _session_end_reason(model)
        if reason:
            # In the transaction that saves the change; admins who change their own
            # password or role keep the session they are doing it in.
            keep = current_user.session_id if model.id == current_user.id else None
            ended = sessions.end_all(model.id, reason, keep=keep, commit=False)
            if ended:
                flash(ngettext("%(num)d session of %(email)s ended (%(reason)s).",
                               "%(num)d sessions of %(email)s ended (%(reason)s).", ended,
                               email=model.email, reason=reason), "info")

    def render(self, template, **kwargs):
        if template == self.edit_template and kwargs.get("model") is not None:
            kwargs["user_sessions"] = sessions.sessions_of(kwargs["model"].id)
            kwargs["open_sessions"] = sessions.open_count(kwargs["model"].id)
        return super().render(template, **kwargs)

    @expose("/<int:user_id>/end-sessions", methods=("POST",))
    def end_sessions(self, user_id: int):
        """End every session of the user (a lost laptop, a colleague who left)."""
        user = db.session.get(User, user_id)
        if user is None:
            abort(404)
        keep = current_user.session_id if user.id == current_user.id else None
        ended = sessions.end_all(user.id, sessions.ENDED_BY_ADMIN, keep=keep)
        flash(ngettext("Ended %(num)d session of %(email)s.",
                       "Ended %(num)d sessions of %(email)s.", ended, email=user.email)
              if ended else _("%(email)s had no open session.", email=user.email),
              "success" if ended else "info")
        return redirect(url_for(".edit_view", id=user.id))


class SignInsView(PanelModelView):
    """Administration > Sign-ins: every login, failed login and refused attempt, newest first."""

    form_base_class = AdminForm
    can_create = can_edit = can_delete = False
    can_view_details = False
    can_export = False
    column_list = ("created_at", "email", "address", "outcome", "user_agent")
    column_labels = {"created_at": _l("When"), "email": _l("Email"),
                     "address": _l("From address"), "outcome": _l("Outcome"),
                     "user_agent": _l("Browser")}
    column_searchable_list = ("email", "address")
    column_sortable_list = ("created_at", "email", "address", "outcome")
    column_default_sort = ("created_at", True)
    page_size = 50

    def is_accessible(self):
        return current_user.is_authenticated and current_user.is_admin
