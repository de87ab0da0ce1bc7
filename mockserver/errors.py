"""Errors in the files the mock is configured from (spec and scenarios)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

JsonPath = tuple[str | int, ...]


def format_field(path: Iterable[str | int]) -> str:
    """Render a JSON path the way people write it: `rules[0].respond.status`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in one file, located as precisely as the file allows."""

    file: Path
    reason: str
    line: int | None = None
    field: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class ConfigError(Exception):
    """The spec or a scenario file cannot be served; carries every problem found."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def unexpected_problem(file: Path, exc: Exception) -> ConfigProblem:
    """A failure no check foresaw, still told as file and reason: never a traceback, never a dead reloader."""
    if isinstance(exc, RecursionError):
        return ConfigProblem(file, "nested too deeply to load (Python's recursion limit was reached)")
    return ConfigProblem(file, f"cannot be loaded: {type(exc).__name__}: {exc}")
