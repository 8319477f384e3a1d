"""Logging in and out of the back office.

A login starts a server-side session (panel.services.sessions) and a fresh Flask session:
everything the anonymous session held, its CSRF token included, is dropped, so a token
picked up before the login is worth nothing after it. Logging out ends the server-side
session and drops the Flask session again.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from panel.i18n import _, _l
from panel.services import sessions, sign_ins, users
from panel.services.passwords import MAX_LENGTH as PASSWORD_MAX_LENGTH

bp = Blueprint("auth", __name__)

LOGIN_FAILED = _l("Email or password is not correct.")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)])


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
        attempt, reason = sign_ins.begin(email, address, agent)
        if reason:
            flash(reason, "error")
            return render_template("login.html", form=form), 429
        user = users.authenticate(email, form.password.data)
        if user is None:
            sign_ins.finish(attempt, sign_ins.FAILED)
            flash(str(LOGIN_FAILED), "error")
        else:
            sign_ins.finish(attempt, sign_ins.SIGNED_IN)
            signed_in = sessions.start(user, address, agent)
            session.clear()  # nothing of the anonymous session, its CSRF token included
            session.permanent = True  # expires after PANEL_SESSION_HOURS without a request
            login_user(signed_in)
            return redirect(next_url or url_for("admin.index"))
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        sessions.end(current_user.session_id, sessions.LOGGED_OUT)
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))
