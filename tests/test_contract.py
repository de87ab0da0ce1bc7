"""schemathesis fuzzes the running mock against openapi.yaml, once per bundled scenario.

The default run is bounded (a few seconds per scenario); set MOCKSERVER_DEEP_CONTRACT=1 for a
nightly-sized run with far more examples.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, SPEC, LiveServer, start_server

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = "1000" if os.environ.get("MOCKSERVER_DEEP_CONTRACT") else "60"
RESPONSE_CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]
REQUEST_CHECKS = [
    "negative_data_rejection",
    "positive_data_acceptance",
    "unsupported_method",
    "missing_required_header",
    "allow_header_conformance",
]

# scenario -> (checks, extra headers). `restricted` knows its keys, so `ignored_auth` can be proven
# too. `rate-limited` throttles before looking at headers (as rate limiters do), so a missing
# Brand-URL gets 429 there, not the 4xx `missing_required_header` wants. `validation-error`
# answers 400 to valid input on purpose, so only what it sends is checked.
SCENARIOS: dict[str, tuple[list[str], list[str]]] = {
    "success": (RESPONSE_CHECKS + REQUEST_CHECKS, []),
    "restricted": (
        RESPONSE_CHECKS + REQUEST_CHECKS + ["ignored_auth"],
        ["Auth-Key: demo-key-alice", "Brand-URL: acme.example"],
    ),
    "unauthorized": (RESPONSE_CHECKS + REQUEST_CHECKS, []),
    "forbidden": (RESPONSE_CHECKS + REQUEST_CHECKS, []),
    "rate-limited": (RESPONSE_CHECKS + [c for c in REQUEST_CHECKS if c != "missing_required_header"], []),
    "validation-error": ([*RESPONSE_CHECKS, "unsupported_method", "negative_data_rejection"], []),
}


@pytest.fixture(scope="module")
def mock() -> Iterator[LiveServer]:
    server = start_server("--quiet")
    yield server
    server.stop()


def schemathesis(url: str, report: Path, checks: list[str], headers: list[str]) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(SPEC),
        "--url",
        url,
        "--checks",
        ",".join(checks),
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        "20261124",
        "--generation-database",
        "none",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--no-color",
        "--workers",
        "2",
    ]
    for header in headers:
        command += ["--header", header]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_schemathesis_finds_no_failures(mock: LiveServer, tmp_path: Path, scenario: str) -> None:
    checks, headers = SCENARIOS[scenario]
    report = tmp_path / "junit.xml"
    result = schemathesis(mock.url, report, checks, [*headers, f"X-Mock-Scenario: {scenario}"])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    suite = ET.parse(report).getroot()
    assert (suite.get("failures"), suite.get("errors"), suite.get("tests")) == ("0", "0", "1")
    assert "generated" in result.stdout  # it really generated and sent test cases


def test_schemathesis_catches_a_broken_mock(tmp_path: Path) -> None:
    """The gate can fail: a spec that demands what the mock does not send makes schemathesis exit 1."""
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        SPEC.read_text().replace(
            "isDefault, status, id]",
            "isDefault, status, id, createdDate]",
        )
    )
    server = start_server("--quiet")
    try:
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            str(spec),
            "--url",
            server.url,
            "--checks",
            "response_schema_conformance",
            "--max-examples",
            "20",
            "--seed",
            "1",
            "--generation-database",
            "none",
            "--no-color",
            "--phases",
            "examples,fuzzing",
        ]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    finally:
        server.stop()
    assert result.returncode == 1
    assert "createdDate" in result.stdout
