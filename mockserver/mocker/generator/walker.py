"""The walk over a schema that builds one value for it (see `generate` in __init__.py).

One `Walk` per generated value: it owns the random generator (reseeded per entity so an entity
looks the same wherever it appears), the depth budget that stops recursive schemas, and whether
plausible values (names, schema examples) are tried or only the plain ones.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

from ...validator.views import forbidden
from . import plausible
from .check import FORMATS, is_valid
from .regex import RegexTooHardError, string_matching

Schema = Mapping[str, Any]
NO_VALUE = object()
MAX_SIZE = 100  # items or properties at most (a larger minItems is left to the final check, which fails)
MAX_BRANCHES_TRIED = 6  # of a oneOf/anyOf, before the value is left to the caller's final check
MAX_NESTED_ENTITIES = 2  # an entity inside an entity inside an entity gets its fields at the depth reached
ID_NAMES = ("id",)
BOUNDS = {"minimum": max, "exclusiveMinimum": max, "minLength": max, "minItems": max, "minProperties": max}
BOUNDS |= {"maximum": min, "exclusiveMaximum": min, "maxLength": min, "maxItems": min, "maxProperties": min}


class Walk:
    def __init__(
        self,
        root: Mapping[str, Any] | None,
        seed: str,
        key: str,
        *,
        depth_limit: int,
        direction: str,
        plausible_values: bool,
        entity_id: Any = NO_VALUE,
    ) -> None:
        self.root = root or {}
        self.seed = seed
        self.rng = random.Random(f"{seed}\x00{key}")
        self.depth_limit = depth_limit
        self.hidden = "writeOnly" if direction == "response" else "readOnly"
        self.plausible = plausible_values
        self.entity_id = entity_id  # the first entity outside any array takes this id (GET /pets/7)
        self.entities = 0

    # -- references and combinations ---------------------------------------------------------------

    def resolve(self, schema: Any) -> tuple[Any, str | None]:
        """`schema` with `$ref`s followed, and the name of the last component it came from."""
        name = None
        seen: set[str] = set()
        while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            if not ref.startswith("#/") or ref in seen:
                return {}, name
            seen.add(ref)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            node: Any = self.root
            for escaped in ref[2:].split("/"):
                part = escaped.replace("~1", "/").replace("~0", "~")
                node = node[int(part)] if isinstance(node, list) and part.isdigit() else node.get(part, {})
                if not isinstance(node, Mapping | list):
                    return {}, name
            name = ref
            schema = {"allOf": [node, siblings]} if siblings else node
        return schema, name

    def flatten(self, schema: Schema) -> Schema:
        """`allOf` merged into one schema (properties joined, bounds tightened)."""
        if "allOf" not in schema:
            return schema
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            resolved, _ = self.resolve(part)
            if isinstance(resolved, Mapping):
                merged = _merge(merged, self.flatten(resolved))
        return merged

    # -- values ------------------------------------------------------------------------------------

    def value(self, schema: Any, depth: int = 0, name: str | None = None, ref: str | None = None) -> Any:
        if schema is True or schema == {}:
            return self.words()
        if not isinstance(schema, Mapping):
            return None
        schema, found = self.resolve(schema)
        ref = found or ref
        if not isinstance(schema, Mapping):
            return None
        schema = self.flatten(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            choices = [v for v in schema["enum"] if v is not None] or schema["enum"]
            return self.rng.choice(choices)
        if depth > self.depth_limit * 2 + 4:  # recursion that even required properties cannot end
            return None
        for keyword in ("oneOf", "anyOf"):
            if isinstance(schema.get(keyword), list) and schema[keyword]:
                return self.choice(schema, keyword, depth, name)
        discriminated = self.subtype(schema, ref, depth, name)
        if discriminated is not NO_VALUE:
            return discriminated
        if self.plausible and not _id_like(name):
            example = _schema_example(schema)
            fmt = schema.get("format")
            if example is not NO_VALUE and (not isinstance(fmt, str) or FORMATS.conforms(example, fmt)):
                return example  # (an example in the wrong format, `09:00:00` for a `time`, is not)
        kind = self.kind(schema)
        if kind == "null":
            return None
        if kind == "object":
            return self.object(schema, depth, ref)
        if kind == "array":
            return self.array(schema, depth, name)
        if kind in ("integer", "number"):
            return self.number(schema, kind == "integer", name)
        if kind == "boolean":
            return self.rng.random() < 0.5
        return self.string(schema, name)

    def kind(self, schema: Schema) -> str:
        declared = schema.get("type")
        types = (
            [declared]
            if isinstance(declared, str)
            else [t for t in declared if isinstance(t, str)]
            if isinstance(declared, list)
            else []
        )
        if schema.get("nullable") is True and "null" not in types:
            types.append("null")
        concrete = [t for t in types if t != "null"]
        if concrete:
            return str(concrete[0])
        if types:
            return "null"
        if "properties" in schema or "additionalProperties" in schema or "required" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema or "minItems" in schema:
            return "array"
        if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
            return "number"
        return "string"

    def choice(self, schema: Schema, keyword: str, depth: int, name: str | None) -> Any:
        """A value of one branch, tagged as the discriminator says; branches are tried from a random
        one on until a value satisfies the whole choice (a oneOf value must fit exactly one)."""
        branches = schema[keyword]
        declared = schema.get("discriminator")
        discriminator: Mapping[str, Any] = declared if isinstance(declared, Mapping) else {}
        start = self.rng.randrange(len(branches))
        own = {k: v for k, v in schema.items() if k not in (keyword, "discriminator")}
        value: Any = None
        for offset in range(min(len(branches), MAX_BRANCHES_TRIED)):
            branch = branches[(start + offset) % len(branches)]
            target = {"allOf": [branch, own]} if own.get("properties") or own.get("required") else branch
            value = self.value(target, depth, name)
            prop = discriminator.get("propertyName")
            ref = _branch_ref(branch)
            if isinstance(prop, str) and isinstance(value, dict) and isinstance(ref, str):
                tag = _tag_for(discriminator, ref)
                if tag is not None:
                    value[prop] = tag
            if len(branches) == 1 or is_valid(dict(schema), value, self.root):
                return value
        return value

    def subtype(self, schema: Schema, ref: str | None, depth: int, name: str | None) -> Any:
        """A base schema whose discriminator maps to subtypes (allOf inheritance): one subtype.
        A subtype itself (the discriminator came in through allOf) gets its own tag."""
        discriminator = schema.get("discriminator")
        if not isinstance(discriminator, Mapping) or ref is None:
            return NO_VALUE
        mapping = discriminator.get("mapping") or {}
        targets = [_target_ref(t) for t in mapping.values()]
        others = [t for t in targets if t != ref]
        if others and ref not in targets and "x-mock-subtype" not in schema:
            chosen = self.rng.choice(others)
            value = self.value({"$ref": chosen, "x-mock-subtype": True}, depth, name)
            tag, prop = _tag_for(discriminator, chosen), discriminator.get("propertyName")
            if isinstance(value, dict) and isinstance(prop, str) and tag is not None:
                value[prop] = tag
            return value
        return NO_VALUE

    # -- objects and arrays ------------------------------------------------------------------------

    def object(self, schema: Schema, depth: int, ref: str | None) -> dict[str, Any]:
        declared = schema.get("properties")
        properties: Mapping[str, Any] = declared if isinstance(declared, Mapping) else {}
        required = [p for p in schema.get("required") or [] if isinstance(p, str)]
        rng, entity_depth = self.rng, depth
        id_name = next((n for n in ID_NAMES if n in properties), None) if ref else None
        if id_name is not None and self.hidden_in(properties[id_name]):
            id_name = None
        out: dict[str, Any] = {}
        if id_name is not None and ref is not None:
            out[id_name] = self.entity_key(properties[id_name], depth)
            if self.entities < MAX_NESTED_ENTITIES:
                # the rest of the entity comes from its own generator: the same (schema, id) is the
                # same body in a list, in a get-by-id and nested in another response
                self.entities += 1
                self.rng = random.Random(f"{self.seed}\x00{ref}\x00{orjson.dumps(out[id_name]).decode()}")
                entity_depth = 0
        try:
            shallow = entity_depth >= self.depth_limit
            for prop, sub in properties.items():
                if prop in out:
                    continue
                if self.hidden_in(sub):
                    continue
                if prop in required or not shallow:
                    out[prop] = self.value(sub, entity_depth + 1, prop)
            self.fill_properties(schema, out, required, entity_depth)
        finally:
            if self.rng is not rng:
                self.rng, self.entities = rng, self.entities - 1
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, Mapping) and isinstance(discriminator.get("propertyName"), str) and ref:
            tag = _tag_for(discriminator, ref)
            if tag is not None:
                out[discriminator["propertyName"]] = tag
        maximum = schema.get("maxProperties")
        if isinstance(maximum, int) and len(out) > maximum:
            for prop in [p for p in out if p not in required][: len(out) - maximum]:
                del out[prop]
        return out

    def hidden_in(self, schema: Any) -> bool:
        """A writeOnly property (in a response) or a readOnly one (in a request)."""
        resolved = self.flatten(self.resolve(schema)[0]) if isinstance(schema, Mapping) else None
        if not isinstance(resolved, Mapping):
            return False
        # in the document's views the property is already forbidden: {"not": {}} with the view's mark
        return resolved.get(self.hidden) is True or forbidden(resolved)

    def entity_key(self, schema: Any, depth: int) -> Any:
        if self.entity_id is not NO_VALUE:
            wanted, self.entity_id = self.entity_id, NO_VALUE
            coerced = _coerce_id(wanted, self.resolve(schema)[0])
            if coerced is not NO_VALUE and is_valid(dict(self.resolve(schema)[0]), coerced, self.root):
                return coerced
        return self.value(schema, depth + 1, "id")

    def fill_properties(self, schema: Schema, out: dict[str, Any], required: list[str], depth: int) -> None:
        """additionalProperties / patternProperties, and whatever minProperties still asks."""
        extra = schema.get("additionalProperties")
        declared = schema.get("patternProperties")
        patterns: Mapping[str, Any] = declared if isinstance(declared, Mapping) else {}
        for prop in required:  # required but not declared: whatever the extra-property schema allows
            if prop not in out and prop not in (schema.get("properties") or {}):
                out[prop] = self.value(extra if isinstance(extra, Mapping) else {}, depth + 1, prop)
        wanted = min(_int(schema, "minProperties", 0), MAX_SIZE)
        if not out and depth < self.depth_limit and (isinstance(extra, Mapping) or patterns):
            wanted = max(wanted, 1)
        index = 1
        for pattern, sub in patterns.items():
            if len(out) >= wanted:
                break
            try:
                out[string_matching(pattern, self.rng)] = self.value(sub, depth + 1)
            except RegexTooHardError:
                continue
        while len(out) < wanted and extra is not False and index < 100:
            key = f"additionalProp{index}"
            index += 1
            if key not in out:
                out[key] = self.value(extra if isinstance(extra, Mapping) else {}, depth + 1, key)

    def array(self, schema: Schema, depth: int, name: str | None) -> list[Any]:
        low = min(_int(schema, "minItems", 0), MAX_SIZE)
        high = min(_int(schema, "maxItems", low + 3), MAX_SIZE)
        declared = schema.get("prefixItems")
        prefix: list[Any] = declared if isinstance(declared, list) else []
        items = schema.get("items", {})
        if items is False:
            high = min(high, len(prefix))
        count = low if depth >= self.depth_limit else min(high, max(low, self.rng.randint(1, 3)))
        count = max(count, min(len(prefix), high))
        item_name = _singular(name)
        out: list[Any] = []
        seen: set[bytes] = set()
        attempts = 0
        while len(out) < count and attempts < count * 10 + 10:
            attempts += 1
            sub = prefix[len(out)] if len(out) < len(prefix) else items
            value = self.value(sub, depth + 1, item_name)
            if schema.get("uniqueItems"):
                try:
                    fingerprint = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
                except TypeError:
                    fingerprint = repr(value).encode()
                if fingerprint in seen:
                    continue
                seen.add(fingerprint)
            out.append(value)
        contains = schema.get("contains")
        if isinstance(contains, Mapping) and len(out) < high:
            out.append(self.value(contains, depth + 1, item_name))
        return out

    # -- scalars -----------------------------------------------------------------------------------

    def number(self, schema: Schema, integer: bool, name: str | None) -> int | float:
        low, high = _number(schema.get("minimum")), _number(schema.get("maximum"))
        x_low, x_high = _number(schema.get("exclusiveMinimum")), _number(schema.get("exclusiveMaximum"))
        step = _number(schema.get("multipleOf"))
        fmt = schema.get("format")
        if fmt in ("int32", "int64"):
            bound = 2**31 if fmt == "int32" else 2**63
            low = max(low, -bound) if low is not None else None
            high = min(high, bound - 1) if high is not None else None
        if self.plausible and low is None and high is None and x_low is None and x_high is None and not step:
            named = plausible.named_number(name, self.rng)
            if named is not None:
                return int(named) if integer else named
        tiny = 1 if integer else 0.01
        lo = (
            max(v for v in (low, None if x_low is None else x_low + tiny) if v is not None)
            if (low is not None or x_low is not None)
            else None
        )
        hi = (
            min(v for v in (high, None if x_high is None else x_high - tiny) if v is not None)
            if (high is not None or x_high is not None)
            else None
        )
        if lo is None:
            lo = min(1, hi) if hi is not None else 1
            lo = hi - 1000 if hi is not None and lo > hi else lo
        if hi is None:
            hi = max(lo, 0) + 1000 if _id_like(name) or integer else max(lo, 0) + 100
        if step:
            return _multiple(lo, hi, step, integer, self.rng)
        if integer:
            lo_i, hi_i = math.ceil(lo), math.floor(hi)
            return self.rng.randint(lo_i, hi_i) if lo_i <= hi_i else lo_i
        value = round(self.rng.uniform(lo, hi), 2)
        return value if lo <= value <= hi else lo

    def string(self, schema: Schema, name: str | None) -> str:
        low = min(_int(schema, "minLength", 0), MAX_SIZE * 100)
        declared_high = _int(schema, "maxLength", -1)
        high = None if declared_high < 0 else declared_high
        pattern, fmt = _text(schema, "pattern"), _text(schema, "format")
        candidates: list[str] = []
        if pattern is not None:
            for _ in range(5):
                try:
                    candidates.append(string_matching(pattern, self.rng))
                except RegexTooHardError:
                    break
        elif fmt in plausible.FORMATS:
            candidates.append(plausible.FORMATS[fmt](self.rng))
        else:
            if self.plausible:
                named = plausible.named_string(name, self.rng)
                if named is not None:
                    candidates.append(named)
            candidates.append(self.words())
        for candidate in candidates:
            if _fits(candidate, low, high, pattern):
                return candidate
        text = candidates[0] if candidates else "x"
        if len(text) < low:
            text += "x" * (low - len(text))
        return text[:high] if high is not None else text

    def words(self) -> str:
        return plausible.words(self.rng) if self.plausible else "string"


def _merge(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
        elif key == "properties" and isinstance(value, Mapping):
            joined = dict(out[key])
            for prop, sub in value.items():
                joined[prop] = {"allOf": [joined[prop], sub]} if prop in joined else sub
            out[key] = joined
        elif key == "required" and isinstance(value, list):
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key in BOUNDS and isinstance(value, int | float) and isinstance(out[key], int | float):
            out[key] = BOUNDS[key](out[key], value)
        elif key == "type" and value != out[key]:
            mine = {out[key]} if isinstance(out[key], str) else set(out[key])
            theirs = {value} if isinstance(value, str) else set(value)
            both = mine & theirs or (theirs if "integer" in theirs else mine)
            out[key] = sorted(both) if len(both) > 1 else next(iter(both))
        elif key == "enum" and isinstance(value, list) and isinstance(out[key], list):
            out[key] = [v for v in out[key] if v in value] or value
        else:
            out[key] = value
    return out


def _int(schema: Schema, key: str, default: int) -> int:
    value = schema.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _text(schema: Schema, key: str) -> str | None:
    value = schema.get(key)
    return value if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _multiple(lo: float, hi: float, step: float, integer: bool, rng: random.Random) -> int | float:
    exact = Decimal(str(step))
    first, last = math.ceil(Decimal(str(lo)) / exact), math.floor(Decimal(str(hi)) / exact)
    if first > last:
        return 0
    for _ in range(10):
        k = rng.randint(first, min(last, first + 50))
        value = exact * k
        number = int(value) if integer or value == value.to_integral_value() else float(value)
        if isinstance(number, int) or (number / step).is_integer():
            return number
    return 0 if first <= 0 <= last else int(exact * first) if integer else float(exact * first)


def _fits(text: str, low: int, high: int | None, pattern: str | None) -> bool:
    if len(text) < low or (high is not None and len(text) > high):
        return False
    if pattern is None:
        return True
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return True  # Python cannot read it; the final check against the schema decides


def _id_like(name: str | None) -> bool:
    if not name:
        return False
    lowered = name.lower()
    return lowered in ID_NAMES or lowered.endswith(("id", "_id", "uuid"))


def _schema_example(schema: Schema) -> Any:
    if "example" in schema:
        return schema["example"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    if "default" in schema:
        return schema["default"]
    return NO_VALUE


def _branch_ref(branch: Any) -> str | None:
    """The component a branch names: `$ref`, or the first `$ref` of an `allOf` (a pinned branch)."""
    if not isinstance(branch, Mapping):
        return None
    if isinstance(branch.get("$ref"), str):
        return str(branch["$ref"])
    parts = branch.get("allOf")
    first = parts[0] if isinstance(parts, list) and parts else None
    return str(first["$ref"]) if isinstance(first, Mapping) and isinstance(first.get("$ref"), str) else None


def _target_ref(target: Any) -> str:
    text = str(target)
    return text if "#" in text or "/" in text else f"#/components/schemas/{text}"


def _tag_for(discriminator: Mapping[str, Any], ref: str) -> str | None:
    for value, target in (discriminator.get("mapping") or {}).items():
        if _target_ref(target) == ref:
            return str(value)
    return ref.rsplit("/", 1)[-1] if ref.startswith("#/components/schemas/") else None


def _coerce_id(value: Any, schema: Any) -> Any:
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    kinds = [kind] if isinstance(kind, str) else list(kind or ["string"])
    text = str(value)
    if "integer" in kinds and re.fullmatch(r"-?\d{1,18}", text):
        return int(text)
    if "number" in kinds and re.fullmatch(r"-?\d{1,18}(\.\d{1,12})?", text):
        return float(text) if "." in text else int(text)
    if "string" in kinds:
        return text
    return NO_VALUE


def _singular(name: str | None) -> str | None:
    if not name:
        return None
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith("sses") or name.endswith("ses"):
        return name[:-2]
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name
