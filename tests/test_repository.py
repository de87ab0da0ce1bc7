"""The repository itself: lint, types, and the README's two commands working as written."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from .conftest import HEADERS, ROOT, SMTP_PATH, valid_body

README = (ROOT / "README.md").read_text()


def readme_command(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\s*```sh\n(.+?)\n```", README)
    assert match, f"README.md has no {marker}"
    return match.group(1)


def test_readme_has_exactly_two_set_up_commands() -> None:
    assert README.count("<!-- serve-command -->") == 1 and README.count("<!-- test-command -->") == 1
    assert readme_command("test-command") == "python3 -m pip install -e '.[test]' && python3 -m pytest"


@pytest.mark.e2e
def test_readme_serve_command_serves_the_bundled_spec() -> None:
    command = readme_command("serve-command") + " --port 0"  # any free port: 8080 may be taken
    process = subprocess.Popen(
        command,
        shell=True,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "http://" in line:
                url = line[line.index("http://") :].split()[0]
                break
        else:
            raise AssertionError("the README's serve command did not start a server")
        assert requests.post(url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=5).status_code == 201
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "mockserver", "tests", "bench"],
        ["ruff", "format", "--check", "mockserver", "tests", "bench"],
        ["mypy"],
    ],
)
def test_code_quality(command: list[str]) -> None:
    # `python -m` needs no console-script shim on PATH (pyenv makes those only on rehash)
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_contract_workflow_runs_the_three_gates_and_publishes_junit() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "contract.yml").read_text())
    steps = workflow["jobs"]["contract"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    for command in ("python3 -m mockserver check", "python3 -m mockserver diff", "python3 -m mockserver contract"):
        assert command in runs
    assert "--report junit=reports/contract-junit.xml" in runs
    assert "pip install ." in runs and "[test]" not in runs  # CI installs what a user installs
    published = [step for step in steps if "junit" in step.get("uses", "")]
    assert published and published[0]["with"]["report_paths"] == "reports/contract-junit.xml"


def test_readme_shows_every_dashboard_screenshot_and_each_exists() -> None:
    shown = set(re.findall(r"\]\((docs/[\w-]+\.png)\)", README))
    on_disk = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.png")}
    assert shown == on_disk and len(shown) >= 3  # one per view at least


def test_readme_benchmark_table_is_the_latest_result() -> None:
    latest = (ROOT / "bench" / "results" / "latest.md").read_text()
    table = "\n".join(line for line in latest.splitlines() if line.startswith("|"))
    assert table in README, "README's Benchmark table differs from bench/results/latest.md"
