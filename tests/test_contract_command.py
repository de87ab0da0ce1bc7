"""`mockserver contract` against deliberately flawed servers (exit 1, the right check named), an
independent docs-following server (exit 0), and our own mock."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mockserver.contract import env_headers, parse_report, read_events

from .conftest import ROOT, SPEC, LiveServer, start_server
from .servers import VALID_KEY, docs_server, serving

pytestmark = pytest.mark.e2e


def contract(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "mockserver",
        "contract",
        "--url",
        url,
        "--spec",
        str(SPEC),
        "--seed",
        "1",
        "--max-examples",
        "25",
        *args,
    ]
    return subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**__import__("os").environ, **(env or {})},
    )


AUTH = ["-H", f"Auth-Key: {VALID_KEY}", "-H", "Brand-URL: your-domain.com"]


@pytest.mark.parametrize(
    ("flaw", "check"),
    [
        ("server_error", "not_a_server_error"),
        ("missing_field", "response_schema_conformance"),
        ("wrong_type", "response_schema_conformance"),
        ("accepts_invalid", "negative_data_rejection"),
        ("ignores_auth", "ignored_auth"),
        ("no_allow_header", "unsupported_method"),
        ("not_json", "content_type_conformance"),
    ],
)
def test_each_flaw_fails_the_gate_naming_its_check(flaw: str, check: str) -> None:
    with serving(docs_server(flaw)) as url:
        result = contract(url, *AUTH)
    assert result.returncode == 1, result.stdout[-3000:]
    summary = result.stdout[result.stdout.index("Contract summary:") :]
    assert f"  {check} " in summary and "FAILED" in summary.split(f"  {check} ")[1].splitlines()[0], summary
    assert "curl -X" in result.stdout  # each failure comes with a reproduction


def test_independent_docs_following_server_passes(tmp_path: Path) -> None:
    with serving(docs_server()) as url:
        result = contract(
            url,
            "--report",
            f"junit={tmp_path / 'junit.xml'}",
            env={"MOCKSERVER_AUTH_KEY": VALID_KEY, "MOCKSERVER_BRAND_URL": "your-domain.com"},
        )
    assert result.returncode == 0, result.stdout[-5000:]
    assert "Result: conformant" in result.stdout
    assert ET.parse(tmp_path / "junit.xml").getroot().get("failures") == "0"
    assert VALID_KEY not in result.stdout  # schemathesis filters it; we never print it


@pytest.fixture(scope="module")
def mock() -> LiveServer:
    server = start_server("--quiet")
    yield server  # type: ignore[misc]
    server.stop()


@pytest.mark.parametrize(
    ("scenario", "extra"),
    [
        ("restricted", ["-H", "Auth-Key: demo-key-alice", "-H", "Brand-URL: acme.example"]),
        # `success` accepts any non-empty key by design (no set-up for frontends), so the check that
        # invalid keys are refused is proven with `restricted` above.
        ("success", ["--exclude-checks", "ignored_auth"]),
        ("unauthorized", []),
        ("forbidden", []),
    ],
)
def test_our_mock_passes(mock: LiveServer, scenario: str, extra: list[str]) -> None:
    result = contract(mock.url, "-H", f"X-Mock-Scenario: {scenario}", *extra)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "cases/s)" in result.stdout


def test_unreachable_url_is_one_line_exit_2() -> None:
    result = contract("http://127.0.0.1:9")
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "error: cannot reach http://127.0.0.1:9: cannot connect to 127.0.0.1:9: "
        "Connection refused"
    )


@pytest.mark.parametrize("args", [["--report", "pdf=x"], ["--report", "junit"], ["-H", "no-colon"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert contract("http://127.0.0.1:9", *args).returncode == 2


def test_keys_never_reach_the_process_list(tmp_path: Path) -> None:
    from mockserver.contract import ContractRun

    command, env = ContractRun(SPEC, "http://x", headers={"Auth-Key": "sekrit"}).invocation(tmp_path)
    assert not any("sekrit" in part for part in command)
    assert (
        "sekrit" in env.values() and "${MOCKSERVER_CONTRACT_HEADER_0}" in (tmp_path / "schemathesis.toml").read_text()
    )


def test_helpers() -> None:
    assert env_headers(["Auth-Key", "Brand-URL"], {"MOCKSERVER_AUTH_KEY": "k"}) == {"Auth-Key": "k"}
    assert parse_report("JUnit=a/b.xml") == ("junit", "a/b.xml")
    summary = read_events(
        [
            '{"ScenarioFinished": {"recorder": {"cases": {"a": {}, "b": {}}, "checks": {"a": ['
            '{"name": "x", "status": "success"}, {"name": "y", "status": "failure", '
            '"failure_info": {"failure": {"title": "Boom"}}}]}}}}',
            '{"EngineFinished": {"running_time": 2.0}}',
            "not json",
        ]
    )
    assert (summary.cases, summary.seconds, summary.exit_code) == (2, 2.0, 1)
    assert summary.failure_titles == {"y": {"Boom"}}
