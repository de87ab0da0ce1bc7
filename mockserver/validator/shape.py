"""What a schema says about the shape of a value that arrives as text (a parameter, a form field, an
XML element): which types it may take, its items and properties, its `xml` hints.

Parameters, forms and XML carry no JSON types, so a value must be read as the type the schema asks
for before it is validated; the shape is what tells. Shapes are made lazily and cached, so recursive
schemas (trees) cost nothing until a request goes that deep.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")

Resolver = Callable[[Any], Any]  # a schema node with local `$ref`s followed


class Shape:
    """The parts of a (resolved) schema that decide how text becomes a value."""

    def __init__(self, schema: Any, resolve: Resolver) -> None:
        self._resolve = resolve
        self._parts = _parts(schema, resolve)

    @cached_property
    def types(self) -> frozenset[str]:
        found: set[str] = set()
        for part in self._parts:
            declared = part.get("type")
            found.update([declared] if isinstance(declared, str) else declared or [])
            if "properties" in part and not declared:
                found.add("object")
            if "items" in part and not declared:
                found.add("array")
        return frozenset(found)

    @property
    def is_array(self) -> bool:
        return "array" in self.types

    @property
    def is_object(self) -> bool:
        return "object" in self.types and not self.is_array

    @cached_property
    def is_binary(self) -> bool:
        """A file: `format: binary` (3.0) or a `contentMediaType`/`contentEncoding` string (3.1)."""
        return any(
            p.get("format") in ("binary", "byte") or "contentMediaType" in p or "contentEncoding" in p
            for p in self._parts
        )

    @cached_property
    def items(self) -> Shape:
        return Shape(next((p["items"] for p in self._parts if isinstance(p.get("items"), dict)), {}), self._resolve)

    @cached_property
    def properties(self) -> Mapping[str, Shape]:
        merged: dict[str, Any] = {}
        for part in self._parts:
            for name, schema in (part.get("properties") or {}).items():
                merged.setdefault(name, schema)
        return {name: Shape(schema, self._resolve) for name, schema in merged.items()}

    @cached_property
    def write_only(self) -> bool:
        return any(p.get("writeOnly") is True for p in self._parts)

    def without_write_only(self, value: Any) -> Any:
        """`value` less the properties, at any depth, that the schema marks writeOnly: what a
        response may carry of a request's value."""
        if isinstance(value, dict):
            kept = ((k, self.property(k)) for k, v in value.items())
            return {k: shape.without_write_only(value[k]) for k, shape in kept if not shape.write_only}
        if isinstance(value, list):
            return [self.items.without_write_only(item) for item in value]
        return value

    @cached_property
    def required(self) -> frozenset[str]:
        """Property names some part of the schema requires."""
        return frozenset(n for p in self._parts for n in (p.get("required") or ()) if isinstance(n, str))

    @cached_property
    def additional(self) -> Shape:
        extra: Any = next((p["additionalProperties"] for p in self._parts if "additionalProperties" in p), {})
        return Shape(extra if isinstance(extra, dict) else {}, self._resolve)

    @cached_property
    def xml(self) -> Mapping[str, Any]:
        """The schema's `xml` object (name, attribute, wrapped, namespace, prefix)."""
        return next((p["xml"] for p in self._parts if isinstance(p.get("xml"), dict)), {})

    def property(self, name: str) -> Shape:
        return self.properties.get(name) or self.additional

    def coerce(self, text: str) -> Any:
        """`text` as the scalar type the schema asks for, when it is one; else the text itself, which
        validation then refuses with the type it should have had."""
        types = self.types
        if "integer" in types and _INTEGER.fullmatch(text):
            return int(text)
        if "number" in types and _NUMBER.fullmatch(text):
            number = float(text)
            return int(text) if _INTEGER.fullmatch(text) else number
        if "boolean" in types and text in ("true", "false"):
            return text == "true"
        if "null" in types and "string" not in types and text in ("", "null"):
            return None
        return text


def _parts(schema: Any, resolve: Resolver) -> list[dict[str, Any]]:
    """The schema and what it is made of (`$ref`, `allOf`, `anyOf`, `oneOf`), each resolved once."""
    parts: list[dict[str, Any]] = []
    pending, seen = [schema], set()
    while pending and len(parts) < 64:
        node = resolve(pending.pop())
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        parts.append(node)
        for keyword in ("allOf", "anyOf", "oneOf"):
            pending.extend(reversed(node.get(keyword) or []))
    return parts
