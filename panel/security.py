"""Who may do what: login on every page, roles checked on the server for every change."""
from __future__ import annotations

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from panel.extensions import login_manager
from panel.services.sessions import SignedInUser, signed_in_user

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reachable without a back-office login: the login form itself, static files, the proxy's
# health check, and the API (which checks its own bearer tokens).
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "admin.static", "healthz"})
PUBLIC_BLUEPRINTS = frozenset({"api"})
# Pages only an admin may open at all; the rest of the panel is readable by every role.
ADMIN_BLUEPRINTS = frozenset({"users", "sign_ins"})
# A user's own account (password, sessions): every role may change it, viewers included.
SELF_SERVICE_BLUEPRINTS = frozenset({"account"})


@login_manager.user_loader
def load_user(token: str) -> SignedInUser | None:
    """The user of the open session the cookie's token names (panel.services.sessions)."""
    return signed_in_user(token)


# Scripts only from our own files (no inline script, no eval), nothing framed or framing us,
# forms posting only back here. Inline style attributes stay allowed: Bootstrap's markup
# uses a few, and a style cannot run code.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.before_request(enforce_access)
    app.after_request(add_security_headers)


def add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype in ("text/html", "text/csv") and request.blueprint != "api" \
            and current_user.is_authenticated:
        # Pages full of customers' personal data: not kept in shared or browser caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def refuse_nul_characters():
    """A NUL character cannot be stored (PostgreSQL refuses it in text) nor searched for:
    name the field and refuse the request before anything reads it. (The API reads JSON
    only, and checks it by path itself.)"""
    if request.blueprint in PUBLIC_BLUEPRINTS:
        return None
    for source in (request.args, request.form):
        for name, values in source.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                abort(400, description=f"The field {name.replace(chr(0), '')!r} contains a NUL "
                                       "character (U+0000), which cannot be stored. "
                                       "Nothing was changed.")
    return None


def enforce_access():
    """Send anonymous users to login; refuse changes by viewers and admin pages to non-admins."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS:
        return None
    if endpoint == "auth.logout":
        return None
    if not current_user.is_authenticated:
        if request.method in SAFE_METHODS:
            target = request.script_root + request.path
            if request.query_string:
                target += "?" + request.query_string.decode("latin-1")
            return redirect(url_for("auth.login", next=target))
        return redirect(url_for("auth.login"))
    if request.blueprint in ADMIN_BLUEPRINTS and not current_user.is_admin:
        abort(403)
    if request.method not in SAFE_METHODS and not current_user.can_edit \
            and request.blueprint not in SELF_SERVICE_BLUEPRINTS:
        abort(403)
    return None
