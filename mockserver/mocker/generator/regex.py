"""A string that a regular expression matches, built from the expression's parse tree.

Bounded: every open-ended repeat (`*`, `+`, `{n,}`) runs at most a few more times than its minimum,
so a pattern never makes a long or slow value. Lookarounds and back-references are approximated;
the caller checks the result against the pattern and falls back when it does not fit.
"""

from __future__ import annotations

import random
import re
import string
from re import _constants as _c  # type: ignore[attr-defined]  # private, stable since 3.11 (ex sre_parse)
from re import _parser as _p  # type: ignore[attr-defined]
from typing import Any

EXTRA_REPEATS = 3
MAX_REPEAT = 200  # an unbounded repeat runs at most this many times more than its minimum
PRINTABLE = string.ascii_letters + string.digits
CATEGORIES = {
    _c.CATEGORY_DIGIT: string.digits,
    _c.CATEGORY_NOT_DIGIT: string.ascii_letters,
    _c.CATEGORY_SPACE: " ",
    _c.CATEGORY_NOT_SPACE: PRINTABLE,
    _c.CATEGORY_WORD: PRINTABLE + "_",
    _c.CATEGORY_NOT_WORD: "-.,;: ",
}
# Candidates a negated class (`[^...]`, `.`) picks from.
UNIVERSE = PRINTABLE + "-_.:/ "


class RegexTooHardError(ValueError):
    """The pattern uses what Python's `re` cannot parse (ECMA-only syntax, `\\p{..}`)."""


def string_matching(pattern: str, rng: random.Random) -> str:
    """A string `re.search(pattern, s)` matches (when the pattern allows a short one)."""
    try:
        tree = _p.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise RegexTooHardError(str(exc)) from exc
    groups: dict[int, str] = {}
    return _emit(tree, rng, groups)


def _emit(tree: Any, rng: random.Random, groups: dict[int, str]) -> str:
    return "".join(_node(op, av, rng, groups) for op, av in tree)


def _node(op: Any, av: Any, rng: random.Random, groups: dict[int, str]) -> str:
    if op == _c.LITERAL:
        return chr(av)
    if op == _c.NOT_LITERAL:
        return next(c for c in rng.sample(UNIVERSE, len(UNIVERSE)) if ord(c) != av)
    if op == _c.ANY:
        return rng.choice(PRINTABLE)
    if op == _c.IN:
        return _in_class(av, rng)
    if op == _c.BRANCH:
        return _emit(rng.choice(av[1]), rng, groups)
    if op == _c.SUBPATTERN:
        group, sub = av[0], av[-1]
        text = _emit(sub, rng, groups)
        if group is not None:
            groups[group] = text
        return text
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        low, high, sub = av
        low = min(low, MAX_REPEAT)  # `a{100000}` gives a shorter string, which the caller's check refuses
        high = min(high, low + EXTRA_REPEATS) if high != _c.MAXREPEAT else low + EXTRA_REPEATS
        return "".join(_emit(sub, rng, groups) for _ in range(rng.randint(low, max(low, high))))
    if op == _c.GROUPREF:
        return groups.get(av, "")
    if op == _c.CATEGORY:
        return rng.choice(CATEGORIES.get(av, PRINTABLE))
    if op == _c.ASSERT:  # a lookahead: emit what it wants (a lookbehind is left to the caller's check)
        direction, sub = av
        return _emit(sub, rng, groups) if direction == 1 else ""
    return ""  # AT (anchors), ASSERT_NOT, and anything else emit nothing


def _in_class(items: Any, rng: random.Random) -> str:
    negate = bool(items) and items[0][0] == _c.NEGATE
    allowed: list[str] = []
    for op, av in items[1:] if negate else items:
        if op == _c.LITERAL:
            allowed.append(chr(av))
        elif op == _c.RANGE:
            low, high = av
            allowed.extend(chr(c) for c in range(low, min(high, low + 95) + 1))
        elif op == _c.CATEGORY:
            allowed.extend(CATEGORIES.get(av, PRINTABLE))
    if negate:
        excluded = set(allowed)
        candidates = [c for c in UNIVERSE if c not in excluded]
        return rng.choice(candidates) if candidates else "~"
    return rng.choice(allowed) if allowed else ""
