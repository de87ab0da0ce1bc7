"""The document as requests and as responses see it: OpenAPI keywords that JSON Schema ignores,
turned into JSON Schema that says the same, once, before any validator is compiled.

- `readOnly` properties are not required in requests, and a request must not send them;
- `writeOnly` properties are not required in responses, and a response must not carry them (OpenAPI's
  SHOULD NOT, read as schemathesis reads it);
- a `discriminator` picks the `oneOf`/`anyOf` branch its property names: each branch is pinned to
  the values that name it (its `mapping` keys and its schema's name), as schemathesis and other
  tools read it, so two branches that both fit no longer make a valid value ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

READ_ONLY_MARK = "x-mock-read-only"  # on the schema that forbids a readOnly property in requests
WRITE_ONLY_MARK = "x-mock-write-only"  # on the schema that forbids a writeOnly property in responses
PIN_MARK = "x-mock-discriminator"  # on a branch's pin: failing it says "not this branch", not what is wrong


def forbidden(schema: Any) -> bool:
    """Whether a view forbids this property outright (readOnly in requests, writeOnly in responses)."""
    return isinstance(schema, Mapping) and bool(schema.get(READ_ONLY_MARK) or schema.get(WRITE_ONLY_MARK))


def for_requests(document: dict[str, Any]) -> dict[str, Any]:
    return _View(document, "readOnly").rewrite(document)


def for_responses(document: dict[str, Any]) -> dict[str, Any]:
    return _View(document, "writeOnly").rewrite(document)


def resolve(document: Any, node: Any) -> Any:
    """`node` with local `$ref`s followed (a cycle or a dangling pointer gives {})."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            return {}
        seen.add(ref)
        node = document
        for escaped in ref[2:].split("/"):
            part = escaped.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return {}
    return node


class _View:
    def __init__(self, document: dict[str, Any], hidden: str) -> None:
        self.document = document
        self.hidden = hidden  # "readOnly" (requests) or "writeOnly" (responses)

    def rewrite(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: self.rewrite(value) for key, value in node.items()}
        if isinstance(node.get("required"), list) or isinstance(node.get("properties"), dict):
            self._release(node, out)
        if isinstance(node.get("discriminator"), dict):
            self._pin(node, out)
        return out

    def _flagged(self, schema: Any) -> bool:
        return bool(resolve(self.document, schema).get(self.hidden)) if isinstance(schema, dict) else False

    def _declared(self, node: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        """Every property the schema declares, its own and its `allOf` members'."""
        pending, seen = [node], set()
        while pending:
            part = resolve(self.document, pending.pop())
            if not isinstance(part, dict) or id(part) in seen:
                continue
            seen.add(id(part))
            properties = part.get("properties")
            if isinstance(properties, dict):
                yield from properties.items()
            pending.extend(part.get("allOf") or [])

    def _release(self, node: dict[str, Any], out: dict[str, Any]) -> None:
        hidden = {name for name, schema in self._declared(node) if self._flagged(schema)}
        if not hidden:
            return
        if isinstance(node.get("required"), list):
            out["required"] = [name for name in node["required"] if name not in hidden]
            if not out["required"]:
                del out["required"]
        own = out.get("properties")
        if isinstance(own, dict):
            mark = READ_ONLY_MARK if self.hidden == "readOnly" else WRITE_ONLY_MARK
            for name in hidden & set(own):
                own[name] = {"not": {}, mark: True}

    def _pin(self, node: dict[str, Any], out: dict[str, Any]) -> None:
        discriminator = node["discriminator"]
        prop = discriminator.get("propertyName")
        if not isinstance(prop, str):
            return
        by_target: dict[str, list[str]] = {}
        for value, target in (discriminator.get("mapping") or {}).items():
            ref = target if "#" in str(target) or "/" in str(target) else f"#/components/schemas/{target}"
            by_target.setdefault(ref, []).append(str(value))
        every: list[str] = []
        all_pinned = True
        for keyword in ("oneOf", "anyOf"):
            branches = out.get(keyword)
            if not isinstance(branches, list):
                continue
            for index, branch in enumerate(branches):
                ref = branch.get("$ref") if isinstance(branch, dict) else None
                values = [*by_target.get(ref, []), *self._implicit(ref, prop)] if isinstance(ref, str) else []
                all_pinned = all_pinned and bool(values)
                if values:
                    every.extend(values)
                    pin = {"properties": {prop: {"enum": values, PIN_MARK: True}}}
                    branches[index] = {"allOf": [branch, pin]}
        if every and all_pinned:  # an unknown tag is named as such, not as a mismatch with every branch
            out.setdefault("allOf", []).append({"properties": {prop: {"enum": list(dict.fromkeys(every))}}})

    def _implicit(self, ref: str, prop: str) -> list[str]:
        """The value that names a branch implicitly: its schema's name (also beside a `mapping`, as
        schemathesis and code generators read it), unless the branch itself says which values it
        takes, or is itself a choice between branches."""
        target = resolve(self.document, {"$ref": ref})
        if not isinstance(target, dict) or "oneOf" in target or "anyOf" in target:
            return []
        declared = dict(self._declared(target)).get(prop)
        declared = resolve(self.document, declared) if declared is not None else {}
        if isinstance(declared, dict) and ("enum" in declared or "const" in declared):
            return []
        return [ref.rsplit("/", 1)[-1]]
