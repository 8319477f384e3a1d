"""Error pages: a lost or busy database (503) and anything unexpected (500).

Neither page shows details: the traceback of an unexpected error goes to the log (a lost or
busy database is expected and gets one line); the user gets what happened to their work.
A request that fails on the database has its transaction rolled back. Most requests write
in one transaction, so nothing of them was saved, and the page says so; a request that
committed something before the failure (several transactions, such as a login, or a mail
queued and then sent) is told that part of it was saved. The signed-in user is plain values
(panel.services.sessions), so the page keeps the user's name and menu without asking the
database again. The API answers in JSON like its other errors.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, has_request_context, jsonify, render_template, request
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import InternalServerError

from panel.api.problems import is_api_request
from panel.db_faults import is_lost, is_unavailable
from panel.extensions import db
from panel.i18n import N_, _

log = logging.getLogger("panel.errors")

# English in the API's JSON; the pages show them in the user's language.
DATABASE_MESSAGE = N_("The database could not be reached, so nothing was saved. "
                      "Please try again in a moment.")
DATABASE_BUSY_MESSAGE = N_("The database could not complete the request, so nothing was "
                           "saved. Please try again in a moment.")
PARTLY_SAVED_MESSAGE = N_("The database stopped answering partway through this request: what "
                          "was done before that was saved, the rest was not. Reload the page "
                          "to see where things stand, and try the rest again in a moment.")
INTERNAL_MESSAGE = N_("Something went wrong on our side, and the request was not completed. "
                      "Please try again; if it keeps happening, tell your administrator.")


def init_app(app: Flask) -> None:
    app.register_error_handler(sa_exc.DBAPIError, database_error)
    app.register_error_handler(InternalServerError, internal_error)
    if not event.contains(db.session, "after_commit", _note_commit):
        event.listen(db.session, "after_commit", _note_commit)


def _note_commit(session) -> None:
    """Remember that this request has saved something, for the error page's message."""
    if has_request_context():
        g.panel_saved_something = True


def database_error(exc: sa_exc.DBAPIError):
    _discard_transaction()
    if not is_unavailable(exc):  # a bug (a constraint, bad SQL): that is a 500
        return internal_error(InternalServerError(original_exception=exc))
    log.error("database error in %s %s: %s", request.method, request.path,
              str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip()
              else type(exc).__name__)
    if g.get("panel_saved_something"):
        message = PARTLY_SAVED_MESSAGE
    else:
        message = DATABASE_MESSAGE if is_lost(exc) else DATABASE_BUSY_MESSAGE
    if _wants_json():
        response = jsonify({"error": "database_unavailable", "message": message})
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response
    body = _render_page("errors/database.html", title=_("Database unavailable"),
                        message=_(message))
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
    return _render_page("errors/internal.html", title=_("Something went wrong"),
                        message=_(INTERNAL_MESSAGE)), 500


def _wants_json() -> bool:
    if is_api_request():
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def _discard_transaction() -> None:
    """Roll back what the request wrote (the signed-in user is plain values, not a row of
    this session, so nothing about them is lost)."""
    try:
        db.session.rollback()
    except sa_exc.DBAPIError as exc:  # the connection is gone; the teardown removes it
        log.warning("could not roll back after an error: %s", type(exc.orig).__name__)


def _render_page(template: str, **context) -> str:
    """The page in the panel's layout; if even that fails (it reads the menu, the user),
    the same message on a page of its own."""
    admins = current_app.extensions.get("admin") or []
    if admins:
        try:
            return admins[0].index_view.render(template, **context)
        except Exception:
            log.exception("could not render %s in the panel layout", template)
    try:
        return render_template("errors/standalone.html", **context)
    except Exception:
        log.exception("could not render the standalone error page")
        return f"<!DOCTYPE html><title>{context['title']}</title><p>{context['message']}</p>"
