"""`mockserver diff`: a catalogue of spec changes, each with the verdict the platform's promises give."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.diff import BREAKING, INFO, WARNING, diff_specs
from mockserver.spec import Spec
from mockserver.yamlfile import YamlDocument

from .conftest import ROOT, SMTP_PATH, SPEC

BASE: dict[str, Any] = yaml.safe_load(SPEC.read_text())
Mutation = Callable[[dict[str, Any]], Any]


def op(d: dict[str, Any]) -> dict[str, Any]:
    return d["paths"][SMTP_PATH]["post"]  # type: ignore[no-any-return]


def req(d: dict[str, Any]) -> dict[str, Any]:
    return d["components"]["schemas"]["SmtpIntegrationRequest"]  # type: ignore[no-any-return]


def req_prop(d: dict[str, Any], name: str) -> dict[str, Any]:
    return req(d)["properties"][name]  # type: ignore[no-any-return]


def smtp(d: dict[str, Any]) -> dict[str, Any]:
    return d["components"]["schemas"]["SmtpIntegration"]  # type: ignore[no-any-return]


def changes(old_mutation: Mutation | None, new_mutation: Mutation | None) -> set[tuple[str, str]]:
    specs = []
    for mutation in (old_mutation, new_mutation):
        data = copy.deepcopy(BASE)
        if mutation is not None:
            mutation(data)
        specs.append(Spec(YamlDocument(SPEC, data)))
    return {(c.id, c.level) for c in diff_specs(specs[0], specs[1])}


def add_header(d: dict[str, Any], required: bool) -> None:
    op(d)["parameters"].append({"name": "X-Tenant", "in": "header", "required": required, "schema": {"type": "string"}})


BREAKING_CASES: dict[str, tuple[Mutation | None, Mutation, str]] = {
    "path removed": (
        None,
        lambda d: d["paths"].update({"/api/v2/smtp": d["paths"].pop(SMTP_PATH)}),
        "api-path-removed",
    ),
    "operation removed": (
        None,
        lambda d: d["paths"][SMTP_PATH].update(put=d["paths"][SMTP_PATH].pop("post")),
        "api-operation-removed",
    ),
    "documented response removed": (None, lambda d: op(d)["responses"].pop("429"), "response-status-removed"),
    "response property removed": (
        None,
        lambda d: (smtp(d)["properties"].pop("host"), smtp(d)["required"].remove("host")),
        "response-property-removed",
    ),
    "response property became optional": (
        None,
        lambda d: smtp(d)["required"].remove("id"),
        "response-required-property-became-optional",
    ),
    "response type changed": (
        None,
        lambda d: smtp(d)["properties"]["port"].update(type="string"),
        "response-property-type-changed",
    ),
    "response property became nullable": (
        None,
        lambda d: smtp(d)["properties"]["host"].update(type=["string", "null"]),
        "response-property-became-nullable",
    ),
    "response media type removed": (
        None,
        lambda d: op(d)["responses"]["201"]["content"].update(
            {"application/problem+json": op(d)["responses"]["201"]["content"].pop("application/json")}
        ),
        "response-media-type-removed",
    ),
    "request property became required": (
        None,
        lambda d: req(d)["required"].append("useTls"),
        "request-property-became-required",
    ),
    "new required request property": (
        None,
        lambda d: (req(d)["properties"].update(region={"type": "string"}), req(d)["required"].append("region")),
        "new-required-request-property",
    ),
    "minLength increased": (
        None,
        lambda d: req_prop(d, "name").update(minLength=3),
        "request-property-min-length-increased",
    ),
    "maxLength added": (
        None,
        lambda d: req_prop(d, "host").update(maxLength=255),
        "request-property-max-length-decreased",
    ),
    "maximum decreased": (None, lambda d: req_prop(d, "port").update(maximum=65535), "request-property-max-decreased"),
    "minimum increased": (None, lambda d: req_prop(d, "port").update(minimum=1), "request-property-min-increased"),
    "pattern added": (
        None,
        lambda d: req_prop(d, "host").update(pattern="^[a-z.]+$"),
        "request-property-pattern-added",
    ),
    "pattern changed": (
        lambda d: req_prop(d, "host").update(pattern="^.+$"),
        lambda d: req_prop(d, "host").update(pattern="^[a-z]+$"),
        "request-property-pattern-changed",
    ),
    "format added": (None, lambda d: req_prop(d, "host").update(format="hostname"), "request-property-format-changed"),
    "enum value removed": (
        None,
        lambda d: req_prop(d, "status").update(enum=["0 - Inactive"]),
        "request-property-enum-value-removed",
    ),
    "request type changed": (
        None,
        lambda d: req_prop(d, "port").update(type="string"),
        "request-property-type-changed",
    ),
    "request property no longer nullable": (
        None,
        lambda d: req_prop(d, "useTls").update(type="boolean"),
        "request-property-became-not-nullable",
    ),
    "unknown properties refused": (
        None,
        lambda d: req(d).update(additionalProperties=False),
        "request-additional-properties-disallowed",
    ),
    "new required header": (None, lambda d: add_header(d, True), "new-required-request-header"),
    "header became required": (
        lambda d: add_header(d, False),
        lambda d: add_header(d, True),
        "request-header-became-required",
    ),
    "header newly constrained": (
        None,
        lambda d: d["components"]["parameters"]["BrandUrl"]["schema"].update(minLength=4),
        "request-property-min-length-increased",
    ),
    "request body became required": (
        lambda d: op(d)["requestBody"].update(required=False),
        None,
        "request-body-became-required",
    ),
    "required response header removed": (
        lambda d: d["components"]["responses"]["TooManyRequests"]["headers"]["Retry-After"].update(required=True),
        lambda d: d["components"]["responses"]["TooManyRequests"].pop("headers"),
        "required-response-header-removed",
    ),
    "auth newly required": (lambda d: d.pop("security"), None, "api-security-added"),
    "auth header renamed": (
        None,
        lambda d: d["components"]["securitySchemes"]["AuthKey"].update(name="X-Api-Key"),
        "api-security-changed",
    ),
}


@pytest.mark.parametrize("case", list(BREAKING_CASES))
def test_breaking_change_is_reported(case: str) -> None:
    old, new, rule = BREAKING_CASES[case]
    assert (rule, BREAKING) in changes(old, new)


WARNING_CASES: dict[str, tuple[Mutation, str]] = {
    "response enum gains a value": (
        lambda d: d["components"]["schemas"]["RenderedStatus"]["enum"].append("Deleted"),
        "response-property-enum-value-added",
    ),
    "request property no longer documented": (
        lambda d: req(d)["properties"].pop("description"),
        "request-property-removed",
    ),
}


@pytest.mark.parametrize("case", list(WARNING_CASES))
def test_warning_is_reported_and_nothing_breaks(case: str) -> None:
    mutation, rule = WARNING_CASES[case]
    found = changes(None, mutation)
    assert (rule, WARNING) in found
    assert not any(level == BREAKING for _, level in found), found


def _inline_request_schema(d: dict[str, Any]) -> None:
    op(d)["requestBody"]["content"]["application/json"]["schema"] = copy.deepcopy(req(d))


COMPATIBLE_CASES: dict[str, tuple[Mutation, set[tuple[str, str]]]] = {
    "nothing changed": (lambda d: None, set()),
    "descriptions reworded": (lambda d: req_prop(d, "name").update(description="Another text."), set()),
    "schema layout refactored ($ref inlined)": (_inline_request_schema, set()),
    "new optional request property": (lambda d: req(d)["properties"].update(region={"type": "string"}), set()),
    "constraints loosened": (
        lambda d: (req_prop(d, "name").pop("minLength"), req_prop(d, "port").pop("maximum")),
        set(),
    ),
    "request type widened": (lambda d: req_prop(d, "port").update(type=["integer", "string"]), set()),
    "request enum gains a value": (
        lambda d: req_prop(d, "status")["enum"].append("2 - Archived"),
        {("request-property-enum-value-added", INFO)},
    ),
    "new response property": (
        lambda d: smtp(d)["properties"].update(region={"type": "string"}),
        {("response-property-added", INFO)},
    ),
    "new documented response": (
        lambda d: op(d)["responses"].update({"409": op(d)["responses"]["403"]}),
        {("response-status-added", INFO)},
    ),
    "new operation": (
        lambda d: d["paths"].update({"/api/v1/other": {"get": {"responses": {"200": {"description": "ok"}}}}}),
        {("endpoint-added", INFO)},
    ),
    "optional header added": (lambda d: add_header(d, False), set()),
}


@pytest.mark.parametrize("case", list(COMPATIBLE_CASES))
def test_compatible_change_breaks_nothing(case: str) -> None:
    mutation, expected = COMPATIBLE_CASES[case]
    assert changes(None, mutation) == expected


# -- the command ----------------------------------------------------------------------------------


def run_diff(tmp_path: Path, mutation: Mutation, *args: str) -> subprocess.CompletedProcess[str]:
    data = copy.deepcopy(BASE)
    mutation(data)
    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump(data, sort_keys=False))
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "diff", str(SPEC), str(new), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_command_exits_1_and_explains_a_breaking_change(tmp_path: Path) -> None:
    result = run_diff(tmp_path, lambda d: req_prop(d, "port").update(maximum=65535))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "BREAKING  POST /api/v1/app-integrations/smtp  port maximum changed from 2147483647 to 65535  "
        "[request-property-max-decreased]",
        "BREAKING  PUT /api/v1/app-integrations/smtp/{id}  port maximum changed from 2147483647 to 65535  "
        "[request-property-max-decreased]",
        "2 breaking, 0 warnings, 0 info",
    ]


def test_command_exits_0_for_warnings_only_and_speaks_json(tmp_path: Path) -> None:
    result = run_diff(tmp_path, WARNING_CASES["response enum gains a value"][0], "--format", "json")
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert (report["breaking"], report["warnings"]) == (0, 4)  # on create's 201 and update's 200
    assert {(c["operation"].split()[0], c["location"]) for c in report["changes"]} == {
        ("POST", "response 201 data.status"),
        ("POST", "response 201 data.appIntegration.status"),
        ("PUT", "response 200 data.status"),
        ("PUT", "response 200 data.appIntegration.status"),
    }


def test_command_exits_2_for_an_unreadable_spec(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("openapi: [\n")
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "diff", str(SPEC), str(tmp_path / "broken.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "invalid YAML" in result.stderr
