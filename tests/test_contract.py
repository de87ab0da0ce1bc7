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
from .contract_plan import PLAN

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = "1000" if os.environ.get("MOCKSERVER_DEEP_CONTRACT") else "20"


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


@pytest.mark.parametrize("scenario", list(PLAN))
def test_schemathesis_finds_no_failures(mock: LiveServer, tmp_path: Path, scenario: str) -> None:
    checks, headers = PLAN[scenario]
    report = tmp_path / "junit.xml"
    sent = [f"{name}: {value}" for name, value in headers.items()]
    result = schemathesis(mock.url, report, checks, [*sent, f"X-Mock-Scenario: {scenario}"])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    suite = ET.parse(report).getroot()
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    assert int(suite.get("tests") or 0) >= 3  # one per operation, and the stateful links where they apply
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
