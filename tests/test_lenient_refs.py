"""Unresolvable references outside extensions (issue 11, point 6): lenient-refs.yaml has a parameter,
a schema and a response that point to nothing, a schema that names a URL and two schemas that refer
to each other alone. `serve` warns (file, line, JSON path) and serves every operation, the rest of it
intact; `serve --strict` and `check` refuse. Responses are checked with jsonschema against the
fixture itself, each unresolvable reference read as the warning says (an unconstrained schema)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockserver.errors import ConfigError
from mockserver.spec import load_spec

from .conftest import ROOT, LiveServer

SPEC = Path(__file__).parent / "fixtures" / "lenient-refs.yaml"


def line_of(text: str) -> int:
    return next(n for n, line in enumerate(SPEC.read_text().splitlines(), 1) if text in line)


WARNINGS = [
    f"{SPEC}:{line_of('parameters/Gone')}: paths./owners/{{ownerId}}.get.parameters[1].$ref: "
    "#/components/parameters/Gone points to nothing; the parameter is left out",
    f"{SPEC}:{line_of('schemas/Pet')}: paths./owners/{{ownerId}}.get.responses.200.content.application/json.schema."
    "properties.pet.$ref: #/components/schemas/Pet points to nothing; the schema is served as unconstrained",
    f"{SPEC}:{line_of('responses/NotFound')}: paths./owners/{{ownerId}}.get.responses.404.$ref: "
    "#/components/responses/NotFound points to nothing; the response is served without content",
    f"{SPEC}:{line_of('https://')}: paths./pets.post.requestBody.content.application/json.schema.properties.tag.$ref: "
    "only local and relative-file references are supported, not 'https://schemas.example.com/tag.json'; "
    "the schema is served as unconstrained",
    f"{SPEC}:{line_of('Loop: ')}: components.schemas.Loop.$ref: #/components/schemas/LoopBack leads back here "
    "through references alone; the schema is served as unconstrained",
]


def test_each_unresolvable_reference_is_a_warning_at_its_line() -> None:
    spec = load_spec(SPEC)
    assert [str(w) for w in spec.warnings] == WARNINGS
    owner = spec.operation("getOwner")
    assert owner is not None and [p.name for p in owner.parameters] == ["ownerId"]
    assert owner.responses[404].media == {} and 200 in owner.responses


def test_strict_loading_refuses_them() -> None:
    with pytest.raises(ConfigError) as refused:
        load_spec(SPEC, strict=True)
    assert [str(p) for p in refused.value.problems] == WARNINGS


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60
    )


def test_check_and_serve_strict_refuse(tmp_path: Path) -> None:
    checked = run("check", "--spec", str(SPEC), "--scenarios", str(tmp_path))
    assert checked.returncode == 1
    assert [line for line in checked.stderr.splitlines() if line.startswith("error:")] == [
        f"error: {w}" for w in WARNINGS
    ]
    strict = run("serve", "--strict", "--port", "0", "--spec", str(SPEC), "--scenarios", str(tmp_path))
    assert strict.returncode == 2 and "Traceback" not in strict.stderr
    assert strict.stderr.splitlines() == [f"error: {w}" for w in WARNINGS]


def _as_served(node: Any, document: dict[str, Any]) -> Any:
    """The fixture as the warnings say it is served: an unresolvable schema reference, unconstrained."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and (not ref.startswith("#/") or _missing(document, ref) or ref.endswith("Loop")):
            node = {k: v for k, v in node.items() if k != "$ref"}
        return {k: _as_served(v, document) for k, v in node.items()}
    if isinstance(node, list):
        return [_as_served(item, document) for item in node]
    return node


def _missing(document: dict[str, Any], ref: str) -> bool:
    node: Any = document
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return True
        node = node[part]
    return False


def violations(schema: Any, value: Any) -> list[str]:
    raw = yaml.safe_load(SPEC.read_text())
    document = _as_served(raw, raw)
    registry = Registry().with_resource("urn:spec", Resource.from_contents(document, DRAFT202012))
    rebased = _as_served(schema, raw)
    if isinstance(rebased, dict) and "$ref" in rebased:
        rebased = {"$ref": "urn:spec" + rebased["$ref"]}
    validator = Draft202012Validator(rebased, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [e.message for e in validator.iter_errors(value)]


@pytest.mark.e2e
def test_serve_warns_and_every_operation_keeps_serving(tmp_path: Path, live_server: Callable[..., LiveServer]) -> None:
    server = live_server("--spec", str(SPEC), "--scenarios", str(tmp_path), "--no-reload")
    raw = yaml.safe_load(SPEC.read_text())
    owner = requests.get(f"{server.url}/owners/7", timeout=10)
    schema = raw["paths"]["/owners/{ownerId}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert owner.status_code == 200 and not violations(schema, owner.json())
    assert owner.json()["name"] and "pet" in owner.json()  # the rest of the schema still holds
    # the parameter that resolves still counts: refused with the 404 the operation documents (it has no 400)
    refused = requests.get(f"{server.url}/owners/0", timeout=10)
    assert refused.status_code == 404
    missing = requests.get(f"{server.url}/owners/7", headers={"Prefer": "code=404"}, timeout=10)
    assert missing.status_code == 404 and missing.content == b""  # a response without content
    created = requests.post(f"{server.url}/pets", json={"name": "Rex", "tag": {"any": ["thing"]}}, timeout=10)
    assert created.status_code == 201 and not violations({"$ref": "#/components/schemas/Created"}, created.json())
    unnamed = requests.post(f"{server.url}/pets", json={"tag": 1}, timeout=10)
    assert unnamed.status_code == 400 and "name" in unnamed.text  # the body's own constraints stay
    loop = requests.get(f"{server.url}/loops", timeout=10)
    assert loop.status_code == 200 and loop.json() == {"$ref": "#/data/not/a/reference"}
    logged = server.stop()
    for warning in WARNINGS:
        assert f"warning: {warning}" in logged


ANCHORS = """openapi: 3.1.0
info: {title: References by $anchor, version: "1"}
paths:
  /nodes:
    get:
      responses:
        "200":
          description: A node, referred to by its anchor.
          content:
            application/json:
              schema: {$ref: '#node'}
  /others:
    get:
      responses:
        "200":
          description: An anchor nobody declares.
          content:
            application/json:
              schema: {type: object, required: [id], properties: {id: {type: integer}, x: {$ref: '#nowhere'}}}
components:
  schemas:
    Node: {$anchor: node, type: object, required: [n], properties: {n: {type: integer, minimum: 5, maximum: 5}}}
"""


def test_a_reference_to_an_anchor_is_followed_and_one_to_no_anchor_is_a_warning(tmp_path: Path) -> None:
    from mockserver import create_app

    spec = tmp_path / "anchors.yaml"
    spec.write_text(ANCHORS)
    assert [str(w) for w in load_spec(spec).warnings] == [
        f"{spec}:19: paths./others.get.responses.200.content.application/json.schema.properties.x.$ref: "
        "#nowhere names no $anchor; the schema is served as unconstrained"
    ]
    (tmp_path / "scenarios").mkdir()
    client = create_app(spec, tmp_path / "scenarios").test_client()
    assert client.get("/nodes").get_json() == {"n": 5}
    other = client.get("/others")
    assert other.status_code == 200 and isinstance(other.get_json()["id"], int)
