"""schemathesis against the Flask app itself (WSGI, no sockets), for every bundled scenario.

Bounded by default; MOCKSERVER_DEEP_CONTRACT=1 runs far more examples (nightly).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as openapi_checks

from mockserver import create_app, load_config

from .conftest import ROOT, SCENARIOS, SPEC
from .contract_plan import FIXTURE_CHECKS, FIXTURE_SPECS, LOSSY_MEDIA_TYPES, NOT_CONTRACT_TESTED, PLAN

DEEP = bool(os.environ.get("MOCKSERVER_DEEP_CONTRACT"))
APP = create_app(config=load_config(SPEC, SCENARIOS))
schema = schemathesis.openapi.from_path(SPEC)
schema.app = APP  # every request, follow-up probes included, goes to the WSGI app

CHECKS = {
    check.__name__: check
    for check in [
        not_a_server_error,
        openapi_checks.status_code_conformance,
        openapi_checks.content_type_conformance,
        openapi_checks.response_schema_conformance,
        openapi_checks.response_headers_conformance,
        openapi_checks.negative_data_rejection,
        openapi_checks.positive_data_acceptance,
        openapi_checks.unsupported_method,
        openapi_checks.missing_required_header,
        openapi_checks.ignored_auth,
    ]
}


def test_plan_covers_every_bundled_scenario() -> None:
    assert sorted([*PLAN, *NOT_CONTRACT_TESTED]) == sorted(load_config(SPEC, SCENARIOS).scenarios)


@pytest.mark.parametrize("scenario", list(PLAN))
@schema.parametrize()
@settings(max_examples=1000 if DEEP else 40, deadline=None, suppress_health_check=list(HealthCheck))
def test_app_honours_the_contract(case: schemathesis.Case, scenario: str) -> None:
    names, headers = PLAN[scenario]
    checks = [CHECKS[name] for name in names]
    # Valid credentials replace generated ones on the case itself, so schemathesis re-validates
    # what is really sent; a header a case leaves out on purpose (a missing-header test) stays out.
    sent = dict(case.headers or {})
    case.headers = {**sent, **{name: value for name, value in headers.items() if name in sent}}
    case.call_and_validate(headers={"X-Mock-Scenario": scenario}, checks=checks)


FIXTURES = ROOT / "tests" / "fixtures"
ANY_SPEC, ANY_SCENARIOS = next(iter(FIXTURE_SPECS.items()))
any_schema = schemathesis.openapi.from_path(FIXTURES / ANY_SPEC)
any_schema.app = create_app(config=load_config(FIXTURES / ANY_SPEC, FIXTURES / ANY_SCENARIOS))


@any_schema.parametrize()
@settings(max_examples=1000 if DEEP else 40, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_requests_fixture_honours_the_contract(case: schemathesis.Case) -> None:
    """Every parameter style, media type and security scheme, positive and negative cases alike."""
    names = FIXTURE_CHECKS
    if (case.media_type or "").split(";")[0] in LOSSY_MEDIA_TYPES:
        names = [name for name in names if name != "negative_data_rejection"]
    case.call_and_validate(checks=[CHECKS[name] for name in names])


def test_harness_fails_when_the_app_breaks_the_contract(tmp_path: Any) -> None:
    """The same harness, given a spec the app does not honour, reports the violation."""
    from schemathesis.core.failures import FailureGroup

    from .conftest import HEADERS, SMTP_PATH, valid_body

    stricter = tmp_path / "openapi.yaml"
    stricter.write_text(SPEC.read_text().replace("isDefault, status, id]", "isDefault, status, id, createdDate]"))
    broken = schemathesis.openapi.from_path(stricter)
    broken.app = APP
    case = broken[SMTP_PATH]["POST"].Case(body=valid_body(), headers=HEADERS, media_type="application/json")
    with pytest.raises(FailureGroup, match="createdDate"):
        case.call_and_validate(checks=[openapi_checks.response_schema_conformance])
