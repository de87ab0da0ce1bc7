"""Secrets never reach a state store in clear text: the stateful scenario's echoed password, secret
query parameters, Auth-Keys with a runtime switch, and the subjects of counters and windows are
masked or hashed before they are kept; a SQLite state file and its -wal and -shm files are 0600.
Checked by reading every byte a real server left in SQLite and in Redis."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import HEADERS, SMTP_PATH, LiveServer, valid_body
from tests.services import redis_server

PASSWORD = "pw-SECRET-hunter2"
AUTH_KEY = "auth-SECRET-alpha"
SWITCHED_KEY = "switch-SECRET-bravo"
QUERY = {
    "token": "q-SECRET-token",
    "apiKey": "q-SECRET-apikey",
    "api_key": "q-SECRET-api_key",
    "access_token": "q-SECRET-access",
    "password": "q-SECRET-password",
    "secret": "q-SECRET-secret",
}
SECRETS = [PASSWORD, AUTH_KEY, SWITCHED_KEY, *QUERY.values()]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def use_the_mock(url: str) -> None:
    """Everything that used to leave a secret behind: a stateful create and update, secret query
    parameters, a switch for one Auth-Key, a rate-limit window and a sequence counter per Auth-Key."""
    headers = {**HEADERS, "Auth-Key": AUTH_KEY, "X-Mock-Scenario": "stateful"}
    created = requests.post(
        url + SMTP_PATH, params={**QUERY, "plain": "visible"}, json=valid_body(password=PASSWORD), headers=headers
    )
    assert created.status_code == 201
    assert created.json()["data"]["password"] == PASSWORD  # the contract echoes it; only storage is masked
    item_id = created.json()["data"]["id"]
    updated = requests.put(f"{url}{SMTP_PATH}/{item_id}", json=valid_body(password=PASSWORD), headers=headers)
    assert updated.status_code == 200 and updated.json()["data"]["password"] == PASSWORD
    switch = {"scenario": "forbidden", "key": SWITCHED_KEY}
    assert requests.put(url + "/__mock/scenario", json=switch, timeout=5).ok
    assert (
        requests.post(url + SMTP_PATH, json=valid_body(), headers={**HEADERS, "Auth-Key": SWITCHED_KEY}).status_code
        == 403
    )
    for scenario in ("quota", "third-call-throttled"):
        answer = requests.post(
            url + SMTP_PATH, json=valid_body(), headers={**HEADERS, "Auth-Key": AUTH_KEY, "X-Mock-Scenario": scenario}
        )
        assert answer.status_code == 201
    listing = requests.get(url + "/__mock/scenarios", timeout=5).json()["active"]["keys"]
    assert list(listing.values()) == ["forbidden"] and SWITCHED_KEY[:4] not in "".join(listing)
    entries = requests.get(url + "/__mock/journal", timeout=10).json()["entries"]  # waits for every flush
    query = next(e["query"] for e in entries if e["method"] == "POST" and "plain" in e["query"])
    assert query == "&".join(f"{name}=***" for name in QUERY) + "&plain=visible"
    stored = requests.get(url + "/__mock/state", timeout=5).json()["smtp-integrations"]["your-domain.com"]
    assert stored[item_id]["password"] == "***"


def assert_no_secret(raw: bytes) -> None:
    for secret in SECRETS:
        assert secret.encode() not in raw, f"{secret} is kept in clear text"
    assert b"SECRET" not in raw


@pytest.mark.e2e
def test_a_sqlite_state_file_holds_no_secret_and_is_private(
    live_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    database = tmp_path / "state.db"
    server = live_server("--state", f"sqlite://{database}", "--quiet")
    use_the_mock(server.url)
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    for path in files:
        assert path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path} is readable by others"
    time.sleep(0.1)  # the journal flusher's next tick
    assert_no_secret(b"".join(path.read_bytes() for path in files))


@pytest.mark.e2e
def test_redis_holds_no_secret(live_server: Callable[..., LiveServer], redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    server = live_server("--state", redis_url, "--quiet")
    use_the_mock(server.url)
    raw = bytearray()
    for key in client.scan_iter(count=1000):
        raw += key
        kind = client.type(key)
        if kind == b"string":
            raw += client.get(key) or b""
        elif kind == b"hash":
            for field, value in client.hgetall(key).items():
                raw += field + value
        elif kind == b"list":
            raw += b"".join(client.lrange(key, 0, -1))
        elif kind == b"zset":
            raw += b"".join(member for member, _ in client.zrange(key, 0, -1, withscores=True))
        else:
            raise AssertionError(f"unexpected Redis type {kind!r} for {key!r}")
    assert raw
    assert_no_secret(bytes(raw))
