"""Requests for any OpenAPI spec (issue 12): every parameter style, every body media type, the
schema keywords requests must honour, and security schemes enforced as declared.

`fixtures/any-requests-3.1.yaml` declares them all; no Python code knows about it. Each case sends a
request and checks the status and the fields the errors name.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mockserver import create_app

from .conftest import LiveServer

FIXTURE = Path(__file__).parent / "fixtures" / "any-requests-3.1.yaml"
BASIC = "Basic " + base64.b64encode(b"alice:s3cret").decode()


SCENARIOS = FIXTURE.parent / "any-requests-scenarios"  # vip.yaml: `auth: {keys: [...]}` for every scheme


@pytest.fixture
def any_api() -> FlaskClient:
    return create_app(FIXTURE, SCENARIOS).test_client()


def fields(response: TestResponse | requests.Response) -> list[str]:
    body = response.json() if isinstance(response, requests.Response) else response.get_json()
    return sorted(error["field"] for error in body["errors"])


def messages(response: TestResponse) -> list[str]:
    return [error["message"] for error in response.get_json()["errors"]]


# -- parameters ------------------------------------------------------------------------------------------

VALID_QUERY = (
    "tags=a&tags=b&limit=3&ids=1,2&words=ab%20cd&sizes=1|2&filter[color]=red&filter[weight]=2.5"
    '&near=lat,1.5,lon,2&where={"name":"x","max":3}&fresh=&next=a/b?c=d'
)


def test_every_query_style_is_read_before_validation(any_api: FlaskClient) -> None:
    headers = {"X-Trace_Id": "0123abcd", "X-Flags": "true,false"}
    any_api.set_cookie("theme", "dark")
    assert any_api.get(f"/pets?{VALID_QUERY}", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("tags=a&tags=toolongtag", "tags", "tags[1] must be at most 8 characters long."),
        ("tags=a&tags=b&tags=c&tags=d&tags=e", "tags", "tags must have at most 4 items."),
        ("limit=0", "limit", "limit must be at least 1 (int32)."),
        ("limit=2147483648", "limit", "limit must be a valid int32."),
        ("ids=1,x", "ids", "ids[1] must be an integer (int64)."),
        ("ids=9223372036854775808", "ids", "ids[0] must be a valid int64."),
        ("words=ab%20CD", "words", "words[1] must match the pattern ^[a-z]+$."),
        ("sizes=1|z", "sizes", "sizes[1] must be an integer."),
        ("filter[color]=blue", "filter", 'filter.color must be one of "red", "green".'),
        ("filter[weight]=-1", "filter", "filter.weight must be at least 0."),
        ("near=lat,1.5", "near", "near.lon is required."),
        ("near=1.5", "near", "near must be an object sent as key,value pairs."),
        ("where={bad", "where", "where must be a JSON document (application/json)."),
        ('where={"max":1}', "where", "where.name is required."),
        ("fresh=maybe", "fresh", "fresh must be true or false."),
    ],
)
def test_query_values_are_refused_naming_the_parameter(
    any_api: FlaskClient, query: str, field: str, message: str
) -> None:
    response = any_api.get(f"/pets?{query}")
    assert response.status_code == 400
    assert fields(response) == [field]
    assert messages(response) == [message]


def test_allow_empty_value_accepts_an_empty_value_that_the_schema_would_refuse(any_api: FlaskClient) -> None:
    assert any_api.get("/pets?fresh=").status_code == 200
    assert fields(any_api.get("/pets?limit=")) == ["limit"]  # no allowEmptyValue: "" is not an integer


def test_header_and_cookie_parameters(any_api: FlaskClient) -> None:
    response = any_api.get("/pets", headers={"X-Trace_Id": "nothex", "X-Flags": "true,maybe"})
    assert fields(response) == ["X-Flags", "X-Trace_Id"]
    any_api.set_cookie("theme", "pink")
    assert fields(any_api.get("/pets")) == ["theme"]


def test_accept_content_type_and_authorization_header_parameters_are_ignored(tmp_path: Path) -> None:
    """Definitions no client could satisfy: OpenAPI says such header parameters "SHALL be ignored".
    (Not in the fixture: schemathesis does not ignore them, and would call the mock wrong.)"""
    impossible = "{type: string, enum: [application/x-never]}"
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      parameters:\n"
        + "".join(
            f"        - {{name: {name}, in: header, required: true, schema: {impossible}}}\n"
            for name in ("Accept", "Content-Type", "Authorization")
        )
        + "      responses: {'200': {description: ok}}\n"
    )
    (tmp_path / "scenarios").mkdir()
    client = create_app(spec, tmp_path / "scenarios").test_client()
    assert client.get("/x", headers={"Accept": "text/html"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "wrong"),
    [
        ("/styles/1,2/.ab.cd/;point=x,1,y,2", []),
        ("/styles/7/.z/;point=y,-1,x,0", []),
        ("/styles/1,a/.ab/;point=x,1,y,2", ["plain"]),
        ("/styles/1/ab/;point=x,1,y,2", ["dots"]),
        ("/styles/1/.ab.C/;point=x,1,y,2", ["dots"]),
        ("/styles/1/.ab/;point=x,1", ["point"]),
        ("/styles/1/.ab/point=x,1,y,2", ["point"]),
        ("/styles/1/.ab/;other=x,1,y,2", ["point"]),
    ],
)
def test_path_styles_simple_label_and_matrix(any_api: FlaskClient, path: str, wrong: list[str]) -> None:
    response = any_api.get(path)
    assert response.status_code == (400 if wrong else 200)
    if wrong:
        assert fields(response) == wrong


def test_int64_path_parameter_bounds(any_api: FlaskClient) -> None:
    assert any_api.get("/pets/9223372036854775807").status_code == 200
    response = any_api.get("/pets/9223372036854775808")
    assert messages(response) == ["petId must be a valid int64."]


# -- request bodies --------------------------------------------------------------------------------------

PET = {"name": "Rex", "kind": {"petType": "dog", "bark": True}}


@pytest.mark.parametrize("content_type", ["application/json", "application/merge-patch+json"])
def test_json_and_plus_json_bodies(any_api: FlaskClient, content_type: str) -> None:
    import orjson

    response = any_api.post("/pets", data=orjson.dumps(PET), content_type=content_type)
    assert response.status_code == 201
    assert response.get_json()["name"] == "Rex"


@pytest.mark.parametrize(
    ("body", "wrong"),
    [
        ({**PET, "kind": {"petType": "cat", "hunts": True}}, []),
        ({**PET, "age": None}, []),  # a 3.1 type list with "null"
        ({**PET, "chipId": 9223372036854775807}, []),
        ({**PET, "chipId": 9223372036854775808}, ["chipId"]),
        ({**PET, "chipId": -9223372036854775809}, ["chipId"]),  # orjson would round it to int64's minimum
        ({**PET, "id": 3}, ["id"]),  # readOnly: not required, and not to be sent
        ({**PET, "kind": {"petType": "cow"}}, ["kind.petType"]),  # neither mapping value
        ({**PET, "kind": {"petType": "dog", "hunts": "yes"}}, []),  # dog: `hunts` is not Dog's
        ({**PET, "kind": {"petType": "cat", "hunts": "yes"}}, ["kind.hunts"]),  # cat picks Cat
        ({"kind": PET["kind"]}, ["name"]),
    ],
)
def test_json_body_semantics(any_api: FlaskClient, body: dict[str, Any], wrong: list[str]) -> None:
    response = any_api.post("/pets", json=body)
    assert response.status_code == (400 if wrong else 201), response.get_json()
    if wrong:
        assert fields(response) == wrong


def test_read_only_message(any_api: FlaskClient) -> None:
    assert messages(any_api.post("/pets", json={**PET, "id": 3})) == [
        "id is read-only; it must not be sent in a request."
    ]


FORM = "application/x-www-form-urlencoded"


def test_form_body_is_read_with_its_encoding_and_defaults_apply(any_api: FlaskClient) -> None:
    body = "name=Rex&age=3&tags=a&tags=b&size[height]=2.5&size[unit]=cm"
    response = any_api.post("/pets", data=body, content_type=FORM)
    assert response.status_code == 201
    assert response.get_json()["name"] == "Rex"


@pytest.mark.parametrize(
    ("body", "wrong"),
    [
        ("name=&age=x", ["age", "name"]),
        ("age=3", ["name"]),
        ("name=Rex&size[unit]=mm", ["size.unit"]),
        ("name=Rex&status=lost", ["status"]),
    ],
)
def test_form_body_is_validated(any_api: FlaskClient, body: str, wrong: list[str]) -> None:
    response = any_api.post("/pets", data=body, content_type=FORM)
    assert response.status_code == 400
    assert fields(response) == wrong


FORM_WITH_REQUIRED_ARRAY = """
openapi: 3.0.3
info: {title: A form with a required array, version: "1"}
paths:
  /pets:
    post:
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              required: [name, photoUrls]
              properties:
                name: {type: string}
                photoUrls: {type: array, items: {type: string}}
                tags: {type: array, minItems: 1, items: {type: string}}
                category:
                  type: object
                  properties:
                    id: {type: integer}
                    name: {type: string}
      responses:
        "200":
          description: Stored.
          content:
            application/json:
              schema:
                type: object
                properties:
                  name: {type: string}
                  category: {type: object, properties: {id: {type: integer}, name: {type: string}}}
              example: {name: Rex, category: {id: 1, name: Dogs}}
        "400": {description: Refused.}
"""


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("name=Rex", 200),  # photoUrls: [] sends no field at all
        ("name=Rex&photoUrls=a", 200),  # one field is an array of one
        ("name=Rex&photoUrls=a&photoUrls=b", 200),
        ("photoUrls=a", 400),  # a required string is still required
        ("name=Rex&tags=", 200),
    ],
)
def test_a_required_array_left_out_of_a_form_is_empty(tmp_path: Path, body: str, status: int) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(FORM_WITH_REQUIRED_ARRAY)
    (tmp_path / "scenarios").mkdir()
    client = create_app(spec, tmp_path / "scenarios").test_client()
    assert client.post("/pets", data=body, content_type=FORM).status_code == status


def test_a_form_field_belongs_to_its_own_property_not_to_an_exploded_sibling_object(tmp_path: Path) -> None:
    """`name=Tom` is the body's `name`, not `category.name` (category in style form, explode)."""
    spec = tmp_path / "openapi.yaml"
    spec.write_text(FORM_WITH_REQUIRED_ARRAY)
    (tmp_path / "scenarios").mkdir()
    client = create_app(spec, tmp_path / "scenarios").test_client()
    answer = client.post("/pets", data="name=Tom&photoUrls=a", content_type=FORM).get_json()
    assert answer == {"name": "Tom", "category": {"id": 1, "name": "Dogs"}}


def test_form_body_with_invalid_utf8_or_nul_is_400(any_api: FlaskClient) -> None:
    for data in (b"name=\xff", b"name=a\x00b"):
        response = any_api.post("/pets", data=data, content_type=FORM)
        assert response.status_code == 400 and fields(response) == ["body"]


def test_xml_body_follows_the_schemas_xml_hints(any_api: FlaskClient) -> None:
    xml = '<pet id="5"><name>Rex</name><age>3</age><tags><tag>a</tag><tag>b</tag></tags></pet>'
    response = any_api.post("/pets", data=xml, content_type="application/xml")
    assert response.status_code == 201
    assert response.get_json()["id"] == 5  # an attribute, read as the integer its schema says


@pytest.mark.parametrize(
    ("xml", "wrong"),
    [
        ('<pet id="x"><name>Rex</name></pet>', ["id"]),
        ("<pet><age>-1</age></pet>", ["age", "name"]),
        ("<pet><name>Rex</name>", ["body"]),  # not well-formed
        ('<!DOCTYPE p [<!ENTITY a "b">]><pet><name>&a;</name></pet>', ["body"]),  # entities refused
    ],
)
def test_xml_body_is_validated(any_api: FlaskClient, xml: str, wrong: list[str]) -> None:
    response = any_api.post("/pets", data=xml, content_type="application/xml")
    assert response.status_code == 400
    assert fields(response) == wrong


def test_xml_nesting_limit(any_api: FlaskClient) -> None:
    xml = "<pet><name>" + "<a>" * 1100 + "</a>" * 1100 + "</name></pet>"
    response = any_api.post("/pets", data=xml, content_type="application/xml")
    assert response.status_code in (201, 400)  # `name` is text: its children are not walked


def test_multipart_fields_files_and_part_types(any_api: FlaskClient) -> None:
    def send(**parts: Any) -> TestResponse:
        return any_api.put("/pets/3/photo", data=parts, content_type="multipart/form-data")

    png = (io.BytesIO(b"\x89PNG\x00\xff"), "p.png", "image/png")
    assert send(photo=png, caption="hi", meta='{"width": 2}', tags=["a", "b"]).status_code == 204
    gif = send(photo=(io.BytesIO(b"GIF"), "p.gif", "image/gif"))
    assert gif.status_code == 415 and fields(gif) == ["photo"]
    wrong = send(caption="x" * 21, meta='{"width": 0}')
    assert wrong.status_code == 400 and fields(wrong) == ["caption", "meta.width", "photo"]
    not_json = send(photo=(io.BytesIO(b"\x89PNG"), "p.png", "image/png"), meta="{")
    assert not_json.status_code == 400 and fields(not_json) == ["meta"]


def test_multipart_without_boundary_is_400(any_api: FlaskClient) -> None:
    response = any_api.put("/pets/3/photo", data=b"x", content_type="multipart/form-data")
    assert response.status_code == 400 and fields(response) == ["Content-Type"]


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"hello", "text/plain", 201),
        (b"hello", "text/plain; charset=latin-1", 201),
        (b"", "text/plain", 400),  # minLength: 1
        (b"x" * 41, "text/plain", 400),
        (b"\xff", "text/plain", 400),
        (b"a\x00", "text/plain", 201),  # U+0000 is a character like any other in plain text
        (b"hello", "text/plain; charset=x-unknown", 415),
        (b"hello", "application/json", 415),
    ],
)
def test_text_bodies(any_api: FlaskClient, data: bytes, content_type: str, status: int) -> None:
    response = any_api.post("/notes", data=data, content_type=content_type)
    assert response.status_code == status


@pytest.mark.parametrize(
    ("path", "content_type", "status"),
    [
        ("/blobs", "application/octet-stream", 204),
        ("/blobs", "image/png", 204),  # image/*
        ("/blobs", "image/webp", 204),
        ("/blobs", "text/plain", 415),
        ("/anything", "application/x-whatever", 204),  # */*
        ("/anything", "text/html", 204),
    ],
)
def test_binary_and_wildcard_bodies(any_api: FlaskClient, path: str, content_type: str, status: int) -> None:
    response = any_api.put(path, data=b"\x00\xff\x01", content_type=content_type)
    assert response.status_code == status


def test_size_limit_applies_to_every_media_type() -> None:
    from mockserver import load_config

    client = create_app(config=load_config(FIXTURE, SCENARIOS, max_body_size=64)).test_client()
    assert client.put("/blobs", data=b"\x00" * 65, content_type="image/png").status_code == 413
    assert client.post("/notes", data=b"x" * 65, content_type="text/plain").status_code == 413
    assert client.post("/pets", data="name=" + "x" * 65, content_type=FORM).status_code == 413


# -- security --------------------------------------------------------------------------------------------

SECURITY_CASES = [
    ("/secure/key-header", {}, "", 401),
    ("/secure/key-header", {"api_key": "k"}, "", 200),
    ("/secure/key-query", {}, "", 401),
    ("/secure/key-query", {}, "key=k", 200),
    ("/secure/basic", {}, "", 401),
    ("/secure/basic", {"Authorization": BASIC}, "", 200),
    ("/secure/basic", {"Authorization": "Bearer abc"}, "", 401),
    ("/secure/basic", {"Authorization": "Basic !!notbase64"}, "", 401),
    ("/secure/basic", {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}, "", 401),
    ("/secure/bearer", {"Authorization": "Bearer abc.def"}, "", 200),  # the global security
    ("/secure/bearer", {"Authorization": BASIC}, "", 401),
    ("/secure/bearer", {"Authorization": "Bearer "}, "", 401),
    ("/secure/oauth2", {}, "", 401),
    ("/secure/oauth2", {"Authorization": "Bearer t"}, "", 200),
    ("/secure/oidc", {}, "", 401),
    ("/secure/oidc", {"Authorization": "Bearer t"}, "", 200),
    ("/secure/either", {"Authorization": BASIC}, "", 200),
    ("/secure/either", {"api_key": "k"}, "", 200),
    ("/secure/either", {"Authorization": "Bearer t"}, "", 401),
    ("/secure/both", {"api_key": "k"}, "", 401),
    ("/secure/both", {"api_key": "k"}, "key=q", 200),
    ("/secure/optional", {}, "", 200),
    ("/pets", {}, "", 200),  # security: [] overrides the global bearer
]


@pytest.mark.parametrize(("path", "headers", "query", "status"), SECURITY_CASES)
def test_security_schemes_are_enforced_as_declared(
    any_api: FlaskClient, path: str, headers: dict[str, str], query: str, status: int
) -> None:
    response = any_api.get(f"{path}?{query}", headers=headers)
    assert response.status_code == status


def test_cookie_api_key(any_api: FlaskClient) -> None:
    assert any_api.get("/secure/key-cookie").status_code == 401
    any_api.set_cookie("session", "s")
    assert any_api.get("/secure/key-cookie").status_code == 200


@pytest.mark.parametrize(
    ("path", "challenge", "field"),
    [
        ("/secure/basic", 'Basic realm="mockserver"', "Authorization"),
        ("/secure/bearer", 'Bearer realm="mockserver"', "Authorization"),
        ("/secure/oauth2", 'Bearer realm="mockserver"', "Authorization"),
        ("/secure/either", 'Basic realm="mockserver"', "Authorization"),
        ("/secure/key-header", None, "api_key"),
    ],
)
def test_401_names_the_credential_and_challenges_where_the_scheme_defines_one(
    any_api: FlaskClient, path: str, challenge: str | None, field: str
) -> None:
    response = any_api.get(path)
    assert response.status_code == 401
    assert response.headers.get("WWW-Authenticate") == challenge
    assert fields(response) == [field]


@pytest.mark.parametrize(
    ("path", "good", "bad"),
    [
        ("/secure/key-header", {"api_key": "vip-key"}, {"api_key": "other"}),
        ("/secure/basic", {"Authorization": BASIC}, {"Authorization": "Basic " + base64.b64encode(b"bob:x").decode()}),
        ("/secure/oauth2", {"Authorization": "Bearer vip-token"}, {"Authorization": "Bearer other"}),
    ],
)
def test_scenario_keys_restrict_every_scheme(
    any_api: FlaskClient, path: str, good: dict[str, str], bad: dict[str, str]
) -> None:
    scenario = {"X-Mock-Scenario": "vip"}
    assert any_api.get(path, headers={**good, **scenario}).status_code == 200
    refused = any_api.get(path, headers={**bad, **scenario})
    assert refused.status_code == 401 and messages(refused)[0].endswith("is not valid.")  # the spec's {errors}


# -- a real server: header names with `_` reach the mock in every mode -----------------------------------


@pytest.fixture(params=[(), ("--workers", "1")], ids=["default", "workers"])
def any_server(request: pytest.FixtureRequest, live_server: Any) -> Iterator[LiveServer]:
    yield live_server("--spec", str(FIXTURE), "--scenarios", str(SCENARIOS), "--no-reload", *request.param)


@pytest.mark.e2e
def test_underscored_header_names_reach_the_mock(any_server: LiveServer) -> None:
    assert requests.get(f"{any_server.url}/secure/key-header", headers={"api_key": "k"}, timeout=10).status_code == 200
    response = requests.get(f"{any_server.url}/pets", headers={"X-Trace_Id": "nope"}, timeout=10)
    assert response.status_code == 400 and fields(response) == ["X-Trace_Id"]
    assert requests.get(f"{any_server.url}/pets?tags=a&tags=b", timeout=10).status_code == 200


def test_integers_past_64_bits_are_written_exactly() -> None:
    """A form, XML or query value may hold any integer; the journal and the SQLite and Redis stores
    write it as JSON like everything else (orjson alone stops at 64 bits)."""
    from mockserver.jsondoc import dumps

    assert dumps({"age": 2**70}) == b'{"age":1180591620717411303424}'


def test_xml_strings_keep_their_whitespace(any_api: FlaskClient) -> None:
    response = any_api.post("/pets", data="<pet><name> </name><age> 3 </age></pet>", content_type="application/xml")
    assert response.status_code == 201 and response.get_json()["name"] == " "


# -- each style function, exploded and not ----------------------------------------------------------------

INTS = {"type": "array", "items": {"type": "integer"}}
POINT = {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}}


@pytest.mark.parametrize(
    ("style", "text", "schema", "explode", "value"),
    [
        ("simple", "1,2", INTS, False, [1, 2]),
        ("simple", "x,1,y,2", POINT, False, {"x": 1, "y": 2}),
        ("simple", "x=1,y=2", POINT, True, {"x": 1, "y": 2}),
        ("label", ".1.2", INTS, True, [1, 2]),
        ("label", ".1,2", INTS, False, [1, 2]),
        ("label", ".x=1.y=2", POINT, True, {"x": 1, "y": 2}),
        ("label", ".x,1,y,2", POINT, False, {"x": 1, "y": 2}),
        ("label", ".5", {"type": "integer"}, False, 5),
        ("matrix", ";id=1;id=2", INTS, True, [1, 2]),
        ("matrix", ";id=1,2", INTS, False, [1, 2]),
        ("matrix", ";x=1;y=2", POINT, True, {"x": 1, "y": 2}),
        ("matrix", ";id=x,1,y,2", POINT, False, {"x": 1, "y": 2}),
        ("matrix", ";id=5", {"type": "integer"}, False, 5),
        ("matrix", ";id=true", {"type": ["boolean", "null"]}, False, True),
    ],
)
def test_path_and_header_styles(style: str, text: str, schema: dict[str, Any], explode: bool, value: Any) -> None:
    from mockserver.validator.deserializers import from_text
    from mockserver.validator.shape import Shape

    assert from_text(style, text, "id", Shape(schema, lambda node: node), explode) == value


@pytest.mark.parametrize(
    ("style", "query", "schema", "explode", "value"),
    [
        ("form", "id=1&id=2", INTS, True, [1, 2]),
        ("form", "id=1,2", INTS, False, [1, 2]),
        ("form", "x=1&y=2&other=3", POINT, True, {"x": 1, "y": 2}),
        ("form", "id=x,1,y,2", POINT, False, {"x": 1, "y": 2}),
        ("spaceDelimited", "id=1%202", INTS, False, [1, 2]),
        ("spaceDelimited", "id=1&id=2", INTS, True, [1, 2]),
        ("pipeDelimited", "id=1|2", INTS, False, [1, 2]),
        ("pipeDelimited", "id=1&id=2", INTS, True, [1, 2]),
        ("deepObject", "id[x]=1&id[y]=2", POINT, True, {"x": 1, "y": 2}),
        ("form", "other=1", INTS, True, "MISSING"),
    ],
)
def test_query_styles(style: str, query: str, schema: dict[str, Any], explode: bool, value: Any) -> None:
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    from mockserver.validator.deserializers import MISSING, from_pairs
    from mockserver.validator.shape import Shape

    pairs = MultiDict(parse_qsl(query))
    found = from_pairs(style, pairs, "id", Shape(schema, lambda node: node), explode, frozenset({"id", "other"}))
    assert (found is MISSING and value == "MISSING") or found == value


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b'{"name": "Rex", "kind": {"petType": "dog"}}', "application/json", "available"),
        (b'{"name": "Rex", "kind": {"petType": "dog"}, "status": "sold"}', "application/json", "sold"),
        (b"name=Rex", FORM, "available"),
        (b"name=Rex&status=sold", FORM, "sold"),
        (b"<pet><name>Rex</name></pet>", "application/xml", "available"),
        (b"<pet><name>Rex</name><status>sold</status></pet>", "application/xml", "sold"),
    ],
)
def test_defaults_apply_alike_for_every_media_type(
    any_api: FlaskClient, data: bytes, content_type: str, status: str
) -> None:
    response = any_api.post("/pets", data=data, content_type=content_type)
    assert response.status_code == 201 and response.get_json()["status"] == status


def test_xml_text_where_an_object_is_due_stays_text_so_validation_refuses_it() -> None:
    from xml.etree.ElementTree import fromstring

    from mockserver.validator.bodies import xml_document
    from mockserver.validator.shape import Shape

    shape = Shape({"type": "object", "properties": {"id": {"type": "integer"}}}, lambda node: node)
    assert xml_document(fromstring("<order>true</order>"), shape) == "true"
    assert xml_document(fromstring("<order><id>3</id></order>"), shape) == {"id": 3}


REFUSALS = """
openapi: 3.0.3
info: {title: Refusals as documented, version: "1"}
paths:
  /things/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    get:
      responses:
        "200": {description: The thing.}
        "404": {description: No such thing.}
    put:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                link: {type: string, format: uri}
      responses:
        "200": {description: Replaced.}
        "404": {description: No such thing.}
        "422":
          description: Refused.
          content:
            application/json:
              schema: {type: object, required: [message], properties: {message: {type: string}}}
"""


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/things/7", None, 200),
        ("GET", "/things/seven", None, 404),  # no 400 documented: a path no item has is a 404
        ("PUT", "/things/7", {"link": "https://example.com/a"}, 200),
        ("PUT", "/things/7", {"link": "not a uri"}, 422),  # formats are checked; 422 is what is documented
        ("PUT", "/things/seven", {"link": "https://example.com/a"}, 422),
    ],
)
def test_a_request_breaking_the_contract_gets_the_status_the_spec_documents(
    tmp_path: Path, method: str, path: str, body: Any, status: int
) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(REFUSALS)
    (tmp_path / "scenarios").mkdir()
    client = create_app(spec, tmp_path / "scenarios").test_client()
    answer = client.open(path, method=method, json=body)
    assert answer.status_code == status, answer.data
    if status == 422:
        assert "must be" in answer.get_json()["message"]
