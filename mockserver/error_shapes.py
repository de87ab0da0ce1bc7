"""The mock's own errors (400, 401, 403, 404, 405, 406, 413, 415, 429, 5xx) in the spec's own shape.

The response the spec documents for the status (the exact code, then `4XX`/`5XX`, then `default`;
for a path or method the spec lacks, which has no operation: `components/responses` with
`x-status`, else the first operation that documents it) gives the media type and the schema. Its
example, or a value generated from the schema, is the base; the problem is written into the fields
whose names say what they hold (`message`, `detail`, `title`, `status`, `code`, an `errors` or
`invalid-params` list...), each kept only if the body still validates, so what is sent always
does. Where the response documents several media types, the request's `Accept` chooses among them
(none acceptable: the first JSON one, else the first; an error is never refused for its type). JSON
kinds are sent as the value, XML ones serialized following the schema's `xml` hints, text ones as
the message. An undocumented status (or a binary or form type) is answered with RFC 9457
`application/problem+json`; a documented one without content, with no body. The Jframework envelope
is one case of this, not a special one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from .mocker.generator import generate
from .mocker.negotiator import negotiate
from .mocker.xml import xml_body
from .validation import SchemaCheck
from .validator.bodies import kind_of

if TYPE_CHECKING:
    from .spec import Operation, Spec

PROBLEM_JSON = "application/problem+json"
PROBLEM_XML = {"xml": {"name": "problem", "namespace": "urn:ietf:rfc:7807"}}  # how RFC 9457 writes it as XML
NO_BODY = object()  # a documented response without content: nothing to fill
FREE_ITEM = ("code", "message", "field")  # an item where the spec leaves the items' shape open


@dataclass(frozen=True)
class ErrorShape:
    """How one status is answered: a media type, and a base body to write the problem into."""

    media_type: str
    base: Any  # a fresh copy is taken per reply; NO_BODY when the response has no content
    check: SchemaCheck | None
    properties: Mapping[str, Mapping[str, Any]]  # top-level property schemas (allOf merged)
    required: frozenset[str]
    item_properties: Mapping[str, Mapping[str, Any]]  # of the errors list's items, if there is one
    item_required: frozenset[str]
    from_example: bool
    kind: str = "json"  # json, xml or text: how the filled value is sent
    schema: Any = None  # the media type's schema in the response view (XML serialization)
    root: Mapping[str, Any] | None = None  # what its `$ref`s resolve against

    def valid(self, body: Any) -> bool:
        return self.check is None or not self.check.violations(body)


@dataclass(frozen=True)
class Problem:
    """One error item: what is wrong, and with which field or header if any."""

    message: str
    field: str | None = None
    code: str | None = None


def _key(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    return {declared} if isinstance(declared, str) else set(declared or ())


# Top-level fields, by what their names say they hold.
_STATUS = {"status", "statuscode", "httpstatus", "httpstatuscode", "httpcode"}
_SUCCESS = {"success", "ok", "succeeded"}
_MESSAGE = {"message", "msg", "errormessage", "error"}
_DETAIL = {"detail", "details", "description", "errordescription"}
_CODE = {"code", "errorcode", "errortype"}
_CORRELATION = {"correlationid", "requestid", "traceid"}
_LISTS = {"errors", "invalidparams", "violations", "details", "fielderrors", "validationerrors", "problems"}
_LISTS |= {"reasons", "messages", "issues"}
# Fields of one item of such a list.
_ITEM_MESSAGE = {"message", "detail", "reason", "description", "msg", "title", "error"}
_ITEM_FIELD = {"field", "name", "param", "parameter", "property", "pointer", "path"}


@dataclass(frozen=True)
class Filled:
    """One reply's worth: the problem, the words around it, and where it happened."""

    status: int
    problems: list[Problem]
    summary: str  # the outcome in one sentence (the spec's message for the status, or a standard one)
    code: str  # the machine-readable error code
    correlation_id: str
    path: str

    @property
    def details(self) -> str:
        return " ".join(p.message for p in self.problems) or self.summary


def shape_for(
    spec: Spec, operation: Operation | None, status: int, seed: int | str = 0, accept: str | None = None
) -> ErrorShape | None:
    """The shape of `status` for `operation` (None: a path or method the spec lacks) in the media type
    `accept` chooses; None when the spec documents no response for it. Computed once per
    (operation, status, media type) and kept."""
    key = (operation.label if operation else "", status, seed)
    documented: _Documented | None = spec.error_shapes.get(key)
    if documented is None:
        documented = spec.error_shapes.setdefault(key, _Documented(spec, _documented(spec, operation, status)))
    if documented.location is None:
        return None
    media_type = (
        (negotiate(documented.media, accept) or negotiate(documented.media, None) or "") if documented.media else ""
    )
    shape = documented.shapes.get(media_type)
    if shape is None:
        shape = documented.shapes.setdefault(
            media_type, _compile(spec, documented.location, status, seed, documented.written.get(media_type, ""))
        )
    return shape


class _Documented:
    """Where the response for one (operation, status) is, its media types, and their shapes so far."""

    def __init__(self, spec: Spec, location: tuple[Any, ...] | None) -> None:
        self.location = location
        self.written: dict[str, str] = {}  # the media type in lower case, without parameters -> as written
        if location is not None:
            response = spec.resolve(location)[0]
            content = response.get("content") if isinstance(response, dict) else None
            for written in content or {}:
                self.written.setdefault(written.split(";", 1)[0].strip().lower(), written)
        self.media = tuple(self.written)
        self.shapes: dict[str, ErrorShape] = {}


def _documented(spec: Spec, operation: Operation | None, status: int) -> tuple[Any, ...] | None:
    """Where the response for `status` is: the operation's (the exact code, then `4XX`, then
    `default`); then a reusable response that says it is for that status with `x-status` (the code,
    a range such as `5XX`, or `default`); for no operation, then the first operation documenting it."""
    if operation is not None:
        found = operation.response_for(status)
        if found is not None:
            return found.location
    shared = {
        str(response.get("x-status", "")).upper(): name
        for name, response in ((spec.raw.get("components") or {}).get("responses") or {}).items()
        if isinstance(response, dict) and "x-status" in response
    }
    for candidate in (str(status), f"{status // 100}XX", "DEFAULT"):
        if candidate in shared:
            return ("components", "responses", shared[candidate])
    if operation is not None:
        return None
    exact = next((op.responses[status] for op in spec.operations if status in op.responses), None)
    ranged = next((r for op in spec.operations if (r := op.response_for(status)) is not None), None)
    chosen = exact or ranged  # the first operation that documents it: the same one for every path
    return chosen.location if chosen is not None else None


def _compile(spec: Spec, location: tuple[Any, ...], status: int, seed: int | str, written: str) -> ErrorShape:
    """The shape of the response at `location` in the media type `written` (as the spec writes it;
    "": the response has no content)."""
    from .spec import pointer_of

    if not written:
        return ErrorShape("", NO_BODY, None, {}, frozenset(), {}, frozenset(), False)
    media_type = written.split(";", 1)[0].strip().lower()
    kind = kind_of(media_type)
    if kind not in ("json", "xml", "text") or "*" in media_type:  # binary, forms: RFC 9457 says it best
        return ErrorShape(PROBLEM_JSON, None, None, {}, frozenset(), {}, frozenset(), False)
    media_path = (*spec.resolve(location)[1], "content", written)
    media, media_where = spec.resolve(media_path)
    if not isinstance(media, dict) or "schema" not in media:
        if kind == "json":  # a JSON type without a schema: anything goes, so say it in RFC 9457 terms
            return ErrorShape(media_type, None, None, {}, frozenset(), {}, frozenset(), False)
        return ErrorShape(media_type, "", None, {}, frozenset(), {}, frozenset(), False, kind)
    check = spec.validator((*media_where, "schema"))
    schema = spec.resolve((*media_where, "schema"))[0]
    base, from_example = _example(spec, media, media_where, check)
    if not from_example:
        ref = {"$ref": "#" + pointer_of((*media_where, "schema"))}
        base = generate(
            ref,
            seed=seed,
            key=f"error {status} {media_type} {pointer_of(location)}",
            root=spec.views["response"],
            check=lambda value: not check.violations(value),
        )
    response_view = spec.views["response"]
    if kind == "text":
        return ErrorShape(media_type, base, check, {}, frozenset(), {}, frozenset(), from_example, kind)
    resolve: Callable[[Any], Any] = lambda node: _deref(spec, node)  # noqa: E731
    properties, required = _merged(schema, resolve)
    items: tuple[dict[str, Any], set[str]] = ({}, set())
    for name, prop in properties.items():
        if _key(name) in _LISTS and "array" in _types(prop):
            item_schema = resolve(prop.get("items", {}))
            items = _merged(item_schema, resolve) if isinstance(item_schema, dict) else items
            if not items[0] and not (isinstance(item_schema, dict) and _types(item_schema) - {"object"}):
                items = ({key: {} for key in FREE_ITEM}, set())  # anything goes: the mock's own item
            break
    return ErrorShape(
        media_type,
        base,
        check,
        properties,
        frozenset(required),
        items[0],
        frozenset(items[1]),
        from_example,
        kind,
        spec.response_schema((*media_where, "schema")) if kind == "xml" else None,
        response_view,
    )


def _example(spec: Spec, media: Mapping[str, Any], where: tuple[Any, ...], check: SchemaCheck) -> tuple[Any, bool]:
    """The media type's first example that its schema admits (invalid ones are warned about at start-up)."""
    candidates = []
    for name in media.get("examples") or {}:
        candidates.append(spec.resolve((*where, "examples", name))[0].get("value"))
    if "example" in media:
        candidates.append(media["example"])
    for value in candidates:
        if not check.violations(value):
            return value, True
    return None, False


def _deref(spec: Spec, node: Any) -> Any:
    from .spec import path_of

    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and seen < 32:
        node, seen = spec.resolve(path_of(node["$ref"]))[0], seen + 1
    return node


def _merged(schema: Any, resolve: Callable[[Any], Any]) -> tuple[dict[str, Any], set[str]]:
    """Properties and required names of an object schema, its `allOf` members' merged in."""
    properties: dict[str, Any] = {}
    required: set[str] = set()
    pending, seen = [schema], 0
    while pending and seen < 64:
        node = resolve(pending.pop(0))
        seen += 1
        if not isinstance(node, dict):
            continue
        for name, prop in (node.get("properties") or {}).items():
            resolved = resolve(prop)
            if isinstance(resolved, dict):
                properties[name] = {**properties.get(name, {}), **resolved}
        required |= {r for r in node.get("required") or () if isinstance(r, str)}
        pending.extend(node.get("allOf") or ())
    return properties, required


def documented_code(shape: ErrorShape | None) -> str | None:
    """The error code the spec's own example for this status gives (`NOT_FOUND`, `AppIntegrationNotFound`):
    its top-level code field, else the first item's of its errors list; None without an example or
    such a field. Lets the mock's answer for a documented case use the spec's word for it."""
    if shape is None or not shape.from_example or not isinstance(shape.base, dict):
        return None
    for name, value in shape.base.items():
        if _role(name, shape) == "code" and isinstance(value, str):
            return value
        if _role(name, shape) == "list" and isinstance(value, list) and value and isinstance(value[0], dict):
            found = next((v for k, v in value[0].items() if _key(k) in _CODE and isinstance(v, str)), None)
            if found is not None:
                return found
    return None


def render(shape: ErrorShape | None, filled: Filled) -> tuple[Any, str]:
    """The body and its media type for one error reply: a value for JSON kinds, bytes for XML and text."""
    if shape is None:
        return problem_json(filled), PROBLEM_JSON
    if shape.base is NO_BODY:
        return None, ""
    if shape.kind == "text":  # the problem's words, where the schema admits them; else its own text
        text = filled.details if shape.valid(filled.details) else shape.base
        return str(text if text is not None else "").encode(), shape.media_type
    if shape.check is None and shape.kind == "xml":  # anything goes: RFC 9457's XML form (its appendix B)
        return xml_body(problem_json(filled), PROBLEM_XML, {}), shape.media_type
    if shape.check is None:  # a JSON type without a schema: anything goes, so say it in RFC 9457 terms
        return problem_json(filled), shape.media_type
    body = copy.deepcopy(shape.base)
    if isinstance(body, dict):
        _fill(shape, body, filled)
    if shape.kind == "xml":
        return xml_body(body, shape.schema or {}, shape.root or {}), shape.media_type
    return body, shape.media_type


def problem_json(filled: Filled) -> dict[str, Any]:
    """RFC 9457: {type, title, status, detail, instance}, and each problem under `errors`."""
    return {
        "type": "about:blank",
        "title": _phrase(filled.status),
        "status": filled.status,
        "detail": filled.details,
        "instance": filled.path,
        "errors": [_item_dict(p, filled, ("code", "detail", "field")) for p in filled.problems],
    }


def _item_dict(problem: Problem, filled: Filled, names: tuple[str, ...]) -> dict[str, Any]:
    values = {"code": problem.code or filled.code, "detail": problem.message, "field": problem.field}
    return {name: values[name] for name in names if values[name] is not None}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _fill(shape: ErrorShape, body: dict[str, Any], filled: Filled) -> None:
    """Write the problem into `body`: all at once when the body stays valid (the usual case, one
    validation), else field by field, keeping each change only if the body stays valid."""
    has_list = any(_key(n) in _LISTS and "array" in _types(p) for n, p in shape.properties.items())
    values = list(_top_values(shape, filled, has_list, body))
    if not values:  # no field says what it holds: an open object takes RFC 9457's members, where it admits them
        values = list(problem_json(filled).items())
    trial = {**body, **dict(values)}
    if shape.valid(trial):
        body.update(trial)
    else:
        for name, value in values:
            _keep_if_valid(shape, body, name, value)
    if not shape.from_example:  # a generated base: drop what says nothing, where the schema allows
        written = {name for name, _ in values}
        for name in [n for n in body if n not in shape.required and n not in written]:
            kept = body.pop(name)
            if not shape.valid(body):
                body[name] = kept


def _keep_if_valid(shape: ErrorShape, body: dict[str, Any], name: str, value: Any) -> None:
    before = body.get(name, _ABSENT)
    for candidate in (value, []) if isinstance(value, list) else (value,):  # no stale items, at least
        body[name] = candidate
        if shape.valid(body):
            return
    if before is _ABSENT:
        del body[name]
    else:
        body[name] = before


_ABSENT = object()


def _role(name: str, shape: ErrorShape) -> str | None:
    key, prop = _key(name), shape.properties.get(name, {})
    types = _types(prop)
    if key in _STATUS or (key == "code" and types & {"integer", "number"}):
        return "status"
    if key in _SUCCESS and "boolean" in types:
        return "success"
    if key in _LISTS and "array" in types:
        return "list"
    if types and "string" not in types:
        return None
    if key in _MESSAGE:
        return "message"
    if key == "title":
        return "title"
    if key in _DETAIL:
        return "detail"
    if key in _CODE:
        return "code"
    if key in _CORRELATION:
        return "correlation"
    if key == "instance":
        return "instance"
    if key == "type" and prop.get("format") in ("uri", "uri-reference"):
        return "type"
    return None


def _top_values(shape: ErrorShape, filled: Filled, has_list: bool, base: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    roles = {name: role for name in shape.properties if (role := _role(name, shape)) is not None}
    present = set(roles.values())
    for name, role in roles.items():
        prop = shape.properties[name]
        if role == "status":
            yield name, filled.status if _types(prop) & {"integer", "number"} else str(filled.status)
        elif role == "success":
            yield name, False
        elif role == "message":
            # With a list (or a `detail` beside it) for the specifics, the message is the summary.
            yield name, filled.summary if has_list or "detail" in present else filled.details
        elif role == "title":
            yield name, _phrase(filled.status) if present & {"detail", "message", "list"} else filled.details
        elif role == "detail":
            yield name, filled.details
        elif role == "code":
            yield name, filled.code
        elif role == "correlation":
            yield name, filled.correlation_id
        elif role == "instance":
            yield name, filled.path
        elif role == "type":
            yield name, "about:blank"
        elif role == "list":
            template = next(iter(base.get(name) or ()), None) if isinstance(base.get(name), list) else None
            yield name, [_item(shape, filled, p, template) for p in filled.problems]


def _item(shape: ErrorShape, filled: Filled, problem: Problem, template: Any) -> Any:
    """One problem as an item of the errors list: the fields the items have, in a fixed order; other
    required ones as the base's first item has them."""
    if not shape.item_properties:
        return problem.message
    values: dict[str, Any] = {}
    names = list(shape.item_properties)
    for wanted in ("code", "message", "field", "correlation"):
        for name in names:
            key = _key(name)
            if name in values:
                continue
            if wanted == "code" and key in _CODE:
                values[name] = problem.code or filled.code
            elif wanted == "message" and key in _ITEM_MESSAGE and not any(_key(v) in _ITEM_MESSAGE for v in values):
                values[name] = problem.message
            elif wanted == "field" and key in _ITEM_FIELD and problem.field is not None:
                if not any(_key(v) in _ITEM_FIELD for v in values):
                    values[name] = f"#/{problem.field}" if key == "pointer" else problem.field
            elif wanted == "correlation" and key in _CORRELATION:
                values[name] = filled.correlation_id
    if isinstance(template, dict):
        for name in shape.item_required:
            if name not in values and name in template:
                values[name] = template[name]
    return values
