"""The OpenAPI document, compiled once into what the request path needs.

Everything the mock does per request is looked up here: operations, their parameters, body and
response schemas (as ready validators), examples and the canned responses built from them.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import gc
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import orjson
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from . import speccache
from .bundle import as_written, bundle, in_extension, in_literal
from .diagnostics import drop_bad_defaults, drop_defaults, schema_locations
from .errors import ConfigError, ConfigProblem, JsonPath, unexpected_problem
from .jsondoc import dumps
from .validation import SchemaCheck, ViolationList, compile_validator, describe_violations, fast_document
from .validator import views
from .validator.bodies import kind_of
from .validator.shape import Shape
from .yamlfile import YamlDocument, load_yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SPEC_URI = "urn:mockserver:openapi"
JSON_MEDIA_TYPE = "application/json"


def pointer_of(path: JsonPath) -> str:
    """A JSON pointer (RFC 6901) for a path in the document."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def path_of(pointer: str) -> tuple[str, ...]:
    parts = pointer.lstrip("#").split("/")[1:]
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in parts)


@dataclass(frozen=True)
class Canned:
    """A ready-to-send response: status, headers and the body already serialized."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    payload: bytes = b""

    @classmethod
    def of(cls, status: int, body: Any, headers: Mapping[str, str] | None = None) -> Canned:
        return cls(status, body, dict(headers or {}), dumps(body))


@dataclass(frozen=True)
class HeaderSpec:
    name: str
    required: bool
    validator: SchemaCheck | None
    example: str | None
    schema: Any = None  # in the response view, for a generated value where there is no example


@dataclass(frozen=True)
class ResponseMedia:
    """One documented media type of a response: what a body in it is built from."""

    media_type: str  # as documented, lower case, parameters stripped; may be a wildcard
    kind: str  # json, xml, text, binary, form or multipart (validator/bodies.kind_of)
    location: JsonPath  # of the media type object, its `$ref`s followed
    schema: Any  # in the response view (writeOnly released, discriminators pinned); None without one
    examples: Mapping[str, Any]  # by name; a lone `example` is named "example"
    validator: SchemaCheck | None = None  # JSON kinds only


@dataclass(frozen=True)
class ResponseSpec:
    """One documented response of an operation (or of `components/responses`)."""

    status: int
    description: str
    location: JsonPath
    validator: SchemaCheck | None
    examples: Mapping[str, Any]
    headers: Mapping[str, HeaderSpec]
    # Every documented media type, in the spec's order; `validator` and `examples` above are those of
    # the JSON one (application/json, else the first +json one), which error replies and checks use.
    media: Mapping[str, ResponseMedia] = field(default_factory=dict)
    json_media: str = JSON_MEDIA_TYPE

    @cached_property
    def _first_example(self) -> tuple[Any, bytes]:
        value = next(iter(self.examples.values())) if self.examples else None
        return value, orjson.dumps(value)

    @property
    def example(self) -> Any:
        """A fresh copy of the first example: the base every generated or scenario response is merged
        over. Parsing its serialized form is several times quicker than copy.deepcopy."""
        return orjson.loads(self._first_example[1])

    @cached_property
    def _example_headers(self) -> dict[str, str]:
        return {h.name: h.example for h in self.headers.values() if h.example is not None}

    @property
    def example_headers(self) -> dict[str, str]:
        return dict(self._example_headers)  # callers add to it

    @cached_property
    def message(self) -> str | None:
        """The envelope message of the first example, so error texts come from the spec."""
        example = self._first_example[0]
        if isinstance(example, dict) and isinstance(example.get("message"), str):
            return example["message"]
        return None

    def canned(self, example_name: str | None = None) -> Canned:
        body = self.examples[example_name] if example_name else self.example
        return Canned.of(self.status, body, self.example_headers)

    def violations(self, body: Any) -> ViolationList:
        return describe_violations(self.validator, body) if self.validator else []

    def header_violations(self, headers: Mapping[str, str]) -> list[str]:
        """Problems with `headers` (case-insensitive) against the documented headers."""
        return [f"header {name} {text}" for name, text in self.header_problems(headers)]

    def header_problems(self, headers: Mapping[str, str]) -> list[tuple[str, str]]:
        """(header name, what is wrong with it) for each problem `header_violations` words."""
        present = {k.lower(): v for k, v in headers.items()}
        problems = []
        for spec in self.headers.values():
            value = present.get(spec.name.lower())
            if value is None:
                if spec.required:
                    problems.append((spec.name, "is required"))
            elif spec.validator is not None:
                found = describe_violations(spec.validator, value)
                if found and any(not describe_violations(spec.validator, v) for v in _scalars_of(value)):
                    found = []  # a header is text: `5` is the integer 5 its schema asks for
                problems.extend((spec.name, v.text) for v in found)
        return problems


# Header parameters OpenAPI says to ignore: the media types and the security schemes own them.
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
DEFAULT_STYLES = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    location: str  # "header", "query", "path" or "cookie"
    required: bool
    validator: SchemaCheck | None
    shape: Shape  # how the text that arrives is read before validation
    style: str = "simple"
    explode: bool = False
    media_type: str | None = None  # a parameter with `content`: its value is a document of this type
    allow_empty: bool = False  # allowEmptyValue: `?name=` counts as sent, whatever the schema

    @cached_property
    def plain(self) -> bool:
        """A scalar in a style that sends it as it is: read without a deserializer."""
        scalar = not (self.shape.is_array or self.shape.is_object)
        return scalar and self.media_type is None and self.style in ("simple", "form")


@dataclass(frozen=True)
class Encoding:
    """A form or multipart property's `encoding`: the part's content types and its style."""

    content_types: tuple[str, ...] = ()
    style: str = "form"
    explode: bool = True


@dataclass(frozen=True)
class MediaSpec:
    """One documented request media type, with what its parser needs."""

    media_type: str  # lower case, parameters stripped; may be a wildcard (`image/*`, `*/*`)
    kind: str  # which reader parses it (validator/bodies.py): json, form, multipart, xml, text, binary
    validator: SchemaCheck | None
    shape: Shape
    encoding: Mapping[str, Encoding] = field(default_factory=dict)
    # Top-level property schemas a success response echoes: readOnly ones are the server's to set.
    properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class BodySpec:
    required: bool
    media: tuple[MediaSpec, ...]

    @property
    def media_types(self) -> tuple[str, ...]:
        return tuple(m.media_type for m in self.media)

    @cached_property
    def _exact(self) -> dict[str, MediaSpec]:
        return {m.media_type: m for m in self.media}

    def media_for(self, mimetype: str) -> MediaSpec | None:
        """The documented media type a request's Content-Type selects: the exact type, then
        `type/*`, then `*/*` (the most specific wins, as in HTTP content negotiation)."""
        exact = self._exact
        found = exact.get(mimetype)
        if found is None and mimetype:
            found = exact.get(mimetype.split("/", 1)[0] + "/*") or exact.get("*/*")
        return found


@dataclass(frozen=True)
class SecurityScheme:
    name: str
    kind: str  # "apiKey", "http", "oauth2" or "openIdConnect"
    location: str  # "header", "query" or "cookie"
    parameter: str  # header, query or cookie name that carries the credential
    scheme: str = ""  # the Authorization scheme, lower case: basic, bearer (also oauth2/openIdConnect), ...
    bearer_format: str = ""  # documentation only: a bearer token is opaque to the server


@dataclass(frozen=True)
class StateSpec:
    """`x-mock-state` on an operation: how the stateful mode keeps what it creates."""

    collection: str
    action: str  # "create" or "update"
    partition: str | None = None  # header whose value separates stores (Brand-URL: one per brand)
    id_parameter: str | None = None  # for update: the path parameter naming the item
    exclusive: tuple[str, ...] = ()  # flags at most one item per partition may have true


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str
    parameters: tuple[ParameterSpec, ...]
    body: BodySpec | None
    responses: Mapping[int, ResponseSpec]
    security: tuple[tuple[SecurityScheme, ...], ...]  # alternatives, each a set of schemes
    state: StateSpec | None = None
    request_example: Any = None
    # `2XX`..`5XX` and `default` responses (upper case keys), which answer any status they cover.
    ranges: Mapping[str, ResponseSpec] = field(default_factory=dict)

    def response_for(self, status: int) -> ResponseSpec | None:
        """The response documented for `status`: the exact code, then its range (`4XX`), then `default`."""
        return self.responses.get(status) or self.ranges.get(f"{status // 100}XX") or self.ranges.get("DEFAULT")

    def success(self) -> tuple[int, ResponseSpec] | None:
        """The status and response a success sends: the lowest 2xx, else `2XX` or `default` as 200."""
        status = self.success_status
        if status is not None:
            return status, self.responses[status]
        fallback = self.ranges.get("2XX") or self.ranges.get("DEFAULT")
        return (200, fallback) if fallback is not None else None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @cached_property
    def query_names(self) -> frozenset[str]:
        """Query keys its parameters own, which an exploded object parameter must leave alone."""
        return frozenset(p.name for p in self.parameters if p.location == "query")

    @cached_property  # asked on every success
    def success_status(self) -> int | None:
        return min((s for s in self.responses if 200 <= s < 300), default=None)

    def example_names(self) -> dict[str, int]:
        """Every named example of every documented status and media type, with its status."""
        return {
            name: status
            for status, r in sorted(self.responses.items())
            for name in [*r.examples, *(n for media in r.media.values() for n in media.examples)]
        }


@dataclass
class Verdicts:
    """What checking a spec's defaults and examples refused (each also a warning). The load cache
    keeps them (speccache.py), so a spec loaded before is not checked again."""

    defaults: list[JsonPath] = field(default_factory=list)  # schemas whose `default` is refused
    examples: dict[JsonPath, list[str]] = field(default_factory=dict)  # by response location: JSON examples
    request_examples: list[str] = field(default_factory=list)  # labels of operations whose request example is


@dataclass(frozen=True)
class Derived:
    """The document as requests and as responses see it (validator/views.py), and each as jsonschema-rs
    reads it (None where it cannot give jsonschema's verdicts): made from the document alone, before the
    Spec changes it, so the load cache keeps them too."""

    views: dict[str, Any]
    fast: dict[str, Any]

    @classmethod
    def of(cls, document: dict[str, Any]) -> Derived:
        seen = {"request": views.for_requests(document), "response": views.for_responses(document)}
        return cls(seen, {view: fast_document(seen_by) for view, seen_by in seen.items()})


class Spec:
    """A loaded, validated OpenAPI 3.x document."""

    def __init__(
        self,
        document: YamlDocument,
        document_warnings: Sequence[ConfigProblem] = (),
        verdicts: Verdicts | None = None,
        derived: Derived | None = None,
    ) -> None:
        """`verdicts`, from the load cache: this document was loaded before, its `document_warnings` are
        every warning that load found, and every schema in it compiled (validators compile on first use).
        `derived`: Derived.of(the document), made already."""
        self.document = document
        self.raw: dict[str, Any] = document.data
        self._lazy = verdicts is not None
        derived = derived or Derived.of(self.raw)
        # Requests and responses see the document differently (readOnly, writeOnly, discriminators).
        self.views = derived.views
        self.registries = {view: _registries(seen, derived.fast[view]) for view, seen in self.views.items()}
        # What the mock serves through (invalid examples and defaults, references it does not follow);
        # `serve --strict` and `check` refuse them. Bad defaults go before anything reads them.
        self.warnings: list[ConfigProblem] = list(document_warnings)
        self.verdicts = verdicts or Verdicts()
        if verdicts is None:
            for path, problem in drop_bad_defaults(self):
                self.verdicts.defaults.append(path)
                self.warnings.append(problem)
        else:
            drop_defaults(self.raw, verdicts.defaults)
        self.error_shapes: dict[tuple[str, int, int | str], Any] = {}  # error_shapes.shape_for's, made on first use
        self.schemes = self._security_schemes()
        # Header, query and cookie names that carry credentials here, masked wherever requests are kept.
        self.credential_names = frozenset(s.parameter.lower() for s in self.schemes.values())
        self.operations: list[Operation] = list(self._operations())
        # A reusable response says which status it is for with `x-status` (404 and 405 are sent
        # outside any operation, so no `responses` map gives them a status code).
        self.shared_responses: dict[str, ResponseSpec] = {
            name: self._response(str(response.get("x-status", "")), ("components", "responses", name))
            for name, response in ((self.raw.get("components") or {}).get("responses") or {}).items()
        }
        self._drop_bad_examples()

    @property
    def path(self) -> Path:
        return self.document.path

    def operation(self, reference: str) -> Operation | None:
        """Find an operation by operationId or by `METHOD /path`."""
        for op in self.operations:
            if reference in (op.operation_id, op.label):
                return op
        return None

    def header_names(self) -> list[str]:
        """Every header the spec asks clients to send: credentials and header parameters."""
        names = {s.parameter for s in self.schemes.values() if s.location == "header"}
        names |= {p.name for op in self.operations for p in op.parameters if p.location == "header"}
        return sorted(names)

    def shared_response(self, status: int) -> ResponseSpec | None:
        """A `components/responses` entry for `status` (404, 405: answers outside any operation)."""
        return next((r for r in self.shared_responses.values() if r.status == status), None)

    # -- compiling -------------------------------------------------------------------------------

    def resolve(self, path: JsonPath) -> tuple[Any, JsonPath]:
        """The node at `path`, following local `$ref`s on the way; returns it with its real location."""
        node, where = self._follow(self.raw, ())
        for part in path:
            node, where = self._follow(node[part], (*where, part))
        return node, where

    def _follow(self, node: Any, where: JsonPath) -> tuple[Any, JsonPath]:
        seen = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise KeyError(ref)
            seen.add(ref)
            where = path_of(ref)
            node = self.raw
            for part in where:
                node = node[part]
        return node, where

    def validator(self, path: JsonPath, view: str = "response") -> SchemaCheck:
        # percent-encoded, as a URI fragment must be: paths hold `{` and `}`
        fragment = quote(pointer_of(path), safe="/~")
        registry, fast_registry = self.registries[view]
        return compile_validator({"$ref": f"{SPEC_URI}#{fragment}"}, registry, fast_registry, self._lazy)

    def shape(self, schema: Any) -> Shape:
        """How text becomes a value for `schema` (a request schema)."""
        document = self.views["request"]
        return Shape(schema, lambda node: views.resolve(document, node))

    def _security_schemes(self) -> dict[str, SecurityScheme]:
        schemes = {}
        for name, scheme in ((self.raw.get("components") or {}).get("securitySchemes") or {}).items():
            kind = scheme.get("type")
            if kind == "apiKey":
                schemes[name] = SecurityScheme(name, kind, scheme["in"], scheme["name"])
            elif kind == "http":
                http = str(scheme.get("scheme", "")).lower()
                bearer_format = str(scheme.get("bearerFormat", ""))
                schemes[name] = SecurityScheme(name, kind, "header", "Authorization", http, bearer_format)
            elif kind in ("oauth2", "openIdConnect"):  # both present their access token as a bearer token
                schemes[name] = SecurityScheme(name, kind, "header", "Authorization", "bearer")
            # mutualTLS happens below HTTP, where a mock cannot see it: treated as satisfied.
        return schemes

    def _operations(self) -> Iterator[Operation]:
        for path, item in (self.raw.get("paths") or {}).items():
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                location = ("paths", path, method)
                op = item[method]
                responses, ranges = {}, {}
                for status in op.get("responses") or {}:
                    key = str(status)
                    if key.isdigit():
                        response = self._response(key, (*location, "responses", status))
                        responses[response.status] = response
                    elif re.fullmatch(r"[1-5]XX|default", key, re.IGNORECASE):
                        ranges[key.upper()] = self._response(key, (*location, "responses", status))
                yield Operation(
                    operation_id=op.get("operationId") or f"{method.upper()} {path}",
                    method=method.upper(),
                    path=path,
                    parameters=tuple(self._parameters(("paths", path), location)),
                    body=self._body(location) if "requestBody" in op else None,
                    responses=responses,
                    security=self._security(op.get("security", self.raw.get("security"))),
                    state=self._state(op.get("x-mock-state")),
                    request_example=self._request_example(location) if "requestBody" in op else None,
                    ranges=ranges,
                )

    def _parameters(self, item_location: JsonPath, op_location: JsonPath) -> Iterator[ParameterSpec]:
        merged: dict[tuple[str, str], ParameterSpec] = {}  # operation-level ones override path-level
        for owner in (item_location, op_location):
            owner_node, _ = self.resolve(owner)
            for index, _param in enumerate(owner_node.get("parameters") or []):
                param, where = self.resolve((*owner, "parameters", index))
                location = param["in"]
                if location == "header" and param["name"].lower() in IGNORED_HEADERS:
                    continue  # OpenAPI: such a definition "SHALL be ignored"
                style = param.get("style", DEFAULT_STYLES.get(location, "simple"))
                media_type = next(iter(param.get("content") or {}), None)
                schema_path = (*where, "schema") if media_type is None else (*where, "content", media_type, "schema")
                schema, _ = self.resolve(schema_path) if _has(self.raw, schema_path) else ({}, ())
                merged[(param["name"].lower(), location)] = ParameterSpec(
                    name=param["name"],
                    location=location,
                    required=bool(param.get("required")) or location == "path",
                    validator=self.validator(schema_path, "request") if _has(self.raw, schema_path) else None,
                    shape=self.shape(schema),
                    style=style,
                    explode=bool(param.get("explode", style == "form")),
                    media_type=media_type,
                    allow_empty=bool(param.get("allowEmptyValue")),
                )
        yield from merged.values()

    def _body(self, op_location: JsonPath) -> BodySpec:
        body, where = self.resolve((*op_location, "requestBody"))
        media = []
        for media_type, declared in (body.get("content") or {}).items():
            schema_path = (*where, "content", media_type, "schema")
            has_schema = isinstance(declared, dict) and "schema" in declared
            schema, schema_where = self.resolve(schema_path) if has_schema else ({}, ())
            encoding = {
                name: Encoding(
                    content_types=tuple(
                        t.strip().lower() for t in str(spec.get("contentType", "")).split(",") if t.strip()
                    ),
                    style=str(spec.get("style", "form")),
                    explode=bool(spec.get("explode", spec.get("style", "form") == "form")),
                )
                for name, spec in (declared.get("encoding") or {}).items()
            }
            media.append(
                MediaSpec(
                    media_type=media_type.split(";", 1)[0].strip().lower(),
                    kind=kind_of(media_type),
                    validator=self.validator(schema_path, "request") if has_schema else None,
                    shape=self.shape(schema),
                    encoding=encoding,
                    properties={
                        name: prop
                        for name in (schema.get("properties") if isinstance(schema, dict) else None) or {}
                        if not (prop := self.resolve((*schema_where, "properties", name))[0]).get("readOnly")
                    },
                )
            )
        return BodySpec(bool(body.get("required")), tuple(media))

    def _response(self, status: str, location: JsonPath) -> ResponseSpec:
        response, where = self.resolve(location)
        content = response.get("content") or {}
        json_type = next(
            (t for t in content if is_json(t) and t.split(";")[0].strip().lower() == JSON_MEDIA_TYPE), None
        )
        json_type = json_type or next((t for t in content if is_json(t)), JSON_MEDIA_TYPE)
        media = content.get(json_type) or {}
        examples = self._media_examples(media, (*where, "content", json_type))
        documented = {}
        for media_type in content:
            media_where = (*where, "content", media_type)
            node, media_where = self.resolve(media_where)
            has_schema = isinstance(node, dict) and "schema" in node
            kind = kind_of(media_type)
            documented[media_type.split(";", 1)[0].strip().lower()] = ResponseMedia(
                media_type=media_type.split(";", 1)[0].strip().lower(),
                kind=kind,
                location=media_where,
                schema=self.response_schema((*media_where, "schema")) if has_schema else None,
                examples=self._media_examples(node if isinstance(node, dict) else {}, media_where),
                validator=self.validator((*media_where, "schema")) if has_schema and kind == "json" else None,
            )
        headers = {}
        for name in response.get("headers") or {}:
            header, header_where = self.resolve((*where, "headers", name))
            has_schema = "schema" in header
            example = header.get("example")
            headers[name.lower()] = HeaderSpec(
                name=name,
                required=bool(header.get("required")),
                validator=self.validator((*header_where, "schema")) if has_schema else None,
                example=None if example is None else str(example),
                schema=self.response_schema((*header_where, "schema")) if has_schema else None,
            )
        return ResponseSpec(
            status=int(status) if status.isdigit() else 0,
            description=str(response.get("description", "")),
            location=where,
            validator=self.validator((*where, "content", json_type, "schema")) if "schema" in media else None,
            examples=examples,
            headers=headers,
            media=documented,
            json_media=json_type,
        )

    def _media_examples(self, media: Mapping[str, Any], where: JsonPath) -> dict[str, Any]:
        """A media type's examples by name (`example` alone is named "example"). One given only by
        `externalValue` is not fetched (a mock makes no outside requests): it counts as absent."""
        examples = {
            name: found["value"]
            for name in media.get("examples") or {}
            if isinstance(found := self.resolve((*where, "examples", name))[0], dict) and "value" in found
        }
        if not examples and "example" in media:
            examples = {"example": media["example"]}
        return examples

    def response_schema(self, path: JsonPath) -> Any:
        """The schema at `path` as responses see it (views["response"]), its top-level `$ref` kept."""
        node: Any = self.views["response"]
        for part in path:
            node = views.resolve(self.views["response"], node)
            node = node[part]
        return node

    @staticmethod
    def _state(declared: Any) -> StateSpec | None:
        if not isinstance(declared, dict):
            return None
        return StateSpec(
            collection=str(declared["collection"]),
            action=str(declared.get("action", "create")),
            partition=declared.get("partition"),
            id_parameter=declared.get("id-parameter"),
            exclusive=tuple(declared.get("exclusive") or ()),
        )

    def _request_example(self, op_location: JsonPath) -> Any:
        body, where = self.resolve((*op_location, "requestBody"))
        for media_type, media in (body.get("content") or {}).items():
            if not is_json(media_type):
                continue
            for name in media.get("examples") or {}:
                return self.resolve((*where, "content", media_type, "examples", name))[0].get("value")
            if "example" in media:
                return media["example"]
        return None

    def request_example(self, operation: Operation) -> Any:
        return copy.deepcopy(operation.request_example)

    def _security(self, requirements: Any) -> tuple[tuple[SecurityScheme, ...], ...]:
        alternatives = []
        for requirement in requirements or []:
            schemes = tuple(self.schemes[name] for name in requirement if name in self.schemes)
            if not schemes:
                return ()  # an empty (or unverifiable) alternative makes authentication optional
            alternatives.append(schemes)
        return tuple(alternatives)

    def _drop_bad_examples(self) -> None:
        """Every example should satisfy its own schema: drift starts there. One that does not is a
        warning and is never sent (the response is generated from the schema instead)."""
        fixed: dict[JsonPath, ResponseSpec] = {}
        every = [r for op in self.operations for r in (*op.responses.values(), *op.ranges.values())]
        for response in every + list(self.shared_responses.values()):
            if response.location in fixed:
                continue
            bad = set(self.verdicts.examples.get(response.location, ())) if self._lazy else self._bad_examples(response)
            fixed[response.location] = _without_examples(response, bad) if bad else response
        for op in self.operations:
            for status, response in list(op.responses.items()):
                op.responses[status] = fixed[response.location]  # type: ignore[index]
            for key, response in list(op.ranges.items()):
                op.ranges[key] = fixed[response.location]  # type: ignore[index]
        self.shared_responses = {name: fixed[r.location] for name, r in self.shared_responses.items()}
        for index, op in enumerate(self.operations):
            if op.body is None:
                continue
            if self._lazy:
                refused = op.label in self.verdicts.request_examples
            elif refused := self._request_example_problems(op):
                self.verdicts.request_examples.append(op.label)
            if refused:
                self.operations[index] = dataclasses.replace(op, request_example=None)

    def _bad_examples(self, response: ResponseSpec) -> set[str]:
        """The names of the response's JSON examples its schema refuses, each told as a warning."""
        media_path = (*response.location, "content", response.json_media)
        bad = set()
        for name, value in response.examples.items():
            for v in response.violations(value):
                bad.add(name)
                where = self._example_path(media_path, name)
                self.warnings.append(
                    self.document.problem((*where, *v.path), f"example does not match its schema: {v.text}")
                )
        if bad:
            self.verdicts.examples[response.location] = sorted(bad)
        return bad

    def _example_path(self, media_path: JsonPath, name: str) -> JsonPath:
        """Where an example's value is written: under `examples` (resolved), or the single `example`."""
        media = self.resolve(media_path)[0] if _has(self.raw, media_path) else {}
        if name in (media.get("examples") or {}):
            return (*self.resolve((*media_path, "examples", name))[1], "value")
        return (*media_path, "example")

    def _request_example_problems(self, op: Operation) -> bool:
        """Warn about request examples their schema refuses; True if there was one."""
        assert op.body is not None
        found = False
        body_location = self.resolve(("paths", op.path, op.method.lower(), "requestBody"))[1]
        documented = self.resolve((*body_location, "content"))[0]
        for json_type, media_spec in zip(documented, op.body.media, strict=True):
            if not is_json(json_type) or media_spec.validator is None:
                continue
            media_path = (*body_location, "content", json_type)
            media = self.resolve(media_path)[0]
            names = list(media.get("examples") or {}) or (["example"] if "example" in media else [])
            for name in names:
                where = self._example_path(media_path, name)
                value = self.resolve(where[:-1])[0].get("value") if where[-1] == "value" else media["example"]
                for v in describe_violations(media_spec.validator, value):
                    found = True
                    self.warnings.append(
                        self.document.problem((*where, *v.path), f"example does not match its schema: {v.text}")
                    )
        return found


def _without_examples(response: ResponseSpec, names: set[str]) -> ResponseSpec:
    """The response without the JSON examples named (ones their schema refuses)."""
    media = dict(response.media)
    if response.json_media in media:
        json_media = media[response.json_media]
        kept = {n: v for n, v in json_media.examples.items() if n not in names}
        media[response.json_media] = dataclasses.replace(json_media, examples=kept)
    examples = {n: v for n, v in response.examples.items() if n not in names}
    return dataclasses.replace(response, examples=examples, media=media)


def _scalars_of(text: str) -> list[Any]:
    """What a header's text may stand for: a number or a boolean."""
    values: list[Any] = [{"true": True, "false": False}[text]] if text in ("true", "false") else []
    with contextlib.suppress(ValueError):
        values.append(int(text))
    with contextlib.suppress(ValueError):
        values.append(float(text))
    return values


def _has(document: Any, path: JsonPath) -> bool:
    """Whether `path` exists, following `$ref`s on the way."""
    node = document
    for part in path:
        node = views.resolve(document, node)
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_list or (isinstance(node, dict) and part in node)):
            return False
        node = node[part]
    return True


def _registries(document: dict[str, Any], fast: Any) -> tuple[Registry, Any]:
    """The document for jsonschema, and for jsonschema-rs (`fast`) when it gives the same verdicts."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource(SPEC_URI, resource)
    if fast is None:
        return registry, None
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a core dependency; the detailed path still works
        return registry, None
    return registry, jsonschema_rs.Registry([(SPEC_URI, fast)])


def is_json(media_type: str) -> bool:
    """application/json, or any type with the +json suffix (RFC 6839); parameters ignored."""
    base = media_type.split(";", 1)[0].strip().lower()
    return base == JSON_MEDIA_TYPE or base.endswith("+json")


def load_spec(path: Path, remember_valid: bool = False, strict: bool = False) -> Spec:
    """Load and validate an OpenAPI 3.x document; every problem found raises one ConfigError.

    What the mock can serve through (Spec.warnings) is kept on the spec, or with `strict` (check,
    serve --strict) raised with the rest. `remember_valid` (serve) skips openapi-spec-validator for
    a document it already passed, by content hash: the validator is a third of start-up. `check`
    (the CI gate) always runs it."""
    try:
        with _collector_paused():
            spec = _load_spec(path, remember_valid)
    except ConfigError:
        raise
    except Exception as exc:  # RecursionError and whatever else no check foresaw: still told as file and reason
        raise ConfigError([unexpected_problem(path, exc)]) from exc
    if strict and spec.warnings:
        raise ConfigError(spec.warnings)
    return spec


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading builds a million long-lived objects, and the cyclic garbage collector would walk them
    all again and again for nothing to free (DigitalOcean's spec: a third of a warm start)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


SWAGGER_2 = (
    "Swagger 2.0 is not supported, and no well-kept Python converter exists to read it; convert it to "
    "OpenAPI 3 first, e.g. with `npx swagger2openapi {name} -o openapi.yaml`"
)


def _load_spec(path: Path, remember_valid: bool) -> Spec:
    remembered = speccache.recall(path) if remember_valid else None
    if remembered is not None:
        document, derived = remembered.document, remembered.derived
        try:
            return _checked(Spec(document, remembered.warnings, remembered.verdicts, derived))
        except Exception:  # an entry no load would have written: the full load decides
            pass
    document = load_yaml(path)
    if not isinstance(document.data, dict):
        raise ConfigError([ConfigProblem(path, "an OpenAPI document must be a mapping", 1)])
    if "swagger" in document.data:
        raise ConfigError([document.problem(("swagger",), SWAGGER_2.format(name=path.name))])
    version = str(document.data.get("openapi", ""))
    if not version.startswith("3."):
        raise ConfigError([document.problem(("openapi",), f"OpenAPI 3.x is required, found {version or 'none'!r}")])
    included = bundle(document)
    if included.errors:
        raise ConfigError(included.errors)
    warnings = [*included.warnings, *_drop_dangling_extension_refs(document), *_drop_dangling_refs(document)]
    structural = list(_structural_problems(document, remember_valid, warnings))
    if structural:
        raise ConfigError(structural)
    if version.startswith("3.0"):
        document.data = upgrade_30_schemas(document.data)
    try:
        derived = Derived.of(document.data)
        # as they are now: the Spec drops refused defaults from the document
        frozen = speccache.freeze((document.data, derived.views, derived.fast)) if remember_valid else None
        spec = Spec(document, warnings, derived=derived)
    except (KeyError, TypeError, ValueError, jsonschema.SchemaError) as exc:
        raise ConfigError([ConfigProblem(path, f"cannot be compiled: {exc!r}")]) from None
    spec = _checked(spec)
    if frozen is not None:
        speccache.remember(path, document, frozen, spec)
    return spec


def _checked(spec: Spec) -> Spec:
    """The spec, if it has something to serve."""
    document = spec.document
    if not spec.operations and not document.data.get("webhooks"):
        raise ConfigError([document.problem(("paths",), "declares no operations to serve")])
    silent = [
        document.problem(("paths", op.path, op.method.lower()), "documents no response the mock could send")
        for op in spec.operations
        if not op.responses and not op.ranges
    ]
    if silent:
        raise ConfigError(silent)
    return spec


def upgrade_30_schemas(node: Any) -> Any:
    """OpenAPI 3.0 schemas in JSON Schema 2020-12 terms, so one validator serves 3.0 and 3.1:
    `nullable: true` admits null, boolean `exclusiveMinimum/Maximum` become numeric bounds. An `enum`
    still decides alone: 3.0.3 says the other keywords keep their meaning and "may disallow the use of
    null", so null is a value of a nullable enum only when the enum lists it (as schemathesis reads it)."""
    if isinstance(node, list):
        return [upgrade_30_schemas(item) for item in node]
    if not isinstance(node, dict):
        return node
    schema = {key: upgrade_30_schemas(value) for key, value in node.items()}
    if schema.pop("nullable", False) is True:
        declared = schema.get("type")
        if isinstance(declared, str):
            schema["type"] = [declared, "null"]
        elif declared is None and "$ref" not in schema:
            schema = {"anyOf": [schema, {"type": "null"}]}
        elif "$ref" in schema:
            schema = {"anyOf": [{"$ref": schema.pop("$ref")}, {"type": "null"}], **schema}
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if isinstance(schema.get(exclusive), bool) and schema.pop(exclusive) and bound in schema:
            schema[exclusive] = schema.pop(bound)
    return schema


def _drop_dangling_extension_refs(document: YamlDocument) -> list[ConfigProblem]:
    """A local reference inside an `x-` extension that points to nothing: a warning, and removed
    (no mock needs extensions, and the structural validator would trip over it)."""
    found = []
    for path, node in list(_refs(document.data, ())):
        if in_extension(path) and _target(document.data, node["$ref"]) is None:
            found.append(document.problem((*path, "$ref"), f"{node['$ref']} points to nothing"))
            del node["$ref"]
    return found


def _refs(node: Any, path: JsonPath) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield path, node
        for key, value in node.items():
            yield from _refs(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, (*path, index))


def _target(document: Any, ref: str) -> Any:
    """What a local reference points to, or None."""
    if not ref.startswith("#"):
        return None
    target: Any = document
    for part in path_of(ref):
        if isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        elif isinstance(target, dict) and part in target:
            target = target[part]
        else:
            return None
    return target


def _drop_dangling_refs(document: YamlDocument) -> list[ConfigProblem]:
    """Every `$ref` must resolve, else it would fail at request time. One that does not (it points to
    nothing, or to a URL the mock does not fetch) is a warning naming its line (an error for
    `serve --strict` and `check`), and the operation concerned keeps serving without it: a schema
    becomes unconstrained (its siblings kept), a response one without content, any other object
    (a parameter, a request body, an example, a header) is left out. (Files a split spec refers to
    are brought in by bundle() before this.)"""
    dangling = []
    anchors: dict[str, JsonPath] | None = None
    for path, node in _refs(document.data, ()):
        ref = node["$ref"]
        if in_extension(path) or in_literal(path):  # never followed: extensions, and data such as examples
            continue
        if ref.startswith("#") and not ref.startswith("#/") and len(ref) > 1:  # 3.1: `#name` names an $anchor
            anchors = _anchors(document.data) if anchors is None else anchors
            if ref[1:] in anchors:
                ref = node["$ref"] = "#" + pointer_of(anchors[ref[1:]])  # the JSON pointer every reader follows
            else:
                dangling.append((path, node, f"{ref} names no $anchor"))
                continue
        target = _target(document.data, ref)
        if not ref.startswith("#"):
            dangling.append((path, node, f"only local and relative-file references are supported, not {ref!r}"))
        elif target is None:
            dangling.append((path, node, f"{as_written(ref)} points to nothing"))
        elif isinstance(target, dict) and "$ref" in target and _cycles_back(document.data, node):  # A -> B -> A
            dangling.append((path, node, f"{as_written(ref)} leads back here through references alone"))
            del node["$ref"]  # broken here, so the other references of the cycle resolve
    if not dangling:
        return []
    schemas = {where for where, _ in schema_locations(document.data)}
    found = []
    for path, node, reason in reversed(dangling):  # list items from the last, so indexes stay right
        if path in schemas:
            consequence = "the schema is served as unconstrained"
            node.pop("$ref", None)
        elif len(path) >= 2 and path[-2] == "responses":
            consequence = "the response is served without content"
            node.clear()
            node["description"] = "A response whose reference cannot be resolved."
        else:
            consequence = f"the {_kind_of(path)} is left out"
            parent = _value_at(document.data, path[:-1])
            del parent[path[-1]]
        found.append(document.problem((*path, "$ref"), f"{reason}; {consequence}"))
    return found[::-1]


def _anchors(document: Any) -> dict[str, JsonPath]:
    """Where each schema `$anchor` (OpenAPI 3.1) is."""
    return {
        schema["$anchor"]: where
        for where, schema in schema_locations(document)
        if isinstance(schema.get("$anchor"), str)
    }


def _cycles_back(document: Any, node: dict[str, Any]) -> bool:
    """Whether following `node`'s reference, and the references it leads to, comes back to it."""
    seen = {id(node)}
    current = _target(document, node["$ref"])
    while isinstance(current, dict) and isinstance(current.get("$ref"), str) and current["$ref"].startswith("#"):
        if current is node:
            return True
        if id(current) in seen:
            return False  # a cycle further on, found from one of its own references
        seen.add(id(current))
        current = _target(document, current["$ref"])
    return current is node


def _kind_of(path: JsonPath) -> str:
    """What the object at `path` is, in the spec's words, as far as its place says."""
    names = {"parameters": "parameter", "requestBody": "request body", "examples": "example", "headers": "header"}
    names |= {"links": "link", "callbacks": "callback", "paths": "path item", "content": "media type"}
    for part in path[-1:-3:-1]:
        if isinstance(part, str) and part in names:
            return names[part]
    return "object"


def _located(data: Any, path: JsonPath, instance: Any) -> JsonPath:
    """Where an error is in the document. The structural validator checks a schema on its own, so a
    problem inside one comes with a path relative to that schema (`properties.n.pattern`, which would
    point at line 1): the first schema in the document where that path leads to the value found."""
    if _value_at(data, path) is not _NOTHING:
        return path
    for schema_path, _ in schema_locations(data):
        candidate = (*schema_path, *path)
        if _value_at(data, candidate) == instance:
            return candidate
    return path


_NOTHING = object()


def _value_at(data: Any, path: JsonPath) -> Any:
    for part in path:
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_list or (isinstance(data, dict) and part in data)):
            return _NOTHING
        data = data[part]
    return data


def _valid_marker(document: YamlDocument) -> Path:
    """A file whose existence says: this exact document passed this validator version."""
    from importlib.metadata import version

    try:
        canonical = orjson.dumps(document.data, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # an integer past 64 bits (DigitalOcean's spec has one): Python's JSON writes any
        canonical = json.dumps(document.data, sort_keys=True, default=str).encode()
    digest = hashlib.sha256(canonical)
    digest.update(version("openapi-spec-validator").encode())
    return speccache.cache_folder() / "valid-specs" / digest.hexdigest()


def _structural_problems(
    document: YamlDocument, remember_valid: bool = False, warnings: list[ConfigProblem] | None = None
) -> Iterator[ConfigProblem]:
    """openapi-spec-validator's findings, each at its line; a `pattern` Python's `re` cannot read
    (`\\p{L}`) is a warning: the mock's validators read patterns with jsonschema-rs' engine."""
    marker = _valid_marker(document) if remember_valid else None
    if marker is not None and marker.exists():
        if warnings is not None:  # a valid spec's warnings are kept with its marker, told again each start
            with contextlib.suppress(OSError, ValueError, TypeError):
                for path, message in json.loads(marker.read_text() or "[]"):
                    warnings.append(document.problem(tuple(path), message))
        return
    remembered: list[tuple[JsonPath, str]] = []
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    version = str(document.data["openapi"])
    validator_class = OpenAPIV30SpecValidator if version.startswith("3.0") else OpenAPIV31SpecValidator
    found = False
    # Defaults are the mock's to check (a warning naming their line, diagnostics.py); the structural
    # validator would refuse the whole spec over one, without saying where it is.
    defaults = [(schema, schema.pop("default")) for _, schema in schema_locations(document.data) if "default" in schema]
    try:
        for error in validator_class(document.data).iter_errors():
            path = _located(document.data, tuple(getattr(error, "absolute_path", ()) or ()), error.instance)
            message = str(getattr(error, "message", error)).splitlines()[0]
            if (error.validator, error.validator_value) == ("format", "regex") and warnings is not None:
                remembered.append((path, f"{message} for Python; the mock reads it as jsonschema-rs does"))
                warnings.append(document.problem(*remembered[-1]))
            else:
                found = True
                yield document.problem(path, message)
    finally:
        for schema, value in defaults:
            schema["default"] = value
    if marker is not None and not found:
        with contextlib.suppress(OSError):  # a read-only home only costs the next start-up
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(json.dumps(remembered))
