"""Step 5: every bad body gets a clear 4xx envelope at once, and schema errors name the field."""

from __future__ import annotations

import os
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockserver import create_app, load_config

from .conftest import SCENARIOS, SPEC, errors_of, post, valid_body

JSON = "application/json"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json-patch",
        "",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
    ],
)
def test_wrong_content_type_is_415(client: FlaskClient, content_type: str) -> None:
    response = post(client, data=b'{"name": "x"}', content_type=content_type or None)
    assert response.status_code == 415
    assert errors_of(response)[0]["field"] == "Content-Type"


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON", "application/json; charset=utf-8", "application/json;charset=UTF-8"],
)
def test_json_content_types_are_accepted(client: FlaskClient, content_type: str) -> None:
    import orjson

    assert post(client, data=orjson.dumps(valid_body()), content_type=content_type).status_code == 201


def test_body_over_the_limit_is_413(client: FlaskClient) -> None:
    response = post(client, data=b"{" + b" " * (1024 * 1024) + b"}", content_type=JSON)
    assert response.status_code == 413
    assert "1048576 bytes" in errors_of(response)[0]["message"]


def test_body_limit_is_configurable() -> None:
    app = create_app(config=load_config(SPEC, SCENARIOS, max_body_size=400))
    client = app.test_client()
    body = valid_body(description="x" * 500)
    assert post(client, body).status_code == 413
    assert post(client, valid_body(description=None)).status_code == 201


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"", "required"),
        (b"   \n\t ", "empty"),
        (b"{", "not valid JSON"),
        (b'{"name": "x",}', "not valid JSON"),
        (b"{'name': 'x'}", "not valid JSON"),
        (b'{"port": NaN}', "not valid JSON"),
        (b'{"port": Infinity}', "not valid JSON"),
        (b'{"port": 1e400}', "not valid JSON"),
        (b'{"name": "a\x00b"}', "NUL byte"),
        (b"\x00\x00\x00", "NUL byte"),
        (b'{"name": "\xff\xfe"}', "not valid UTF-8"),
        (b"\xef\xbb\xbf\xff", "not valid UTF-8"),
        (b'{"name": "\\ud800"}', "not valid JSON"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"a":' * 2000 + b"1" + b"}" * 2000, "nested too deeply"),
        (b'{"name": "x"} {"name": "y"}', "not valid JSON"),
    ],
    ids=lambda v: v[:24].decode("latin-1") if isinstance(v, bytes) else v,
)
def test_unparseable_body_is_400_with_a_reason(client: FlaskClient, payload: bytes, words: str) -> None:
    response = post(client, data=payload, content_type=JSON)
    assert response.status_code == 400
    problem = errors_of(response)[0]
    assert words in problem["message"]
    assert problem["field"] == "body"


@pytest.mark.parametrize("document", [b"[]", b'"text"', b"587", b"null", b"true", b"[{}]"])
def test_non_object_body_is_400(client: FlaskClient, document: bytes) -> None:
    response = post(client, data=document, content_type=JSON)
    assert response.status_code == 400
    assert errors_of(response)[0]["message"].startswith("The body must be an object")


def test_random_binary_bodies_never_500(client: FlaskClient) -> None:
    rng = __import__("random").Random(7)
    for size in (1, 7, 100, 4096, 65536):
        for _ in range(5):
            payload = bytes(rng.getrandbits(8) for _ in range(size)) if size < 4096 else os.urandom(size)
            assert post(client, data=payload, content_type=JSON).status_code == 400


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"appIntegrationId": ...}, "appIntegrationId", "appIntegrationId is required."),
        ({"name": ...}, "name", "name is required."),
        ({"host": ...}, "host", "host is required."),
        ({"port": ...}, "port", "port is required."),
        ({"username": ...}, "username", "username is required."),
        ({"password": ...}, "password", "password is required."),
        ({"name": ""}, "name", "name must not be empty."),
        ({"host": ""}, "host", "host must not be empty."),
        ({"appIntegrationId": ""}, "appIntegrationId", "appIntegrationId must not be empty."),
        ({"password": ""}, "password", "password must not be empty."),
        ({"host": 42}, "host", "host must be a string."),
        ({"name": None}, "name", "name must be a string."),
        ({"port": "587"}, "port", "port must be an integer (int32)."),
        ({"port": True}, "port", "port must be an integer (int32)."),
        ({"port": 587.5}, "port", "port must be an integer (int32)."),
        ({"port": 2**31}, "port", "port must be at most 2147483647 (int32)."),
        ({"port": -(2**31) - 1}, "port", "port must be at least -2147483648 (int32)."),
        ({"port": 10**30}, "port", "port must be at most 2147483647 (int32)."),
        ({"useTls": "yes"}, "useTls", "useTls must be true, false or null."),
        ({"isDefault": 1}, "isDefault", "isDefault must be true, false or null."),
        ({"description": 5}, "description", "description must be a string or null."),
        ({"status": "Active"}, "status", 'status must be one of "0 - Inactive", "1 - Active".'),
        ({"status": None}, "status", "status must be a string."),
    ],
)
def test_schema_violation_names_the_field(client: FlaskClient, changes: dict[str, Any], field: str, words: str) -> None:
    response = post(client, valid_body(**changes))
    assert response.status_code == 400
    assert [(e["field"], e["message"], e["code"]) for e in errors_of(response)] == [(field, words, "InvalidInput")]


def test_one_item_per_violation_sharing_a_correlation_id(client: FlaskClient) -> None:
    response = post(client, {"name": "", "port": "x", "useTls": "no"})
    problems = errors_of(response)
    assert [p["field"] for p in problems] == [
        "appIntegrationId",
        "host",
        "name",
        "password",
        "port",
        "useTls",
        "username",
    ]
    assert len({p["correlationId"] for p in problems}) == 1
    assert response.headers["X-Correlation-Id"] == problems[0]["correlationId"]


def test_unknown_properties_are_ignored(client: FlaskClient) -> None:
    response = post(client, valid_body(extra={"nested": [1, 2, 3]}, other="x"))
    assert response.status_code == 201
    assert "extra" not in response.get_json()["data"]


def test_server_keeps_serving_after_bad_input(client: FlaskClient) -> None:
    for payload in (b"\xff", b"[" * 3000, b"{", b"\x00"):
        post(client, data=payload, content_type=JSON)
    assert post(client, valid_body()).status_code == 201
