"""Lenient start-up with precise diagnostics (issue 11, point 6).

lenient.yaml has an invalid example, a default its schema refuses and references inside an `x-`
extension that cannot be resolved: `serve` warns (file, line, JSON path) and serves; `serve --strict`
and `check` refuse. split/ is a spec split over files by relative `$ref`s. A webhook-only 3.1 spec
serves the admin API; a Swagger 2.0 one is one clear line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from mockserver import create_app
from mockserver.bundle import as_written, in_extension
from mockserver.errors import ConfigError
from mockserver.spec import load_spec
from mockserver.yamlfile import parse_yaml

from .conftest import ROOT, LiveServer

FIXTURES = Path(__file__).parent / "fixtures"
LENIENT = FIXTURES / "lenient.yaml"
SPLIT = FIXTURES / "split" / "openapi.yaml"
WEBHOOKS = FIXTURES / "webhooks-only.yaml"
SWAGGER = FIXTURES / "swagger-2.0.yaml"


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of `path` containing `text`."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def lenient_warnings() -> list[str]:
    return [
        f"{LENIENT}:{line_of(LENIENT, './docs/getting-started.md')}: x-topics[0].content.$ref: "
        "the reference './docs/getting-started.md' inside an extension cannot be resolved",
        f"{LENIENT}:{line_of(LENIENT, 'x-nothing-here')}: x-topics[1].content.$ref: "
        "#/components/x-nothing-here points to nothing",
        f"{LENIENT}:{line_of(LENIENT, 'default: huge')}: components.schemas.Widget.properties.size.default: "
        'default does not match its schema: must be one of "small", "medium", "large".',
        f"{LENIENT}:{line_of(LENIENT, 'value: {name: 12')}: paths./widgets.post.responses.201.content."
        "application/json.examples.wrong.value.name: example does not match its schema: must be a string.",
    ]


def test_mistakes_are_warnings_naming_file_line_and_path() -> None:
    spec = load_spec(LENIENT)
    assert sorted(str(w) for w in spec.warnings) == sorted(lenient_warnings())
    created = spec.operation("createWidget")
    assert created is not None and created.responses[201].examples == {}  # never sent; generated instead
    schema = spec.raw["components"]["schemas"]["Widget"]["properties"]["size"]
    assert "default" not in schema  # nor echoed


def test_strict_loading_refuses_them() -> None:
    with pytest.raises(ConfigError) as refused:
        load_spec(LENIENT, strict=True)
    assert sorted(str(p) for p in refused.value.problems) == sorted(lenient_warnings())


def test_a_spec_split_over_files_resolves_and_names_the_file_it_is_in() -> None:
    spec = load_spec(SPLIT)
    assert [op.operation_id for op in spec.operations] == ["listPets", "getPet"]
    pet = SPLIT.parent / "schemas" / "pet.yaml"
    assert [str(w) for w in spec.warnings] == [
        f"{pet}:{line_of(pet, 'not-an-email')}: $defs.Owner.properties.email.default: "
        "default does not match its schema: must be a valid email.",
    ]
    got = spec.operation("getPet")
    assert got is not None and got.responses[200].example == {"id": 7, "name": "Rex", "owner": {"name": "Ann"}}


def test_a_missing_file_is_an_error_at_the_reference(tmp_path: Path) -> None:
    shutil.copytree(SPLIT.parent, tmp_path / "split")
    spec = tmp_path / "split" / "openapi.yaml"
    spec.write_text(SPLIT.read_text().replace("schemas/pet.yaml", "schemas/gone.yaml"))
    with pytest.raises(ConfigError) as refused:
        load_spec(spec)
    problem = refused.value.problems[0]
    assert (problem.file, problem.line) == (spec, line_of(spec, "schemas/gone.yaml"))
    assert "gone.yaml: file not found" in problem.reason


def test_yaml_dates_stay_strings() -> None:
    assert parse_yaml("at: 2020-11-19T20:27:18Z\nday: 2020-01-01\n", Path("x.yaml")).data == {
        "at": "2020-11-19T20:27:18Z",
        "day": "2020-01-01",
    }


def test_what_counts_as_an_extension() -> None:
    assert in_extension(("x-topics", 0, "content"))
    assert in_extension(("paths", "/a", "get", "x-codeSamples", 0))
    assert not in_extension(("components", "schemas", "x-thing", "properties"))
    assert not in_extension(("components", "schemas", "A", "properties", "x-request-id"))
    assert as_written("#/x-mockserver-files/schemas~1pet.yaml/$defs/Owner") == "schemas/pet.yaml#/$defs/Owner"


def test_a_webhook_only_spec_loads_with_no_operations(tmp_path: Path) -> None:
    client = create_app(WEBHOOKS, tmp_path).test_client()
    assert client.get("/__mock/").status_code == 200
    response = client.post("/newPet")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60
    )


def test_swagger_2_is_one_clear_line() -> None:
    result = run("check", "--spec", str(SWAGGER))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"error: {SWAGGER}:1: swagger: Swagger 2.0 is not supported, and no well-kept Python converter exists "
        "to read it; convert it to OpenAPI 3 first, e.g. with `npx swagger2openapi swagger-2.0.yaml -o openapi.yaml`"
    )


def test_check_and_serve_strict_refuse_what_serve_warns_about(tmp_path: Path) -> None:
    checked = run("check", "--spec", str(LENIENT), "--scenarios", str(tmp_path))
    assert checked.returncode == 1
    assert [f"error: {w}" for w in lenient_warnings()] == [
        line for line in checked.stderr.splitlines() if line.startswith("error:")
    ]
    strict = run("serve", "--strict", "--port", "0", "--spec", str(LENIENT), "--scenarios", str(tmp_path))
    assert strict.returncode == 2 and "Traceback" not in strict.stderr
    assert sorted(strict.stderr.splitlines()) == sorted(f"error: {w}" for w in lenient_warnings())


@pytest.mark.e2e
def test_serve_warns_and_serves(tmp_path: Path, live_server: Callable[..., LiveServer]) -> None:
    server = live_server("--spec", str(LENIENT), "--scenarios", str(tmp_path), "--no-reload")
    listed = requests.get(f"{server.url}/widgets", timeout=10)
    assert listed.status_code == 200 and listed.json() == [{"name": "ok", "size": "medium"}]
    created = requests.post(f"{server.url}/widgets", json={"name": "w"}, timeout=10)
    assert created.status_code == 201 and created.content != b'{"name":12,"size":"small"}'
    logged = server.stop()
    for warning in lenient_warnings():
        assert f"warning: {warning}" in logged
    assert "4 warnings in the spec; the responses concerned are generated from their schemas" in logged


@pytest.mark.e2e
def test_a_webhook_only_spec_serves_the_admin_api(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--spec", str(WEBHOOKS)]
    process = subprocess.Popen(
        [*command, "--scenarios", str(tmp_path), "--no-reload"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert (
            first.strip()
            == f"mockserver: {WEBHOOKS} has no operations to serve (webhooks only); every request gets 404"
        )
        served = process.stdout.readline()
        url = served[served.index("http://") :].split()[0]
        assert requests.get(f"{url}/__mock/", timeout=10).status_code == 200
        assert "newPet" in requests.get(f"{url}/__mock/openapi.json", timeout=10).json()["webhooks"]
        assert requests.get(f"{url}/anything", timeout=10).status_code == 404
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_an_edit_to_an_included_file_is_reloaded(tmp_path: Path) -> None:
    from mockserver.config import load_config
    from mockserver.reload import Reloader
    from mockserver.state import MockState

    shutil.copytree(SPLIT.parent, tmp_path / "split")
    (tmp_path / "scenarios").mkdir()
    spec = tmp_path / "split" / "openapi.yaml"
    state = MockState(load_config(spec, tmp_path / "scenarios"))
    reloader = Reloader(state, lambda: load_config(spec, tmp_path / "scenarios"), spec, tmp_path / "scenarios")
    pet = tmp_path / "split" / "paths" / "pet.yaml"
    pet.write_text(pet.read_text().replace("name: Rex", "name: Max, extra: 1"))
    assert reloader.check() is True
    got = state.config.spec.operation("getPet")
    assert got is not None and got.responses[200].example["name"] == "Max"


UNICODE_PATTERN = """openapi: 3.0.3
info: {title: A pattern Python's re cannot read, version: "1"}
paths:
  /names:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string, pattern: '^\\p{L}+$'}}}
      responses:
        "200":
          description: Kept.
          content:
            application/json:
              schema:
                type: object
                properties:
                  name: {type: string, pattern: '^\\p{L}+$'}
"""


def test_a_pattern_python_cannot_read_is_a_warning_at_its_own_line(tmp_path: Path) -> None:
    spec = tmp_path / "names.yaml"
    spec.write_text(UNICODE_PATTERN)
    warnings = [str(w) for w in load_spec(spec).warnings]
    assert warnings == [
        f"{spec}:18: paths./names.post.responses.200.content.application/json.schema.properties.name.pattern: "
        "'^\\\\p{L}+$' is not a 'regex' for Python; the mock reads it as jsonschema-rs does"
    ]
    (tmp_path / "scenarios").mkdir()
    client = create_app(spec, tmp_path / "scenarios").test_client()
    assert client.post("/names", json={"name": "Zoë"}).status_code == 200
    assert client.post("/names", json={"name": "Zoë1"}).status_code == 400


def test_a_spec_remembered_as_valid_still_tells_its_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """serve skips the structural validator for a spec it has seen valid; its warnings come back with it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    spec = tmp_path / "names.yaml"
    spec.write_text(UNICODE_PATTERN)
    first = [str(w) for w in load_spec(spec, remember_valid=True).warnings]
    assert list((tmp_path / "cache" / "mockserver" / "valid-specs").iterdir()), "no marker was written"
    again = [str(w) for w in load_spec(spec, remember_valid=True).warnings]
    assert len(first) == 1 and again == first
