"""Logging in and out of the back office."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from panel.services import sign_ins, users

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "Email or password is not correct."


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def safe_next(target: str | None) -> str | None:
    """Return ``target`` only when it is a path on this site, never another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("admin.index"))
    form = LoginForm()
    status = 200 if request.method == "GET" else 400
    if form.validate_on_submit():
        email = users.normalise_email(form.email.data)
        address = request.remote_addr or "unknown"
        agent = request.user_agent.string
        reason = sign_ins.refusal(email, address)
        if reason:
            sign_ins.record(email, address, sign_ins.REFUSED, agent)
            flash(reason, "error")
            return render_template("login.html", form=form), 429
        user = users.authenticate(email, form.password.data)
        if user is None:
            sign_ins.record(email, address, sign_ins.FAILED, agent)
            flash(LOGIN_FAILED, "error")
        else:
            sign_ins.record(email, address, sign_ins.SIGNED_IN, agent)
            session.permanent = True  # expires after PANEL_SESSION_HOURS without a request
            login_user(user)
            return redirect(next_url or url_for("admin.index"))
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
