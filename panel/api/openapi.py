"""The OpenAPI 3.1 document, built from the same pydantic schema that validates requests."""
from __future__ import annotations

from functools import lru_cache

from panel.services.intake_schema import OrderIn

_REF = "#/components/schemas/{model}"


def _problem_schema(with_errors: bool) -> dict:
    props = {
        "error": {"type": "string"},
        "message": {"type": "string", "description": "What is wrong, for a person."},
    }
    if with_errors:
        props["errors"] = {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string", "examples": ["shipments[0].items[1].sku"]},
                    "message": {"type": "string"},
                },
                "required": ["path", "message"],
            },
        }
    return {"type": "object", "properties": props, "required": ["error", "message"]}


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    """Return the API description (cached: the schema does not change at run time)."""
    schema = OrderIn.model_json_schema(ref_template=_REF)
    components = schema.pop("$defs", {})
    components["OrderIn"] = schema
    components["Problem"] = _problem_schema(False)
    components["ValidationProblem"] = _problem_schema(True)
    components["OrderAccepted"] = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "order_reference": {"type": "string"},
            "currency": {"type": "string"},
            "grand_total": {"type": "integer", "description": "In minor units."},
            "item_count": {"type": "integer"},
            "created": {"type": "boolean"},
            "url": {"type": "string", "format": "uri"},
        },
        "required": ["id", "order_reference", "currency", "grand_total", "item_count",
                     "created", "url"],
    }
    components["OrderCreated"] = {
        "allOf": [
            {"$ref": _REF.format(model="OrderAccepted")},
            {"type": "object", "properties": {"start_error": {
                "type": ["string", "null"],
                "description": "null when the order's items started in their process; else "
                "why they could not (a command of the first state's onEnter event failed). "
                "The order is stored either way; its items wait in their first state and "
                "its page in the back office shows the failure.",
                "examples": [None, "Erp/Export: the ERP did not answer"],
            }}, "required": ["start_error"]},
        ],
    }

    def problem(description, name="Problem", headers=None):
        response = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": _REF.format(model=name)}}},
        }
        if headers:
            response["headers"] = headers
        return response

    challenge = {"WWW-Authenticate": {
        "description": "The scheme to use: Bearer.",
        "required": True,
        "schema": {"type": "string", "pattern": "^Bearer "},
    }}
    location = {"Location": {
        "description": "The order's page in the back office.",
        "required": True,
        "schema": {"type": "string", "format": "uri"},
    }}

    accepted = {"application/json": {"schema": {"$ref": _REF.format(model="OrderAccepted")}}}
    created = {"application/json": {"schema": {"$ref": _REF.format(model="OrderCreated")}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Order Panel intake API",
            "version": "1",
            "description": "Storefronts push orders here. Amounts are integers in the "
            "minor unit of the order's currency. One-line text fields take no control "
            "character (CR, LF and TAB included) and no bidirectional embedding, override or "
            "isolate, and need a visible character; cart_note and an address's comment may "
            "also hold line breaks and tabs. Every error is a Problem body.",
        },
        "paths": {
            "/api/v1/orders": {
                "post": {
                    "operationId": "createOrder",
                    "summary": "Receive an order (idempotent by order_reference)",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": _REF.format(model="OrderIn")}}
                        },
                    },
                    "responses": {
                        "201": {"description": "The order was stored, and its items "
                                "started in their process unless start_error says why not.",
                                "content": created, "headers": location},
                        "200": {
                            "description": "The same order was already stored; it is returned.",
                            "content": accepted,
                            "headers": location,
                        },
                        "400": problem("The body is not JSON (malformed_json), or the "
                                       "host name is not trusted (untrusted_host)."),
                        "401": problem("No token, or an unknown one.", headers=challenge),
                        "409": problem("The reference is taken by an order with other content."),
                        "413": problem("The body, with a Content-Length or chunked, is "
                                       "larger than the server accepts "
                                       "(PANEL_MAX_REQUEST_BYTES)."),
                        "415": problem("The body is not application/json."),
                        "422": problem("Invalid fields, each named by its path.",
                                       "ValidationProblem"),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApiDocument",
                    "summary": "This document (needs no token)",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.1 description of the API.",
                            "content": {"application/json": {"schema": {
                                "type": "object", "required": ["openapi", "info", "paths"],
                            }}},
                        },
                    },
                }
            },
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
