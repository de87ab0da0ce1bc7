"""The mock's own errors in the shape the served spec documents (issue 11, point 4).

Each fixture documents its errors differently: `{code, message}` under `default`
(errors-code-message.yaml), RFC 9457 problem details with `invalid-params` (errors-problem.yaml),
`4XX` and a text `default` (errors-ranges.yaml). Every error the mock sends is checked here with
jsonschema against the fixture itself, read independently of the mock's own code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockserver import create_app
from mockserver.error_shapes import PROBLEM_JSON

from .conftest import HEADERS, SMTP_PATH, LiveServer

FIXTURES = Path(__file__).parent / "fixtures"
CODE_MESSAGE = FIXTURES / "errors-code-message.yaml"
PROBLEM = FIXTURES / "errors-problem.yaml"
RANGES = FIXTURES / "errors-ranges.yaml"


def documented(spec: Path, template: str | None, method: str, status: int) -> tuple[dict[str, Any], Any] | None:
    """(the spec's document, its response object) for `status`: exact, then NXX, then default. With
    no operation (an unknown path or method), the first operation that documents it exactly, then
    any range or default."""
    document = yaml.safe_load(spec.read_text())
    operations = [
        (path, verb, op)
        for path, item in document.get("paths", {}).items()
        for verb, op in item.items()
        if isinstance(op, dict) and "responses" in op  # not the path item's own `parameters`
    ]
    chosen = [op for path, verb, op in operations if (path, verb) == (template, method.lower())]
    candidates = (str(status), f"{status // 100}XX", "default")
    if not chosen:
        exact = [op for _, _, op in operations if str(status) in op.get("responses", {})]
        chosen = exact or [op for _, _, op in operations if set(candidates) & set(op.get("responses", {}))]
    for op in chosen[:1]:
        for key in candidates:
            if key in op["responses"]:
                return document, _deref(document, op["responses"][key])
    return None


def _deref(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def conforms(spec: Path, template: str | None, method: str, status: int, mimetype: str, body: bytes) -> list[str]:
    """Why an error response breaks `spec`, if it does (an undocumented status must be problem+json)."""
    found = documented(spec, template, method, status)
    if found is None:
        return [] if mimetype == PROBLEM_JSON else [f"undocumented {status} sent as {mimetype}, not problem+json"]
    document, response = found
    content = response.get("content") or {}
    if not content:
        return [] if not body else [f"{status} documents no body, got {body[:80]!r}"]
    if mimetype not in content:
        return [f"{mimetype} is not among {list(content)}"]
    schema = content[mimetype].get("schema")
    if schema is None:
        return []
    value = yaml.safe_load(body) if mimetype.startswith("text/") else json.loads(body)
    registry = Registry().with_resource("urn:spec", Resource.from_contents(document, DRAFT202012))
    validator = Draft202012Validator(
        _rebased(schema), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return [error.message for error in validator.iter_errors(value)]


def _rebased(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("urn:spec" + v if k == "$ref" and isinstance(v, str) else _rebased(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebased(item) for item in node]
    return node


Call = tuple[str, str, str | None, dict[str, str], bytes | None]  # method, url path, template, headers, body

CALLS: dict[Path, list[Call]] = {
    CODE_MESSAGE: [
        ("GET", "/pets?limit=0", "/pets", {"X-Api-Key": "k"}, None),  # 400
        ("GET", "/pets", "/pets", {}, None),  # 401
        ("GET", "/nowhere", None, {}, None),  # 404
        ("DELETE", "/pets", None, {}, None),  # 405
        ("POST", "/pets", "/pets", {"X-Api-Key": "k", "Content-Type": "text/plain"}, b"x"),  # 415
        ("POST", "/pets", "/pets", {"X-Api-Key": "k", "Content-Type": "application/json"}, b"x" * 2_000_000),  # 413
        ("GET", "/pets", "/pets", {"X-Api-Key": "k", "Prefer": "code=418"}, None),  # 400 from Prefer
    ],
    PROBLEM: [
        ("POST", "/orders", "/orders", {}, None),  # 401
        ("POST", "/orders", "/orders", {"Authorization": "Bearer t", "Content-Type": "application/json"}, b"{}"),
        ("POST", "/orders", "/orders", {"Authorization": "Bearer t", "Content-Type": "text/csv"}, b"a,b"),  # 415
        ("GET", "/orders/0", "/orders/{orderId}", {}, None),  # 400 with invalid-params
        ("GET", "/nowhere", None, {}, None),  # 404: documented by getOrder
        ("PUT", "/orders", None, {}, None),  # 405: documented nowhere, problem+json
    ],
    RANGES: [
        ("GET", "/reports/1999", "/reports/{year}", {}, None),  # 400 under 4XX
        ("GET", "/nowhere", None, {}, None),  # 404 under 4XX
        ("GET", "/reports/2001", "/reports/{year}", {"X-Tenant": "t", "X-Mock-Scenario": "nope"}, None),  # 400
        ("GET", "/reports/2001", "/reports/{year}", {"X-Tenant": "t", "Accept": "text/html"}, None),  # 406
    ],
}


@pytest.mark.parametrize("spec", list(CALLS), ids=lambda p: p.name)
def test_every_error_validates_against_the_spec_it_serves(spec: Path, tmp_path: Path) -> None:
    client = create_app(spec, tmp_path).test_client()
    for method, url, template, headers, body in CALLS[spec]:
        response = client.open(url, method=method, headers=headers, data=body)
        assert response.status_code >= 400, (method, url, response.status_code)
        problems = conforms(spec, template, method, response.status_code, response.mimetype, response.data)
        assert not problems, (method, url, response.status_code, response.data[:300], problems)


def test_code_message_errors_carry_the_status_and_the_details(tmp_path: Path) -> None:
    client = create_app(CODE_MESSAGE, tmp_path).test_client()
    body = client.get("/pets?limit=0", headers={"X-Api-Key": "k"}).get_json()
    assert body == {"code": 400, "message": "limit must be at least 1."}
    assert client.get("/nowhere").get_json() == {"code": 404, "message": "No operation is declared at /nowhere."}


def test_problem_details_name_each_invalid_parameter(tmp_path: Path) -> None:
    client = create_app(PROBLEM, tmp_path).test_client()
    response = client.post("/orders", headers={"Authorization": "Bearer t"}, json={"sku": "abc"})
    assert response.status_code == 400 and response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert (body["type"], body["title"], body["status"], body["instance"]) == (
        "about:blank",
        "Bad Request",
        400,
        "/orders",
    )
    assert body["invalid-params"] == [
        {"reason": "quantity is required.", "name": "quantity"},
        {"reason": "sku must match the pattern ^[A-Z]{3}-[0-9]{4}$.", "name": "sku"},
    ]
    assert body["detail"] == "quantity is required. sku must match the pattern ^[A-Z]{3}-[0-9]{4}$."


def test_an_undocumented_status_is_rfc_9457_problem_details(tmp_path: Path) -> None:
    client = create_app(PROBLEM, tmp_path).test_client()
    response = client.put("/orders")
    assert response.status_code == 405 and response.mimetype == PROBLEM_JSON
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": "PUT is not supported here; use POST.",
        "instance": "/orders",
        "errors": [{"code": "MethodNotAllowed", "detail": "PUT is not supported here; use POST."}],
    }


def test_4xx_range_takes_the_reasons_and_the_correlation_id(tmp_path: Path) -> None:
    client = create_app(RANGES, tmp_path).test_client()
    response = client.get("/reports/1999")
    body = response.get_json()
    assert body["error"] == "client_error"  # an enum: the generated value stays
    assert body["reasons"] == ["year must be at least 2000.", "The required X-Tenant header is missing."]
    assert body["requestId"] == response.headers["X-Correlation-Id"]


def test_the_jframework_envelope_is_the_spec_driven_case(client: FlaskClient) -> None:
    response = client.post(SMTP_PATH, headers=HEADERS, json={"port": "x"})
    body = response.get_json()
    assert list(body) == ["success", "statusCode", "message", "data", "errors"]
    assert (body["success"], body["statusCode"], body["message"], body["data"]) == (
        False,
        400,
        "The input is invalid.",
        None,
    )
    assert list(body["errors"][0]) == ["code", "message", "field", "correlationId"]


@pytest.mark.e2e
@pytest.mark.parametrize("spec", list(CALLS), ids=lambda p: p.name)
def test_a_real_server_sends_errors_the_spec_admits(
    spec: Path, tmp_path: Path, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server("--spec", str(spec), "--scenarios", str(tmp_path), "--no-reload", "--quiet")
    for method, url, template, headers, body in CALLS[spec]:
        response = requests.request(method, server.url + url, headers=headers, data=body, timeout=10)
        assert response.status_code >= 400
        mimetype = response.headers.get("Content-Type", "").split(";")[0]
        problems = conforms(spec, template, method, response.status_code, mimetype, response.content)
        assert not problems, (method, url, response.status_code, response.content[:300], problems)
