"""Response bodies for any documented response and media type: its example when it has one, else
one generated from its schema, deterministic for (seed, operation, status, media type, path
parameters), kept in a bounded cache so each entity is generated once.

Serialized by kind: JSON (and every +json type) as the value, XML following the schema's `xml`
hints, text as the string, binary as bytes: a string example as it is written, else a small valid
file of the type sent (binary.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jsonschema_rs
import orjson

from ..validator.views import forbidden
from .binary import is_file, placeholder
from .cache import BoundedCache
from .generator import NO_VALUE, generate, is_valid
from .generator.walker import Walk
from .xml import xml_body

if TYPE_CHECKING:
    from ..errors import JsonPath
    from ..spec import Operation, ResponseMedia, ResponseSpec, Spec
    from ..validation import SchemaCheck

CACHE_SIZE = 4096
TEXT_TYPES = {"xml": "application/xml", "text": "text/plain"}


@dataclass(slots=True)
class Body:
    """A response body: `value` for JSON kinds (the echo merges into it), else `payload` bytes."""

    content_type: str | None
    value: Any = None
    payload: bytes | None = None
    generated: bool = False


@dataclass(frozen=True, slots=True)
class _Kept:
    content_type: str | None
    serialized: bytes  # JSON of the value, or the payload itself
    is_json: bool
    generated: bool

    def body(self) -> Body:
        if self.is_json:  # a fresh copy every time: the echo changes it
            return Body(self.content_type, orjson.loads(self.serialized), None, self.generated)
        return Body(self.content_type, None, self.serialized, self.generated)


class Mocker:
    """Bodies and headers for one loaded spec and seed (`serve --seed`)."""

    def __init__(self, spec: Spec, seed: int | str = 0, cache_size: int = CACHE_SIZE) -> None:
        self.spec = spec
        self.seed = seed
        self.root = spec.views["response"]
        self._bodies: BoundedCache[_Kept] = BoundedCache(cache_size)
        # One entry per documented response (and object path): as many as the spec has, no eviction.
        self._headers: dict[JsonPath, dict[str, str]] = {}
        self._shapes: dict[tuple[JsonPath, tuple[str, ...]], ObjectShape | None] = {}
        self._strict: dict[JsonPath, Callable[[Any], bool]] = {}
        self._checks: dict[JsonPath, SchemaCheck] = {}  # of non-JSON media types (named_example)

    def body(
        self,
        operation: Operation,
        status: int,
        response: ResponseSpec,
        media_type: str | None,
        path_params: Mapping[str, str] | None = None,
        *,
        example: str | None = None,
        dynamic: bool | None = None,
        content_type: str | None = None,
    ) -> Body:
        """The body for `media_type` (one of response.media; None: no body). `example` names an
        example; `dynamic=True` generates even where examples exist, False prefers examples.
        `content_type` is the concrete type sent for a documented wildcard (`image/*`)."""
        media = response.media.get(media_type or "")
        if media is None:
            return Body(None)
        params = tuple(sorted(path_params.items())) if path_params else ()
        sent = content_type or media.media_type
        key = (id(operation), status, media.media_type, sent, params, example, dynamic)  # operations outlive us
        return self._bodies.get(
            key, lambda: self._make(operation, status, response, media, params, example, dynamic, sent)
        ).body()

    def named_example(self, response: ResponseSpec, media: ResponseMedia, name: str) -> tuple[Any, str | None]:
        """The example `name` for `media`: its own, else the value another media type of the response
        documents under that name, if `media`'s schema admits it (it is then serialized into `media`).
        (NO_VALUE, why) when there is none that fits."""
        if name in media.examples:
            return media.examples[name], None
        owners = [other for other in response.media.values() if name in other.examples]
        if not owners:
            return NO_VALUE, f"no media type of this response has an example named {name!r}"
        value = owners[0].examples[name]
        check = self.checker(media)
        wrong = check.violations(value) if check is not None else []
        if wrong:
            return NO_VALUE, (
                f"the example {name!r} is documented for {owners[0].media_type} only, and {media.media_type}'s "
                f"schema does not admit it: {wrong[0].message.rstrip('.')}"
            )
        return value, None

    def checker(self, media: ResponseMedia) -> SchemaCheck | None:
        """A validator of `media`'s schema, whatever its kind; None without a schema (anything goes)."""
        if media.validator is not None or media.schema is None:
            return media.validator
        found = self._checks.get(media.location)
        if found is None:
            found = self._checks.setdefault(media.location, self.spec.validator((*media.location, "schema")))
        return found

    def _make(
        self,
        operation: Operation,
        status: int,
        response: ResponseSpec,
        media: ResponseMedia,
        params: tuple[tuple[str, str], ...],
        example: str | None,
        dynamic: bool | None,
        content_type: str,
    ) -> _Kept:
        generated = False
        value = self.named_example(response, media, example)[0] if example is not None else NO_VALUE
        if value is NO_VALUE and media.examples and dynamic is not True:
            value = next(iter(media.examples.values()))
        elif value is NO_VALUE and is_file(content_type, media.kind, media.schema):
            seed = f"{self.seed}\x00{operation.label} {status} {content_type} {params}"
            return _Kept(content_type, placeholder(content_type, media.schema, seed), False, True)
        elif value is NO_VALUE:
            value, generated = self.generate(operation, status, media, params), True
        content_type = media.media_type
        if media.kind == "json":
            return _Kept(content_type, orjson.dumps(value), True, generated)
        return _Kept(content_type, self._serialize(value, media), False, generated)

    def generate(
        self, operation: Operation, status: int, media: ResponseMedia, params: tuple[tuple[str, str], ...] = ()
    ) -> Any:
        if media.schema is None:
            return {} if media.kind == "json" else ""
        last = operation.path.rstrip("/").rsplit("/", 1)[-1]
        entity = dict(params).get(last[1:-1], NO_VALUE) if last.startswith("{") and last.endswith("}") else NO_VALUE
        validator = media.validator
        check = (lambda v: not validator.violations(v)) if validator is not None else None
        value = generate(
            media.schema,
            seed=self.seed,
            key=f"{operation.label} {status} {media.media_type} {params}",
            root=self.root,
            entity_id=entity,
            check=check,
        )
        return _with_status(value, status, check or (lambda v: is_valid(media.schema, v, self.root)))

    def _serialize(self, value: Any, media: ResponseMedia) -> bytes:
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode()
        if media.kind == "xml":
            return xml_body(value, media.schema or {}, self.root)
        if media.kind == "text" and not isinstance(value, dict | list):
            return str(value).encode()
        return orjson.dumps(value)

    def headers(self, operation: Operation, status: int, response: ResponseSpec) -> dict[str, str]:
        """The documented headers to send: their examples, and a generated value for required ones."""
        found = self._headers.get(response.location)
        if found is None:
            found = self._headers.setdefault(response.location, self._make_headers(operation, status, response))
        return dict(found)

    def _make_headers(self, operation: Operation, status: int, response: ResponseSpec) -> dict[str, str]:
        out = {}
        for header in response.headers.values():
            if header.example is not None:
                out[header.name] = header.example
            elif header.required and header.schema is not None:
                value = generate(
                    header.schema, seed=self.seed, key=f"{operation.label} {status} {header.name}", root=self.root
                )
                out[header.name] = _header_text(value)
        return out

    def valid(self, schema: Any, value: Any) -> bool:
        return is_valid(schema, value, self.root)

    def strict_check(self, media: ResponseMedia) -> Callable[[Any], bool]:
        """Whether a body of `media` is valid, formats included (`uri`, `email`...), as a client's
        validator (schemathesis) reads it; the serve-time validators leave formats to this check,
        which the echo needs because request values (formats unchecked) go into responses."""
        check = self._strict.get(media.location)
        if check is None:
            check = self._strict.setdefault(media.location, self._compile_strict(media))
        return check

    def _compile_strict(self, media: ResponseMedia) -> Callable[[Any], bool]:
        from ..spec import SPEC_URI, pointer_of

        schema = media.schema
        if schema is None:
            return lambda _value: True
        slow: Callable[[Any], bool] = lambda value: is_valid(schema, value, self.root)  # noqa: E731
        fast_registry = self._strict_registry()
        if fast_registry is None:
            return slow
        fragment = quote(pointer_of((*media.location, "schema")), safe="/~")
        try:
            fast = jsonschema_rs.Draft202012Validator(
                {"$ref": f"{SPEC_URI}#{fragment}"}, registry=fast_registry, validate_formats=True
            )
        except (ValueError, jsonschema_rs.ValidationError):
            return slow

        def check(value: Any) -> bool:
            try:
                return bool(fast.is_valid(value))
            except (ValueError, TypeError, OverflowError):  # a value jsonschema-rs cannot hold
                return slow(value)

        return check

    def _strict_registry(self) -> Any:
        """The response view for jsonschema-rs, formats and all (built once, on the first echo)."""
        if not hasattr(self, "_registry"):
            from ..spec import SPEC_URI

            try:
                self._registry: Any = jsonschema_rs.Registry([(SPEC_URI, self.root)])
            except (ValueError, TypeError, jsonschema_rs.ValidationError):  # what JSON cannot hold
                self._registry = None
        return self._registry

    def object_shape(self, media: ResponseMedia, path: tuple[str, ...] = ()) -> ObjectShape | None:
        """The shape of the object at `path` (property names) in a body of `media`, if it is one."""
        key = (media.location, path)
        if key not in self._shapes:
            self._shapes[key] = self._shape(media.schema, path)
        return self._shapes[key]

    def _shape(self, schema: Any, path: tuple[str, ...]) -> ObjectShape | None:
        walk = Walk(self.root, "", "", depth_limit=0, direction="response", plausible_values=False)
        node = walk.flatten(walk.resolve(schema)[0]) if schema is not None else None
        for part in path:
            properties = node.get("properties") if isinstance(node, Mapping) else None
            if not isinstance(properties, Mapping) or part not in properties:
                return None
            node = walk.flatten(walk.resolve(properties[part])[0])
        if not isinstance(node, Mapping) or not isinstance(node.get("properties"), Mapping):
            return None
        properties = {name: walk.flatten(walk.resolve(sub)[0]) for name, sub in node["properties"].items()}
        return ObjectShape(
            properties=frozenset(properties),
            required=frozenset(p for p in node.get("required") or [] if isinstance(p, str)),
            nullable=frozenset(name for name, sub in properties.items() if is_valid(sub, None, self.root)),
            write_only=frozenset(
                name for name, sub in properties.items() if sub.get("writeOnly") is True or forbidden(sub)
            ),
            schemas=dict(node["properties"]),
            root=self.root,
        )


STATUS_FIELDS = ("status", "statusCode", "status_code", "code", "httpStatus")


def _with_status(value: Any, status: int, check: Callable[[Any], bool]) -> Any:
    """A generated body's own status field (problem+json's `status`, an envelope's `statusCode`) says
    the status it is sent with, where its schema allows."""
    if not isinstance(value, dict) or not 100 <= status <= 599:
        return value
    for name in STATUS_FIELDS:
        if isinstance(value.get(name), int | str) and not isinstance(value.get(name), bool):
            candidate = {**value, name: status if isinstance(value[name], int) else str(status)}
            if check(candidate):
                return candidate
    return value


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_header_text(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k},{_header_text(v)}" for k, v in value.items())
    return "" if value is None else str(value)


@dataclass(frozen=True)
class ObjectShape:
    """What an echo may write into a response object: its properties and which of them are
    required, admit null, or are writeOnly (never sent)."""

    properties: frozenset[str]
    required: frozenset[str]
    nullable: frozenset[str]
    write_only: frozenset[str]
    schemas: Mapping[str, Any] = field(default_factory=dict)  # each property's, its refs into `root`
    root: Mapping[str, Any] = field(default_factory=dict)

    def fits(self, name: str, value: Any) -> bool:
        """Whether `value` is a whole valid value of property `name` (formats checked)."""
        return name in self.schemas and is_valid(self.schemas[name], value, self.root)
