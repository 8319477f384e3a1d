"""Administration > Users: back-office accounts, for admins only."""
from __future__ import annotations

from flask_login import current_user
from wtforms import PasswordField, SelectField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from panel.admin.forms import AdminForm
from panel.admin.model_views import PanelModelView
from panel.extensions import db
from panel.models import User
from panel.models.user import ROLES

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class UsersView(PanelModelView):
    form_base_class = AdminForm  # one CSRF scheme for the whole app (see STACK.md)
    named_filter_urls = True
    can_view_details = False
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
            "Password",
            description="Leave empty to keep the current password.",
            validators=[Optional(), Length(min=8, max=200)],
        )
    }
    form_overrides = {"role": SelectField}
    form_args = {
        "role": {"choices": list(ROLES)},
        "email": {"validators": [InputRequired(), Length(max=254),
                            Regexp(EMAIL_PATTERN, message="Not an email address.")]},
        "name": {"validators": [InputRequired(), Length(max=100)]},
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
            raise ValidationError(f"A user with the email {model.email} already exists.")
        if form.password.data:
            model.set_password(form.password.data)
        elif is_created:
            raise ValidationError("A new user needs a password.")


class SignInsView(PanelModelView):
    """Administration > Sign-ins: every login, failed login and refused attempt, newest first."""

    form_base_class = AdminForm
    can_create = can_edit = can_delete = False
    can_view_details = False
    can_export = False
    column_list = ("created_at", "email", "address", "outcome", "user_agent")
    column_labels = {"created_at": "When", "address": "From address"}
    column_searchable_list = ("email", "address")
    column_sortable_list = ("created_at", "email", "address", "outcome")
    column_default_sort = ("created_at", True)
    page_size = 50

    def is_accessible(self):
        return current_user.is_authenticated and current_user.is_admin
