"""Schemathesis against the gateway's own OpenAPI schema: no generated request gets a 5xx.

Every operation gets schemathesis's coverage phase (each field's boundaries, wrong types, missing and
extra properties) and a few dozen fuzzed cases, valid and invalid, from a fixed seed with deterministic
generation. Each answer must be a non-5xx with a documented status and content type, match its
response schema (errors: OpenAI's `{"error": {message, type, param, code}}`), and a stream that started
must not carry an internal error event.

Requests that would generate are kept cheap: output lengths and choice counts are capped before
sending, so a valid request costs a few tokens on the tiny model.

Not checked: schemathesis's `negative_data_rejection`. The request models are strict now (as
OpenAI's API is: `"stream": 0` or `"temperature": false` is a 400), so it could be turned on; it has
not been tried against the whole schema yet.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.app import create_app
from server.settings import Settings

pytestmark = pytest.mark.engine

SEED = 20260601
MAX_EXAMPLES = 25  # fuzzed cases per operation, on top of the coverage phase's
# Fields that make generation cost more, and the most a generated request may ask for.
CAPS = {"max_tokens": 4, "max_completion_tokens": 4, "max_output_tokens": 4, "min_tokens": 4, "n": 2, "best_of": 2}
GENERATING = ("/v1/chat/completions", "/v1/completions", "/v1/responses")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def openapi_document() -> dict[str, Any]:
    """What the gateway serves at `/openapi.json`, built from the app factory without an engine."""
    app = create_app(Settings(model="tiny"), lambda: None)  # type: ignore[arg-type,return-value]
    return app.openapi()


# Loaded at import: schemathesis parametrizes at collection, before the gateway fixture exists.
# (`schemathesis.pytest.from_fixture` would load it from the live gateway, but breaks on pytest 9.)
schema = schemathesis.openapi.from_dict(openapi_document(), config=schemathesis.Config.from_dict({
    "seed": SEED,
    "suppress-health-check": ["all"],
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
}))


def test_served_schema_is_the_one_fuzzed(gateway):
    assert httpx.get(gateway.base_url + "/openapi.json", timeout=30).json() == openapi_document()


@schema.parametrize()
def test_no_server_errors(case, gateway):
    if case.path in GENERATING:
        case.body = cheap(case.body, "max_output_tokens" if case.path == "/v1/responses" else "max_tokens")
    response = case.call(base_url=gateway.base_url, timeout=60)
    case.validate_response(response, checks=CHECKS)
    content_type = response.headers.get("content-type", [""])[0]
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}, response.text
        assert error["message"], response.text
    elif content_type.startswith("text/event-stream"):
        assert "internal_error" not in response.text, response.text


def cheap(body: Any, limit: str = "max_tokens") -> Any:
    """The body with generation-cost fields capped; anything not a JSON object is left as generated."""
    if not isinstance(body, dict):
        return body
    body = dict(body)
    for name, cap in CAPS.items():
        if name in body:
            body[name] = _capped(body[name], cap)
    if body.get(limit) is None:  # absent or null: the server would fill the whole context
        body[limit] = CAPS[limit]
    return body


def _capped(value: Any, cap: int) -> Any:
    """`value` lowered to `cap` if pydantic would read it as a larger number; otherwise unchanged."""
    if isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return value
    return cap if not math.isnan(number) and number > cap else value
