"""The admin API (over HTTP, against a real server) and the pytest fixture, used the way a user would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from mockserver import create_app
from mockserver.config import MockConfig
from mockserver.testing import MockServer

from .conftest import HEADERS, SCENARIOS, SMTP_PATH, SPEC, LiveServer, start_server, valid_body


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start_server("--quiet")
    yield server
    server.stop()


@pytest.fixture
def admin(live: LiveServer) -> str:
    base = live.url + "/__mock"
    requests.post(base + "/reset", timeout=5)
    requests.delete(base + "/journal", timeout=5)
    requests.delete(base + "/expectations", timeout=5)
    for params in ({}, {"brand": "acme.example"}, {"key": "key-of-ann"}):
        requests.delete(base + "/scenario", params=params, timeout=5)
    return base


def create(live: LiveServer, **headers: str) -> requests.Response:
    return requests.post(live.url + SMTP_PATH, json=valid_body(), headers={**HEADERS, **headers}, timeout=5)


@pytest.mark.e2e
class TestAdminApi:
    def test_lists_scenarios(self, live: LiveServer, admin: str) -> None:
        listing = requests.get(admin + "/scenarios", timeout=5).json()
        names = {s["name"]: s for s in listing["scenarios"]}
        assert listing["default"] == "success"
        assert names["quota"]["rate_limit"] == {"limit": 5, "window": 10.0, "key": "auth-key"}
        assert names["flaky-network"]["outside_contract"] is True
        assert names["third-call-throttled"]["rules"] == ["third-create-throttled"]
        assert "endpoints" in requests.get(admin + "/", timeout=5).json()

    def test_switches_for_everyone_then_back(self, live: LiveServer, admin: str) -> None:
        assert requests.put(admin + "/scenario", json={"scenario": "forbidden"}, timeout=5).status_code == 200
        assert create(live).status_code == 403
        assert create(live, **{"X-Mock-Scenario": "success"}).status_code == 201  # the header still wins
        requests.delete(admin + "/scenario", timeout=5)
        assert create(live).status_code == 201

    def test_switches_per_brand_and_per_key(self, live: LiveServer, admin: str) -> None:
        requests.put(admin + "/scenario", json={"scenario": "forbidden", "brand": "acme.example"}, timeout=5)
        requests.put(admin + "/scenario", json={"scenario": "rate-limited", "key": "key-of-ann"}, timeout=5)
        assert create(live, **{"Brand-URL": "acme.example"}).status_code == 403
        assert create(live, **{"Brand-URL": "other.example"}).status_code == 201
        assert create(live, **{"Auth-Key": "key-of-ann", "Brand-URL": "acme.example"}).status_code == 429  # key first
        active = requests.get(admin + "/scenarios", timeout=5).json()["active"]
        assert active["brands"] == {"acme.example": "forbidden"}
        assert "key-of-ann" not in str(active)  # keys are secrets: only a prefix is shown

    def test_unknown_scenario_is_404_listing_the_available(self, admin: str) -> None:
        response = requests.put(admin + "/scenario", json={"scenario": "nope"}, timeout=5)
        assert response.status_code == 404 and "success" in response.json()["available"]

    def test_reset_restarts_sequences(self, live: LiveServer, admin: str) -> None:
        statuses = [create(live, **{"X-Mock-Scenario": "third-call-throttled"}).status_code for _ in range(3)]
        requests.post(admin + "/reset", timeout=5)
        assert statuses == [201, 201, 429]
        assert create(live, **{"X-Mock-Scenario": "third-call-throttled"}).status_code == 201

    def test_journal_records_filters_and_redacts(self, live: LiveServer, admin: str) -> None:
        create(live, **{"Auth-Key": "AK-secret-123"})
        requests.post(live.url + SMTP_PATH, json=valid_body(port="x"), headers=HEADERS, timeout=5)
        entries = requests.get(admin + "/journal", timeout=5).json()["entries"]
        assert [e["status"] for e in entries] == [400, 201]  # newest first
        bad, good = entries
        assert bad["errors"][0]["field"] == "port" and bad["operation"] == "createSmtpIntegration"
        assert good["headers"]["Auth-Key"] == "***" and good["body"]["password"] == "***"
        assert "AK-secret-123" not in str(entries) and "hunter2-secret" not in str(entries)
        assert good["scenario"] == "success" and good["rule"] == "respond"
        only = requests.get(admin + "/journal", params={"status": 400}, timeout=5).json()["entries"]
        assert [e["id"] for e in only] == [bad["id"]]
        assert requests.delete(admin + "/journal", timeout=5).status_code == 200
        assert requests.get(admin + "/journal", timeout=5).json()["entries"] == []

    def test_verify_counts_matching_requests(self, live: LiveServer, admin: str) -> None:
        for _ in range(3):
            create(live)
        create(live, **{"X-Mock-Scenario": "forbidden"})

        def count(criteria: dict[str, object]) -> int:
            return int(requests.post(admin + "/verify", json=criteria, timeout=5).json()["count"])

        assert count({"method": "POST", "path": SMTP_PATH, "status": 201}) == 3
        assert count({"operation": "createSmtpIntegration", "scenario": "forbidden"}) == 1
        assert count({"headers": {"Brand-URL": "your-domain.com"}, "body": {"port": 587}}) == 4
        assert count({"status": 500}) == 0

    def test_expectations_come_first_and_are_validated(self, live: LiveServer, admin: str) -> None:
        rule = {
            "when": {"operation": "createSmtpIntegration", "headers": {"X-Case": "slow-down"}},
            "respond": {"status": 429, "headers": {"Retry-After": "7"}},
        }
        assert requests.post(admin + "/expectations", json=rule, timeout=5).status_code == 200
        throttled = create(live, **{"X-Case": "slow-down"})
        assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "7")
        assert create(live).status_code == 201
        broken = requests.post(admin + "/expectations", json={"respond": {"status": 418}}, timeout=5)
        assert broken.status_code == 400 and "418 is not documented" in str(broken.json()["problems"])


# -- the pytest fixture, as a user's test suite would use it ----------------------------------------


def test_fixture_switches_scenarios_and_verifies(mockserver: MockServer) -> None:
    url = mockserver.url_for(SMTP_PATH)
    assert requests.post(url, json=valid_body(), headers=HEADERS, timeout=5).status_code == 201
    mockserver.use("rate-limited")
    assert requests.post(url, json=valid_body(), headers=HEADERS, timeout=5).status_code == 429
    mockserver.verify(count=1, status=429, method="POST")
    assert [r["status"] for r in mockserver.requests(path=SMTP_PATH)] == [429, 201]


def test_fixture_expectations(mockserver: MockServer) -> None:
    mockserver.expect("createSmtpIntegration", body={"host": "smtp.down.example"}).respond(
        403, body={"message": "The user's access was denied."}
    )
    url = mockserver.url_for(SMTP_PATH)
    assert requests.post(url, json=valid_body(host="smtp.down.example"), headers=HEADERS, timeout=5).status_code == 403
    assert requests.post(url, json=valid_body(), headers=HEADERS, timeout=5).status_code == 201
    mockserver.expect("createSmtpIntegration").respond_in_turn("pass", {"status": 429})
    assert [requests.post(url, json=valid_body(), headers=HEADERS, timeout=5).status_code for _ in range(3)] == [
        201,
        429,
        429,
    ]


def test_fixture_verify_failure_says_what_arrived(mockserver: MockServer) -> None:
    requests.post(mockserver.url_for(SMTP_PATH), json=valid_body(), headers=HEADERS, timeout=5)
    with pytest.raises(
        AssertionError,
        match=r"expected 2 request\(s\).*found 1.*POST /api/v1/app-integrations/smtp "
        r"-> 201",
    ):
        mockserver.verify(count=2, method="POST")


def test_fixture_rejects_unknown_scenarios_and_resets(mockserver: MockServer) -> None:
    with pytest.raises(ValueError, match="no scenario 'nope'"):
        mockserver.use("nope")
    mockserver.use("forbidden", brand="acme.example")
    mockserver.reset()
    response = requests.post(
        mockserver.url_for(SMTP_PATH), json=valid_body(), timeout=5, headers={**HEADERS, "Brand-URL": "acme.example"}
    )
    assert response.status_code == 201 and len(mockserver.requests()) == 1


def test_mock_server_as_a_context_manager() -> None:
    with MockServer(SPEC, SCENARIOS, scenario="unauthorized") as server:
        assert (
            requests.post(server.url_for(SMTP_PATH), json=valid_body(), headers=HEADERS, timeout=5).status_code == 401
        )


def test_an_expectation_a_reloaded_spec_no_longer_fits_is_reported_not_raised(config: MockConfig) -> None:
    app = create_app(config=config)
    state = app.extensions["mockserver"]
    state.expect({"when": {"operation": "noSuchOperation"}, "respond": {"status": 403}})  # as if the spec lost it
    response = app.test_client().post(SMTP_PATH, json=valid_body(), headers=HEADERS)
    assert response.status_code == 201
    assert any(p.startswith("expectation: ") and "noSuchOperation" in p for p in state.reload_problems)
