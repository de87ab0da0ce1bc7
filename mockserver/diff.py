"""`mockserver diff OLD NEW`: what a new version of the spec breaks for clients.

The rules follow the platform's compatibility promises (property order never matters, new
response properties may appear, existing ones are never removed, null properties may be
omitted) and use oasdiff's rule ids for the same findings, so reports read alike. Requests are
compared for what a client may send (anything newly refused breaks), responses for what a client
may receive (anything newly possible or newly missing breaks).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from .spec import HTTP_METHODS, Spec, path_of

BREAKING, WARNING, INFO = "breaking", "warning", "info"
LEVEL_ORDER = {BREAKING: 0, WARNING: 1, INFO: 2}
MAX_DEPTH = 32  # recursive schemas are compared this deep


@dataclass(frozen=True)
class Change:
    id: str
    level: str
    operation: str
    location: str
    message: str


def _types(schema: dict[str, Any]) -> set[str] | None:
    """The JSON types a schema admits; None when it does not restrict them."""
    if "const" in schema:
        return {_json_type(schema["const"])}
    if "enum" in schema and isinstance(schema["enum"], list):
        return {_json_type(v) for v in schema["enum"]}
    declared = schema.get("type")
    if declared is None:
        variants = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(variants, list):
            union: set[str] = set()
            for variant in variants:
                types = _types(variant)
                if types is None:
                    return None
                union |= types
            return union
        return None
    types = {declared} if isinstance(declared, str) else set(declared)
    if "number" in types:
        types.add("integer")
    return types


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


class _Flattener:
    """Resolves `$ref` and merges `allOf`, so two specs compare by meaning, not by layout."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def __call__(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        if not isinstance(schema, dict) or depth > MAX_DEPTH:
            return {}
        if isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
            target = self.spec.raw
            for part in path_of(schema["$ref"]):
                target = target[part]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return self._merge(self(target, depth + 1), self(rest, depth + 1)) if rest else self(target, depth + 1)
        flat = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema.get("allOf") or []:
            flat = self._merge(flat, self(part, depth + 1))
        return flat

    def _merge(self, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        merged = {**a, **b}
        if "properties" in a and "properties" in b:
            merged["properties"] = dict(a["properties"])
            for name, value in b["properties"].items():
                if name in a["properties"]:
                    merged["properties"][name] = {"allOf": [a["properties"][name], value]}
                else:
                    merged["properties"][name] = value
        if "required" in a or "required" in b:
            merged["required"] = sorted(set(a.get("required") or []) | set(b.get("required") or []))
        return merged


class SpecDiff:
    def __init__(self, old: Spec, new: Spec) -> None:
        self.old, self.new = old, new
        self.flat_old, self.flat_new = _Flattener(old), _Flattener(new)
        self.changes: list[Change] = []

    def add(self, rule: str, level: str, operation: str, location: str, message: str) -> None:
        self.changes.append(Change(rule, level, operation, location, message))

    def run(self) -> list[Change]:
        old_paths = self.old.raw.get("paths") or {}
        new_paths = self.new.raw.get("paths") or {}
        for path, old_item in old_paths.items():
            if path not in new_paths:
                for method in (m for m in HTTP_METHODS if m in old_item):
                    self.add("api-path-removed", BREAKING, f"{method.upper()} {path}", path, f"path {path} was removed")
                continue
            for method in HTTP_METHODS:
                label = f"{method.upper()} {path}"
                if method in old_item and method not in new_paths[path]:
                    self.add("api-operation-removed", BREAKING, label, path, f"operation {label} was removed")
                elif method in old_item:
                    self._operation(path, method, label)
        for path, new_item in new_paths.items():
            for method in (m for m in HTTP_METHODS if m in new_item):
                if method not in (old_paths.get(path) or {}):
                    self.add("endpoint-added", INFO, f"{method.upper()} {path}", path, "operation added")
        return sorted(self.changes, key=lambda c: (LEVEL_ORDER[c.level], c.operation, c.location, c.id))

    # -- operations --------------------------------------------------------------------------------

    def _node(self, spec: Spec, path: tuple[str, ...]) -> Any:
        return spec.resolve(path)[0]

    def _operation(self, path: str, method: str, label: str) -> None:
        where = ("paths", path, method)
        old_op, new_op = self._node(self.old, where), self._node(self.new, where)
        self._security(label)
        self._parameters(path, method, label)
        if "requestBody" in old_op or "requestBody" in new_op:
            self._request_body(where, label, old_op, new_op)
        old_responses, new_responses = old_op.get("responses") or {}, new_op.get("responses") or {}
        for status in old_responses:
            if status not in new_responses:
                self.add(
                    "response-status-removed",
                    BREAKING,
                    label,
                    f"response {status}",
                    f"documented response {status} was removed",
                )
            else:
                self._response(where, status, label)
        for status in new_responses:
            if status not in old_responses:
                self.add("response-status-added", INFO, label, f"response {status}", f"response {status} documented")

    def _security(self, label: str) -> None:
        old_op = next(op for op in self.old.operations if op.label == label)
        new_op = next(op for op in self.new.operations if op.label == label)
        old_alternatives = {tuple(sorted((s.location, s.parameter) for s in alt)) for alt in old_op.security}
        new_alternatives = {tuple(sorted((s.location, s.parameter) for s in alt)) for alt in new_op.security}
        if new_alternatives and not old_alternatives:
            self.add("api-security-added", BREAKING, label, "security", "authentication became required")
        elif old_alternatives and new_alternatives and not new_alternatives & old_alternatives:
            self.add(
                "api-security-changed",
                BREAKING,
                label,
                "security",
                f"credentials move from {sorted(old_alternatives)} to {sorted(new_alternatives)}",
            )

    def _parameters(self, path: str, method: str, label: str) -> None:
        def collect(spec: Spec) -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]:
            found = {}
            for owner in (("paths", path), ("paths", path, method)):
                for index, _ in enumerate(self._node(spec, owner).get("parameters") or []):
                    param = spec.resolve((*owner, "parameters", index))[0]
                    found[(param["in"], param["name"].lower())] = (param, dict(param.get("schema") or {}))
            return found

        old, new = collect(self.old), collect(self.new)
        for key, (param, schema) in new.items():
            kind = "header" if key[0] == "header" else "parameter"
            if key not in old:
                if param.get("required"):
                    self.add(
                        f"new-required-request-{kind}",
                        BREAKING,
                        label,
                        f"{key[0]} {param['name']}",
                        f"new required {key[0]} {param['name']}",
                    )
                continue
            old_param, old_schema = old[key]
            if param.get("required") and not old_param.get("required"):
                self.add(
                    f"request-{kind}-became-required",
                    BREAKING,
                    label,
                    f"{key[0]} {param['name']}",
                    f"{key[0]} {param['name']} became required",
                )
            self._request_schema(old_schema, schema, label, f"{key[0]} {param['name']}", 0)
        for key, (param, _) in old.items():
            if key not in new:
                kind = "header" if key[0] == "header" else "parameter"
                self.add(
                    f"request-{kind}-removed",
                    WARNING,
                    label,
                    f"{key[0]} {param['name']}",
                    f"{key[0]} {param['name']} is no longer documented",
                )

    def _request_body(self, where: tuple[str, ...], label: str, old_op: dict[str, Any], new_op: dict[str, Any]) -> None:
        old_body = self._node(self.old, (*where, "requestBody")) if "requestBody" in old_op else {}
        new_body = self._node(self.new, (*where, "requestBody")) if "requestBody" in new_op else {}
        if new_body.get("required") and not old_body.get("required"):
            self.add(
                "request-body-became-required", BREAKING, label, "request body", "the request body became required"
            )
        old_content, new_content = old_body.get("content") or {}, new_body.get("content") or {}
        if not new_body:
            return
        for old_schema, new_schema in self._same_media(
            old_content, new_content, "request-body-media-type-removed", label, "request body", "is no longer accepted"
        ):
            self._request_schema(old_schema, new_schema, label, "request body", 0)

    def _response(self, where: tuple[str, ...], status: str, label: str) -> None:
        old_response = self._node(self.old, (*where, "responses", status))
        new_response = self._node(self.new, (*where, "responses", status))
        location = f"response {status}"
        old_content, new_content = old_response.get("content") or {}, new_response.get("content") or {}
        for old_schema, new_schema in self._same_media(
            old_content, new_content, "response-media-type-removed", label, location, "is no longer sent"
        ):
            self._response_schema(old_schema, new_schema, label, location, "", 0)
        old_headers, new_headers = old_response.get("headers") or {}, new_response.get("headers") or {}
        for name in old_headers:
            header = self.old.resolve((*where, "responses", status, "headers", name))[0]
            if header.get("required") and name not in new_headers:
                self.add(
                    "required-response-header-removed",
                    BREAKING,
                    label,
                    f"{location} header {name}",
                    f"required response header {name} was removed",
                )

    def _same_media(
        self, old_content: dict[str, Any], new_content: dict[str, Any], rule: str, label: str, location: str, gone: str
    ) -> Iterator[tuple[Any, Any]]:
        """(old schema, new schema) per media type in both; a media type only in `old` is reported."""
        for media_type, old_media in old_content.items():
            if media_type in new_content:
                yield old_media.get("schema"), new_content[media_type].get("schema")
            else:
                self.add(rule, BREAKING, label, location, f"{location}: media type {media_type} {gone}")

    # -- schemas -----------------------------------------------------------------------------------

    def _request_schema(self, old: dict[str, Any], new: dict[str, Any], label: str, location: str, depth: int) -> None:
        """Clients send what `old` admits: anything `new` refuses of it breaks them."""
        old, new = self.flat_old(old), self.flat_new(new)
        if depth > MAX_DEPTH:
            return
        where = location
        old_types, new_types = _types(old), _types(new)
        if new_types is not None and (old_types is None or not old_types <= new_types):
            if old_types is not None and "null" in old_types and old_types - {"null"} <= new_types:
                self.add(
                    "request-property-became-not-nullable", BREAKING, label, where, f"{where} no longer accepts null"
                )
            else:
                self.add(
                    "request-property-type-changed",
                    BREAKING,
                    label,
                    where,
                    f"{where} type changed from {_show(old_types)} to {_show(new_types)}",
                )
        old_values, new_values = _values(old), _values(new)
        if new_values is not None:
            if old_values is None:
                self.add(
                    "request-property-enum-added", BREAKING, label, where, f"{where} is now limited to {new_values}"
                )
            else:
                removed = [v for v in old_values if v not in new_values]
                if removed:
                    self.add(
                        "request-property-enum-value-removed",
                        BREAKING,
                        label,
                        where,
                        f"{where} no longer accepts {', '.join(json.dumps(v) for v in removed)}",
                    )
                added = [v for v in new_values if v not in old_values]
                if added:
                    self.add(
                        "request-property-enum-value-added",
                        INFO,
                        label,
                        where,
                        f"{where} also accepts {', '.join(json.dumps(v) for v in added)}",
                    )
        self._bounds(old, new, label, where)
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])
        for name in sorted(new_required - old_required):
            child = _child(where, name)
            if name in old_props:
                self.add("request-property-became-required", BREAKING, label, child, f"{child} became required")
            else:
                self.add("new-required-request-property", BREAKING, label, child, f"new required property {child}")
        for name in sorted(old_props):
            child = _child(where, name)
            if name not in new_props:
                self.add("request-property-removed", WARNING, label, child, f"{child} is no longer documented")
            else:
                self._request_schema(old_props[name], new_props[name], label, child, depth + 1)
        if new.get("additionalProperties") is False and old.get("additionalProperties") is not False:
            self.add(
                "request-additional-properties-disallowed",
                BREAKING,
                label,
                where,
                f"{where} no longer accepts unknown properties",
            )
        if "items" in old and "items" in new:
            self._request_schema(old["items"], new["items"], label, f"{where}[]", depth + 1)

    def _bounds(self, old: dict[str, Any], new: dict[str, Any], label: str, where: str) -> None:
        tighter_if_larger = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
        tighter_if_smaller = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
        names = {
            "minLength": "min-length-increased",
            "minimum": "min-increased",
            "exclusiveMinimum": "min-increased",
            "minItems": "min-items-increased",
            "minProperties": "min-properties-increased",
            "maxLength": "max-length-decreased",
            "maximum": "max-decreased",
            "exclusiveMaximum": "max-decreased",
            "maxItems": "max-items-decreased",
            "maxProperties": "max-properties-decreased",
        }
        for keyword in tighter_if_larger + tighter_if_smaller:
            if keyword not in new or not isinstance(new[keyword], int | float):
                continue
            before = old.get(keyword)
            larger = keyword in tighter_if_larger
            if before is None or (new[keyword] > before if larger else new[keyword] < before):
                self.add(
                    f"request-property-{names[keyword]}",
                    BREAKING,
                    label,
                    where,
                    f"{where} {keyword} {'added' if before is None else f'changed from {before}'} to {new[keyword]}",
                )
        if new.get("pattern") and new.get("pattern") != old.get("pattern"):
            rule = "request-property-pattern-added" if "pattern" not in old else "request-property-pattern-changed"
            self.add(rule, BREAKING, label, where, f"{where} must now match {new['pattern']}")
        if new.get("format") and new.get("format") != old.get("format"):
            self.add(
                "request-property-format-changed",
                BREAKING,
                label,
                where,
                f"{where} format {'added' if 'format' not in old else 'changed from ' + str(old['format'])} "
                f"to {new['format']}",
            )

    def _response_schema(
        self, old: dict[str, Any], new: dict[str, Any], label: str, location: str, where: str, depth: int
    ) -> None:
        """Clients expect what `old` promised: anything `new` may send beyond it, or no longer sends, breaks them."""
        old, new = self.flat_old(old), self.flat_new(new)
        if depth > MAX_DEPTH:
            return
        field = f"{location} {where}".strip()
        old_types, new_types = _types(old), _types(new)
        if old_types is not None and (new_types is None or not new_types <= old_types):
            if new_types is not None and "null" in new_types and new_types - {"null"} <= old_types:
                self.add("response-property-became-nullable", BREAKING, label, field, f"{field} may now be null")
            elif not (_values(old) is not None and _values(new) is not None):
                self.add(
                    "response-property-type-changed",
                    BREAKING,
                    label,
                    field,
                    f"{field} type changed from {_show(old_types)} to {_show(new_types)}",
                )
        old_values, new_values = _values(old), _values(new)
        if old_values is not None and new_values is not None:
            added = [v for v in new_values if v not in old_values]
            if added:
                self.add(
                    "response-property-enum-value-added",
                    WARNING,
                    label,
                    field,
                    f"{field} may now be {', '.join(json.dumps(v) for v in added)}",
                )
        elif old_values is not None and new_values is None and new_types is not None:
            self.add(
                "response-property-enum-removed", WARNING, label, field, f"{field} is no longer limited to {old_values}"
            )
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])
        for name in sorted(old_props):
            child = _child(where, name)
            if name not in new_props:
                self.add(
                    "response-property-removed",
                    BREAKING,
                    label,
                    f"{location} {child}",
                    f"{location} property {child} was removed",
                )
                continue
            if name in old_required and name not in new_required:
                self.add(
                    "response-required-property-became-optional",
                    BREAKING,
                    label,
                    f"{location} {child}",
                    f"{location} property {child} may now be omitted",
                )
            self._response_schema(old_props[name], new_props[name], label, location, child, depth + 1)
        for name in sorted(set(new_props) - set(old_props)):
            self.add(
                "response-property-added",
                INFO,
                label,
                f"{location} {_child(where, name)}",
                f"{location} property {_child(where, name)} added",
            )
        if "items" in old and "items" in new:
            self._response_schema(old["items"], new["items"], label, location, f"{where}[]", depth + 1)


def _child(where: str, name: str) -> str:
    return name if not where or where in ("request body",) else f"{where}.{name}"


def _show(types: set[str] | None) -> str:
    return "any" if types is None else "/".join(sorted(types - ({"integer"} if "number" in types else set())))


def diff_specs(old: Spec, new: Spec) -> list[Change]:
    return SpecDiff(old, new).run()


def render_text(changes: list[Change]) -> Iterator[str]:
    for change in changes:
        yield f"{change.level.upper():<8}  {change.operation}  {change.message}  [{change.id}]"
    counts = {level: sum(c.level == level for c in changes) for level in LEVEL_ORDER}
    yield (f"{counts[BREAKING]} breaking, {counts[WARNING]} warning{'s' * (counts[WARNING] != 1)}, {counts[INFO]} info")


def render_json(changes: list[Change]) -> str:
    counts = {level: sum(c.level == level for c in changes) for level in LEVEL_ORDER}
    return json.dumps(
        {
            "breaking": counts[BREAKING],
            "warnings": counts[WARNING],
            "info": counts[INFO],
            "changes": [asdict(c) for c in changes],
        },
        indent=2,
    )
