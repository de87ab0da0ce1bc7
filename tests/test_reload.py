"""Hot reload, end to end: edits apply within about a second; a broken edit keeps the last good config."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from .conftest import HEADERS, ROOT, SMTP_PATH, start_server, valid_body

pytestmark = pytest.mark.e2e


def eventually(condition: Callable[[], bool], within: float = 3.0) -> float:
    """Seconds until `condition` held; fails after `within`."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not true within {within} s")


def test_edits_apply_and_broken_edits_keep_the_last_good_config(tmp_path: Path) -> None:
    shutil.copy(ROOT / "openapi.yaml", tmp_path)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    server = start_server(cwd=tmp_path)
    url = server.url + SMTP_PATH
    scenario = tmp_path / "scenarios" / "forbidden.yaml"

    def status() -> int:
        return requests.post(
            url, json=valid_body(), timeout=5, headers={**HEADERS, "X-Mock-Scenario": "forbidden"}
        ).status_code

    try:
        assert status() == 403
        scenario.write_text("rules:\n  - respond: {status: 429}\n")
        took = eventually(lambda: status() == 429)
        assert took < 2.5  # typically 0.6-0.9 s: a 0.5 s poll plus about 0.3 s to load and check everything

        scenario.write_text("rules:\n  - respond: {status: 418}\n")  # broken: 418 is not documented
        problems = lambda: requests.get(server.url + "/__mock/scenarios", timeout=5).json()["reload_problems"]  # noqa: E731
        eventually(lambda: bool(problems()))
        assert "forbidden.yaml:2: rules[0].respond.status: 418 is not documented" in problems()[0]
        assert status() == 429  # the last good configuration keeps serving

        (tmp_path / "scenarios" / "brand-new.yaml").write_text("rules:\n  - respond: {status: 401}\n")
        scenario.write_text("rules:\n  - respond: {status: 403}\n")
        eventually(lambda: status() == 403)
        assert (
            requests.post(
                url, json=valid_body(), timeout=5, headers={**HEADERS, "X-Mock-Scenario": "brand-new"}
            ).status_code
            == 401
        )
        assert problems() == []

        spec = tmp_path / "openapi.yaml"
        spec.write_text(spec.read_text().replace("The request was successful.", "Created, as you asked."))
        eventually(
            lambda: (
                requests.post(url, json=valid_body(), headers=HEADERS, timeout=5).json()["message"]
                == "Created, as you asked."
            )
        )
    finally:
        log = server.stop()
    assert "reload failed, still serving the last good configuration" in log
    assert "forbidden.yaml:2: rules[0].respond.status: 418 is not documented" in log
