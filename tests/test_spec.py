"""openapi.yaml: valid, faithful to the docs page, and no stricter than the docs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from mockserver.config import MockConfig
from mockserver.validation import describe_violations

from .conftest import SMTP_PATH, SPEC

RAW: dict[str, Any] = yaml.safe_load(SPEC.read_text())
REQUEST = RAW["components"]["schemas"]["SmtpIntegrationRequest"]


def test_spec_passes_openapi_spec_validator() -> None:
    validate(RAW)


def test_operation_declares_both_headers_and_auth_as_a_security_scheme() -> None:
    operation = RAW["paths"][SMTP_PATH]["post"]
    brand = RAW["components"]["parameters"]["BrandUrl"]
    assert operation["parameters"] == [{"$ref": "#/components/parameters/BrandUrl"}]
    assert (brand["name"], brand["in"], brand["required"]) == ("Brand-URL", "header", True)
    assert RAW["security"] == [{"AuthKey": []}]
    assert RAW["components"]["securitySchemes"]["AuthKey"] == {
        **RAW["components"]["securitySchemes"]["AuthKey"],
        "type": "apiKey",
        "in": "header",
        "name": "Auth-Key",
    }


def test_request_schema_has_every_constraint_on_the_docs_page() -> None:
    assert set(REQUEST["required"]) == {"appIntegrationId", "name", "host", "port", "username", "password"}
    for name in ("appIntegrationId", "name", "host", "username", "password"):
        assert REQUEST["properties"][name] == {**REQUEST["properties"][name], "type": "string", "minLength": 1}
    port = REQUEST["properties"]["port"]
    assert (port["type"], port["format"], port["minimum"], port["maximum"]) == ("integer", "int32", -(2**31), 2**31 - 1)
    for name in ("useTls", "isDefault"):
        assert REQUEST["properties"][name]["type"] == ["boolean", "null"]
        assert REQUEST["properties"][name]["default"] is False
    assert REQUEST["properties"]["description"]["type"] == ["string", "null"]
    assert REQUEST["properties"]["status"]["enum"] == ["0 - Inactive", "1 - Active"]
    assert "additionalProperties" not in REQUEST  # the docs never say unknown properties are rejected


def test_documented_statuses(config: MockConfig) -> None:
    operation = config.spec.operation("createSmtpIntegration")
    assert operation is not None
    assert sorted(operation.responses) == [201, 400, 401, 403, 413, 415, 429]
    assert config.spec.shared_response(404) is not None and config.spec.shared_response(405) is not None
    assert "x-jframework-note" in RAW["components"]["responses"]["BadRequest"]
    assert "Retry-After" in RAW["components"]["responses"]["TooManyRequests"]["headers"]


def test_docs_page_sample_request_is_valid(config: MockConfig) -> None:
    operation = config.spec.operation("createSmtpIntegration")
    assert operation is not None and operation.body is not None and operation.body.media[0].validator is not None
    sample = RAW["paths"][SMTP_PATH]["post"]["requestBody"]["content"]["application/json"]["examples"]["docsPage"]
    assert describe_violations(operation.body.media[0].validator, sample["value"]) == []


def _created(config: MockConfig) -> Any:
    operation = config.spec.operation("createSmtpIntegration")
    assert operation is not None
    return operation.responses[201]


def test_docs_page_sample_response_is_valid(config: MockConfig) -> None:
    created = _created(config)
    assert created.violations(created.examples["docsPage"]) == []


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda b: b["data"].pop("description"), id="null-description-omitted"),
        pytest.param(lambda b: b["data"]["appIntegration"].pop("logoURL"), id="null-logoURL-omitted"),
        pytest.param(lambda b: b.update(errors=None), id="errors-null"),
        pytest.param(
            lambda b: b["data"].update(id="0f3c-other-shape", createdDate="2026-11-24T06:00:00Z"),
            id="other-id-and-new-property",
        ),
        pytest.param(lambda b: b.update(message="Created."), id="other-message"),
        pytest.param(lambda b: b["data"].update(futureField={"x": 1}), id="new-response-property"),
    ],
)
def test_spec_does_not_promise_more_than_the_docs(config: MockConfig, change: Any) -> None:
    """A real server following the docs may differ in everything the docs leave open."""
    created = _created(config)
    body = created.examples["docsPage"]
    body = {**body, "data": {**body["data"], "appIntegration": dict(body["data"]["appIntegration"])}}
    change(body)
    assert created.violations(body) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["data"].pop("id"), "data.id"),
        (lambda b: b["data"].update(port="587"), "data.port"),
        (lambda b: b.update(statusCode=200), "statusCode"),
        (lambda b: b.update(success=False), "success"),
        (lambda b: b["data"].update(status="1 - Active"), "data.status"),
    ],
)
def test_spec_catches_real_breakage(config: MockConfig, change: Any, field: str) -> None:
    created = _created(config)
    body = created.example
    change(body)
    assert [v.field for v in created.violations(body)] == [field]


def test_serve_skips_the_structural_validator_only_for_a_document_that_passed_it(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openapi_spec_validator

    from mockserver.errors import ConfigError
    from mockserver.spec import load_spec

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    load_spec(SPEC, remember_valid=True)
    assert len(list((tmp_path / "cache" / "mockserver" / "valid-specs").iterdir())) == 1

    calls = []
    original = openapi_spec_validator.OpenAPIV31SpecValidator
    monkeypatch.setattr(
        openapi_spec_validator, "OpenAPIV31SpecValidator", lambda data: calls.append(1) or original(data)
    )
    load_spec(SPEC, remember_valid=True)
    assert calls == []  # remembered
    load_spec(SPEC)
    assert calls == [1]  # `check` always validates

    broken = tmp_path / "broken.yaml"
    broken.write_text(SPEC.read_text().replace("openapi: 3.1.0", "openapi: 3.1.0\nwebhooks: 7", 1))
    with pytest.raises(ConfigError, match="webhooks"):
        load_spec(broken, remember_valid=True)
    with pytest.raises(ConfigError, match="webhooks"):  # a failure is never remembered
        load_spec(broken, remember_valid=True)
    assert len(list((tmp_path / "cache" / "mockserver" / "valid-specs").iterdir())) == 1
