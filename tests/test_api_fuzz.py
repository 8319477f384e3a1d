"""Generated requests against the intake API (schemathesis and hypothesis, in-process WSGI).

The OpenAPI document the app serves is the source of the requests: schemathesis generates
valid orders (positive) and schema-breaking ones (negative: wrong types, missing fields, values
beyond the limits), each sent with a good token, no token, a wrong scheme or an unknown token.
A second generator sends raw bodies (random bytes, truncated or hostile JSON, wrong content
types). Every answer must be below 500, match the documented status codes, headers and schemas,
and every 4xx must be a problem body that says what is wrong; a refused request stores nothing.

The cases are counted, printed (run with -s to see the figures) and asserted on: at least
500 generated requests, raw bodies on top. Generation is derandomized so CI sees the same
cases every run.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from panel.extensions import db
from panel.models import Order

pytestmark = pytest.mark.once_per_run  # heavy: once per `make test` (see the Makefile)

ORDERS = "/api/v1/orders"
OPENAPI = "/api/v1/openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]

# How many examples each generator runs. Generating a case costs about 0.14 s here: 1,000
# took CI to 14 minutes 20 on a slow day, against its 15; 500 keep it at about 13.
POSITIVE_EXAMPLES = 190
NEGATIVE_EXAMPLES = 310
RAW_EXAMPLES = 250
MINIMUM_REQUESTS = 500  # schemathesis cases alone, raw bodies come on top

# What a 4xx answer says: the error code, and a word its message must contain.
PROBLEMS = {
    400: ("malformed_json", "JSON"),
    401: ("unauthorized", "token"),
    404: ("not_found", "endpoint"),
    405: ("method_not_allowed", "not allowed"),
    409: ("conflict", "reference"),
    413: ("too_large", "too large"),
    415: ("unsupported_media_type", "application/json"),
    422: ("validation_failed", ""),
}
# A path in a 422 list: field names, list indexes, quoted odd keys, or "(body)" for the body.
_STEP = r'(\[\d+\]|\["(?:[^"\\]|\\.)*"\])'
ERROR_PATH = re.compile(rf"^(\(body\)|([A-Za-z_]\w*|{_STEP})({_STEP}|\.[A-Za-z_]\w*)*)$")

FUZZ_SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)

# How the request is authorised: mostly with the real token, so bodies reach validation.
AUTH_MODES = st.sampled_from(["token"] * 8 + ["none", "unknown", "basic", "empty"])


def authorization(mode: str, token: str) -> dict[str, str]:
    return {
        "token": {"Authorization": f"Bearer {token}"},
        "none": {},
        "unknown": {"Authorization": "Bearer not-a-real-token"},
        "basic": {"Authorization": f"Basic {token}"},
        "empty": {"Authorization": "Bearer   "},
    }[mode]


def order_count(app) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Order))
        db.session.remove()
        return count


def fix_payment(body):
    """Make a generated order's payment equal its grand total, so valid orders get stored.

    The schema cannot say "payment.amount = sum of the items and shipping"; without this nearly
    every positive case would stop at that one rule and never reach the database.
    """
    try:
        total = 0
        for shipment in body["shipments"]:
            total += shipment["price"]
            for item in shipment["items"]:
                total += (item["unit_price"] - item.get("discount", 0)) * item["quantity"]
        body["payment"]["amount"] = total
    except (KeyError, TypeError, AttributeError):
        pass


@dataclass
class Answer:
    """A response as both clients give it: status, headers (lower-case names), body, path."""

    status: int
    headers: dict[str, str]
    body: bytes
    path: str

    @classmethod
    def of(cls, response) -> Answer:
        if isinstance(response, schemathesis.Response):  # schemathesis: header lists
            headers = {k.lower(): v[0] for k, v in response.headers.items() if v}
            path = urlsplit(response.request.url).path
            return cls(response.status_code, headers, response.content, path)
        headers = {k.lower(): v for k, v in response.headers.items()}
        return cls(response.status_code, headers, response.get_data(), response.request.path)

    @property
    def json(self):
        return json.loads(self.body)


def assert_problem(answer: Answer) -> dict:
    """A 4xx answer is JSON with an error code and a message naming the problem."""
    status = answer.status
    assert answer.headers.get("content-type", "").startswith("application/json"), (
        status, answer.headers.get("content-type"), answer.body[:300])
    body = answer.json
    assert isinstance(body, dict), body
    code, word = PROBLEMS[status]
    assert body.get("error") == code, body
    message = body.get("message")
    assert isinstance(message, str) and len(message) >= 10, body
    assert word.lower() in message.lower(), body
    if status == 422:
        errors = body.get("errors")
        assert isinstance(errors, list) and errors, body
        for error in errors:
            assert ERROR_PATH.match(error["path"]), error
            assert isinstance(error["message"], str) and error["message"].strip(), error
        assert str(len(errors)) in message or "JSON object" in message, body
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer"), answer.headers
    return body


def check_answer(app, response, before: int, stats: Counter) -> Answer:
    """No 5xx; 4xx is a problem body and stores nothing; 201 stores exactly one order."""
    answer = Answer.of(response)
    status = answer.status
    stats[status] += 1
    assert status < 500, answer.body[:2000]
    after = order_count(app)
    if 400 <= status < 500:
        assert_problem(answer)
        assert after == before, f"a refused request ({status}) changed the orders table"
    elif status == 201:
        assert after == before + 1
        assert answer.json["created"] is True
        assert answer.headers["location"] == answer.json["url"]
    elif status == 200 and answer.path == ORDERS:
        assert after == before and answer.json["created"] is False
    else:
        assert status == 200, status
    return answer


@pytest.fixture
def schema(app):
    """The document as the app serves it, with its WSGI app to send the requests to.

    (``from_wsgi`` would drop the operation that serves the document itself, so the served
    JSON is read here and handed over.)
    """
    served = app.test_client().get(OPENAPI)
    assert served.status_code == 200
    loaded = schemathesis.openapi.from_dict(served.json)
    loaded.app = app
    return loaded


def test_generated_requests_never_fail_and_match_the_document(app, api_token, schema, capsys):
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = sorted(op.label for op in operations)
    assert labels == ["GET /api/v1/openapi.json", "POST /api/v1/orders"]
    counts: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    session_headers = {"Host": "localhost"}

    def run(operation, mode: GenerationMode, examples: int) -> None:
        strategy = operation.as_strategy(generation_mode=mode)

        @settings(max_examples=examples, **FUZZ_SETTINGS)
        @given(case=strategy, auth=AUTH_MODES)
        def one_request(case, auth):
            if mode is GenerationMode.POSITIVE and isinstance(case.body, dict):
                fix_payment(case.body)
            headers = {**session_headers, **authorization(auth, api_token)}
            before = order_count(app)
            response = case.call(headers=headers)
            counts[f"{operation.label} {mode.value}"] += 1
            answer = check_answer(app, response, before, statuses)
            if operation.label.startswith("POST") and auth != "token":
                assert answer.status == 401, answer.body
            case.validate_response(response, checks=CHECKS, headers=headers)

        one_request()

    intake, document = schema[ORDERS]["POST"], schema[OPENAPI]["GET"]
    run(intake, GenerationMode.POSITIVE, POSITIVE_EXAMPLES)
    run(intake, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)
    # The document takes no input: nothing to negate, so only the auth variants are tried.
    run(document, GenerationMode.POSITIVE, 10)

    total = sum(counts.values())
    with capsys.disabled():
        print(f"\nschemathesis: {total} generated requests: {dict(sorted(counts.items()))}; "
              f"statuses {dict(sorted(statuses.items()))}")
    assert counts[f"POST {ORDERS} positive"] >= POSITIVE_EXAMPLES * 0.9
    assert counts[f"POST {ORDERS} negative"] >= NEGATIVE_EXAMPLES * 0.9
    # Valid orders were stored, and every kind of refusal was seen.
    assert total >= MINIMUM_REQUESTS, counts
    assert statuses[201] >= 20, statuses
    assert {401, 422} <= set(statuses), statuses


# --- raw bodies: what no schema describes ------------------------------------------------

def _valid_json() -> bytes:
    from tests.conftest import order_payload

    return json.dumps(order_payload()).encode()


HOSTILE_BODIES = [
    b"",
    b"null",
    b"[]",
    b'"order"',
    b"{",
    b'{"store": "DE",',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"store": NaN}',
    b'{"payment": {"method": "x", "amount": 1e400}}',
    b'{"payment": {"method": "x", "amount": 123456789012345678901234567890}}',
    b"\xff\xfe\x00{",
    b'{"store": "\\ud800"}',
    b"\x00" * 64,
    "{\"store\": \"DE\u0000\"}".encode(),
]
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain",
                 "application/x-www-form-urlencoded", "application/problem+json", "",
                 "multipart/form-data; boundary=x", "application/json; charset=latin-1"]


@st.composite
def raw_bodies(draw) -> bytes:
    """Random bytes, a valid order cut short or with bytes flipped, or a hostile document."""
    kind = draw(st.sampled_from(["bytes", "truncated", "mutated", "hostile", "text"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    if kind == "hostile":
        return draw(st.sampled_from(HOSTILE_BODIES))
    valid = _valid_json()
    if kind == "truncated":
        return valid[: draw(st.integers(0, len(valid) - 1))]
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 5))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    return bytes(data)


def test_raw_bodies_get_a_clear_error_or_are_stored(app, api_token, client, capsys):
    statuses: Counter[int] = Counter()

    @settings(max_examples=RAW_EXAMPLES, **FUZZ_SETTINGS)
    @given(body=raw_bodies(), content_type=st.sampled_from(CONTENT_TYPES), auth=AUTH_MODES)
    def one_request(body, content_type, auth):
        headers = authorization(auth, api_token)
        if content_type:
            headers["Content-Type"] = content_type
        before = order_count(app)
        response = client.post(ORDERS, data=body, headers=headers)
        check_answer(app, response, before, statuses)
        if auth != "token":
            assert response.status_code == 401

    one_request()
    for body in HOSTILE_BODIES:  # each one at least once, whatever the generator picked
        before = order_count(app)
        response = client.post(ORDERS, data=body, headers={
            **authorization("token", api_token), "Content-Type": "application/json"})
        check_answer(app, response, before, statuses)
    total = sum(statuses.values())
    with capsys.disabled():
        print(f"\nraw bodies: {total} requests; statuses {dict(sorted(statuses.items()))}")
    assert total >= RAW_EXAMPLES * 0.9
    assert {400, 401, 415, 422} <= set(statuses), statuses


def test_body_over_the_limit_is_413_with_a_problem_body(app, api_token, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"cart_note": "' + b"x" * limit + b'"}'
    before = order_count(app)
    response = client.post(ORDERS, data=body, headers={
        **authorization("token", api_token), "Content-Type": "application/json"})
    assert response.status_code == 413
    check_answer(app, response, before, Counter())

