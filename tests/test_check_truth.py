"""`check` tells the truth on any spec (issue 11, point 7): what the mock sends by itself (a body
generated from the schema, its own 400 and 406) counts as produced, and a produced status whose body
its schema refuses, or that has none where a schema is documented, is a failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mockserver import load_config
from mockserver.coverage import coverage, sent_bodies

from .conftest import ROOT

SPEC = Path(__file__).parent / "fixtures" / "check-truth.yaml"


def test_generation_and_the_mocks_own_errors_count_as_produced(tmp_path: Path) -> None:
    table = coverage(load_config(SPEC, tmp_path))
    assert table["listNotes"] == {200: ["success"], 400: ["success"], 406: ["success"]}


def test_a_body_its_schema_refuses_is_a_failure(tmp_path: Path) -> None:
    config = load_config(SPEC, tmp_path)
    problems = [str(p) for p in sent_bodies(config, coverage(config))]
    line = next(n for n, text in enumerate(SPEC.read_text().splitlines(), 1) if "/broken:" in text) + 5
    assert problems == [
        f"{SPEC}:{line}: paths./broken.get.responses.200: impossible 200: the body the mock sends breaks its "
        "schema: The body must be at least 5 characters long."
    ]


def test_check_fails_on_it_and_passes_the_rest(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "check", "--spec", str(SPEC), "--scenarios", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert "listNotes   200     success" in result.stdout
    assert result.stderr.splitlines()[-1] == "check failed: 1 problem"
    assert "impossible 200: the body the mock sends breaks its schema" in result.stderr
