"""State stays bounded whatever clients send, against real servers: a partition of stored items keeps
its newest --max-items (eviction logged once), GET /__mock/state answers in pages, and rate-limit
windows are forgotten once they end. (Counters' LRU cap per store: tests/test_store.py.)"""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import HEADERS, ROOT, SMTP_PATH, LiveServer, valid_body


def create(url: str, brand: str) -> str:
    headers = {**HEADERS, "Brand-URL": brand, "X-Mock-Scenario": "stateful"}
    answer = requests.post(url + SMTP_PATH, json=valid_body(), headers=headers, timeout=10)
    assert answer.status_code == 201
    return str(answer.json()["data"]["id"])


def every_page(url: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Follow Link rel="next" from the first page; returns the pages and X-Total-Count."""
    pages, path = [], f"/__mock/state?limit={limit}"
    while True:
        answer = requests.get(url + path, timeout=10)
        assert answer.status_code == 200
        pages.append(answer.json())
        found = re.match(r'<([^>]+)>; rel="next"', answer.headers.get("Link", ""))
        if not found:
            return pages, int(answer.headers["X-Total-Count"])
        path = found.group(1)


@pytest.mark.e2e
@pytest.mark.parametrize("mode", [(), ("--workers", "2")], ids=["default", "workers"])
def test_items_are_capped_per_partition_and_state_is_paged(
    live_server: Callable[..., LiveServer], mode: tuple[str, ...]
) -> None:
    server = live_server(*mode, "--max-items", "5")
    first = [create(server.url, "full.example") for _ in range(8)]
    other = [create(server.url, "small.example") for _ in range(3)]
    pages, total = every_page(server.url, limit=3)
    assert total == 8 and len(pages) == 3
    kept = {
        (brand, item_id)
        for page in pages
        for brand, items in page.get("smtp-integrations", {}).items()
        for item_id, item in items.items()
        if item["password"] == "***"
    }
    assert kept == {("full.example", i) for i in first[3:]} | {("small.example", i) for i in other}
    stale = requests.put(
        f"{server.url}{SMTP_PATH}/{first[0]}",
        json=valid_body(),
        headers={**HEADERS, "Brand-URL": "full.example", "X-Mock-Scenario": "stateful"},
        timeout=10,
    )
    assert stale.status_code == 404  # evicted
    whole = requests.get(server.url + "/__mock/state", timeout=10)
    assert "Link" not in whole.headers and len(whole.json()["smtp-integrations"]["full.example"]) == 5
    for bad in ("limit=0", "limit=1001", "offset=-1"):
        assert requests.get(f"{server.url}/__mock/state?{bad}", timeout=5).status_code == 400
    log = server.stop()
    assert 1 <= log.count("the oldest written are evicted") <= (2 if mode else 1)  # once per process


@pytest.mark.e2e
def test_ended_rate_limit_windows_are_forgotten(live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    shutil.copy(ROOT / "openapi.yaml", tmp_path)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "brief.yaml").write_text("rate_limit: {limit: 5, window: 0.2, key: auth-key}\n")
    database = tmp_path / "state.db"
    server = live_server("--state", f"sqlite://{database}", "--quiet", cwd=tmp_path)
    with requests.Session() as session:
        for index in range(2100):  # every client a new Auth-Key, as a scan would be
            headers = {**HEADERS, "Auth-Key": f"client-{index}", "X-Mock-Scenario": "brief"}
            assert session.post(server.url + SMTP_PATH, json=valid_body(), headers=headers, timeout=10).ok
    time.sleep(0.1)
    with sqlite3.connect(database) as db:
        held = db.execute("SELECT count(*) FROM windows").fetchone()[0]
    assert held < 1000, f"{held} windows held after 2,100 clients"
