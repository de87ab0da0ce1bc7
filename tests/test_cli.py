"""The `mockserver` command: help, check, and clear one-line failures (exit 2) at start-up."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .conftest import HEADERS, ROOT, SMTP_PATH, start_server, valid_body

pytestmark = pytest.mark.e2e


def run(*args: str, cwd: Path = ROOT, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("command", [[], ["serve"], ["check"]])
def test_help_has_examples(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0
    assert "Examples:" in result.stdout and "mockserver " in result.stdout


def test_check_passes_on_the_bundled_files() -> None:
    result = run("check")
    assert result.returncode == 0, result.stderr
    rows = {
        tuple(line.split()[:2]) if not line.startswith(" ") else ("", line.split()[0]): line
        for line in result.stdout.splitlines()
        if line.strip() and line.split()[-1] != "scenarios"
    }
    assert "success" in rows[("createSmtpIntegration", "201")]
    assert "stateful" in next(line for line in result.stdout.splitlines() if line.split()[:1] == ["404"])
    assert "outside the contract on purpose (left out of coverage): flaky-network, hanging" in result.stdout
    assert result.stdout.rstrip().endswith("every documented status is produced")


def test_check_fails_when_a_documented_status_has_no_scenario(tmp_path: Path) -> None:
    for name in ("success.yaml", "forbidden.yaml"):
        shutil.copy(ROOT / "scenarios" / name, tmp_path)
    result = run("check", "--scenarios", str(tmp_path))
    assert result.returncode == 1
    assert "429     NONE" in result.stdout
    first = result.stderr.splitlines()[0]
    match = re.match(
        r"error: openapi\.yaml:(\d+): paths\./api/v1/app-integrations/smtp\.post\.responses\.429: "
        r"createSmtpIntegration documents 429 but no scenario produces it",
        first,
    )
    assert match, first
    spec_lines = (ROOT / "openapi.yaml").read_text().splitlines()
    line = int(match.group(1))
    assert "'429':" in spec_lines[line - 1] + spec_lines[line - 2]  # the line of that very response


def test_check_names_file_line_field_and_reason(tmp_path: Path) -> None:
    (tmp_path / "late.yaml").write_text("description: x\nrules:\n  - respond:\n      status: 418\n")
    result = run("check", "--scenarios", str(tmp_path))
    assert result.returncode == 1
    assert f"error: {tmp_path / 'late.yaml'}:4: rules[0].respond.status: 418 is not documented" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_reports_a_broken_spec(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text((ROOT / "openapi.yaml").read_text().replace("statusCode: 403", "statusCode: 402"))
    result = run("check", "--spec", str(spec))
    assert result.returncode == 1
    assert "accessDenied.value.statusCode: example does not match its schema: must be 403." in result.stderr


def _one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_port_in_use_is_one_line_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_clear_line(run("serve", "--port", str(port)))
    assert line == f"error: cannot listen on 127.0.0.1:{port}: address already in use"


def test_broken_scenario_at_start_up_is_one_line_exit_2(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    (tmp_path / "scenarios" / "forbidden.yaml").write_text("rules:\n  - respond:\n      status: nope\n")
    line = _one_clear_line(run("serve", "--port", "0", "--scenarios", str(tmp_path / "scenarios")))
    assert line.startswith(f"error: {tmp_path / 'scenarios' / 'forbidden.yaml'}:3: rules[0].respond.status:")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "an OpenAPI document must be a mapping"),
        ("openapi: 2.0\n", "OpenAPI 3.x is required"),
        ("openapi: 3.1.0\ninfo: [\n", "invalid YAML"),
        ("\xff", "not valid UTF-8 (invalid start byte at byte 0)"),
    ],
)
def test_broken_spec_at_start_up_is_one_line_exit_2(tmp_path: Path, text: str, words: str) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(text, encoding="latin-1")
    assert words in _one_clear_line(run("serve", "--port", "0", "--spec", str(spec)))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "rules:\n  - respond:\n      status: 403\n      body: " + "{a: " * 600 + "1" + "}" * 600 + "\n",
            "4: nested more",
        ),
        ("rules:\n  - respond:\n      body: " + "[" * 101 + "]" * 101 + "\n", "3: nested more than 100 levels deep"),
        ("rules: &loop\n  - respond: *loop\n", "1: an alias refers to a collection it is inside"),
    ],
    ids=["600 levels", "101 levels", "a self-referring alias"],
)
def test_a_deeply_nested_scenario_at_start_up_is_one_line_exit_2(tmp_path: Path, text: str, reason: str) -> None:
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    (tmp_path / "scenarios" / "deep.yaml").write_text(text)
    line = _one_clear_line(run("serve", "--port", "0", "--scenarios", str(tmp_path / "scenarios")))
    assert line.startswith(f"error: {tmp_path / 'scenarios' / 'deep.yaml'}:{reason}")


def test_a_deeply_nested_spec_at_start_up_is_one_line_exit_2(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text((ROOT / "openapi.yaml").read_text() + "x-deep: " + "[" * 500 + "]" * 500 + "\n")
    line = _one_clear_line(run("serve", "--port", "0", "--spec", str(spec)))
    assert line.startswith(f"error: {spec}:") and line.endswith(": nested more than 100 levels deep")


def test_missing_spec_is_one_line_exit_2(tmp_path: Path) -> None:
    assert "file not found" in _one_clear_line(run("serve", "--spec", str(tmp_path / "none.yaml")))


def test_unknown_scenario_at_start_up_lists_the_available_ones() -> None:
    line = _one_clear_line(run("serve", "--port", "0", "--scenario", "nope"))
    assert "no scenario 'nope' (available: flaky-network, forbidden, hanging, quota, rate-limited" in line


def test_bad_size_option_is_a_usage_error() -> None:
    result = run("serve", "--max-body-size", "lots")
    assert result.returncode == 2 and "is not a size" in result.stderr


def test_serve_with_scenario_and_size_options() -> None:
    server = start_server("--scenario", "rate-limited", "--max-body-size", "2KiB")
    try:
        assert server.url.startswith("http://127.0.0.1:")
        url = server.url + SMTP_PATH
        assert requests.post(url, json=valid_body(), headers=HEADERS, timeout=5).status_code == 429
        big = valid_body(description="x" * 3000)
        headers = {**HEADERS, "X-Mock-Scenario": "success"}
        assert requests.post(url, json=big, headers=headers, timeout=5).status_code == 413
    finally:
        server.stop()


def test_serve_runs_from_the_repo_root_with_defaults(tmp_path: Path) -> None:
    """`mockserver serve` with no options reads ./openapi.yaml and ./scenarios."""
    shutil.copy(ROOT / "openapi.yaml", tmp_path)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    server = start_server(cwd=tmp_path)
    try:
        assert server.process.stdout is not None
        dashboard = server.process.stdout.readline().strip()
        assert dashboard == f"mockserver: dashboard and admin API at {server.url}/__mock/"
        assert requests.post(server.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=5).status_code == 201
    finally:
        server.stop()


def test_serve_on_every_interface_prints_urls_a_person_can_open() -> None:
    server = start_server("--host", "0.0.0.0", "--admin-token", "t")
    try:
        assert server.url.startswith("http://127.0.0.1:"), server.url  # not http://0.0.0.0:PORT
        assert server.process.stdout is not None
        port = server.url.rsplit(":", 1)[1]
        lines = [server.process.stdout.readline().strip() for _ in range(2)]
        assert lines == [
            f"mockserver: dashboard and admin API at {server.url}/__mock/",
            f"mockserver: bound to every interface; from other machines: http://{socket.gethostname()}:{port}",
        ]
        assert requests.post(server.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=5).status_code == 201
    finally:
        server.stop()
