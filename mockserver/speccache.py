"""The load cache: a spec `serve` has loaded before starts again without bundling its files, running
openapi-spec-validator, or checking its examples and defaults a second time.

One entry per spec (its path as given, from the folder it was given in) holds the document as the
Spec was built from it, every warning that load found, and what the checks refused (spec.Verdicts),
with the SHA-256 of every file the spec was read from. An entry is used only when each of those files
hashes the same now, and only by the mockserver code and libraries that wrote it (their hash is in the
entry's name and in the entry). Anything else (a file edited, an entry unreadable, cut short or
corrupt) is a miss: the spec is loaded in full, and the entry written anew. Entries are stored with
marshal, which builds plain values only (no code runs on reading, unlike pickle), behind a checksum
of their own, and written whole or not at all (a temporary file renamed into place).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigProblem
from .yamlfile import INCLUDED, UnindexedDocument, YamlDocument

if TYPE_CHECKING:
    from .spec import Derived, Spec, Verdicts

# Libraries whose verdicts an entry records: the structural validator, both schema validators, YAML.
_LIBRARIES = ("openapi-spec-validator", "jsonschema", "jsonschema-rs", "referencing", "PyYAML", "orjson")
_CHECKSUM = hashlib.sha256().digest_size


def cache_folder() -> Path:
    """Where mockserver keeps what it remembers between runs ($XDG_CACHE_HOME, else ~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mockserver"


@functools.cache
def code_version() -> str:
    """A hash of this mockserver's own code (every module, not its version number: an edited checkout
    keeps its number), the Python that runs it and the versions of the libraries that judge a spec."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).parent
    for module in sorted(package.rglob("*.py")):
        digest.update(module.relative_to(package).as_posix().encode() + b"\0" + module.read_bytes())
    for library in _LIBRARIES:
        with contextlib.suppress(PackageNotFoundError):
            digest.update(f"{library}={version(library)}\0".encode())
    return digest.hexdigest()


def _entry(path: Path) -> tuple[Path, str]:
    """The entry's file for the spec at `path` (as given, from the working folder), and its key."""
    key = hashlib.sha256(f"{code_version()}\0{os.getcwd()}\0{path}".encode()).hexdigest()
    return cache_folder() / "loaded-specs" / key, key


@dataclass
class Remembered:
    """What an entry gives back: the document as the Spec is built from it, the warnings, the verdicts,
    and what is derived from the document."""

    document: YamlDocument
    warnings: list[ConfigProblem]
    verdicts: Verdicts
    derived: Derived


def freeze(data: Any) -> bytes | None:
    """The document and what is derived from it, as they are now (before the Spec changes the
    document), for `remember`; None if marshal cannot hold them (then the spec is not remembered)."""
    try:
        return marshal.dumps(data)
    except ValueError:
        return None


def remember(path: Path, document: YamlDocument, frozen: bytes, spec: Spec) -> None:
    """Keep what loading `path` found. A cache that cannot be written only costs the next start-up."""
    with contextlib.suppress(OSError, ValueError):  # an unwritable cache, a working folder gone
        _write(path, document, frozen, spec)


def _write(path: Path, document: YamlDocument, frozen: bytes, spec: Spec) -> None:
    entry, key = _entry(path)
    files = [(key_, str(d.path), d.digest) for key_, d in document.included.items()]
    verdicts = spec.verdicts
    payload = marshal.dumps(
        {
            "key": key,
            "digest": document.digest,
            "files": files,
            "data": frozen,
            "warnings": [(str(w.file), w.reason, w.line, w.field) for w in spec.warnings],
            "defaults": verdicts.defaults,
            "examples": verdicts.examples,
            "request_examples": verdicts.request_examples,
        }
    )
    entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".writing-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, entry)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _prune(entry.parent)


KEPT = 64  # entries: one per spec path, so a test suite's temporary specs do not pile up


def _prune(folder: Path) -> None:
    """Remove all but the KEPT entries written last."""
    with contextlib.suppress(OSError):
        entries = sorted(folder.iterdir(), key=lambda e: e.stat().st_mtime_ns, reverse=True)
        for stale in entries[KEPT:]:
            with contextlib.suppress(OSError):
                stale.unlink()


def recall(path: Path) -> Remembered | None:
    """The entry for `path` if every file it was read from is unchanged; None otherwise."""
    try:
        entry, key = _entry(path)
        stored = entry.read_bytes()
        payload = stored[_CHECKSUM:]
        if hashlib.sha256(payload).digest() != stored[:_CHECKSUM]:
            return None
        found = marshal.loads(payload)
        if found["key"] != key:
            return None
        root = _unchanged(path, found["digest"])
        if root is None:
            return None
        data, seen, fast = marshal.loads(found["data"])
        included: dict[str, YamlDocument] = {}
        for name, where, digest in found["files"]:
            document = _unchanged(Path(where), digest)
            if document is None:
                return None
            document.data = data.get(INCLUDED, {}).get(name)
            included[name] = document
        root.data, root.included = data, included
        from .spec import Derived, Verdicts

        warnings = [ConfigProblem(Path(file), reason, line, field) for file, reason, line, field in found["warnings"]]
        verdicts = Verdicts(found["defaults"], found["examples"], found["request_examples"])
        return Remembered(root, warnings, verdicts, Derived(seen, fast))
    except OSError:
        return None  # no entry (or no working folder, or no code to hash): loaded in full
    except (ValueError, EOFError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
        return None  # not an entry this code wrote: loaded in full, and written anew


def _unchanged(path: Path, digest: str) -> UnindexedDocument | None:
    """The file at `path`, if its bytes still hash to `digest` (its lines are indexed only if a problem
    needs them, from the very text that was hashed)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(raw).hexdigest() != digest:
        return None
    return UnindexedDocument(path, None, text=raw.decode("utf-8"), digest=digest)
