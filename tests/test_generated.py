"""Responses for a spec with (nearly) no examples, end to end against a real server: bodies
generated from schemas validate, are the same per seed and per entity, come in every documented
media type as `Accept` and `Prefer` choose, and the echo never breaks the response schema."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from mockserver.mocker.generator import is_valid
from mockserver.mocker.negotiator import negotiate
from mockserver.spec import upgrade_30_schemas

from .conftest import LiveServer, start_server

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).parent / "fixtures" / "generated-3.1.yaml"
ROOT: dict[str, Any] = upgrade_30_schemas(yaml.safe_load(FIXTURE.read_text()))
SCHEMAS = ROOT["components"]["schemas"]


def schema_of(path: str, method: str, status: str, media: str = "application/json") -> Any:
    return ROOT["paths"][path][method]["responses"][status]["content"][media]["schema"]


def valid(schema: Any, value: Any) -> bool:
    return is_valid(schema, value, ROOT)


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("scenarios")
    (directory / "pinned.yaml").write_text(
        "description: A rule answers before any generation.\n"
        "rules:\n"
        "  - name: pinned-pet\n"
        "    when: {operation: getPet, headers: {X-Pin: {present: true}}}\n"
        "    respond: {status: 200, body: {id: 99, name: Pinned, kind: {petType: Cat, lives: 3}}}\n"
    )
    return directory


@pytest.fixture(scope="module")
def server(scenarios: Path) -> Iterator[LiveServer]:
    live = start_server("--spec", str(FIXTURE), "--scenarios", str(scenarios), "--no-reload", "--quiet")
    yield live
    live.stop()


def get(server: LiveServer, path: str, **headers: str) -> requests.Response:
    return requests.get(server.url + path, headers=headers, timeout=10)


def test_every_generated_json_body_validates(server: LiveServer) -> None:
    listing = get(server, "/pets")
    assert listing.status_code == 200 and listing.headers["Content-Type"] == "application/json"
    assert valid(schema_of("/pets", "get", "200"), listing.json()) and 3 <= len(listing.json()) <= 5
    shapes = get(server, "/shapes").json()
    assert valid(schema_of("/shapes", "get", "200"), shapes)
    assert {item["shape"] for item in shapes["items"]} <= {"round", "Circle", "Square"}
    scalars = shapes["scalars"]
    assert re.fullmatch(r"[A-Z]{3}-[0-9]{4}", scalars["code"]) and scalars["const"] == "fixed"
    tree = get(server, "/trees/5d0c3d62-1a7b-4a5c-9f7e-0c9a3b2d1e4f").json()
    assert valid(SCHEMAS["Tree"], tree)


def test_values_look_like_what_they_are_named(server: LiveServer) -> None:
    owner = get(server, "/pets").json()[0]["owner"]
    assert re.fullmatch(r"[^@\s]+@example\.com", owner["email"])
    assert owner["homepage"].startswith("https://") and " " in owner["name"]


def test_readonly_generated_writeonly_never_sent(server: LiveServer) -> None:
    for pet in get(server, "/pets").json():
        assert "secret" not in pet and isinstance(pet["id"], int) and "createdAt" in pet


def test_the_same_entity_is_the_same_body_in_the_list_and_by_id(server: LiveServer) -> None:
    listing = get(server, "/pets").json()
    for pet in listing:  # getPet has an example; dynamic=true asks for the generated body
        by_id = get(server, f"/pets/{pet['id']}", Prefer="dynamic=true")
        assert by_id.json() == pet
    assert get(server, "/pets").json() == listing  # and every time


def test_a_path_parameter_names_the_entity(server: LiveServer) -> None:
    first = get(server, "/pets/12", Prefer="dynamic=true").json()
    assert first["id"] == 12 and get(server, "/pets/12", Prefer="dynamic=true").json() == first
    assert get(server, "/pets/13", Prefer="dynamic=true").json()["name"] != first["name"]


def test_examples_and_scenario_rules_come_before_generation(server: LiveServer) -> None:
    assert get(server, "/pets/5").json()["name"] == "Rex"  # the spec's example
    assert get(server, "/pets/5", Prefer="dynamic=false").json()["name"] == "Rex"
    assert get(server, "/pets/5", Prefer="example=rex").json()["name"] == "Rex"
    pinned = get(server, "/pets/99", **{"X-Mock-Scenario": "pinned", "X-Pin": "1"})
    assert pinned.json()["name"] == "Pinned"


def test_required_response_headers_are_generated(server: LiveServer) -> None:
    cost = get(server, "/pets/5").headers["X-Request-Cost"]
    assert cost.isdigit() and 1 <= int(cost) <= 9


def test_accept_chooses_among_documented_media_types(server: LiveServer) -> None:
    as_xml = get(server, "/pets/5", Accept="application/xml;q=0.9, application/json;q=0.5")
    assert as_xml.headers["Content-Type"].startswith("application/xml")
    pet = ET.fromstring(as_xml.content)
    assert pet.tag == "{https://example.com/pets}pet" and pet.attrib["id"] == "5"  # xml: name, namespace, attribute
    assert [t.tag for t in pet.find("tags") or []] in ([], ["tags"] * len(pet.find("tags") or []))
    text = get(server, "/pets/5", Accept="text/*")
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8" and re.fullmatch(r"pet-[0-9]+", text.text)
    assert get(server, "/pets/5", Accept="*/*").headers["Content-Type"] == "application/json"
    listing = get(server, "/pets", Accept="application/xml")
    root = ET.fromstring(listing.content)
    assert root.tag == "pets" and len(root) >= 3  # a wrapped array


def test_nothing_acceptable_is_406(server: LiveServer) -> None:
    refused = get(server, "/pets/5", Accept="application/json;q=0, image/png")
    assert refused.status_code == 406 and "application/json" in refused.text


def test_binary_bodies_in_their_media_type(server: LiveServer) -> None:
    photo = get(server, "/pets/5/photo")
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/png" and photo.content
    assert get(server, "/pets/5/photo", Accept="application/octet-stream").headers["Content-Type"] == (
        "application/octet-stream"
    )


def test_prefer_code_uses_ranges_and_default(server: LiveServer) -> None:
    missing = get(server, "/pets/5", Prefer="code=404")
    assert missing.status_code == 404 and valid(SCHEMAS["Error"], missing.json())
    refused = requests.post(server.url + "/pets", json={}, headers={"Prefer": "code=409"}, timeout=10)
    assert refused.status_code == 409 and valid(SCHEMAS["Error"], refused.json())  # 4XX
    failed = get(server, "/pets", Prefer="code=503")  # default, in its own media type
    assert failed.status_code == 503 and failed.headers["Content-Type"] == "application/problem+json"
    assert failed.json()["status"] == 503 and valid(SCHEMAS["Problem"], failed.json())
    assert get(server, "/pets/5", Prefer="code=500").status_code == 400  # neither documented nor covered


def test_a_2xx_range_answers_the_success(server: LiveServer) -> None:
    replaced = requests.put(server.url + "/pets/8", json={"name": "Max"}, timeout=10)
    assert replaced.status_code == 200 and valid(SCHEMAS["Pet"], replaced.json())


def test_the_echo_keeps_the_response_schema(server: LiveServer) -> None:
    sent = {"name": "Max", "owner": {"city": "Paris"}, "nickname": None}
    replaced = requests.put(server.url + "/pets/8", json=sent, timeout=10).json()
    assert valid(SCHEMAS["Pet"], replaced) and replaced["name"] == "Max" and replaced["id"] == 8
    assert replaced["owner"]["city"] == "Paris" and "@" in replaced["owner"]["email"]  # merged: email stays
    assert "nickname" not in replaced  # not a property of the response
    created = requests.post(
        server.url + "/pets",
        json={"name": "Rex", "kind": {"petType": "Dog", "barks": True}, "secret": "s3cret"},
        timeout=10,
    )
    body = created.json()
    assert created.status_code == 201 and valid(SCHEMAS["Pet"], body)
    assert body["name"] == "Rex" and "secret" not in body and "createdAt" in body and body["id"] >= 1


def test_the_same_seed_the_same_bodies_another_seed_others(server: LiveServer, scenarios: Path) -> None:
    options = ("--spec", str(FIXTURE), "--scenarios", str(scenarios), "--no-reload", "--quiet")
    again = start_server(*options, "--seed", "0")
    other = start_server(*options, "--seed", "7")
    try:
        assert get(again, "/pets").json() == get(server, "/pets").json()
        assert get(other, "/pets").json() != get(server, "/pets").json()
    finally:
        again.stop()
        other.stop()


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("text/html, application/xml;q=0.1", "application/xml"),
        ("application/*;q=0.2, application/xml", "application/xml"),
        ("application/json;q=0.3, application/xml;q=0.3", "application/json"),  # ties: the spec's order
        ("text/plain;q=0, */*;q=0.1", "application/json"),
        ("application/json", "application/json"),
        ("image/png", None),
        ("application/xml;q=0", None),
        ("nonsense", "application/json"),
    ],
)
def test_negotiation(accept: str | None, chosen: str | None) -> None:
    documented = ("application/json", "application/xml", "text/plain")
    if accept == "application/xml;q=0":
        documented = ("application/xml",)
    assert negotiate(documented, accept) == chosen


def test_problem_json_is_chosen_for_a_client_that_asks_for_json() -> None:
    assert negotiate(("application/problem+json",), "application/json") == "application/problem+json"
    assert negotiate(("application/xml", "application/problem+json"), "application/json") == (
        "application/problem+json"
    )


NESTED_WRITE_ONLY = """
openapi: 3.1.0
info: {title: "A payment whose card number is written, never read", version: "1"}
paths:
  /payments:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Payment"}
      responses:
        "201":
          description: Taken.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Payment"}
components:
  schemas:
    Payment:
      type: object
      required: [amount, source]
      properties:
        id: {type: string, format: uuid, readOnly: true}
        amount: {type: number}
        source:
          unevaluatedProperties: false
          oneOf:
            - type: object
              required: [name, cvc]
              properties:
                name: {type: string}
                cvc: {type: string, writeOnly: true}
                cards:
                  type: array
                  items: {type: object, properties: {pin: {type: string, writeOnly: true}, label: {type: string}}}
"""


def test_the_echo_leaves_out_nested_write_only_properties(tmp_path: Path) -> None:
    """A card's cvc sent in a request never comes back, at any depth (schemathesis reads a
    response carrying it as a contract violation)."""
    from mockserver import create_app

    spec = tmp_path / "openapi.yaml"
    spec.write_text(NESTED_WRITE_ONLY)
    (tmp_path / "scenarios").mkdir()
    client = create_app(spec, tmp_path / "scenarios").test_client()
    source = {"name": "Ada", "cvc": "123", "cards": [{"pin": "0000", "label": "main"}]}
    answer = client.post("/payments", json={"amount": 5, "source": source})
    assert answer.status_code == 201
    assert answer.get_json()["source"] == {"name": "Ada", "cards": [{"label": "main"}]}


def test_a_response_example_carrying_a_write_only_property_is_refused_with_a_warning(tmp_path: Path) -> None:
    """OpenAPI says a response SHOULD NOT carry a writeOnly property and schemathesis reads it as a
    violation: such an example (Train Travel's card payment with its cvc) is warned about and
    replaced by a generated body."""
    from mockserver import create_app
    from mockserver.spec import load_spec

    spec = tmp_path / "openapi.yaml"
    example = "              example: {amount: 5, source: {name: Ada, cvc: '123'}}\n"
    spec.write_text(
        NESTED_WRITE_ONLY.replace(
            '              schema: {$ref: "#/components/schemas/Payment"}\ncomponents:',
            '              schema: {$ref: "#/components/schemas/Payment"}\n' + example + "components:",
        )
    )
    warnings = [str(w) for w in load_spec(spec).warnings]
    assert any("source.cvc" in w and "is write-only; a response must not carry it." in w for w in warnings), warnings
    (tmp_path / "scenarios").mkdir()
    client = create_app(spec, tmp_path / "scenarios").test_client()
    answer = client.post("/payments", json={"amount": 5, "source": {"name": "Ada", "cvc": "123"}}).get_json()
    assert "cvc" not in answer["source"] and answer["source"]["name"] == "Ada"
