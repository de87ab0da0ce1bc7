"""Templates in scenario responses: Jinja2 in its immutable sandbox, compiled once at load time and
rendered within a budget.

A scenario file (or an expectation sent to the admin API) can read the request and call a few
generators; it can never run code, reach Python internals or change anything. A string that is one
expression (`"{{ request.body.port }}"`) keeps the expression's JSON type, so a port stays a number.

The sandbox alone does not stop a template from exhausting the machine: nested `range(100000)` loops,
`'a' * 10**9`, `'x'|center(10**9)` or a macro that calls itself twice are all legal Jinja2. So every
render has a budget, checked inside the sandbox where the work happens, and a render that exceeds it
stops with `TemplateFailedError`:
- STEPS loop iterations and calls (every `for` iterates through a counter, every call goes through
  the sandbox's `call`), and CPU_SECONDS of the rendering thread's CPU time;
- UNITS characters or items created (strings, lists, the output): `*`, `+`, `%` and `~`, slices,
  every call's and filter's result are counted, and operations that grow a value (`*`, `center`,
  `replace`, `join`, format widths...) are refused *before* they allocate more than is left;
- integers of at most INT_BITS bits (`**` and `*` are checked before they compute).
Jinja2 folds constant expressions when it compiles; the intercepted operators are never folded, and
a folded filter runs under a budget of its own, so nothing huge is computed while a file loads.
"""

from __future__ import annotations

import contextvars
import functools
import json
import re
import secrets
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jinja2 import TemplateError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import _PassArg

from .errors import JsonPath, format_field
from .ids import random_id, random_uuid
from .jsondoc import copy_tree, dumps, loads, walk

STEPS = 100_000  # loop iterations and calls per render
UNITS = 1_000_000  # characters or items created per render, output included
CPU_SECONDS = 0.25  # of the rendering thread's CPU time per render
INT_BITS = 16_384  # about 4,900 decimal digits; Python will not print longer ones anyway

_WHOLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*)\}\}\s*$", re.DOTALL)
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")


class OverBudgetError(SecurityError):
    """A template tried to do more than one render may."""


@dataclass
class Budget:
    """What one render may still spend."""

    steps: int = STEPS
    units: int = UNITS
    deadline: float = field(default_factory=lambda: time.thread_time() + CPU_SECONDS)

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise OverBudgetError(f"more than {STEPS:,} loop iterations and calls")
        if self.steps % 64 == 0 and time.thread_time() > self.deadline:
            raise OverBudgetError(f"more than {CPU_SECONDS} s of CPU time")

    def afford(self, units: int) -> None:
        """Refuse, before it is made, a value of `units` characters or items that would not fit."""
        if units > self.units:
            raise OverBudgetError(f"a value of more than {UNITS:,} characters or items")

    def spend(self, units: int) -> None:
        self.afford(units)
        self.units -= units


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("template_budget", default=None)


def _current() -> Budget:
    """The budget of the render under way; outside one (Jinja2 folding a constant while it compiles),
    a budget for that one operation."""
    return _budget.get() or Budget()


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict | set) else 0


def _int_bits(*values: Any) -> int:
    return sum(v.bit_length() for v in values if isinstance(v, int) and not isinstance(v, bool))


def _check_int_bits(bits: int) -> None:
    if bits > INT_BITS:
        raise OverBudgetError(f"an integer of more than {INT_BITS:,} bits")


def _check_widths(numbers: Iterable[str | None]) -> None:
    """Format widths and precisions (`%9d`, `{:>9}`) allocate that much: a `*` (a width computed
    from the arguments) cannot be checked in advance, so it is refused."""
    for number in numbers:
        if number == "*":
            raise OverBudgetError("a format width given by an argument (write the number)")
        if number:
            _current().afford(int(number))


def _check_percent(template: Any) -> None:
    if isinstance(template, str | bytes):
        text = template if isinstance(template, str) else template.decode("latin-1")
        _check_widths(n for found in _PERCENT_FIELD.finditer(text) for n in found.groups())


def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str, default: Any) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _count(value: Any) -> int:
    """A count or width argument, as a number of units (anything else: 0, and the call decides)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _replaced(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    old, new = _arg(args, kwargs, 0, "old", ""), _arg(args, kwargs, 1, "new", "")
    count = _arg(args, kwargs, 2, "count", None)
    if not isinstance(value, str | bytes) or not isinstance(old, str | bytes) or not isinstance(new, str | bytes):
        return 0
    found = value.count(old)  # type: ignore[arg-type]  # str with str, bytes with bytes, else TypeError later
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(value) + found * max(0, len(new) - len(old))


def _joined(separator: Any, items: Any) -> int:
    return len(str(separator)) * max(0, len(items) - 1) + sum(_size(i) for i in items)


def _lines(value: Any) -> int:
    return str(value).count("\n") + 1


def _indented(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    width = _arg(args, kwargs, 0, "width", 4)
    return _size(value) + _lines(value) * (len(width) if isinstance(width, str) else _count(width))


def _translated(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    table = args[0] if args else None
    return len(value) * max([_size(t) for t in table.values()] + [1]) if isinstance(table, dict) else 0


def _refused_over(limit: int, name: str, default: Any) -> Callable[[Any, tuple[Any, ...], Mapping[str, Any]], int]:
    """For an argument that costs far more than it says (tojson's indent, round's precision)."""
    return lambda v, a, k: UNITS + 1 if abs(_count(_arg(a, k, 0, name, default))) > limit else 0


# How large the result of a growing operation will be, from (value, other args, kwargs): checked with
# Budget.afford before the operation allocates it. Keyed by str/bytes/int method and by filter name.
_METHOD_GROWTH: dict[str, Callable[[Any, tuple[Any, ...], Mapping[str, Any]], int]] = {
    "center": lambda v, a, k: _count(_arg(a, k, 0, "width", 0)),
    "ljust": lambda v, a, k: _count(_arg(a, k, 0, "width", 0)),
    "rjust": lambda v, a, k: _count(_arg(a, k, 0, "width", 0)),
    "zfill": lambda v, a, k: _count(_arg(a, k, 0, "width", 0)),
    "expandtabs": lambda v, a, k: len(v) + str(v).count("\t") * _count(_arg(a, k, 0, "tabsize", 8)),
    "replace": _replaced,
    "join": lambda v, a, k: _joined(v, a[0]) if a else 0,
    "translate": _translated,
    "to_bytes": lambda v, a, k: _count(_arg(a, k, 0, "length", 1)),
}
_FILTER_GROWTH: dict[str, Callable[[Any, tuple[Any, ...], Mapping[str, Any]], int]] = {
    "center": _METHOD_GROWTH["center"],
    "replace": _replaced,
    "join": lambda v, a, k: _joined(_arg(a, k, 0, "d", ""), v),
    "indent": _indented,
    "wordwrap": lambda v, a, k: _size(v) * (1 + _size(_arg(a, k, 2, "wrapstring", "\n"))),
    "batch": lambda v, a, k: _count(_arg(a, k, 0, "linecount", 0)) * (_arg(a, k, 1, "fill_with", None) is not None),
    "slice": lambda v, a, k: _count(_arg(a, k, 0, "slices", 0)),
    "tojson": _refused_over(16, "indent", None),
    "round": _refused_over(1000, "precision", 0),
}
_SIZED_ARGUMENT = {"join"}  # these take an iterable that may be a one-shot generator: made a list first


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter that checks what it will allocate before it runs and counts what it made."""
    growth = _FILTER_GROWTH.get(name)
    skip = 0 if _PassArg.from_obj(function) is None else 1  # context/environment comes before the value

    @functools.wraps(function)  # keeps jinja_pass_arg
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget = _current()
        if growth is not None and len(args) > skip:
            value = args[skip]
            if name in _SIZED_ARGUMENT and not hasattr(value, "__len__"):
                value = list(value)
                args = (*args[:skip], value, *args[skip + 1 :])
            budget.afford(growth(value, args[skip + 1 :], kwargs))
        if name == "format" and len(args) > skip:
            _check_percent(args[skip])
        result = function(*args, **kwargs)
        budget.spend(_size(result))
        return result

    return bounded


class _Generator(CodeGenerator):
    """Compiles `a ~ b` to a call the budget sees (Jinja2 joins it inline otherwise)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # noqa: N802  # Jinja2 dispatches by node name
        self.write("environment.joined((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with every render held to its Budget (see the module's docstring)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _Generator

    def __init__(self) -> None:
        super().__init__(autoescape=False, keep_trailing_newline=True)
        del self.globals["lipsum"]  # paragraphs of filler, sized by an argument; no scenario needs it
        self.filters = {name: _bounded_filter(name, function) for name, function in self.filters.items()}
        self.policies["json.dumps_function"] = _json_text
        self.policies["json.dumps_kwargs"] = {}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Every `for` loop iterates through `counted`, so each iteration is a step of the budget."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.EnvironmentAttribute("counted"), [loop.iter], [], None, None)
            loop.iter.set_lineno(loop.lineno)
        return tree

    def counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        budget = _current()
        for item in iterable:
            budget.step()
            yield item

    def joined(self, parts: Iterable[Any]) -> str:
        """`a ~ b ~ c`."""
        texts = [str(part) for part in parts]
        _current().spend(sum(len(text) for text in texts))
        return "".join(texts)

    def concat(self, parts: Iterable[str]) -> str:  # Environment has "".join
        """Every join of template output: the whole render, `{% set %}` blocks, macros."""
        budget, kept = _current(), []
        for part in parts:
            budget.spend(len(part))
            kept.append(part)
        return "".join(kept)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _current()
        sequences = str | bytes | list | tuple
        if operator == "**" and isinstance(right, int) and right > 0 and isinstance(left, int) and abs(left) > 1:
            _check_int_bits(_int_bits(left) * right)
        elif operator == "*" and isinstance(left, sequences) and isinstance(right, int):
            budget.afford(len(left) * max(0, right))
        elif operator == "*" and isinstance(right, sequences) and isinstance(left, int):
            budget.afford(len(right) * max(0, left))
        elif operator == "*":
            _check_int_bits(_int_bits(left, right))
        elif operator == "+" and isinstance(left, str | bytes | list | tuple) and isinstance(right, type(left)):
            budget.afford(len(left) + len(right))
        elif operator == "%":
            _check_percent(left)
        result = self.binop_table[operator](left, right)
        budget.spend(_size(result))
        return result

    def getitem(self, obj: Any, argument: Any) -> Any:
        value = super().getitem(obj, argument)
        if isinstance(argument, slice):  # a slice is a copy
            _current().spend(_size(value))
        return value

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """`'{:>9}'.format(x)`: widths are checked before the sandbox's formatter runs."""
        formatter = super().wrap_str_format(value)
        if formatter is None:
            return None
        text = value.__self__

        def bounded(*args: Any, **kwargs: Any) -> str:
            specs = [spec or "" for _, _, spec, _ in string.Formatter().parse(text)]
            if any("{" in spec for spec in specs):
                raise OverBudgetError("a format width given by an argument (write the number)")
            _check_widths(number for spec in specs for number in re.findall(r"\d+", spec))
            result = formatter(*args, **kwargs)
            _current().spend(len(result))
            return result

        return bounded

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805  # Jinja2's names
        budget = _current()
        budget.step()
        owner = getattr(__obj, "__self__", None)
        growth = _METHOD_GROWTH.get(getattr(__obj, "__name__", "")) if isinstance(owner, str | bytes | int) else None
        if growth is not None:
            if args and getattr(__obj, "__name__", "") in _SIZED_ARGUMENT and not hasattr(args[0], "__len__"):
                args = (list(args[0]), *args[1:])
            budget.afford(growth(owner, args, kwargs))
        result = super().call(__context, __obj, *args, **kwargs)
        budget.spend(_size(result))
        return result


def _json_text(value: Any, **_options: Any) -> str:
    """`tojson`: orjson at any depth; Python's json for what orjson refuses (integers over 64 bits)."""
    try:
        return dumps(value).decode()
    except TypeError:
        return json.dumps(value)


_env = BoundedEnvironment()


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


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def has_template(value: Any) -> bool:
    return any(is_template(leaf) for _, leaf in walk(value))


class TemplateFailedError(Exception):
    """A template that could not be rendered: where it is in its value, and why."""

    def __init__(self, path: JsonPath, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{format_field(path) or 'the value'}: {reason}")


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
        self._value = value
        self._templates = {path: _compile_string(leaf) for path, leaf in walk(value) if is_template(leaf)}

    def render(self, context: Mapping[str, Any]) -> Any:
        """The value with every template rendered, all within one Budget; raises TemplateFailedError."""
        rendered = copy_tree(self._value)
        token = _budget.set(Budget())
        try:
            for path, compiled in self._templates.items():
                try:
                    text = compiled.template.render(context)
                    value = loads(text) if compiled.native else text
                except Exception as exc:  # anything a template does wrong is the template's failure
                    raise TemplateFailedError(path, _reason(exc)) from None
                if not path:
                    return value
                parent = rendered
                for part in path[:-1]:
                    parent = parent[part]
                parent[path[-1]] = value
        finally:
            _budget.reset(token)
        return rendered


def _reason(exc: Exception) -> str:
    if isinstance(exc, OverBudgetError):
        return f"stopped: it tried {exc} (the limit for one render)"
    if isinstance(exc, RecursionError):
        return "stopped: it nests calls too deeply"
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, TemplateError) else str(exc.message or exc)


def check_syntax(text: str) -> str | None:
    """Why `text` is not a valid template, or None."""
    try:
        _compile_string(text)
    except TemplateError as exc:
        return f"template error: {exc.message or exc}"
    except (RecursionError, MemoryError):
        return "template error: nested too deeply to compile"
    return None


def template_problems(value: Any, path: JsonPath = ()) -> list[tuple[JsonPath, str]]:
    found = []
    for where, leaf in walk(value, path):
        if is_template(leaf):
            problem = check_syntax(leaf)
            if problem:
                found.append((where, problem))
    return found


__all__ = [
    "GENERATORS",
    "Budget",
    "CaseInsensitive",
    "OverBudgetError",
    "Template",
    "TemplateError",
    "TemplateFailedError",
    "has_template",
    "template_problems",
]
