"""Error pages: a lost or busy database (503) and anything unexpected (500).

Neither page shows details: the traceback goes to the log, the user gets what happened to
their work. A request that fails on the database has its transaction rolled back, so
nothing of it is saved; the page says so. The API answers in JSON like its other errors.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_login import AnonymousUserMixin
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect
from werkzeug.exceptions import InternalServerError

from panel.extensions import db

log = logging.getLogger("panel.errors")

DATABASE_MESSAGE = ("The database could not be reached, so nothing was saved. "
                    "Please try again in a moment.")
DATABASE_BUSY_MESSAGE = ("The database could not complete the request, so nothing was saved. "
                         "Please try again in a moment.")
INTERNAL_MESSAGE = ("Something went wrong on our side, and the request was not completed. "
                    "Please try again; if it keeps happening, tell your administrator.")


def init_app(app: Flask) -> None:
    app.register_error_handler(sa_exc.DBAPIError, database_error)
    app.register_error_handler(InternalServerError, internal_error)


def is_unavailable(exc: sa_exc.DBAPIError) -> bool:
    """A lost connection, a database that refuses connections, or one too busy to answer
    (lock or statement timeouts, SQLite's "database is locked"): worth trying again."""
    return exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError)


def database_error(exc: sa_exc.DBAPIError):
    _discard_transaction()
    if not is_unavailable(exc):  # a bug (a constraint, bad SQL): that is a 500
        return internal_error(InternalServerError(original_exception=exc))
    log.error("database error in %s %s: %s", request.method, request.path,
              str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip()
              else type(exc).__name__)
    message = DATABASE_MESSAGE if _lost(exc) else DATABASE_BUSY_MESSAGE
    if _wants_json():
        response = jsonify({"error": "database_unavailable", "message": message})
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response
    body = _render_page("errors/database.html", title="Database unavailable", message=message)
    return body, 503, {"Retry-After": "5"}


def internal_error(exc: InternalServerError):
    original = getattr(exc, "original_exception", None)
    if original is not None:
        log.error("unhandled error in %s %s", request.method, request.path,
                  exc_info=(type(original), original, original.__traceback__))
    _discard_transaction()
    if _wants_json():
        response = jsonify({"error": "internal_error", "message": INTERNAL_MESSAGE})
        response.status_code = 500
        return response
    return _render_page("errors/internal.html", title="Something went wrong",
                        message=INTERNAL_MESSAGE), 500


def _lost(exc: sa_exc.DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    text = str(exc.orig or "").lower()
    return any(word in text for word in (
        "connection", "server closed", "terminating", "could not connect", "connect to server",
        "unable to open database"))


def _wants_json() -> bool:
    if request.blueprint == "api" or request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def _discard_transaction() -> None:
    """Roll back what the request wrote. The signed-in user, already loaded, is kept out of
    the rollback so the page can show their name without asking the database again."""
    user = g.get("_login_user")
    try:
        if user is not None and getattr(user, "is_authenticated", False) and user in db.session:
            state = inspect(user)
            if state.unloaded:  # expired by an earlier commit: would need the database
                g._login_user = AnonymousUserMixin()
            else:
                db.session.expunge(user)
        db.session.rollback()
    except Exception:  # the session is beyond help; the teardown removes it anyway
        log.exception("could not roll back the session after an error")


def _render_page(template: str, **context) -> str:
    """The page in the panel's layout; if even that fails (it reads the menu, the user),
    the same message on a page of its own."""
    admins = current_app.extensions.get("admin") or []
    if admins:
        try:
            return admins[0].index_view.render(template, **context)
        except Exception:
            log.exception("could not render %s in the panel layout", template)
            g._login_user = AnonymousUserMixin()
            try:
                return admins[0].index_view.render(template, **context)
            except Exception:
                log.exception("could not render %s for an anonymous user", template)
    try:
        return render_template("errors/standalone.html", **context)
    except Exception:
        log.exception("could not render the standalone error page")
        return f"<!DOCTYPE html><title>{context['title']}</title><p>{context['message']}</p>"
