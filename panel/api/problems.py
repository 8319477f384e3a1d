"""The API's error format, ``{"error": ..., "message": ...}``, for every error under /api/.

Flask runs a blueprint's error handlers only for requests that matched one of its routes: an
unknown path (``/api/v2/orders``), a method no route takes and a refused Host header match
none. So the API's errors are answered by one handler on the app, chosen by the request's
path, which is the path inside the script root (a proxy's ``/backoffice`` prefix is not in it).
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, SecurityError

API_ROOT = "/api"

# Error codes and messages for the statuses the API answers itself; others are named after
# the status (``429 Too Many Requests`` -> ``too_many_requests``) with Werkzeug's description.
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}


def is_api_request() -> bool:
    """Tell whether the current request is for the API, whether or not a route matched."""
    return request.path == API_ROOT or request.path.startswith(API_ROOT + "/")


def problem(status: int, error: str, message: str, **extra):
    """Build an error answer: ``{"error": error, "message": message, **extra}``."""
    response = jsonify({"error": error, "message": message, **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="order-panel"'
    return response


def http_error(exc: HTTPException):
    """Answer an HTTP error under /api/ in the API's format, with the error's own headers
    (``Allow`` on a 405); leave errors elsewhere to the panel's pages."""
    if not is_api_request() or exc.code is None:
        return exc
    if isinstance(exc, SecurityError):
        response = problem(400, "untrusted_host",
                           "The request's host name is not one this server answers to.")
    else:
        error = ERROR_CODES.get(exc.code) or exc.name.lower().replace(" ", "_")
        response = problem(exc.code, error, _message(exc))
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _message(exc: HTTPException) -> str:
    if exc.code == 404:
        return ("There is no such API endpoint; the API is described at "
                f"{request.script_root}{API_ROOT}/v1/openapi.json.")
    if exc.code == 405:
        valid = getattr(exc, "valid_methods", None) or ()
        taken = sorted(m for m in valid if m not in ("HEAD", "OPTIONS")) or sorted(valid)
        return f"{request.method} is not allowed here; this endpoint takes {', '.join(taken)}."
    if exc.code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return ("The request body is too large" +
                (f": at most {limit:,} bytes are accepted." if limit else "."))
    return exc.description or exc.name


def init_app(app: Flask) -> None:
    """Answer every HTTP error under /api/ in the API's format."""
    app.register_error_handler(HTTPException, http_error)
