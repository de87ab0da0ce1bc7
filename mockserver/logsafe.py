"""Logs that a client cannot forge. Whatever ends up in a log line (a request path, a method, a header
value, a scenario name, an error message naming a file's contents) may carry control characters:
a line feed starts a forged line, ESC drives the terminal. Every log line `serve` writes goes through
`SafeFormatter`, in the single-process server and in every worker alike."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from types import TracebackType

# C0 (TAB, LF and CR included), DEL, C1, and the two Unicode line breaks some viewers honour.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_control_chars(text: str) -> str:
    """`text` on one line, control characters written as escapes (`\\n`, `\\x1b`, `\\u2028`)."""
    return _CONTROL.sub(_escaped, text)


class SafeFormatter(logging.Formatter):
    """Each record is its own line(s) and nothing else: the message is escaped whole; a traceback keeps
    its line structure, but an exception's message (which may quote a client) is escaped onto one line."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's names
        return escape_control_chars(super().formatMessage(record))

    def formatException(self, ei: _ExcInfo) -> str:  # noqa: N802
        lines = []
        for formatted in traceback.format_exception(*ei):
            chunk = formatted.strip("\n")
            if chunk.startswith("  "):  # a frame: file, line and source code, already one per line
                lines += [escape_control_chars(line) for line in chunk.split("\n")]
            elif chunk:  # "Traceback ...", "During handling ...", or an exception and its message
                lines.append(escape_control_chars(chunk))
        return "\n".join(lines)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return "\n".join(escape_control_chars(line) for line in stack_info.split("\n"))


def configure_logging(quiet: bool) -> None:
    """`serve`'s logging: one safe line per record on stderr (stdout carries only the URL)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("%(asctime)s %(message)s"))
    handler.mockserver_lines = True  # type: ignore[attr-defined]  # the access log may write these lines itself
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, handlers=[handler])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
