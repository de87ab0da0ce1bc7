"""Values generated from JSON Schemas (OpenAPI 3.0 / 3.1), valid against them and deterministic.

API (stable; later versions only add keyword arguments):

    generate(schema, *, seed=0, key="", root=None, depth_limit=4, direction="response",
             entity_id=NO_VALUE, check=None, strict=False) -> Any

- `schema`: a schema (a dict or a boolean); local `$ref`s (`#/...`) are resolved against `root`
  (the whole OpenAPI document, ideally its response view: spec.views["response"]).
- `seed` and `key`: the same (seed, key, schema) always gives the same value; `key` says what is
  being generated (an operation, status and media type, or an entity), `seed` is `serve --seed`.
- Entities: an object from a named component with an `id` property is generated from its own
  random generator, keyed by (seed, component, id): the same pet is the same body in GET /pets,
  in GET /pets/7 and nested elsewhere. `entity_id` gives the id of the first such object outside an
  array (a path parameter: GET /pets/7 -> entity_id="7", coerced to the id's type when it fits).
- `direction`: "response" leaves `writeOnly` properties out (readOnly ones are generated);
  "request" leaves `readOnly` ones out.
- `depth_limit`: below it optional properties and array items beyond minItems are left out, which
  ends recursive schemas.
- `check(value) -> bool`: whether a value is valid (e.g. a compiled SchemaCheck's `not violations`);
  by default one is compiled with jsonschema against `root`. The first valid value of: a plausible
  one (Faker names, schema `example`s), then plain ones with other seeds, is returned.
- When nothing valid is found (an unsatisfiable or exotic schema), the last candidate is returned,
  or `UnsatisfiableError` is raised with `strict=True`.

`is_valid(schema, value, root)` is the default check, exposed for callers' tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .check import is_valid
from .walker import NO_VALUE, Walk

__all__ = ["NO_VALUE", "UnsatisfiableError", "generate", "is_valid"]

ATTEMPTS = 4  # one plausible, then plain values with different seeds


class UnsatisfiableError(ValueError):
    """No value the generator found is valid against the schema."""


def generate(
    schema: Any,
    *,
    seed: int | str = 0,
    key: str = "",
    root: Mapping[str, Any] | None = None,
    depth_limit: int = 4,
    direction: str = "response",
    entity_id: Any = NO_VALUE,
    check: Callable[[Any], bool] | None = None,
    strict: bool = False,
) -> Any:
    """A value valid against `schema`, the same for the same (seed, key); see the module docstring."""
    check = check or (lambda value: is_valid(schema, value, root))
    value: Any = None
    for attempt in range(ATTEMPTS):
        walk = Walk(
            root,
            str(seed),
            key if attempt < 2 else f"{key}\x00{attempt}",
            depth_limit=depth_limit if attempt < 3 else 1,
            direction=direction,
            plausible_values=attempt == 0,
            entity_id=entity_id,
        )
        try:
            value = walk.value(schema)
        except (RecursionError, TypeError, AttributeError, ValueError, KeyError, IndexError, ArithmeticError):
            continue  # a malformed schema (a spec served leniently): the next attempt, or the fallback
        if check(value):
            return value
    if strict:
        raise UnsatisfiableError(f"no valid value found for {str(schema)[:200]}")
    return value
