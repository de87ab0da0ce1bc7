"""The fast path (jsonschema-rs) must reach the same verdict as jsonschema on every instance."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing import Registry

from mockserver.config import MockConfig
from mockserver.validation import SchemaCheck, compile_validator, fast_document

from .conftest import valid_body

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
FIELDS = [
    "appIntegrationId",
    "name",
    "host",
    "port",
    "username",
    "password",
    "useTls",
    "isDefault",
    "description",
    "status",
    "extra",
]
EDGES = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        -1,
        587.0,
        587.5,
        2**31 - 1,
        2**31,
        -(2**31),
        -(2**31) - 1,
        10**30,
        "",
        "x",
        "0 - Inactive",
        "1 - Active",
        "Active",
        [],
        {},
    ]
)
BODIES = st.one_of(
    JSON,
    st.builds(
        lambda changes: {k: v for k, v in {**valid_body(), **changes}.items() if v is not ...},
        st.dictionaries(st.sampled_from(FIELDS), EDGES | JSON | st.just(...), max_size=4),
    ),
)


def checks(config: MockConfig) -> list[SchemaCheck]:
    found = []
    for operation in config.spec.operations:
        if operation.body is not None and operation.body.media[0].validator is not None:
            found.append(operation.body.media[0].validator)
        found.extend(p.validator for p in operation.parameters if p.validator is not None)
        found.extend(r.validator for r in operation.responses.values() if r.validator is not None)
    return found


def test_every_check_of_the_bundled_spec_has_a_fast_path(config: MockConfig) -> None:
    assert checks(config) and all(check.fast is not None for check in checks(config))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(instance=BODIES)
def test_fast_and_detailed_validators_agree(config: MockConfig, instance: Any) -> None:
    for check in checks(config):
        assert check.fast is not None
        detailed = not any(True for _ in check.slow.iter_errors(instance))
        assert check.fast.is_valid(instance) == detailed, instance


def test_formats_are_decided_on_the_fast_path_and_explained() -> None:
    """jsonschema-rs checks every standard format (uri and hostname too, which jsonschema checks only
    with optional packages), as schemathesis does; the words come from jsonschema where it can."""
    assert fast_document({"type": "string", "format": "email"}) == {"type": "string", "format": "email"}
    schema = {"type": "object", "properties": {f: {"type": "string", "format": f} for f in ("uri", "email")}}
    check = compile_validator(schema, Registry(), jsonschema_rs.Registry([]))
    assert [v.message for v in check.violations({"uri": "not a uri", "email": "x@example.com"})] == [
        "uri must be a valid uri."
    ]
    assert [v.message for v in check.violations({"uri": "https://example.com/a", "email": "nope"})] == [
        "email must be a valid email."
    ]
    assert check.violations({"uri": "https://example.com/a", "email": "x@example.com"}) == []


def test_int_formats_become_bounds_on_the_fast_path() -> None:
    assert fast_document({"type": "integer", "format": "int32", "maximum": 10}) == {
        "type": "integer",
        "format": "int32",
        "minimum": -(2**31),
        "maximum": 10,
    }
    assert fast_document({"type": "number", "format": "int64"})["multipleOf"] == 1


@pytest.mark.parametrize("body", [valid_body(), valid_body(port=587.0), valid_body(useTls=None, description=None)])
def test_valid_bodies_take_the_fast_path(config: MockConfig, body: dict[str, Any]) -> None:
    operation = config.spec.operation("createSmtpIntegration")
    assert operation is not None and operation.body is not None and operation.body.media[0].validator is not None
    assert operation.body.media[0].validator.fast is not None and operation.body.media[0].validator.fast.is_valid(body)
