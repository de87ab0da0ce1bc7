"""The access log writes each request's line from a thread, in serve's format and escaping, or through
logging when the journal's logger ends anywhere else."""

from __future__ import annotations

import io
import logging
import re
import time

import pytest

from mockserver.accesslog import FORMAT, AccessLog
from mockserver.logsafe import SafeFormatter

LINE = ("GET", "/x\n2026-01-01 forged\x1b[31m", 404, "-", "route", "", 0.25)


def eventually_written(stream: io.StringIO, lines: int) -> list[str]:
    deadline = time.monotonic() + 5
    while stream.getvalue().count("\n") < lines and time.monotonic() < deadline:
        time.sleep(0.005)
    return stream.getvalue().splitlines()


def test_lines_are_written_by_the_thread_as_serves_formatter_writes_them() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter("%(asctime)s %(message)s"))
    handler.mockserver_lines = True  # type: ignore[attr-defined]
    logger = logging.getLogger("test.accesslog.ours")
    logger.propagate, logger.handlers = False, [handler]
    access = AccessLog(logger)
    for index in range(100):
        access.add("POST", f"/items/{index}", 201, "success", "respond", "", 0.04)
    access.add(*LINE)
    lines = eventually_written(stream, 101)
    assert len(lines) == 101
    assert [line.split()[3] for line in lines[:100]] == [f"/items/{index}" for index in range(100)]  # in order
    record = logging.LogRecord("x", logging.INFO, __file__, 0, FORMAT, LINE, None)
    expected = handler.format(record)  # what logging itself would have written, timestamp aside
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", lines[100][:24])
    assert lines[100][24:] == expected[24:] == "GET /x\\n2026-01-01 forged\\x1b[31m -> 404 (scenario -, route) 0.2 ms"


def test_any_other_handler_gets_log_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.accesslog.theirs")
    access = AccessLog(logger)
    with caplog.at_level(logging.INFO, logger=logger.name):
        access.add(*LINE)
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.005)
        access.flush()
    assert [r.getMessage() for r in caplog.records] == [FORMAT % LINE]
    assert abs(caplog.records[0].created - time.time()) < 5
