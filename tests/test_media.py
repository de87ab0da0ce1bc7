"""Errors, examples and files in every media type, end to end against a real server (issue 11,
points 3 and 4): media-errors.yaml documents its errors only as XML (`4XX`, 429) or plain text
(`default`), or as problem+json and XML at once; names its examples under JSON only; and serves
covers and files as images, PDF and bytes. Every response is checked against the fixture itself:
JSON and text with jsonschema, XML read back following the schema's `xml` hints, images opened
with Pillow as a browser would."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockserver.validator import views
from mockserver.validator.bodies import kind_of, xml_document
from mockserver.validator.shape import Shape

from .conftest import LiveServer, start_server
from .test_error_shapes import _rebased, documented

pytestmark = pytest.mark.e2e

SPEC = Path(__file__).parent / "fixtures" / "media-errors.yaml"
DOCUMENT: dict[str, Any] = yaml.safe_load(SPEC.read_text())
KEY = {"X-Api-Key": "k"}
IMAGES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP", "image/bmp": "BMP"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    scenarios = tmp_path_factory.mktemp("scenarios")
    (scenarios / "throttled.yaml").write_text(
        "description: One request a minute per client.\nrate_limit: {limit: 1, window: 60, key: client}\n"
    )
    (scenarios / "stateful.yaml").write_text("description: Remembers what was created.\nstateful: true\n")
    (scenarios / "restricted.yaml").write_text(
        "description: Only key k, and only brand acme.example.\nauth: {keys: [k], brands: [acme.example]}\n"
    )
    live = start_server("--spec", str(SPEC), "--scenarios", str(scenarios), "--no-reload", "--quiet")
    yield live
    live.stop()


def call(server: LiveServer, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return requests.request(method, server.url + path, headers={**KEY, **(headers or {})}, timeout=10, **kw)


def schema_of(template: str | None, method: str, status: int, media_type: str) -> Any:
    found = documented(SPEC, template, method, status)
    assert found is not None, f"{status} is not documented for {method} {template}"
    content = found[1].get("content") or {}
    assert media_type in content, f"{media_type} is not among {list(content)} for {status}"
    return content[media_type].get("schema")


def value_of(response: requests.Response, schema: Any) -> Any:
    """The body as the value its schema describes: JSON parsed, XML read back following the `xml`
    hints, text as it is."""
    media_type = response.headers["Content-Type"].split(";")[0]
    kind = kind_of(media_type)
    if kind == "json":
        return response.json()
    if kind == "xml":
        shape = Shape(schema or {}, lambda node: views.resolve(DOCUMENT, node))
        return xml_document(ET.fromstring(response.content), shape)
    return response.text


def conforms(response: requests.Response, template: str | None, method: str) -> Any:
    """Assert that `response` is what the fixture documents (status, media type, schema); its value."""
    media_type = response.headers["Content-Type"].split(";")[0]
    schema = schema_of(template, method, response.status_code, media_type)
    value = value_of(response, schema)
    if schema is not None and kind_of(media_type) != "binary":
        registry = Registry().with_resource("urn:spec", Resource.from_contents(DOCUMENT, DRAFT202012))
        validator = Draft202012Validator(
            _rebased(schema), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        problems = [error.message for error in validator.iter_errors(value)]
        assert not problems, (method, template, response.status_code, response.content[:300], problems)
    return value


# -- the mock's own errors in the spec's XML and text shapes ----------------------------------------

PJ = "application/problem+json"
ERRORS = [
    # method, path, template, headers, body, status, media type
    ("GET", "/books/0", "/books/{bookId}", {}, None, 400, "application/xml"),
    ("GET", "/books/1", "/books/{bookId}", {"X-Api-Key": ""}, None, 401, "application/xml"),
    ("GET", "/books/1", "/books/{bookId}", {"X-Mock-Scenario": "restricted", "X-Api-Key": "x"}, None, 401, None),
    ("GET", "/books/1", "/books/{bookId}", {"X-Mock-Scenario": "restricted", "Brand-URL": "b"}, None, 403, None),
    ("GET", "/books/1", "/books/{bookId}", {"Accept": "image/png"}, None, 406, "application/xml"),
    ("POST", "/books", "/books", {"Content-Type": "text/csv"}, b"a,b", 415, "application/xml"),
    ("POST", "/books", "/books", {"Content-Type": "application/json"}, b"x" * 2_000_000, 413, "application/xml"),
    ("GET", "/books?limit=0", "/books", {}, None, 400, "text/plain"),
    ("DELETE", "/books", None, {}, None, 405, "text/plain"),  # no operation: the first `default` documenting it
    ("POST", "/books", "/books", {}, None, 400, "application/problem+json"),  # JSON first without Accept
    ("POST", "/books", "/books", {"Accept": "application/xml"}, None, 400, "application/xml"),
    ("POST", "/books", "/books", {"Accept": "application/problem+json, application/xml;q=0.5"}, None, 400, PJ),
    ("POST", "/books", "/books", {"Accept": "text/html"}, None, 400, "application/problem+json"),  # none: JSON
]


@pytest.mark.parametrize(("method", "path", "template", "headers", "body", "status", "media_type"), ERRORS)
def test_every_mock_error_is_in_the_documented_media_type_and_shape(
    server: LiveServer,
    method: str,
    path: str,
    template: str | None,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
    media_type: str | None,
) -> None:
    sent = {"Content-Type": "application/json", **headers} if method == "POST" and body is None else headers
    response = call(server, method, path, sent, data=b"{}" if method == "POST" and body is None else body)
    assert response.status_code == status, response.content[:300]
    assert response.headers["Content-Type"].split(";")[0] == (media_type or "application/xml")
    conforms(response, template, method)


def test_an_xml_error_carries_the_code_and_each_problem(server: LiveServer) -> None:
    response = call(server, "GET", "/books/0")
    error = ET.fromstring(response.content)
    assert error.tag == "error" and error.attrib["code"] == "InvalidInput"  # xml: name, attribute
    assert error.findtext("message") == "The input is invalid."
    details = error.find("details")  # wrapped: true
    assert details is not None
    assert [(d.attrib.get("field"), d.findtext("message")) for d in details] == [
        ("bookId", "bookId must be at least 1.")
    ]
    invalid = call(server, "POST", "/books", {"Accept": "application/xml"}, json={"title": ""})
    items = ET.fromstring(invalid.content).find("details")
    assert items is not None and [d.attrib.get("field") for d in items] == ["id", "title"]


def test_a_text_error_is_the_message_itself(server: LiveServer) -> None:
    response = call(server, "GET", "/books?limit=0")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == "limit must be at least 1."
    assert call(server, "DELETE", "/books").text == "DELETE is not supported here; use GET, POST."


def test_the_rate_limit_answers_in_xml(server: LiveServer) -> None:
    throttled = {"X-Mock-Scenario": "throttled"}
    assert call(server, "GET", "/books/3/file", throttled).status_code == 200
    response = call(server, "GET", "/books/3/file", throttled)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    value = conforms(response, "/books/{bookId}/file", "GET")
    assert value["code"] == "TooManyRequests" and "rate limit" in value["details"][0]["message"]


def test_a_missing_item_gets_the_code_of_the_spec_s_own_404_example(server: LiveServer) -> None:
    response = call(server, "PUT", "/books/5", {"X-Mock-Scenario": "stateful"}, json={"id": 5, "title": "T"})
    assert response.status_code == 404 and response.headers["Content-Type"] == "application/json"
    assert conforms(response, "/books/{bookId}", "PUT") == {
        "code": "BOOK_NOT_FOUND",
        "message": "No item with id '5' exists here.",
    }


# -- Prefer: example= where Accept chooses a media type that lacks the example ------------------------


def test_a_json_example_is_sent_as_xml_when_the_xml_schema_admits_it(server: LiveServer) -> None:
    response = call(server, "GET", "/books/1", {"Accept": "application/xml", "Prefer": "example=classic"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/xml; charset=utf-8"
    book = ET.fromstring(response.content)
    assert book.tag == "book" and book.attrib["id"] == "1"
    assert conforms(response, "/books/{bookId}", "GET") == {"id": 1, "title": "Dune", "isbn": "9780441013593"}
    as_json = call(server, "GET", "/books/1", {"Prefer": "example=tiny"})  # an XML example, as JSON
    assert conforms(as_json, "/books/{bookId}", "GET") == {"id": 3, "title": "Tiny", "isbn": "9780000000002"}


@pytest.mark.parametrize(
    ("accept", "example", "why"),
    [
        ("application/xml", "draft", "application/xml's schema does not admit it: isbn is required"),
        ("text/plain", "classic", "text/plain's schema does not admit it: The body must be a string"),
    ],
)
def test_an_example_the_chosen_media_type_cannot_carry_is_refused_saying_why(
    server: LiveServer, accept: str, example: str, why: str
) -> None:
    response = call(server, "GET", "/books/1", {"Accept": accept, "Prefer": f"example={example}"})
    assert response.status_code == 400
    value = conforms(response, "/books/{bookId}", "GET")  # the spec's own 4XX, in XML
    detail = value["details"][0]
    assert detail["field"] == "Prefer"
    assert detail["message"] == (
        f"Prefer: example={example} cannot be sent as {accept}: the example {example!r} is documented for "
        f"application/json only, and {why}."
    )


# -- files a client can open ----------------------------------------------------------------------


@pytest.mark.parametrize("media_type", [*IMAGES, "image/svg+xml", "application/pdf"])
def test_every_documented_file_type_is_a_real_file(server: LiveServer, media_type: str) -> None:
    response = call(server, "GET", "/books/1/cover", {"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == media_type
    if media_type in IMAGES:  # image/bmp: through the documented image/*
        image = Image.open(io.BytesIO(response.content))
        image.load()
        assert (image.format, image.size) == (IMAGES[media_type], (1, 1))
    elif media_type == "image/svg+xml":
        assert ET.fromstring(response.content).tag == "{http://www.w3.org/2000/svg}svg"
    else:
        pdf = response.content
        assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
        offset = int(re.findall(rb"startxref\n(\d+)", pdf)[0])
        assert pdf[offset:].startswith(b"xref\n")  # a reader finds the table where the trailer says
        for number, at in enumerate(re.findall(rb"(\d{10}) 00000 n", pdf), 1):
            assert pdf[int(at) :].startswith(b"%d 0 obj" % number)
    assert call(server, "GET", "/books/1/cover", {"Accept": media_type}).content == response.content  # the same


def test_a_wildcard_without_accept_is_a_png(server: LiveServer) -> None:
    response = call(server, "GET", "/books/1/cover")
    assert response.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).format == "PNG"


def test_octet_stream_is_deterministic_bytes_within_the_schema_s_lengths(server: LiveServer) -> None:
    first = call(server, "GET", "/books/1/file")
    assert first.headers["Content-Type"] == "application/octet-stream" and 64 <= len(first.content) <= 96
    assert call(server, "GET", "/books/1/file").content == first.content
    other = call(server, "GET", "/books/2/file").content
    assert other != first.content and 64 <= len(other) <= 96


def test_documented_examples_win_and_external_values_are_not_fetched(server: LiveServer) -> None:
    scan = call(server, "GET", "/books/1/scan")
    assert scan.headers["Content-Type"] == "application/octet-stream" and scan.content == b"SCAN-0001"
    remote = call(server, "GET", "/books/1/scan", {"Accept": "image/png"})  # only an externalValue: generated
    assert remote.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(remote.content)).format == "PNG"


def test_another_seed_another_picture(server: LiveServer, tmp_path: Path) -> None:
    other = start_server("--spec", str(SPEC), "--scenarios", str(tmp_path), "--no-reload", "--quiet", "--seed", "9")
    try:
        mine = call(server, "GET", "/books/1/cover", {"Accept": "image/png"}).content
        theirs = call(other, "GET", "/books/1/cover", {"Accept": "image/png"}).content
        assert mine != theirs and Image.open(io.BytesIO(theirs)).format == "PNG"
    finally:
        other.stop()


def test_the_problem_json_error_validates_too(server: LiveServer) -> None:
    response = call(server, "POST", "/books", {"Content-Type": "application/json"}, data=b"{}")
    body = conforms(response, "/books", "POST")
    assert body["status"] == 400 and json.loads(response.content)["title"] == "Bad Request"


XML_WITHOUT_SCHEMA = """openapi: 3.0.3
info: {title: An XML error without a schema, version: "1"}
paths:
  /things/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200": {description: A thing., content: {application/json: {schema: {type: object}}}}
        "400": {description: Refused., content: {application/xml: {}}}
"""


def test_an_xml_error_without_a_schema_is_rfc_9457_s_xml_form(tmp_path: Path) -> None:
    from mockserver import create_app

    spec = tmp_path / "xml.yaml"
    spec.write_text(XML_WITHOUT_SCHEMA)
    (tmp_path / "scenarios").mkdir()
    response = create_app(spec, tmp_path / "scenarios").test_client().get("/things/x")
    assert response.status_code == 400 and response.mimetype == "application/xml"
    problem = ET.fromstring(response.data)
    assert problem.tag == "{urn:ietf:rfc:7807}problem"
    assert problem.findtext("{urn:ietf:rfc:7807}detail") == "id must be an integer."
    assert problem.findtext("{urn:ietf:rfc:7807}status") == "400"
