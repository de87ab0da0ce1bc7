"""A spec split over files: relative `$ref`s (`schemas/pet.yaml#/Pet`) brought into one document.

Each file referred to is loaded once and kept whole under INCLUDED in the root document, keyed by its
path relative to the root file's folder, and every reference to it becomes a local one
(`#/x-mockserver-files/schemas~1pet.yaml/Pet`). The rest of the mock and both validators then see one
document; cycles between files cost nothing, and a problem found anywhere is told with the file and
line it is on (YamlDocument.problem). References inside `x-` extensions are not followed: no mock
needs them, and they often point at documents that are not specs at all (Markdown, remote pages).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .errors import ConfigError, ConfigProblem, JsonPath
from .yamlfile import INCLUDED, YamlDocument, load_yaml

# Keys whose value OpenAPI never lets be a Reference Object: operations, and a schema's maps of schemas.
_INLINED = frozenset(
    {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    | {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)

# Keys under which user-chosen names (not extensions) may begin with `x-`.
_NAMED = frozenset(
    {
        "properties",
        "patternProperties",
        "headers",
        "examples",
        "schemas",
        "parameters",
        "responses",
        "requestBodies",
        "securitySchemes",
        "links",
        "callbacks",
        "pathItems",
        "$defs",
        "definitions",
        "encoding",
        "mapping",
        "variables",
        "dependentSchemas",
        "paths",
        "webhooks",
    }
)


def in_extension(path: JsonPath) -> bool:
    """Whether `path` lies inside a specification extension (`x-...`), which the mock ignores."""
    return any(
        isinstance(part, str) and part.startswith("x-") and (index == 0 or path[index - 1] not in _NAMED)
        for index, part in enumerate(path)
        if not (index == 0 and part == INCLUDED)
    )


_DATA = frozenset({"example", "default", "const", "enum"})


def in_literal(path: JsonPath) -> bool:
    """Whether `path` lies inside a value the spec gives as data (an example, a default, an enum),
    where a `$ref` key is just a key. A property or response named `default` is not one."""
    for index, part in enumerate(path):
        named = index > 0 and path[index - 1] in _NAMED
        if part in _DATA and not named:
            return True
        in_examples = index >= 2 and path[index - 2] == "examples" and (index < 3 or path[index - 3] not in _NAMED)
        if part == "value" and in_examples and not named:
            return True
    return False


@dataclass
class Bundle:
    """What bundling found: errors (a file that cannot be read) and warnings (references not followed)."""

    errors: list[ConfigProblem] = field(default_factory=list)
    warnings: list[ConfigProblem] = field(default_factory=list)


def bundle(root: YamlDocument) -> Bundle:
    """Bring every file `root` refers to into it, in place; references inside `x-` extensions that
    are not local are dropped with a warning (the extension keeps its other keys)."""
    found = Bundle()
    _real.cache_clear()  # links may have changed since the last load (hot reload)
    _target.cache_clear()
    pending: list[tuple[YamlDocument, JsonPath]] = [(root, ())]
    while pending:
        document, prefix = pending.pop()
        stack: list[tuple[Any, JsonPath]] = [(document.data, ())]
        while stack:
            node, path = stack.pop()
            children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
            for key, value in children:
                if key == "$ref" and isinstance(value, str) and isinstance(node, dict):
                    _rewrite(root, document, prefix, node, path, found, pending)
                elif isinstance(value, dict) and _inlined(root, document, prefix, (*path, key), value, found, pending):
                    node[key] = value["$ref"]  # _inlined left the target there
                elif isinstance(value, dict | list):
                    stack.append((value, (*path, key)))
    return found


def _inlined(
    root: YamlDocument,
    document: YamlDocument,
    prefix: JsonPath,
    path: JsonPath,
    node: dict[str, Any],
    found: Bundle,
    pending: list[tuple[YamlDocument, JsonPath]],
) -> bool:
    """Where OpenAPI admits no Reference Object (an operation, a path item the mock reads directly,
    a description) but a split spec puts one anyway, as many do for their bundler: the content itself,
    shared with the included file (not copied). Leaves the target in node["$ref"] and returns True."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or ref.startswith("#") or in_extension((*prefix, *path)):
        return False
    inline = path[-1] in _INLINED or (len(path) == 2 and path[0] in ("paths", "webhooks"))
    target_key = _include(root, document, ref, (*prefix, *path, "$ref"), found, pending)
    if target_key is None:
        return False
    from .spec import path_of

    data = root.included[target_key].data if target_key else root.data
    target = _at(data, path_of(ref.partition("#")[2]))
    if not inline and isinstance(target, dict | type(None)):
        return False
    node["$ref"] = target
    return True


def _at(data: Any, parts: tuple[str, ...]) -> Any:
    for part in parts:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _rewrite(
    root: YamlDocument,
    document: YamlDocument,
    prefix: JsonPath,
    node: dict[str, Any],
    path: JsonPath,
    found: Bundle,
    pending: list[tuple[YamlDocument, JsonPath]],
) -> None:
    """A Reference Object kept as one: made local to the bundled document."""
    from .spec import pointer_of

    ref = node["$ref"]
    where = (*prefix, *path, "$ref")
    if ref.startswith("#"):
        if prefix:  # local to the included file: now under its key in the root document
            node["$ref"] = "#" + pointer_of(prefix) + ref[1:]
        return
    if in_extension((*prefix, *path)):  # not followed; a warning only when it could not have been
        file_part = unquote(ref.partition("#")[0])
        if "://" in file_part or not (document.path.parent / file_part).is_file():
            found.warnings.append(root.problem(where, f"the reference {ref!r} inside an extension cannot be resolved"))
        del node["$ref"]
        return
    key = _include(root, document, ref, where, found, pending)
    if key == "":
        node["$ref"] = "#" + ref.partition("#")[2]
    elif key is not None:
        node["$ref"] = "#" + pointer_of((INCLUDED, key)) + ref.partition("#")[2]


@functools.lru_cache(maxsize=65536)
def _real(path: str) -> str:
    """A path with its links resolved, once per bundling: a spec split over thousands of files refers
    to the same few tens of thousands of paths again and again (DigitalOcean's: 46,000 look-ups)."""
    return os.path.realpath(path)


@functools.lru_cache(maxsize=65536)
def _target(folder: Path, file_part: str, root: Path) -> tuple[Path, str]:
    """The file a reference written in `folder` names, and its key in the root document ("" for the
    root file itself); once per bundling, as _real (DigitalOcean's: 15,000 references, 3,000 distinct)."""
    target = _real(os.path.join(folder, unquote(file_part)))
    if target == _real(str(root)):
        return Path(target), ""
    return Path(target), Path(os.path.relpath(target, _real(str(root.parent)))).as_posix()


def _include(
    root: YamlDocument,
    document: YamlDocument,
    ref: str,
    where: JsonPath,
    found: Bundle,
    pending: list[tuple[YamlDocument, JsonPath]],
) -> str | None:
    """The key of the file `ref` names, loaded once ("" for the root file itself); None when it cannot
    be used: with an error recorded, or for a URL, which the mock does not fetch, left as it is (the
    spec's loader warns about it and serves without it)."""
    file_part, _, fragment = ref.partition("#")
    if "://" in file_part or file_part.startswith("//"):
        return None
    if fragment and not fragment.startswith("/"):
        found.errors.append(root.problem(where, f"only JSON pointer fragments (#/...) are supported: {ref!r}"))
        return None
    target, key = _target(document.path.parent, file_part, root.path)
    if not key:
        return ""
    if key not in root.included:
        try:
            included = load_yaml(target)
        except ConfigError as exc:
            found.errors.append(root.problem(where, f"the file it refers to cannot be used: {exc.problems[0]}"))
            return None
        root.included[key] = included
        root.data.setdefault(INCLUDED, {})[key] = included.data
        pending.append((included, (INCLUDED, key)))
    return key


def as_written(ref: str) -> str:
    """A reference as its author wrote it, not as bundling rewrote it: `schemas/pet.yaml#/Pet`."""
    from .spec import path_of, pointer_of

    parts = path_of(ref) if ref.startswith("#/") else ()
    if len(parts) >= 2 and parts[0] == INCLUDED:
        return f"{parts[1]}#{pointer_of(parts[2:])}"
    return ref


@contextlib.contextmanager
def as_one_document(path: Path, split: bool) -> Iterator[Path]:
    """`path` itself, or for a spec split over files, one JSON document bundled as the mock reads it
    (for tools that do not follow references where a split spec puts them: schemathesis)."""
    if not split:
        yield path
        return
    document = load_yaml(path)
    bundle(document)
    with tempfile.TemporaryDirectory(prefix="mockserver-spec-") as folder:
        whole = Path(folder) / f"{path.stem}.json"
        whole.write_text(json.dumps(document.data, default=str))
        yield whole
