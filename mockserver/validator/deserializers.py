"""Parameter styles (OpenAPI 3.x, "Style Values"): one function per style, turning what arrived into
the array, object or scalar the schema describes, with scalars read as the types it asks for.

Query-string styles (and cookies, and form bodies, which share them) read a multi-dict of decoded
pairs; path and header styles read one string. A value that does not follow its style raises
StyleError with words that say how it should look.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from .shape import Shape

MISSING: Any = object()  # the parameter was not sent at all

Pairs = MultiDict[str, str]


class StyleError(ValueError):
    """The value does not follow the parameter's style."""


def typed(shape: Shape, value: Any) -> Any:
    """Strings (or lists of them, or dicts of them) read as the types the schema asks for."""
    if isinstance(value, list):
        return [shape.items.coerce(v) if isinstance(v, str) else v for v in value]
    if isinstance(value, dict):
        return {k: shape.property(k).coerce(v) if isinstance(v, str) else v for k, v in value.items()}
    return shape.coerce(value) if isinstance(value, str) else value


def _pairs_to_object(parts: list[str], name: str) -> dict[str, str]:
    """`["k1", "v1", "k2", "v2"]` (a non-exploded object) as `{"k1": "v1", "k2": "v2"}`."""
    if len(parts) % 2:
        raise StyleError(f"{name} must be an object sent as key,value pairs.")
    return dict(zip(parts[::2], parts[1::2], strict=True))


def _assignments(parts: list[str], name: str) -> dict[str, str]:
    """`["k1=v1", "k2=v2"]` (an exploded object) as `{"k1": "v1", "k2": "v2"}`."""
    if not all("=" in part for part in parts):
        raise StyleError(f"{name} must be an object sent as key=value pairs.")
    return dict(part.split("=", 1) for part in parts)


def _split(text: str, delimiter: str, shape: Shape, name: str) -> Any:
    """One text holding an array or a non-exploded object, split on the style's delimiter."""
    if shape.is_array:
        return [] if text == "" else text.split(delimiter)
    if shape.is_object:
        return _pairs_to_object([] if text == "" else text.split(delimiter), name)
    return text


# -- query-string styles (query, cookie, form bodies) ------------------------------------------------


def form(values: Pairs, name: str, shape: Shape, explode: bool, claimed: frozenset[str]) -> Any:
    """`?id=3&id=4` (explode) or `?id=3,4`; an exploded object is one pair per property, never one a
    sibling (another parameter, another form field) claims by name."""
    if shape.is_object and explode:
        declared = shape.properties
        keys = [k for k in values if k not in claimed and (k in declared or not declared)]
        return {k: values[k] for k in keys} if keys else MISSING
    if name not in values:
        return MISSING
    if shape.is_array and explode:
        return values.getlist(name)
    return _split(values[name], ",", shape, name)


def _delimited(delimiter: str) -> Callable[[Pairs, str, Shape, bool, frozenset[str]], Any]:
    def style(values: Pairs, name: str, shape: Shape, explode: bool, claimed: frozenset[str]) -> Any:
        if name not in values:
            return MISSING
        if explode and shape.is_array:
            return values.getlist(name)
        return _split(values[name], delimiter, shape, name)

    style.__doc__ = f"`?id=3{delimiter}4` (or repeated, exploded)."
    return style


space_delimited = _delimited(" ")
pipe_delimited = _delimited("|")


def deep_object(values: Pairs, name: str, shape: Shape, explode: bool, claimed: frozenset[str]) -> Any:
    """`?color[R]=100&color[G]=200`; a repeated key is an array property."""
    prefix = name + "["
    found: dict[str, Any] = {}
    for key in values:
        if key.startswith(prefix) and key.endswith("]"):
            prop = key[len(prefix) : -1]
            many = values.getlist(key)
            found[prop] = many if shape.property(prop).is_array or len(many) > 1 else many[0]
    if not found:
        return MISSING
    return {k: typed(shape.property(k), v) for k, v in found.items()}


PAIR_STYLES: Mapping[str, Callable[[Pairs, str, Shape, bool, frozenset[str]], Any]] = {
    "form": form,
    "spaceDelimited": space_delimited,
    "pipeDelimited": pipe_delimited,
    "deepObject": deep_object,
}


# -- path and header styles ----------------------------------------------------------------------------


def simple(text: str, name: str, shape: Shape, explode: bool) -> Any:
    """`3,4,5`; an object is `k,v,k,v`, or `k=v,k=v` exploded."""
    if shape.is_object and explode:
        return _assignments([] if text == "" else text.split(","), name)
    return _split(text, ",", shape, name)


def label(text: str, name: str, shape: Shape, explode: bool) -> Any:
    """`.3.4.5` (explode) or `.3,4,5`; an object is `.k=v.k=v` or `.k,v,k,v`."""
    if not text.startswith("."):
        raise StyleError(f"{name} must be in label style, starting with '.'.")
    rest = text[1:]
    if not (shape.is_array or shape.is_object):
        return rest
    parts = [] if rest == "" else rest.split("." if explode else ",")
    if shape.is_array:
        return parts
    return _assignments(parts, name) if explode else _pairs_to_object(parts, name)


def matrix(text: str, name: str, shape: Shape, explode: bool) -> Any:
    """`;id=3;id=4` (explode) or `;id=3,4`; an object is `;k=v;k=v` or `;id=k,v,k,v`."""
    if not text.startswith(";"):
        raise StyleError(f"{name} must be in matrix style, starting with ';{name}='.")
    parts = text[1:].split(";")
    if shape.is_object and explode:
        return _assignments(parts, name)
    values = []
    for part in parts:
        key, equals, value = part.partition("=")
        if key != name or (not equals and not shape.is_array):
            raise StyleError(f"{name} must be in matrix style, as ';{name}=value'.")
        values.append(value)
    if shape.is_array and explode:
        return values
    if len(values) != 1:
        raise StyleError(f"{name} must be sent once in matrix style.")
    return _split(values[0], ",", shape, name)


TEXT_STYLES: Mapping[str, Callable[[str, str, Shape, bool], Any]] = {
    "simple": simple,
    "label": label,
    "matrix": matrix,
}


def from_pairs(style: str, values: Pairs, name: str, shape: Shape, explode: bool, claimed: frozenset[str]) -> Any:
    found = PAIR_STYLES.get(style, form)(values, name, shape, explode, claimed)
    return found if found is MISSING else typed(shape, found)


def from_text(style: str, text: str, name: str, shape: Shape, explode: bool) -> Any:
    return typed(shape, TEXT_STYLES.get(style, simple)(text, name, shape, explode))
