"""``POST /api/v1/orders`` and the OpenAPI document generated from the intake schema."""
from __future__ import annotations

import json

from flask import Blueprint, jsonify, request, url_for
from pydantic import ValidationError

from panel.api.openapi import openapi_document
from panel.api.problems import problem
from panel.services import api_tokens, intake
from panel.services.intake_schema import OrderIn, error_list, nul_character_errors

api = Blueprint("api", __name__)


@api.before_request
def require_token():
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return problem(401, "unauthorized", "Send an API token: Authorization: Bearer <token>.")
    if api_tokens.token_for(presented.strip()) is None:
        return problem(401, "unauthorized", "The API token is unknown or revoked.")
    return None


@api.post("/orders")
def create_order():
    """Receive one order; idempotent by order_reference."""
    if not request.is_json:
        return problem(415, "unsupported_media_type", "Send the order as application/json.")
    try:
        raw = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        return problem(400, "malformed_json", f"The body is not valid JSON: {exc}")
    except RecursionError:  # json.loads gives up on arrays or objects nested thousands deep
        return problem(400, "malformed_json",
                       "The body is not usable JSON: it is nested too deeply.")
    if not isinstance(raw, dict):
        return problem(422, "validation_failed", "The body must be a JSON object.",
                       errors=[{"path": "(body)", "message": "must be a JSON object"}])
    nul_errors = nul_character_errors(raw)
    if nul_errors:
        return problem(422, "validation_failed",
                       f"The order has {len(nul_errors)} invalid field(s); nothing was stored.",
                       errors=nul_errors)
    try:
        payload = OrderIn.model_validate(raw)
    except ValidationError as exc:
        errors = error_list(exc)
        return problem(422, "validation_failed",
                       f"The order has {len(errors)} invalid field(s); nothing was stored.",
                       errors=errors)
    try:
        result = intake.receive_order(payload)
    except intake.IntakeConflict as exc:
        message = str(exc)
        return problem(409, "conflict", message[0].upper() + message[1:] + ".",
                       order_reference=exc.order_reference)
    body = {**result.summary, "created": result.created,
            "url": url_for("orders.details", order_id=result.summary["id"], _external=True)}
    if result.created:  # stored now: say whether its items started
        body["start_error"] = result.start_error
    response = jsonify(body)
    response.status_code = 201 if result.created else 200
    response.headers["Location"] = body["url"]
    return response


@api.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
