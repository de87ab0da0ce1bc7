"""What a spec gets wrong that the mock can serve through: warnings, not refusals.

`serve` prints them and goes on (the operation concerned is generated from its schema instead);
`serve --strict` and `check` treat them as errors. Each names file, line and JSON path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .bundle import in_extension
from .errors import ConfigProblem, JsonPath
from .validation import describe_violations

if TYPE_CHECKING:
    from .spec import Spec

_ONE = (
    *("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"),
    *("unevaluatedItems", "unevaluatedProperties", "additionalItems"),
)
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def schema_locations(document: dict[str, Any]) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """Every schema object in the document, each once, wherever it is (following `$ref`s made from
    a schema, so a schema kept in another file of a split spec is found too)."""
    from .spec import path_of

    pending: list[tuple[Any, JsonPath, bool]] = [(document, (), False)]
    seen: set[JsonPath] = set()
    while pending:
        node, path, is_schema = pending.pop()
        if is_schema:
            if not isinstance(node, dict) or path in seen:
                continue
            seen.add(path)
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                target = _at(document, path_of(ref))
                if target is not None:
                    pending.append((target, path_of(ref), True))
            yield path, node
            for key in _ONE:
                if key in node:
                    pending.append((node[key], (*path, key), True))
            for key in _MANY:
                if isinstance(node.get(key), list):
                    pending.extend((item, (*path, key, i), True) for i, item in enumerate(node[key]))
            for key in _NAMED:
                if isinstance(node.get(key), dict):
                    pending.extend((item, (*path, key, name), True) for name, item in node[key].items())
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in ("example", "examples", "default") or in_extension((*path, key)):
                    continue
                in_components = path[-2:] == ("components", "schemas")
                pending.append((value, (*path, key), key == "schema" or in_components))
        elif isinstance(node, list):
            pending.extend((item, (*path, i), False) for i, item in enumerate(node))


def _at(document: Any, path: tuple[str, ...]) -> Any:
    node = document
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def drop_bad_defaults(spec: Spec) -> list[tuple[JsonPath, ConfigProblem]]:
    """A `default` its own schema refuses is a warning, and is removed: the echo fills absent
    properties from defaults, and a generated value takes its place. Returns each schema's path
    with its warning (the load cache keeps the paths: drop_defaults)."""
    found = []
    for path, schema in list(schema_locations(spec.raw)):
        if "default" not in schema:
            continue
        try:
            violations = describe_violations(spec.validator(path, "request"), schema["default"])
        except Exception:
            continue
        if violations:
            reason = f"default does not match its schema: {violations[0].text}"
            found.append((path, spec.document.problem((*path, "default"), reason)))
            del schema["default"]
    return found


def drop_defaults(document: dict[str, Any], paths: list[JsonPath]) -> None:
    """Remove the defaults drop_bad_defaults found refused before, without checking them again."""
    for path in paths:
        schema = _at(document, tuple(str(part) for part in path))
        if isinstance(schema, dict):
            schema.pop("default", None)
