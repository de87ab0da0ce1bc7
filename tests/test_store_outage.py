"""A state store outage, against a real redis-server stopped and started again during the test: the
mock logs one line when it starts and one when it ends, answers the spec's 503 envelope with
Retry-After meanwhile (the admin API too), and serves normally again by itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from mockserver.config import MockConfig
from tests.conftest import HEADERS, SMTP_PATH, LiveServer, valid_body
from tests.services import redis_process


def create(url: str) -> requests.Response:
    return requests.post(url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=10)


@pytest.mark.e2e
@pytest.mark.parametrize("mode", [(), ("--workers", "2")], ids=["default", "workers"])
def test_a_redis_outage_is_one_log_line_a_503_and_recovers(
    live_server: Callable[..., LiveServer], config: MockConfig, mode: tuple[str, ...]
) -> None:
    with redis_process() as redis:
        server = live_server("--state", redis.url, *mode, "--quiet")
        assert create(server.url).status_code == 201
        redis.stop()
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:  # 3 s of steady traffic, bounded
            answers = list(pool.map(lambda _: create(server.url), range(120)))
        elapsed = time.monotonic() - started
        assert {a.status_code for a in answers} == {503}
        assert elapsed < 20, f"120 requests during the outage took {elapsed:.1f} s"
        spec_503 = config.spec.shared_response(503)
        assert spec_503 is not None
        for answer in answers[:5]:
            assert answer.headers["Retry-After"].isdigit()
            assert spec_503.violations(answer.json()) == []
            assert spec_503.header_violations(dict(answer.headers)) == []
            error = answer.json()["errors"][0]
            assert error["code"] == "ServiceUnavailable" and "state store is unavailable" in error["message"]
        admin = requests.get(server.url + "/__mock/journal", timeout=10)
        assert admin.status_code == 503 and admin.headers["Retry-After"].isdigit()
        redis.start()  # the same port, empty
        deadline = time.monotonic() + 15
        while create(server.url).status_code != 201:
            assert time.monotonic() < deadline, "the mock did not recover within 15 s"
            time.sleep(0.2)
        assert all(create(server.url).status_code == 201 for _ in range(10))
        log = server.stop()
    processes = 2 if mode else 1
    assert 1 <= log.count("is unavailable") <= processes, log[-2000:]
    assert 1 <= log.count("is back after") <= processes, log[-2000:]
    assert "Traceback" not in log
