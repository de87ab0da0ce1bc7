"""Every error reply carries a fresh correlation id, in its body and in `X-Correlation-Id`, whichever
step, rule or header produced it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from flask.testing import FlaskClient

from .conftest import HEADERS, SMTP_PATH, LiveServer, post, valid_body

FORCED = {
    "a scenario rule": {"X-Mock-Scenario": "forbidden"},
    "a rule's template": {"X-Mock-Scenario": "rules-demo", "X-Debug-Throttle": "1"},
    "Prefer": {"Prefer": "code=403"},
    "a sequence step": {"X-Mock-Scenario": "third-call-throttled"},
    "a rate limit": {"X-Mock-Scenario": "quota"},
    "the pipeline (401)": {"Auth-Key": None},
    "the pipeline (400)": {"Brand-URL": None},
}


def _correlation_ids(headers: dict[str, str], body: dict[str, object]) -> set[str]:
    errors = body["errors"]
    assert isinstance(errors, list)
    return {headers["X-Correlation-Id"], *(item["correlationId"] for item in errors)}


@pytest.mark.parametrize("who", FORCED)
def test_each_error_reply_names_its_own_request(client: FlaskClient, who: str) -> None:
    seen = []
    for _ in range(7):  # past the sequence's two passes and the quota's five
        response = post(client, valid_body(), headers=FORCED[who])
        if response.status_code < 400:
            continue
        ids = _correlation_ids(dict(response.headers), response.get_json())
        assert len(ids) == 1, f"body and header disagree: {ids}"
        seen.append(ids.pop())
    assert len(seen) >= 2 and len(set(seen)) == len(seen), f"{who}: ids repeat across requests: {seen}"
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in seen)


def test_header_set_by_a_rule_is_replaced_by_the_fresh_id(client: FlaskClient) -> None:
    client.post(
        "/__mock/expectations",
        json={
            "when": {"headers": {"X-Case": "fixed"}},
            "respond": {"status": 403, "headers": {"x-correlation-id": "a"}},
        },
    )
    response = post(client, valid_body(), headers={"X-Case": "fixed"})
    assert response.status_code == 403
    assert [k for k, _ in response.headers.items() if k.lower() == "x-correlation-id"] == ["X-Correlation-Id"]
    assert _correlation_ids(dict(response.headers), response.get_json()) == {response.headers["X-Correlation-Id"]}


def test_success_carries_no_correlation_id(client: FlaskClient) -> None:
    assert "X-Correlation-Id" not in post(client, valid_body()).headers


@pytest.mark.e2e
def test_forced_replies_from_a_real_server_have_fresh_ids(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    seen = set()
    for extra in ({"X-Mock-Scenario": "rate-limited"}, {"Prefer": "code=401"}, {"X-Mock-Scenario": "rate-limited"}):
        response = requests.post(server.url + SMTP_PATH, json=valid_body(), headers={**HEADERS, **extra}, timeout=5)
        ids = _correlation_ids(dict(response.headers), response.json())
        assert len(ids) == 1
        seen |= ids
    assert len(seen) == 3
    journal = requests.get(server.url + "/__mock/journal?limit=3", timeout=5).json()
    entries = journal["entries"] if isinstance(journal, dict) else journal
    assert {e["errors"][0]["correlationId"] for e in entries} == seen  # the journal shows what was sent
