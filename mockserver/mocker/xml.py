"""A value written as XML the way its schema's `xml` objects say (OpenAPI's XML Object): element
`name`, `attribute`s, `wrapped` arrays, `namespace` and `prefix`. Without hints, an element is named
after its property, an array's items repeat the array's name, and the root after its component."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

Resolve = Callable[[Any], tuple[Any, str | None]]  # a schema with `$ref`s followed, and its component name


def xml_body(value: Any, schema: Any, root: Mapping[str, Any]) -> bytes:
    """`value` as an XML document, `schema` (the response view's) and its `$ref`s read in `root`."""
    from .generator.walker import Walk

    walk = Walk(root, "", "", depth_limit=0, direction="response", plausible_values=False)
    return to_xml(value, schema, walk.resolve)


def to_xml(value: Any, schema: Any, resolve: Resolve, root_name: str = "root") -> bytes:
    resolved, ref = resolve(schema)
    name = (ref or "").rsplit("/", 1)[-1] or root_name
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + _element(value, resolved, resolve, name, top=True)).encode()


def _hints(schema: Any) -> Mapping[str, Any]:
    hints = schema.get("xml") if isinstance(schema, Mapping) else None
    return hints if isinstance(hints, Mapping) else {}


def _tag(schema: Any, default: str) -> tuple[str, str]:
    """The qualified element name and its namespace declaration (if any)."""
    hints = _hints(schema)
    name = str(hints.get("name") or default)
    prefix = hints.get("prefix")
    namespace = hints.get("namespace")
    qualified = f"{prefix}:{name}" if prefix else name
    declaration = ""
    if namespace:
        declaration = (
            f" xmlns:{prefix}={quoteattr(str(namespace))}" if prefix else f" xmlns={quoteattr(str(namespace))}"
        )
    return qualified, declaration


def _properties(schema: Any, resolve: Resolve) -> dict[str, Any]:
    """Declared properties, `allOf` members' included."""
    found: dict[str, Any] = {}
    pending = [schema]
    while pending:
        part, _ = resolve(pending.pop())
        if isinstance(part, Mapping):
            found.update(part.get("properties") or {})
            pending.extend(part.get("allOf") or [])
    return found


def _element(value: Any, schema: Any, resolve: Resolve, default: str, top: bool = False) -> str:
    schema, _ = resolve(schema)
    tag, declaration = _tag(schema, default)
    if isinstance(value, list):
        items = schema.get("items", {}) if isinstance(schema, Mapping) else {}
        item_schema, _ = resolve(items)
        item_name = str(_hints(item_schema).get("name") or default)
        inner = "".join(_element(item, items, resolve, item_name) for item in value)
        if _hints(schema).get("wrapped") or top:
            return f"<{tag}{declaration}>{inner}</{tag}>"
        return inner
    if isinstance(value, dict):
        properties = _properties(schema, resolve)
        attributes, children = [], []
        for key, item in value.items():
            sub = properties.get(key, {})
            resolved, _ = resolve(sub)
            if _hints(resolved).get("attribute") and not isinstance(item, dict | list):
                attr, _ = _tag(resolved, key)
                attributes.append(f" {attr}={quoteattr(_text(item))}")
            elif item is not None:
                children.append(_element(item, sub, resolve, key))
        return f"<{tag}{declaration}{''.join(attributes)}>{''.join(children)}</{tag}>"
    if value is None:
        return f"<{tag}{declaration}/>"
    return f"<{tag}{declaration}>{escape(_text(value))}</{tag}>"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
