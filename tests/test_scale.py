"""Scaled out, the mock stays exact: `serve --workers 2` (state in a shared SQLite file) and two
instances sharing a real Redis. Limits, sequences, runtime switches, the journal and stored items
hold across processes under concurrent load."""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle
from pathlib import Path

import pytest
import requests

from tests.conftest import HEADERS, ROOT, SMTP_PATH, LiveServer, start_server, valid_body
from tests.services import free_port, redis_server

Post = Callable[..., requests.Response]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(params=["2 workers", "2 instances on redis"])
def urls(request: pytest.FixtureRequest, live_server: Callable[..., LiveServer]) -> list[str]:
    """Base URLs that share one state: one URL served by 2 workers, or 2 instances' URLs."""
    if request.param == "2 workers":
        return [live_server("--workers", "2", "--quiet").url]
    url = request.getfixturevalue("redis_url")
    import redis

    redis.Redis.from_url(url).flushdb()
    return [live_server("--state", url, "--quiet").url, live_server("--state", url, "--workers", "2").url]


def burst(urls: list[str], count: int, headers: dict[str, str], path: str = SMTP_PATH) -> collections.Counter[int]:
    """`count` concurrent POSTs, each on a new connection, spread over `urls`; status -> how many."""
    targets = [url for url, _ in zip(cycle(urls), range(count), strict=False)]

    def send(url: str) -> int:
        return requests.post(url + path, json=valid_body(), headers=headers, timeout=20).status_code

    with ThreadPoolExecutor(16) as pool:
        return collections.Counter(pool.map(send, targets))


def test_a_rate_limit_holds_exactly(urls: list[str]) -> None:
    headers = {**HEADERS, "X-Mock-Scenario": "quota"}
    assert burst(urls, 60, {**headers, "Auth-Key": "key-a"}) == {201: 5, 429: 55}
    assert burst(urls, 20, {**headers, "Auth-Key": "key-b"}) == {201: 5, 429: 15}


def test_a_sequence_holds_exactly(urls: list[str]) -> None:
    headers = {**HEADERS, "X-Mock-Scenario": "third-call-throttled"}
    for key in ("seq-1", "seq-2"):
        assert burst(urls, 40, {**headers, "Auth-Key": key}) == {201: 2, 429: 38}


def test_a_runtime_switch_reaches_every_process(urls: list[str]) -> None:
    assert requests.put(urls[0] + "/__mock/scenario", json={"scenario": "forbidden"}, timeout=5).ok
    assert burst(urls, 30, HEADERS) == {403: 30}
    assert requests.delete(urls[-1] + "/__mock/scenario", timeout=5).ok
    assert burst(urls, 10, HEADERS) == {201: 10}
    listing = requests.get(urls[-1] + "/__mock/scenarios", timeout=5).json()
    assert listing["active"]["everyone"] is None


def test_expectations_reach_every_process(urls: list[str]) -> None:
    rule = {"name": "teapot-brand", "when": {"headers": {"Brand-URL": "tea.example"}}, "respond": {"status": 403}}
    assert requests.post(urls[0] + "/__mock/expectations", json=rule, timeout=5).ok
    assert burst(urls, 20, {**HEADERS, "Brand-URL": "tea.example"}) == {403: 20}
    assert burst(urls, 6, HEADERS) == {201: 6}
    assert requests.delete(urls[-1] + "/__mock/expectations", timeout=5).ok
    assert burst(urls, 10, {**HEADERS, "Brand-URL": "tea.example"}) == {201: 10}


def test_the_journal_sees_every_request(urls: list[str]) -> None:
    assert requests.delete(urls[0] + "/__mock/journal", timeout=5).ok
    headers = {**HEADERS, "Brand-URL": "journal.example"}
    assert burst(urls, 50, headers) == {201: 50}
    for url in urls:  # read right away, from every process: nothing is missing
        found = requests.post(url + "/__mock/verify", json={"headers": {"Brand-URL": "journal.example"}}, timeout=10)
        assert found.json()["count"] == 50
        entries = requests.get(url + "/__mock/journal", timeout=10).json()["entries"]
        assert len(entries) == 50
        assert len({e["id"] for e in entries}) == 50
        assert all(e["headers"]["Auth-Key"] == "***" and e["body"]["password"] == "***" for e in entries)


def test_stored_items_are_shared(urls: list[str]) -> None:
    headers = {**HEADERS, "Brand-URL": "state.example", "X-Mock-Scenario": "stateful"}
    ids = []
    for url in urls * 5:
        created = requests.post(url + SMTP_PATH, json=valid_body(isDefault=True), headers=headers, timeout=10)
        assert created.status_code == 201
        ids.append(created.json()["data"]["id"])
    stored = requests.get(urls[-1] + "/__mock/state", timeout=5).json()["smtp-integrations"]["state.example"]
    assert set(stored) == set(ids)  # whichever process kept each
    assert [i for i, item in stored.items() if item["isDefault"]] == [ids[-1]]  # isDefault moved each time

    def update(pair: tuple[str, str]) -> int:
        url, item_id = pair
        return requests.put(f"{url}{SMTP_PATH}/{item_id}", json=valid_body(), headers=headers, timeout=10).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(update, [(url, item_id) for url in urls for item_id in ids]))
    assert statuses == [200] * len(statuses)
    stored = requests.get(urls[0] + "/__mock/state", timeout=5).json()["smtp-integrations"]["state.example"]
    assert set(stored) == set(ids)
    assert not any(item["isDefault"] for item in stored.values())  # every update sent isDefault: false


def test_memory_state_is_refused_with_workers() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--workers", "2", "--state", "memory", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--state memory keeps state in one process" in result.stdout + result.stderr


def test_an_unreachable_redis_is_one_line_and_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--state", f"redis://127.0.0.1:{free_port()}/0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: --state redis://127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_every_worker_applies_an_edit(tmp_path: Path) -> None:
    shutil.copy(ROOT / "openapi.yaml", tmp_path)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    server = start_server("--workers", "2", "--quiet", cwd=tmp_path)
    try:
        headers = {**HEADERS, "X-Mock-Scenario": "forbidden"}
        assert burst([server.url], 20, headers) == {403: 20}
        (tmp_path / "scenarios" / "forbidden.yaml").write_text("rules:\n  - respond: {status: 429}\n")
        deadline = time.monotonic() + 5
        while burst([server.url], 20, headers) != {429: 20}:  # 20 new connections reach both workers
            assert time.monotonic() < deadline, "not every worker reloaded within 5 s"
            time.sleep(0.1)
    finally:
        server.stop()


def test_workers_leave_no_state_file_behind(tmp_path: Path) -> None:
    server = start_server("--workers", "2", "--quiet", cwd=ROOT, env_extra={"TMPDIR": str(tmp_path)})
    assert burst([server.url], 5, HEADERS) == {201: 5}
    assert list(tmp_path.glob("mockserver-*/state.db"))
    server.stop()
    assert not list(tmp_path.glob("mockserver-*"))


def test_stopped_workers_leave_their_whole_journal_in_the_state_file(tmp_path: Path) -> None:
    """A worker writes its journal out once every few seconds when nobody reads it, and when stopped:
    nothing it answered is lost."""
    import sqlite3

    from mockserver.jsondoc import loads

    database = tmp_path / "state.db"
    server = start_server("--workers", "2", "--state", f"sqlite://{database}", "--quiet", cwd=ROOT)
    assert burst([server.url], 30, {**HEADERS, "Brand-URL": "kept.example"}) == {201: 30}
    time.sleep(0.5)  # idle: a stop signal may land on a sleeping flusher thread, and must still end the loop
    stopping = time.monotonic()
    server.stop()
    assert time.monotonic() - stopping < 5 and server.process.returncode == 0
    with sqlite3.connect(database) as db:
        entries = [entry for (blob,) in db.execute("SELECT entries FROM journal_batches") for entry in loads(blob)]
    assert sum(entry["headers"].get("Brand-Url") == "kept.example" for entry in entries) == 30
