"""`mockserver contract` against deliberately flawed servers (exit 1, the right check named), an
independent docs-following server (exit 0), and our own mock."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mockserver.contract import env_headers, parse_report, read_events, spec_gap

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
    assert "st replay" not in result.stdout  # schemathesis' hint needs a crash store this run does not keep
    assert "Reproduce a failure with the curl command printed under it." in result.stdout


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
        # `success` accepts any non-empty key by design (no set-up for frontends): `contract` sees
        # that it is talking to this mock, skips ignored_auth and says how to run it (below).
        ("success", []),
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


def test_out_of_the_box_against_the_mock_it_names_the_scenario_for_ignored_auth(mock: LiveServer) -> None:
    result = contract(mock.url, "--phases", "examples,coverage,fuzzing")
    assert result.returncode == 0, result.stdout[-5000:]
    assert result.stdout.splitlines()[0] == (
        "note: this is a mockserver whose scenario 'success' accepts any Auth-Key; ignored_auth is meaningful "
        "with -H 'X-Mock-Scenario: restricted' -H 'Auth-Key: demo-key-alice' -H 'Brand-URL: acme.example'; "
        "skipped here"
    )
    assert "  ignored_auth " not in result.stdout
    asked = contract(mock.url, "--phases", "examples", "--checks", "ignored_auth")  # asked by name: run anyway
    assert asked.stdout.splitlines()[0].endswith("; it will fail as called")
    restricted = contract(mock.url, "--phases", "examples", "-H", "X-Mock-Scenario: restricted")
    assert not restricted.stdout.startswith("note:")  # this scenario checks keys: nothing to say


def test_operation_filters_narrow_the_run(mock: LiveServer) -> None:
    result = contract(mock.url, "--phases", "examples", "--include-operation-id", "createSmtpIntegration")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Operations:       1 selected / 3 total" in result.stdout
    result = contract(mock.url, "--phases", "examples", "--exclude-path", "/api/v1/app-integrations/smtp/test")
    assert "Operations:       2 selected / 3 total" in result.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--report", "pdf=x"], "--report takes FORMAT=PATH with FORMAT one of junit, vcr, har, ndjson, json, wfc,"),
        (["--report", "junit"], "--report takes FORMAT=PATH"),
        (["-H", "no-colon"], "--header takes 'NAME: VALUE'"),
        (["--checks", "bogus,not_a_server_error"], "--checks: unknown check 'bogus'; valid checks: not_a_server_error"),
        (["--exclude-checks", "all"], "--exclude-checks: unknown check 'all'; valid checks:"),
        (["--phases", "examples,fuzz"], "--phases: unknown phase 'fuzz'; valid phases: examples, coverage, fuzzing"),
        (["--include-operation-id", "nope"], "the operation filters select none of"),
        (["--include-method", "GET"], "createSmtpIntegration (POST /api/v1/app-integrations/smtp)"),
    ],
)
def test_usage_errors_exit_2_in_our_words(args: list[str], words: str) -> None:
    result = contract("http://127.0.0.1:9", *args)
    assert result.returncode == 2
    assert words in result.stderr and "schemathesis" not in result.stderr.lower(), result.stderr


def test_our_lists_are_schemathesis_lists() -> None:
    import schemathesis.cli.commands.run  # noqa: F401  (registers the OpenAPI checks, as the CLI does)
    from schemathesis.checks import CHECKS as REGISTERED
    from schemathesis.config import ReportFormat
    from schemathesis.generation.meta import TestPhase

    from mockserver.contract import CHECKS, PHASES, REPORT_FORMATS

    assert list(CHECKS) == [c for c in REGISTERED.get_all_names() if c != "max_response_time"]
    assert tuple(p.value for p in TestPhase) == PHASES
    assert tuple(f.value for f in ReportFormat) == REPORT_FORMATS


def test_failure_output_keeps_the_curl_line_and_drops_st_replay() -> None:
    from mockserver.contract import reproducible_output

    lines = ["Reproduce with:\n", "\n", "    curl -X POST http://x\n", "\n", "    st replay AbC12\n", "\n", "__\n"]
    assert list(reproducible_output(lines, "/tmp/scratch")) == [*lines[:3], "\n", "__\n"]


def test_show_secrets_turns_schemathesis_sanitizing_off(tmp_path: Path) -> None:
    from mockserver.contract import ContractRun

    assert "--output-sanitize" not in ContractRun(SPEC, "http://x").command(tmp_path / "e")
    command = ContractRun(SPEC, "http://x", show_secrets=True).command(tmp_path / "e")
    assert command[command.index("--output-sanitize") + 1] == "false"


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


def test_a_4xx_where_the_spec_documents_no_client_error_is_named_a_spec_gap(tmp_path: Path) -> None:
    """A validating server (our mock) answers invalid input with 400 on an operation documenting
    only 200: the check fails, and the summary says the spec, not the server, must change. The
    user's own NDJSON report is written and read."""
    spec = ROOT / "tests" / "fixtures" / "no-client-error.yaml"
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    server = start_server("--spec", str(spec), "--scenarios", str(scenarios))
    try:
        report = tmp_path / "reports" / "events.ndjson"
        result = contract(server.url, "--spec", str(spec), "--report", f"ndjson={report}")
    finally:
        server.stop()
    assert result.returncode == 1, result.stdout[-3000:]
    summary = result.stdout[result.stdout.index("Contract summary:") :]
    assert "- spec gap: " in summary and "document no client error: POST /things." in summary, summary
    assert "spec gaps only: the server answered as a validating server must" in summary, summary
    assert report.stat().st_size > 0 and "ScenarioFinished" in report.read_text()


def test_spec_gap_needs_invalid_input_a_4xx_and_no_documented_client_error() -> None:
    failure = {"type": "UndefinedStatusCode", "operation": "PATCH /a", "message": "Received: 400\nDocumented: 200"}
    assert spec_gap(failure, negative=True) == "PATCH /a"
    assert spec_gap(failure, negative=False) is None  # valid input rejected: the server's fault
    assert spec_gap({**failure, "message": "Received: 500\nDocumented: 200"}, negative=True) is None
    assert spec_gap({**failure, "message": "Received: 400\nDocumented: 200, 4XX"}, negative=True) is None
    assert spec_gap({**failure, "message": "Received: 422\nDocumented: 200, 404"}, negative=True) is None
    assert spec_gap({**failure, "type": "JsonSchemaError"}, negative=True) is None


def test_links_that_lead_nowhere_are_left_out_and_the_run_completes(tmp_path: Path) -> None:
    """schemathesis refuses to finish a run over a spec with a link to a missing operation; contract
    names each such link, leaves it out, and the stateful phase runs on the links that work."""
    spec = ROOT / "tests" / "fixtures" / "broken-links.yaml"
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    server = start_server("--spec", str(spec), "--scenarios", str(scenarios))
    try:
        result = contract(server.url, "--spec", str(spec))
    finally:
        server.stop()
    notes = [line for line in result.stdout.splitlines() if line.startswith("note: left out")]
    assert notes == [
        "note: left out of the stateful phase: POST /things -> 201 link 'DeleteThing' leads to operation "
        "'deleteThing', which the spec does not have",
        "note: left out of the stateful phase: POST /things -> 201 link 'Replaced' leads to operationRef "
        "'#/paths/~1things~1{id}/put', which names nothing here",
    ], result.stdout[-3000:]
    assert "Invalid OpenAPI Links" not in result.stdout and "Result: conformant" in result.stdout, result.stdout[-3000:]
    assert result.returncode == 0
