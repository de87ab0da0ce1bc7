"""The per-request log line, written off the request path. A request only appends its fields to a
list (under a microsecond); a thread of each process formats what accumulated and writes it in one
go. `log.info` on the request thread cost about 10 us of CPU per request (a LogRecord, a formatter,
a locked write and flush per line), a sixth of the docs' POST.

Lines keep serve's format and escaping (mockserver/logsafe.py). When the journal's logger ends at
anything but serve's own handler (a test's caplog, a user's logging config), each line goes through
logging as before, still from the thread."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from typing import Any

from .logsafe import escape_control_chars

log = logging.getLogger("mockserver.journal")
FORMAT = "%s %s -> %d (scenario %s, %s%s) %.1f ms"


class AccessLog:
    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._pending: list[tuple[float, tuple[Any, ...]]] = []
        self._wake = threading.Event()
        self._writer_pid = 0
        self._lock = threading.Lock()  # one batch written at a time (the thread, or a flush at exit)
        self._second = (-1, "")  # the last whole second formatted, and its text

    def add(self, *args: Any) -> None:
        """Queue one line (FORMAT's arguments); the thread writes it within milliseconds."""
        if self._writer_pid != os.getpid():  # once per process: a forked worker starts its own thread
            self._start()
        self._pending.append((time.time(), args))  # list.append is atomic
        if not self._wake.is_set():
            self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._writer_pid == os.getpid():
                return
            self._writer_pid, self._pending = os.getpid(), []
            self._wake = threading.Event()
        threading.Thread(target=self._write_forever, name="mockserver-access-log", daemon=True).start()

    def _write_forever(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            handler = _only_handler(self.logger)
            if handler is None:
                for created, args in batch:
                    record = self.logger.makeRecord(self.logger.name, logging.INFO, __file__, 0, FORMAT, args, None)
                    record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
                    self.logger.handle(record)
                return
            text = "".join(
                f"{self._timestamp(created)} {escape_control_chars(FORMAT % args)}\n" for created, args in batch
            )
            with handler.lock:  # type: ignore[union-attr]
                try:
                    handler.stream.write(text)
                    handler.stream.flush()
                except (OSError, ValueError):  # stderr closed or gone: the lines cannot be written anywhere
                    pass

    def _timestamp(self, created: float) -> str:
        """As logging's default asctime: `2026-11-27 15:20:44,123`."""
        second = int(created)
        if second != self._second[0]:
            self._second = (second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second)))
        return f"{self._second[1]},{int((created - second) * 1000):03d}"


def _only_handler(logger: logging.Logger) -> logging.StreamHandler[Any] | None:
    """serve's own handler when it is the only one the logger's records reach, else None."""
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        found += current.handlers
        if not current.propagate:
            break
        current = current.parent
    ours = len(found) == 1 and getattr(found[0], "mockserver_lines", False)
    if ours and found[0].level <= logging.INFO and not found[0].filters and not logger.filters:
        return found[0]  # type: ignore[return-value]
    return None


access_log = AccessLog(log)
atexit.register(access_log.flush)
