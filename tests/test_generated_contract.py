"""schemathesis against the Flask app serving a spec without examples (tests/fixtures/generated-3.1.yaml):
every response it generates, in every media type `Accept` picks and every status `Prefer` asks for,
conforms. The mock's own refusals (400 and the like) are issue 11 point 4's, tested with their shapes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as openapi_checks

from mockserver import create_app, load_config

FIXTURE = Path(__file__).parent / "fixtures" / "generated-3.1.yaml"
CHECKS = [
    not_a_server_error,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]


EMPTY_SCENARIOS = tempfile.TemporaryDirectory(prefix="generated-scenarios-")  # removed at exit
schema = schemathesis.openapi.from_path(FIXTURE)
schema.app = create_app(config=load_config(FIXTURE, EMPTY_SCENARIOS.name))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Accept": "application/xml, text/plain;q=0.5"},
        {"Prefer": "dynamic=true", "Accept": "text/plain, */*;q=0.1"},
        {"Prefer": "code=404"},
        {"Prefer": "code=503"},
    ],
    ids=["default", "xml", "dynamic-text", "code-404", "code-503"],
)
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_responses_honour_the_contract(case: schemathesis.Case, headers: dict[str, str]) -> None:
    response = case.call(headers=headers)
    if response.status_code >= 400 and f"code={response.status_code}" not in headers.get("Prefer", ""):
        return  # the mock's own refusal (400, 406, an undocumented Prefer code): point 4's, not generated
    asked_for_5xx = "code=5" in headers.get("Prefer", "")
    case.validate_response(response, checks=CHECKS[1:] if asked_for_5xx else CHECKS)
