"""Scenario rules: when a request matches, what to answer (a response, a sequence, a fault), and how
slowly. Everything is compiled when the scenario loads; matching a request only reads it."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import re2

from .spec import Canned

MISSING = object()
FAULTS = ("connection-reset", "empty-response", "malformed-json", "timeout")
SEQUENCE_KEYS = ("scenario", "auth-key", "brand", "client")


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is reported with its file and line, not on stderr


class PatternError(ValueError):
    """A `matches` pattern that RE2 cannot compile."""


def compile_pattern(text: str) -> Any:
    """A pattern from a scenario file or the admin API, compiled for RE2, whose matching time is
    linear in the input whatever the pattern: with Python's backtracking `re`, `^(a+)+$` against 30
    a's and a `!` held a worker for seconds. RE2 has no backreferences or lookaround; a pattern that
    uses them is refused when it loads. Returns an object with `search(text)`."""
    try:
        return re2.compile(text, options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(reason) from None


@dataclass(frozen=True)
class Condition:
    """One test on one value: a header, a query parameter or a body field."""

    equals: Any = MISSING
    matches: Any = None  # compile_pattern's
    one_of: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    present: bool | None = None

    @classmethod
    def parse(cls, spec: Any) -> Condition:
        if not isinstance(spec, dict):
            return cls(equals=spec)
        return cls(
            equals=spec.get("equals", MISSING),
            matches=compile_pattern(spec["matches"]) if "matches" in spec else None,
            one_of=tuple(spec["one_of"]) if "one_of" in spec else None,
            minimum=spec.get("min"),
            maximum=spec.get("max"),
            present=spec.get("present"),
        )

    def test(self, value: Any) -> bool:
        if self.present is not None and (value is not MISSING) != self.present:
            return False
        if value is MISSING:
            return self.present is False or (
                self.equals is MISSING
                and self.matches is None
                and self.one_of is None
                and self.minimum is None
                and self.maximum is None
            )
        if self.equals is not MISSING and value != self.equals:
            return False
        if self.matches is not None and not (isinstance(value, str) and self.matches.search(value)):
            return False
        if self.one_of is not None and value not in self.one_of:
            return False
        if self.minimum is not None or self.maximum is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            if self.minimum is not None and value < self.minimum:
                return False
            if self.maximum is not None and value > self.maximum:
                return False
        return True


def parse_field_path(text: str) -> tuple[str | int, ...]:
    """`smtp.servers[0].host` -> ("smtp", "servers", 0, "host")."""
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text):
        parts.append(int(index) if index else name)
    return tuple(parts)


def field_value(document: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        if isinstance(document, list) and isinstance(part, int) and part < len(document):  # noqa: SIM114
            document = document[part]
        elif isinstance(document, dict) and part in document:
            document = document[part]
        else:
            return MISSING
    return document


@dataclass(frozen=True)
class RequestView:
    """What rules may look at, read once per request."""

    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    body: Any  # parsed JSON, or MISSING when absent or not JSON


@dataclass(frozen=True)
class Match:
    operations: frozenset[str] | None = None  # operationIds; None: every operation
    headers: tuple[tuple[str, Condition], ...] = ()
    query: tuple[tuple[str, Condition], ...] = ()
    body: tuple[tuple[tuple[str | int, ...], Condition], ...] = ()
    valid_only: bool = False  # matched after authentication and validation, not before

    @property
    def has_conditions(self) -> bool:
        """Whether matching needs to look at the request beyond its operation."""
        return bool(self.headers or self.query or self.body)

    def test(self, request: RequestView) -> bool:
        """The request's own conditions; the operation is checked by `Scenario.rules_for`."""
        for name, condition in self.headers:
            if not condition.test(request.headers.get(name, MISSING)):
                return False
        for name, condition in self.query:
            if not condition.test(request.query.get(name, MISSING)):
                return False
        return all(condition.test(field_value(request.body, path)) for path, condition in self.body)


@dataclass(frozen=True)
class Latency:
    low_ms: float
    high_ms: float

    @classmethod
    def parse(cls, spec: Any) -> Latency | None:
        if spec is None:
            return None
        if isinstance(spec, int | float):
            return cls(float(spec), float(spec))
        return cls(float(spec.get("min", 0)), float(spec.get("max", spec.get("min", 0))))

    def seconds(self) -> float:
        return random.uniform(self.low_ms, self.high_ms) / 1000


@dataclass(frozen=True)
class Answer:
    """One step of a rule's response: a canned response, `pass` (answer as the spec says), or a fault."""

    canned: Mapping[str, Canned] = field(default_factory=dict)  # operationId -> response
    templates: Mapping[str, Any] = field(default_factory=dict)  # operationId -> (body, headers) templates
    passes: bool = False
    fault: str | None = None
    status: int | None = None
    hold_seconds: float = 30.0


@dataclass(frozen=True)
class Rule:
    name: str
    match: Match
    answers: tuple[Answer, ...]
    then: str = "repeat-last"  # or "cycle"
    sequence_key: str = "scenario"
    latency: Latency | None = None

    def answer(self, count: int) -> Answer:
        """The answer for the `count`-th matching request (1-based)."""
        if count <= len(self.answers):
            return self.answers[count - 1]
        if self.then == "cycle":
            return self.answers[(count - 1) % len(self.answers)]
        return self.answers[-1]

    @property
    def is_sequence(self) -> bool:
        return len(self.answers) > 1


@dataclass(frozen=True)
class RateLimit:
    limit: int
    window: float
    key: str  # "global", "auth-key", "brand" or "client"
