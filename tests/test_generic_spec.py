"""Nothing is specific to the SMTP endpoint: any OpenAPI 3.x spec is served the same way.

`fixtures/things-3.0.yaml` is an OpenAPI 3.0 document with two paths, a path template, a query
parameter, `nullable` and a boolean `exclusiveMinimum`; no Python code knows about it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from mockserver import create_app
from mockserver.spec import upgrade_30_schemas

SPEC = Path(__file__).parent / "fixtures" / "things-3.0.yaml"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def things(tmp_path: Path) -> FlaskClient:
    (tmp_path / "scenarios").mkdir()
    return create_app(SPEC, tmp_path / "scenarios").test_client()


def test_create_echoes_and_makes_an_id_shaped_like_the_example(things: FlaskClient) -> None:
    response = things.post("/things", json={"label": "ab", "weight": None})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["label"], body["weight"]) == ("ab", None)  # nullable in 3.0 terms
    assert UUID.match(body["id"]) and body["id"] != "7f3c9a2e-1b4d-4c8e-9f0a-2b3c4d5e6f70"


def test_boolean_exclusive_minimum_is_enforced(things: FlaskClient) -> None:
    response = things.post("/things", json={"label": "ab", "weight": 0})
    assert response.status_code == 400  # an open object documented: RFC 9457's members in it
    assert response.get_json()["errors"][0]["detail"] == "weight must be greater than 0."


def test_path_and_query_parameters_are_validated(things: FlaskClient) -> None:
    assert things.get("/things/3?verbose=true").status_code == 200
    fields = [e["field"] for e in things.get("/things/abc?verbose=maybe").get_json()["errors"]]
    assert fields == ["thingId", "verbose"]
    assert things.get("/things/0").get_json()["errors"][0]["detail"] == "thingId must be at least 1."


def test_methods_per_path(things: FlaskClient) -> None:
    response = things.delete("/things/3")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, OPTIONS"
    assert things.get("/things").headers["Allow"] == "POST, OPTIONS"


def test_upgrade_of_30_schemas() -> None:
    assert upgrade_30_schemas({"type": "string", "nullable": True, "enum": ["a"]}) == {
        "type": ["string", "null"],
        "enum": ["a"],  # 3.0.3: the enum still decides; null only where it is listed
    }
    assert upgrade_30_schemas({"type": "string", "nullable": True, "enum": ["a", None]})["enum"] == ["a", None]
    assert upgrade_30_schemas({"$ref": "#/x", "nullable": True}) == {"anyOf": [{"$ref": "#/x"}, {"type": "null"}]}
    assert upgrade_30_schemas({"minimum": 0, "exclusiveMinimum": True}) == {"exclusiveMinimum": 0}
    assert upgrade_30_schemas({"maximum": 9, "exclusiveMaximum": False}) == {"maximum": 9}
