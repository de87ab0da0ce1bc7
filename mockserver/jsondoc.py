"""JSON trees of any depth the mock accepts, handled without recursion.

A request body may nest up to MAX_DEPTH levels (orjson's own parsing limit, which the mock adopts as
its one nesting limit). Everything downstream must cope with that depth: Python's recursion limit
(1,000 frames) breaks recursive code from about 490 levels, and orjson refuses to *write* more than
255. So the code here walks trees with an explicit stack, and `dumps`/`loads` use orjson and fall
back to iterative code only for the rare document orjson refuses, so the common case stays fast.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from json import decoder
from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 1024  # nesting levels a request body may have; orjson.loads refuses deeper ones

Key = str | int | None  # a dict key, a list index, or None for the root
DESCEND = object()  # returned by a `transform` callback: keep this node and walk into it


def depth(value: Any) -> int:
    """How many containers deep `value` nests (a scalar is 0, `{}` is 1)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def walk(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every leaf (a value that is neither a dict nor a list) with its path, in document order."""
    stack = [(path, value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            stack.extend(((*where, k), v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*where, i), v) for i, v in reversed(list(enumerate(node))))
        else:
            yield where, node


def transform(value: Any, replace: Callable[[Key, Any], Any], levels: int | None = None) -> Any:
    """A copy of `value` in which `replace(key, node)` may substitute any node, top-down; returning
    DESCEND keeps the node (a dict or list is copied and walked into). List items get key None.
    Containers deeper than `levels`, if given, are copied empty."""
    new = replace(None, value)
    if new is not DESCEND:
        return new
    if not isinstance(value, dict | list):
        return value
    root = _shell(value)
    stack: list[tuple[Any, Any, int]] = [(root, value, 1)]
    while stack:
        copy, node, level = stack.pop()
        named = isinstance(node, dict)
        for slot, child in node.items() if named else enumerate(node):
            new = replace(slot if named else None, child)
            if new is DESCEND:
                new = child
                if isinstance(child, dict | list):
                    if levels is not None and level >= levels:
                        new = {} if isinstance(child, dict) else []
                    else:
                        new = _shell(child)
                        stack.append((new, child, level + 1))
            copy[slot] = new
    return root


def _shell(node: dict[str, Any] | list[Any]) -> Any:
    """An empty container to copy `node` into (a list already as long, so items go in by index)."""
    return {} if isinstance(node, dict) else [None] * len(node)


def copy_tree(value: Any, levels: int | None = None) -> Any:
    """A deep copy of a JSON tree (copy.deepcopy recurses); containers below `levels` come out empty."""
    return transform(value, lambda _key, _node: DESCEND, levels)


def dumps(value: Any) -> bytes:
    """orjson's serialization, for any depth (orjson stops at 255 levels) and integers of any size
    (orjson stops at 64 bits; a form, XML or query value may hold more digits, as JSON may)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        if "64-bit" in str(exc):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        if "Recursion limit" not in str(exc):
            raise
    return _dumps_deep(value)


def _dumps_deep(value: Any) -> bytes:
    """Serialize level by level with an explicit stack; each subtree orjson can take goes whole."""
    out = bytearray()
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):  # punctuation pushed below; JSON values are never bytes
            out += item
            continue
        try:
            out += orjson.dumps(item)
            continue
        except orjson.JSONEncodeError as exc:
            if "Recursion limit" not in str(exc):
                raise
        parts: list[Any] = []
        if isinstance(item, dict):
            parts.append(b"{")
            for index, (key, child) in enumerate(item.items()):
                parts += [b"," if index else b"", orjson.dumps(key) + b":", child]
            parts.append(b"}")
        else:
            parts.append(b"[")
            for index, child in enumerate(item):
                parts += [b"," if index else b"", child]
            parts.append(b"]")
        stack.extend(reversed(parts))
    return bytes(out)


def loads(data: bytes | str) -> Any:
    """Parse JSON of any depth. Only for the mock's own documents (the journal, stored items, runtime
    choices), which may wrap a body of MAX_DEPTH levels in a level or two more; bodies from clients
    are parsed by orjson alone, so deeper ones are refused."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth" not in exc.msg:
            raise
    return _loads_deep(data.decode("utf-8") if isinstance(data, bytes) else data)


def loads_any(data: bytes) -> Any:
    """Parse JSON that `dumps` wrote: orjson, or for what it refuses (integers over 64 bits, more
    than MAX_DEPTH levels) the iterative parser."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _loads_deep(data.decode("utf-8"))


_SPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")
_LITERALS = {"true": True, "false": False, "null": None}
_scanstring: Callable[[str, int], tuple[str, int]] = decoder.scanstring  # type: ignore[attr-defined]


def _skip(text: str, pos: int) -> int:
    """The position of the next token at or after `pos`."""
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]  # the pattern matches anywhere


def _key(text: str, pos: int) -> tuple[str, int]:
    """An object key at `pos` (its opening quote), and the position of its value."""
    key, pos = _scanstring(text, pos + 1)
    return key, _skip(text, _skip(text, pos) + 1)  # past the ':'


def _loads_deep(text: str) -> Any:
    """An iterative parser for well-formed JSON (what `dumps` wrote): containers on a stack."""
    stack: list[list[Any]] = []  # each open container: [value, key awaiting its value]
    pos = _skip(text, 0)
    while True:
        char = text[pos]
        if char in "{[":
            stack.append([{} if char == "{" else [], None])
            pos = _skip(text, pos + 1)
            if text[pos] not in "}]":
                if char == "{":
                    stack[-1][1], pos = _key(text, pos)
                continue
            pos += 1
            value = stack.pop()[0]
        elif char == '"':
            value, pos = _scanstring(text, pos + 1)
        else:
            found = _SCALAR.match(text, pos)
            if found is None:
                raise ValueError(f"not JSON at position {pos}")
            token, pos = found.group(), found.end()
            value = _LITERALS[token] if token in _LITERALS else orjson.loads(token)
        # Put `value` into its container, closing every container that ends right after it.
        while stack:
            container, key = stack[-1]
            if isinstance(container, dict):
                container[key] = value
            else:
                container.append(value)
            pos = _skip(text, pos)
            if text[pos] == ",":
                pos = _skip(text, pos + 1)
                if isinstance(container, dict):
                    stack[-1][1], pos = _key(text, pos)
                break
            pos += 1  # the container's '}' or ']'
            value = stack.pop()[0]
        else:
            return value


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON (the admin API, the dashboard) through `dumps`: a journal entry may hold a body
    nested MAX_DEPTH levels deep, which the json module's encoder cannot write. Keys keep their order."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        try:
            return dumps(obj).decode()
        except TypeError:  # what orjson cannot write (an integer over 64 bits, a set): Flask's own way
            return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)  # refuses more than MAX_DEPTH levels (a ValueError, as Flask expects)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        response = self._app.response_class(self.dumps(self._prepare_response_obj(args, kwargs)))
        response.mimetype = self.mimetype
        return response  # type: ignore[return-value]  # Flask's own provider says the same
