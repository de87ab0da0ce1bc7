"""Which checks each bundled scenario must pass, shared by the live and the in-process contract suites.

Why some checks are left out for some scenarios:
- `ignored_auth` proves invalid keys are refused, so only a scenario that knows its keys
  (`restricted`) can pass it; the others accept any non-empty key on purpose.
- Throttling scenarios answer 429 before looking at headers, as rate limiters do, so a missing
  Brand-URL gets 429 there, not the 4xx `missing_required_header` wants.
- `validation-error` and `rules-demo` refuse some valid input on purpose (to show errors), so only
  what they send is checked, plus that invalid input is still refused.
"""

from __future__ import annotations

RESPONSE_CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]
REQUEST_CHECKS = [
    "negative_data_rejection",
    "positive_data_acceptance",
    "unsupported_method",
    "missing_required_header",
]
FULL = RESPONSE_CHECKS + REQUEST_CHECKS
THROTTLED = [c for c in FULL if c != "missing_required_header"]
REFUSES_SOME_VALID = [*RESPONSE_CHECKS, "negative_data_rejection", "unsupported_method"]

PLAN: dict[str, tuple[list[str], dict[str, str]]] = {
    "success": (FULL, {}),
    "restricted": ([*FULL, "ignored_auth"], {"Auth-Key": "demo-key-alice", "Brand-URL": "acme.example"}),
    "stateful": (FULL, {}),
    "templated": (FULL, {}),
    "unauthorized": (FULL, {}),
    "forbidden": (FULL, {}),
    "rate-limited": (THROTTLED, {}),
    "quota": (THROTTLED, {}),
    "third-call-throttled": (THROTTLED, {}),
    "validation-error": (REFUSES_SOME_VALID, {}),
    "rules-demo": (REFUSES_SOME_VALID, {}),
}

# Fixture specs beyond the bundled one, served with their own scenario directory: every parameter style,
# media type and security scheme (issue 12). ignored_auth needs known keys, which `success` does not have.
FIXTURE_SPECS = {"any-requests-3.1.yaml": "any-requests-scenarios"}
FIXTURE_CHECKS = FULL

# Media types whose wire form cannot carry every type distinction schemathesis' negative cases make: a
# form, multipart or XML string is also a one-item array, an empty array also an absent element.
LOSSY_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded", "application/xml")

NOT_CONTRACT_TESTED = {
    "flaky-network": "outside the contract on purpose (resets, empty and malformed responses)",
    "hanging": "outside the contract on purpose (never answers)",
    "slow": "answers as `success` does, 0.3-1.5 s late: hundreds of cases would take minutes; its "
    "latency is tested in test_engine.py",
}
