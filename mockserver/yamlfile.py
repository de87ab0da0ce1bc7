"""YAML documents that remember where each value came from, so errors can name a line."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import orjson
import yaml

from .errors import ConfigError, ConfigProblem, JsonPath, format_field

# Where a spec split over files keeps each file it refers to (mockserver/bundle.py), by relative path.
INCLUDED = "x-mockserver-files"


@dataclass
class YamlDocument:
    """A parsed YAML file and the line of every value in it (1-based); for a spec split over files,
    the files it includes, so a problem anywhere names the file and line it is really on."""

    path: Path
    data: Any
    lines: dict[JsonPath, int] = field(default_factory=dict)
    included: dict[str, YamlDocument] = field(default_factory=dict)
    digest: str = ""  # SHA-256 of the bytes parsed (load_yaml), which the load cache compares

    def owner(self, path: JsonPath) -> tuple[YamlDocument, JsonPath]:
        """The file a path of the bundled document lies in, and the path inside that file."""
        if len(path) >= 2 and path[0] == INCLUDED and path[1] in self.included:
            return self.included[str(path[1])], tuple(path[2:])
        return self, tuple(path)

    def line_of(self, path: JsonPath) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def problem(self, path: JsonPath, reason: str) -> ConfigProblem:
        document, inside = self.owner(path)
        return ConfigProblem(document.path, reason, document.line_of(inside), format_field(inside))


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # LibYAML: ~5x faster, same nodes and marks


class Loader(_Base):  # type: ignore[misc,valid-type]
    """Safe loading, with dates and times left as the strings JSON (and so OpenAPI) has: YAML 1.1
    would make `created_at: 2020-11-19T20:27:18Z` a datetime, which no `type: string` admits."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _Base.yaml_implicit_resolvers.items()
    }


# Deeper than any real spec or scenario, and far below where loading and checking would exhaust Python's
# recursion limit (measured: a scenario body 200 levels deep still loads; 300 does not).
MAX_NESTING = 100


def load_yaml(path: Path) -> YamlDocument:
    """Parse `path` safely; any failure becomes a ConfigError naming file and line."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(path, "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([ConfigProblem(path, "is a directory, not a file")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem(path, f"not valid UTF-8 ({exc.reason} at byte {exc.start})")]) from None
    except OSError as exc:
        raise ConfigError([ConfigProblem(path, f"cannot be read: {exc.strerror}")]) from None
    document = _parse(text, path)
    document.digest = hashlib.sha256(raw).hexdigest()
    return document


def _parse(text: str, path: Path) -> YamlDocument:
    if text.lstrip().startswith("{"):  # JSON, a subset of YAML: orjson reads it ~100x faster than LibYAML
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # YAML flow style, or broken JSON: the YAML parser says where
        else:
            if _depth_exceeds(data, MAX_NESTING):
                return parse_yaml(text, path)  # which names the line
            return UnindexedDocument(path, data, text=text)
    return parse_yaml(text, path)


@dataclass
class UnindexedDocument(YamlDocument):
    """A document whose line index is built from its text only when a problem needs a line: JSON
    (read by orjson, which keeps no lines), or a file the load cache vouched for (mockserver/speccache.py)."""

    text: str = ""

    def line_of(self, path: JsonPath) -> int | None:
        if not self.lines and self.text:
            self.lines = line_index(self.text)
        return super().line_of(path)


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values() if isinstance(child, dict | list))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, dict | list))
    return False


def parse_yaml(text: str, path: Path) -> YamlDocument:
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(path, None)
        _check_nesting(node, path)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = f"invalid YAML: {exc.problem or exc.context}"
        raise ConfigError([ConfigProblem(path, reason, mark.line + 1 if mark else None)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(path, f"invalid YAML: {exc}")]) from None
    except RecursionError:  # the pure-Python parser, without LibYAML, recurses per level
        raise ConfigError([ConfigProblem(path, f"nested more than {MAX_NESTING} levels deep")]) from None
    finally:
        loader.dispose()
    lines: dict[JsonPath, int] = {}
    _index_lines(node, (), lines)
    return YamlDocument(path, _stringify_keys(data), lines)


def line_index(text: str) -> dict[JsonPath, int]:
    """The line of every value in a document read before: its nodes only (a third of the time
    parse_yaml takes to build the values too); empty if the text is no longer YAML at all."""
    loader = Loader(text)
    lines: dict[JsonPath, int] = {}
    try:
        node = loader.get_single_node()
    except yaml.YAMLError:
        return lines
    finally:
        loader.dispose()
    if node is not None:
        _index_lines(node, (), lines)
    return lines


def _collections(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair if isinstance(n, yaml.CollectionNode)]
    if isinstance(node, yaml.SequenceNode):
        return [n for n in node.value if isinstance(n, yaml.CollectionNode)]
    return []


def _check_nesting(root: yaml.Node, path: Path) -> None:
    """Refuse a document nested deeper than MAX_NESTING, aliases followed (a self-referring alias is
    endless), before anything recursive walks it. Iterative, each node once: a node's height is known
    when its children's are."""
    heights: dict[int, int] = {}
    open_nodes: set[int] = set()  # the ancestors of the node being walked
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            heights[key] = 1 + max((heights[id(child)] for child in _collections(node)), default=0)
            if heights[key] > MAX_NESTING:
                reason = f"nested more than {MAX_NESTING} levels deep"
                raise ConfigError([ConfigProblem(path, reason, node.start_mark.line + 1)])
        elif key in open_nodes:
            reason = "an alias refers to a collection it is inside, which nests endlessly"
            raise ConfigError([ConfigProblem(path, reason, node.start_mark.line + 1)])
        elif key not in heights:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _collections(node))


def _index_lines(node: yaml.Node, path: JsonPath, lines: dict[JsonPath, int]) -> None:
    if path in lines:  # an alias seen before; YAML anchors can make cycles
        return
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _index_lines(value_node, (*path, str(key_node.value)), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*path, index), lines)


def _stringify_keys(value: Any) -> Any:
    """JSON (and so OpenAPI) keys are strings; YAML reads `201:` as an int."""
    if isinstance(value, dict):
        return {str(k): _stringify_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_keys(v) for v in value]
    return value
