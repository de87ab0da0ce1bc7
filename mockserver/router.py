"""Maps a request path to the spec's path item: literal paths first, then templates."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .spec import Operation

_PARAMETER = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True)
class PathItem:
    template: str
    methods: dict[str, Operation]  # upper-case method -> operation

    @property
    def allow(self) -> str:
        """The `Allow` header: what the spec declares here, plus OPTIONS, which the mock answers."""
        methods = sorted(self.methods)
        return ", ".join(methods if "OPTIONS" in methods else [*methods, "OPTIONS"])


class Router:
    """Built once from the spec; `match` is a dict lookup for literal paths."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        items: dict[str, PathItem] = {}
        for op in operations:
            items.setdefault(op.path, PathItem(op.path, {})).methods[op.method] = op
        self._literal = {t: item for t, item in items.items() if "{" not in t}
        templated = [item for t, item in items.items() if "{" in t]
        # OpenAPI: concrete segments win over templated ones, so match the most literal template first.
        templated.sort(key=lambda item: (-len(_PARAMETER.sub("", item.template)), item.template))
        self._templated = [(self._compile(item.template), item) for item in templated]

    @staticmethod
    def _compile(template: str) -> re.Pattern[str]:
        pattern, last = "", 0
        for m in _PARAMETER.finditer(template):
            pattern += re.escape(template[last : m.start()]) + "([^/]+)"
            last = m.end()
        return re.compile(pattern + re.escape(template[last:]) + r"\Z")

    def match(self, path: str) -> tuple[PathItem, dict[str, str]] | None:
        item = self._literal.get(path)
        if item is not None:
            return item, {}
        for pattern, item in self._templated:
            m = pattern.match(path)
            if m:
                names = _PARAMETER.findall(item.template)
                return item, dict(zip(names, m.groups(), strict=True))
        return None
