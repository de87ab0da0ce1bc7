"""JSON Schema validation that explains itself in plain words, one item per violated field."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry

from .errors import JsonPath, format_field
from .jsondoc import copy_tree
from .validator.views import PIN_MARK, READ_ONLY_MARK, WRITE_ONLY_MARK

INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

_format_checker = FormatChecker()


def _int_format(name: str) -> None:
    low, high = INT_RANGES[name]

    @_format_checker.checks(name)
    def check(value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return True  # formats apply to numbers only; `type` reports the rest
        return float(value).is_integer() and low <= value <= high


for _name in INT_RANGES:
    _int_format(_name)


@functools.lru_cache(maxsize=1024)  # one compiled regex per pattern in the spec
def _pattern_check(pattern: str) -> Any:
    return jsonschema_rs.validator_for({"pattern": pattern})


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """`pattern` on jsonschema-rs' regex engine, as the fast path checks it (linear for ordinary
    patterns, a backtracking limit for the rest): jsonschema's own uses Python's `re`, which can take
    exponential time on a hostile value, and it runs exactly when a body is invalid."""
    if validator.is_type(instance, "string") and not _pattern_check(pattern).is_valid(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_Explaining = jsonschema.validators.extend(Draft202012Validator, {"pattern": _pattern})


class SchemaCheck:
    """A schema compiled once. The common case, a valid instance, is settled by jsonschema-rs
    (compiled Rust, about a microsecond); jsonschema explains what is wrong, in words, only when
    something is.

    Compiled at start-up, or (`lazy`, for a spec whose every schema compiled before: the load cache)
    on first use: a 659-operation spec has 20,000 of them, 0.7 s, and a request needs a few. Two
    threads compiling the same check at once build the same thing; the last one kept is as good."""

    def __init__(
        self, schema: dict[str, Any], registry: Registry, fast_registry: Any = None, lazy: bool = False
    ) -> None:
        self._source = (schema, registry, fast_registry)
        self._compiled: tuple[Any, Any] | None = None
        if not lazy:
            self._compile()

    def _compile(self) -> tuple[Any, Any]:
        schema, registry, fast_registry = self._source
        slow = _Explaining(schema, registry=registry, format_checker=_format_checker)
        fast = None
        if fast_registry is not None:
            fast = jsonschema_rs.Draft202012Validator(schema, registry=fast_registry, validate_formats=True)
        self._compiled = (slow, fast)
        return self._compiled

    @property
    def slow(self) -> Any:
        """jsonschema's validator, which words what is wrong."""
        return (self._compiled or self._compile())[0]

    @property
    def fast(self) -> Any:
        """jsonschema-rs' validator, or None where it cannot give jsonschema's verdicts."""
        return (self._compiled or self._compile())[1]

    def violations(self, instance: Any) -> ViolationList:
        slow, fast = self._compiled or self._compile()
        fast_says_invalid = False
        if fast is not None:
            try:
                if fast.is_valid(instance):
                    return []
                fast_says_invalid = True
            except (ValueError, TypeError, OverflowError):
                pass  # a value JSON cannot hold (from YAML, say): the detailed path decides
        try:
            found = explain_errors(slow.iter_errors(instance))
        except RecursionError:  # jsonschema's messages repr() the instance, which recurses
            found = explain_errors(slow.iter_errors(copy_tree(instance, EXPLAIN_DEPTH)))
        if found or not fast_says_invalid:
            return found
        return self._format_violations(fast, instance)

    @staticmethod
    def _format_violations(fast: Any, instance: Any) -> ViolationList:
        """What jsonschema-rs alone refuses: a format jsonschema checks only with optional packages
        (uri, hostname, uri-reference...). schemathesis reads formats with jsonschema-rs too."""
        found = []
        for error in fast.iter_errors(instance):
            path = tuple(error.instance_path)
            fmt = getattr(error.kind, "format", None)
            text = f"must be a valid {fmt}." if isinstance(fmt, str) else "is not valid here."
            found.append(Violation(path, text, "format" if isinstance(fmt, str) else ""))
        return sorted(found, key=lambda v: [str(p) for p in v.path]) or [Violation((), "is not valid here.")]


# Levels the worded explanations look at when a body is too deep for them: jsonschema's messages
# repr() the instance, which recurses. The verdict on such a body stays exact up to this depth, which
# no schema in practice reaches; below it, containers are seen empty.
EXPLAIN_DEPTH = 200


def compile_validator(
    schema: dict[str, Any], registry: Registry, fast_registry: Any = None, lazy: bool = False
) -> SchemaCheck:
    """Build a check once (at start-up, or on first use when `lazy`); it is reused for every request."""
    return SchemaCheck(schema, registry, fast_registry, lazy)


def fast_document(document: Any) -> Any | None:
    """The document as jsonschema-rs should see it, or None when it cannot give the same verdicts.

    jsonschema-rs checks no custom formats, so `int32`/`int64` become the bounds they mean; any other
    format (whose checks differ between libraries) keeps the whole document on the detailed path."""
    formats: set[str] = set()

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: rewrite(value) for key, value in node.items()}
        fmt = node.get("format")
        if isinstance(fmt, str):
            formats.add(fmt)
            if fmt in INT_RANGES:
                low, high = INT_RANGES[fmt]
                given_low, given_high = node.get("minimum"), node.get("maximum")
                out["minimum"] = max(low, given_low) if isinstance(given_low, int | float) else low
                out["maximum"] = min(high, given_high) if isinstance(given_high, int | float) else high
                if node.get("type") != "integer":
                    out["multipleOf"] = 1
        return out

    return rewrite(document)


@dataclass(frozen=True)
class Violation:
    path: JsonPath  # where in the instance
    text: str  # plain words, starting with the field's name

    keyword: str = ""

    @property
    def field(self) -> str:
        return format_field(self.path)

    @property
    def message(self) -> str:
        """`port must be an integer (int32).`; a problem with the whole document names `The body`."""
        return f"{self.field or 'The body'} {self.text}"


ViolationList = list[Violation]

_TYPE_WORDS = {
    "integer": ["an integer"],
    "number": ["a number"],
    "string": ["a string"],
    "boolean": ["true", "false"],
    "object": ["an object"],
    "array": ["an array"],
    "null": ["null"],
}


def _type_words(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    words = [word for t in names for word in _TYPE_WORDS.get(t, [t])]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _quote(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _explain(error: jsonschema.ValidationError) -> tuple[JsonPath, str]:
    path: JsonPath = tuple(error.absolute_path)
    keyword, expected, schema = error.validator, error.validator_value, error.schema
    if keyword == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else "a property"
        return (*path, missing), "is required."
    if keyword == "type":
        suffix = f" ({schema['format']})" if isinstance(schema, dict) and schema.get("format") in INT_RANGES else ""
        return path, f"must be {_type_words(expected)}{suffix}."
    if keyword == "minLength":
        return path, "must not be empty." if expected == 1 else f"must be at least {expected} characters long."
    if keyword == "maxLength":
        return path, f"must be at most {expected} characters long."
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }[str(keyword)]
        fmt = schema.get("format") if isinstance(schema, dict) else None
        return path, f"must be {words} {expected}" + (f" ({fmt})." if fmt in INT_RANGES else ".")
    if keyword == "enum":
        return path, "must be one of " + ", ".join(_quote(v) for v in expected) + "."
    if keyword == "const":
        return path, f"must be {_quote(expected)}."
    if keyword == "format":
        return path, f"must be a valid {expected}."
    if keyword == "pattern":
        return path, f"must match the pattern {expected}."
    if keyword in ("minItems", "maxItems"):
        bound = "at least" if keyword == "minItems" else "at most"
        return path, f"must have {bound} {expected} item{'s' * (expected != 1)}."
    if keyword == "not" and isinstance(schema, dict) and schema.get(READ_ONLY_MARK):
        return path, "is read-only; it must not be sent in a request."
    if keyword == "not" and isinstance(schema, dict) and schema.get(WRITE_ONLY_MARK):
        return path, "is write-only; a response must not carry it."
    if keyword == "additionalProperties":
        return path, error.message
    return path, error.message + "."


def describe_violations(check: SchemaCheck, instance: Any) -> ViolationList:
    """Every violation of `instance`, in document order, worded for people."""
    return check.violations(instance)


def explain_errors(errors: Iterable[jsonschema.ValidationError]) -> ViolationList:
    found: dict[tuple[JsonPath, str], Violation] = {}
    for error in errors:
        leaf = _deepest(error)
        path, text = _explain(leaf)
        keyword = PIN_MARK if _is_pin(leaf) else str(leaf.validator)
        found.setdefault((path, text), Violation(path, text, keyword))
    # One clear statement per field: a wrong type makes enum/length/format moot, and
    # `format: int32` only repeats what `maximum` already said.
    mistyped = {v.path for v in found.values() if v.keyword == "type"}
    precise = {v.path for v in found.values() if v.keyword != "format"}
    # A discriminator's pin only says a branch was not chosen; the tag's own enum says more.
    named = {v.path for v in found.values() if v.keyword != PIN_MARK}
    kept = [
        v
        for v in found.values()
        if (v.keyword == "type" or v.path not in mistyped)
        and (v.keyword != "format" or v.path not in precise)
        and (v.keyword != PIN_MARK or v.path not in named)
    ]
    return sorted(kept, key=lambda v: [str(p) for p in v.path])


def _is_pin(error: jsonschema.ValidationError) -> bool:
    return isinstance(error.schema, dict) and bool(error.schema.get(PIN_MARK))


def _deepest(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For allOf/anyOf/oneOf failures, the sub-error that says what is actually wrong: from the
    alternative the value was meant for (not one whose type it lacks), as deep in it as possible."""
    if not error.context:
        return error
    leaves = [_deepest(e) for e in error.context]
    meant = [
        e
        for e in leaves
        if not _is_pin(e) and (e.validator not in ("type", "const") or len(e.absolute_path) > len(error.absolute_path))
    ]
    candidates = meant or leaves
    deepest = max(len(e.absolute_path) for e in candidates)
    return jsonschema.exceptions.best_match(e for e in candidates if len(e.absolute_path) == deepest) or error
