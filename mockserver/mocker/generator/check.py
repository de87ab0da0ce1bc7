"""Whether a value satisfies a schema: JSON Schema 2020-12, formats checked, local `$ref`s into the
whole document. The generator's default check, and its check of each oneOf/anyOf choice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT_URI = "urn:mockserver:generator-root"
FORMATS = Draft202012Validator.FORMAT_CHECKER  # FormatChecker() mixes in draft 3's stricter `time`


def is_valid(schema: Any, value: Any, root: Mapping[str, Any] | None = None) -> bool:
    """Whether `value` satisfies `schema` (JSON Schema 2020-12, formats checked), `$ref`s into `root`."""
    registry: Registry = Registry()
    if root is not None:
        registry = registry.with_resource(ROOT_URI, Resource.from_contents(dict(root), DRAFT202012))
        schema = _rebase(schema)
    try:
        return bool(Draft202012Validator(schema, registry=registry, format_checker=FORMATS).is_valid(value))
    except (jsonschema.exceptions.SchemaError, jsonschema.exceptions._WrappedReferencingError, RecursionError):
        return False
    except Exception:  # an exotic keyword value jsonschema cannot apply: not provably valid
        return False


def _rebase(node: Any) -> Any:
    """Local refs (`#/components/...`) made to point into the root document's resource."""
    if isinstance(node, Mapping):
        return {
            k: (ROOT_URI + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rebase(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(item) for item in node]
    return node
