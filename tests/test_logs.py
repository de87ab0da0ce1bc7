"""Logs that cannot be forged: what a client sends (a path, a method, a header value) and what a file
holds reach the log with every control character escaped, in the single-process server and under
--workers. One formatter does it (mockserver/logsafe.py)."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from mockserver.logsafe import SafeFormatter, escape_control_chars

from .conftest import ROOT, LiveServer
from .test_cli import run
from .test_live_server import raw_exchange, status_of
from .test_reload import eventually

FORGED = "2026-01-01 00:00:00,000 POST /api/v1/app-integrations/smtp -> 201 (scenario success, respond) 0.1 ms"
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # anything but TAB and LF, which lines hold


def assert_unforged(log: str) -> None:
    assert not RAW_CONTROL.search(log), repr(log)
    assert not any(line.startswith(FORGED[:20]) for line in log.splitlines()), log


def test_control_characters_are_escaped_one_by_one() -> None:
    assert escape_control_chars("a\nb\rc\td\x1b[31me\x00\x7f\x85\u2028é") == (
        "a\\nb\\rc\\td\\x1b[31me\\x00\\x7f\\x85\\u2028é"
    )


def test_a_traceback_keeps_its_lines_but_an_exception_message_stays_on_one() -> None:
    formatter = SafeFormatter("%(message)s")
    try:
        raise ValueError(f"bad path /x\n{FORGED}")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed on %s", ("/y\x1b[2J",), True)
        record.exc_info = __import__("sys").exc_info()
    lines = formatter.format(record).splitlines()
    assert lines[0] == "failed on /y\\x1b[2J" and lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == f"ValueError: bad path /x\\n{FORGED}"
    assert any(line.startswith('  File "') for line in lines)


@pytest.mark.e2e
@pytest.mark.parametrize("mode", [(), ("--workers", "1")], ids=["one-process", "workers"])
def test_a_path_cannot_forge_a_line_or_colour_the_terminal(
    live_server: Callable[..., LiveServer], mode: tuple[str, ...]
) -> None:
    server = live_server(*mode)
    forged = FORGED.replace(" ", "%20").replace(">", "%3E")
    path = f"/x%0a{forged}%0d%1b[31mred%7f%c2%85%e2%80%a8%00end"
    answer = raw_exchange(server.url, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    assert status_of(answer) == 404
    # A header value, logged by the admin guard's refusal: C1 controls (CSI is \x9b) reach it; C0 ones
    # and DEL are refused by the HTTP parser itself, before anything logs them
    origin = "http://evil.test\x85\x9b31m"
    requests.get(server.url + "/__mock/journal", headers={"Origin": origin}, timeout=5)
    control = {"Origin": "http://evil.test\x7f\x1b[31m"}
    refused = requests.get(server.url + "/__mock/journal", headers=control, timeout=5)
    assert refused.status_code == 400 and refused.headers["Connection"] == "close"
    log = server.stop()
    assert_unforged(log)
    assert f"GET /x\\n{FORGED}\\r\\x1b[31mred\\x7f\\x85\\u2028\\x00end -> 404" in log
    assert "Origin http://evil.test\\x85\\x9b31m)" in log


@pytest.mark.e2e
def test_a_method_cannot_colour_the_terminal(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    answer = raw_exchange(server.url, b"G\x1b[31mET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 400  # not a method: the HTTP parser refuses it before anything logs it
    log = server.stop()
    assert_unforged(log)
    assert "\x1b" not in log


@pytest.mark.e2e
def test_what_a_scenario_file_holds_is_escaped_at_start_up_and_on_reload(
    tmp_path: Path, live_server: Callable[..., LiveServer]
) -> None:
    shutil.copy(ROOT / "openapi.yaml", tmp_path)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    scenario = tmp_path / "scenarios" / "forbidden.yaml"
    good = scenario.read_text()
    # a header name is part of the field an error names: this one would start a forged line
    scenario.write_text(f'rules:\n  - respond:\n      status: 403\n      headers: {{"X\\e[2J\\n{FORGED}": [1]}}\n')
    escaped = f"rules[0].respond.headers.X\\x1b[2J\\n{FORGED}: must be a string or an integer."

    started = run("serve", "--port", "0", cwd=tmp_path)
    assert started.returncode == 2 and started.stderr == f"error: scenarios/forbidden.yaml:4: {escaped}\n"

    scenario.write_text(good)
    server = live_server(cwd=tmp_path)
    scenario.write_text(f'rules:\n  - respond:\n      status: 403\n      headers: {{"X\\e[2J\\n{FORGED}": [1]}}\n')

    def problems() -> list[str]:
        listing: list[str] = requests.get(server.url + "/__mock/scenarios", timeout=5).json()["reload_problems"]
        return listing

    eventually(lambda: bool(problems()))
    assert f"X\x1b[2J\n{FORGED}" in problems()[0]  # the JSON API keeps the text as it is (JSON escapes it)
    log = server.stop()
    assert_unforged(log)
    assert f"reload failed, still serving the last good configuration: scenarios/forbidden.yaml:4: {escaped}" in log
