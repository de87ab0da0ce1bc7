"""Hot reload, end to end: edits apply within about a second; a broken edit keeps the last good config."""

from __future__ import annotations

import functools
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from mockserver.config import MockConfig, load_config
from mockserver.reload import Reloader
from mockserver.state import MockState

from .conftest import HEADERS, ROOT, SMTP_PATH, start_server, valid_body


def eventually(condition: Callable[[], bool], within: float = 10.0) -> float:
    """Seconds until `condition` held; fails after `within`."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not true within {within} s")


@pytest.mark.e2e
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


def deep_scenario(levels: int) -> str:
    return "rules:\n  - respond:\n      status: 403\n      body: " + "{a: " * levels + "1" + "}" * levels + "\n"


@pytest.mark.e2e
def test_a_file_no_check_foresaw_is_a_reported_problem_and_reloading_goes_on(tmp_path: Path) -> None:
    """A scenario nested 600 levels deep once raised RecursionError and killed the reload thread."""
    shutil.copy(ROOT / "openapi.yaml", tmp_path)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    server = start_server("--quiet", cwd=tmp_path)
    scenario = tmp_path / "scenarios" / "forbidden.yaml"
    problems = lambda: requests.get(server.url + "/__mock/scenarios", timeout=5).json()["reload_problems"]  # noqa: E731
    try:
        for text, reason in [
            (deep_scenario(600), "forbidden.yaml:4: nested more than 100 levels deep"),
            ("rules: &loop\n  - respond: *loop\n", "forbidden.yaml:1: an alias refers to a collection it is inside"),
        ]:
            scenario.write_text(text)
            eventually(lambda reason=reason: any(reason in p for p in problems()))  # type: ignore[misc]
        scenario.write_text("rules:\n  - respond: {status: 429}\n")  # the watcher is alive: this applies
        eventually(lambda: problems() == [])
        sent = requests.post(
            server.url + SMTP_PATH, json=valid_body(), timeout=5, headers={**HEADERS, "X-Mock-Scenario": "forbidden"}
        )
        assert sent.status_code == 429
    finally:
        log = server.stop()
    assert "Traceback" not in log and "nested more than 100 levels deep" in log


def test_any_exception_in_a_reload_names_the_changed_file(tmp_path: Path) -> None:
    shutil.copy(ROOT / "openapi.yaml", tmp_path)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    config = load_config(tmp_path / "openapi.yaml", tmp_path / "scenarios")
    state = MockState(config)

    def load() -> MockConfig:
        raise RecursionError("maximum recursion depth exceeded")

    reloader = Reloader(state, load, tmp_path / "openapi.yaml", tmp_path / "scenarios")
    (tmp_path / "scenarios" / "forbidden.yaml").write_text("rules: []\n")
    assert reloader.check() is False
    assert state.reload_problems == [
        f"{tmp_path / 'scenarios' / 'forbidden.yaml'}: nested too deeply to load (Python's recursion limit was reached)"
    ]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the death is the point
def test_a_watchdog_restarts_a_watcher_that_dies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(ROOT / "openapi.yaml", tmp_path)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    load = functools.partial(load_config, tmp_path / "openapi.yaml", tmp_path / "scenarios")
    state = MockState(load())
    reloader = Reloader(state, load, tmp_path / "openapi.yaml", tmp_path / "scenarios", interval=0.05)
    check = reloader.check
    deaths = []

    def dies_once() -> bool:
        if not deaths:
            deaths.append(1)
            raise SystemExit("what no `except Exception` catches")
        return check()

    monkeypatch.setattr(reloader, "check", dies_once)
    original = state.config
    reloader.start()
    try:
        eventually(lambda: reloader.restarts == 1)
        (tmp_path / "scenarios" / "forbidden.yaml").write_text("rules:\n  - respond: {status: 429}\n")
        eventually(lambda: state.config is not original)  # the restarted watcher applied the edit
        assert reloader.restarts == 1
    finally:
        reloader.stop()
