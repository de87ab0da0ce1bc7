"""Templates in scenario responses: Jinja2 in its immutable sandbox, compiled once at load time.

A scenario file can read the request and call a few generators; it can never run code, reach
Python internals or change anything. A string that is one expression (`"{{ request.body.port }}"`)
keeps the expression's JSON type, so a port stays a number.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .ids import random_id, random_uuid
from .jsondoc import loads

_WHOLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*)\}\}\s*$", re.DOTALL)

_env = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


GENERATORS: dict[str, Callable[..., Any]] = {
    "uuid": random_uuid,
    "id": random_id,
    "now": lambda: datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    "timestamp": lambda: int(datetime.now(UTC).timestamp()),
    "random_int": lambda low=0, high=100: secrets.randbelow(int(high) - int(low) + 1) + int(low),
}


class CaseInsensitive(dict[str, Any]):
    """Header names in templates are case-insensitive, as in HTTP."""

    def __init__(self, items: Mapping[str, Any]) -> None:
        super().__init__({k.lower(): v for k, v in items.items()})

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


def has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(has_template(v) for v in value)
    return False


@dataclass(frozen=True)
class _Compiled:
    template: Any
    native: bool  # render to JSON and parse back, keeping the value's type


def _compile_string(text: str) -> _Compiled:
    whole = _WHOLE_EXPRESSION.match(text)
    if whole and "{{" not in whole.group("expr") and "}}" not in whole.group("expr"):
        return _Compiled(_env.from_string("{{ (" + whole.group("expr") + ") | tojson }}"), True)
    return _Compiled(_env.from_string(text), False)


class Template:
    """A JSON value (body or headers) with templates inside, compiled once."""

    def __init__(self, value: Any) -> None:
        self._value = self._compile(value)

    def _compile(self, value: Any) -> Any:
        if isinstance(value, str) and has_template(value):
            return _compile_string(value)
        if isinstance(value, dict):
            return {k: self._compile(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._compile(v) for v in value]
        return value

    def render(self, context: Mapping[str, Any]) -> Any:
        return self._render(self._value, context)

    def _render(self, value: Any, context: Mapping[str, Any]) -> Any:
        if isinstance(value, _Compiled):
            text = value.template.render(context)
            return loads(text) if value.native else text
        if isinstance(value, dict):
            return {k: self._render(v, context) for k, v in value.items()}
        if isinstance(value, list):
            return [self._render(v, context) for v in value]
        return value


def check_syntax(text: str) -> str | None:
    """Why `text` is not a valid template, or None."""
    try:
        _compile_string(text)
    except TemplateError as exc:
        return f"template error: {exc.message or exc}"
    return None


def template_problems(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], str]]:
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(value, str) and has_template(value):
        problem = check_syntax(value)
        if problem:
            found.append((path, problem))
    elif isinstance(value, dict):
        for k, v in value.items():
            found.extend(template_problems(v, (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(template_problems(v, (*path, i)))
    return found


__all__ = ["GENERATORS", "CaseInsensitive", "Template", "TemplateError", "has_template", "template_problems"]
