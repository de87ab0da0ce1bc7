"""The scenario engine end to end, against a real `mockserver serve` process: rules, sequences and
rate limits (also under concurrent clients), latency, faults, templates, state and CORS."""

from __future__ import annotations

import http.client
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from mockserver import ConfigError, load_config

from .conftest import HEADERS, SCENARIOS, SMTP_PATH, SPEC, LiveServer, start_server, valid_body

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = start_server("--quiet")
    yield live
    live.stop()


@pytest.fixture(autouse=True)
def fresh(server: LiveServer) -> None:
    requests.post(server.url + "/__mock/reset", timeout=5)


def post(
    server: LiveServer, scenario: str, body: Any = None, path: str = SMTP_PATH, **headers: str
) -> requests.Response:
    sent = {**HEADERS, "X-Mock-Scenario": scenario, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return requests.post(server.url + path, json=valid_body() if body is None else body, headers=sent, timeout=10)


def concurrently(count: int, call: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda _: call(), range(count)))


# -- 1. rules ---------------------------------------------------------------------------------------


def test_rules_match_on_body_fields_and_headers(server: LiveServer) -> None:
    blocked = post(server, "rules-demo", valid_body(host="smtp.blocked.example"))
    assert blocked.status_code == 403
    assert blocked.json()["errors"][0]["message"] == "The host smtp.blocked.example is blocked for your-domain.com."
    assert post(server, "rules-demo", valid_body(port=25, useTls=False)).status_code == 400
    assert post(server, "rules-demo", valid_body(port=25, useTls=True)).status_code == 201  # one_of not met
    assert post(server, "rules-demo", valid_body(port=2525, useTls=False)).status_code == 201  # range not met
    assert post(server, "rules-demo", X_Debug_Throttle="yes").status_code == 429
    assert post(server, "rules-demo").status_code == 201  # no rule matches: the spec answers


def test_first_matching_rule_wins(server: LiveServer) -> None:
    both = post(
        server, "rules-demo", valid_body(host="smtp.blocked.example", port=25, useTls=False), X_Debug_Throttle="1"
    )
    assert both.status_code == 403


# -- 2. sequences -----------------------------------------------------------------------------------


def test_sequence_per_key_under_concurrency(server: LiveServer) -> None:
    def call(key: str) -> int:
        return post(server, "third-call-throttled", Auth_Key=key).status_code

    alice = Counter(concurrently(24, lambda: call("alice")))
    bob = Counter(concurrently(24, lambda: call("bob")))
    assert alice == {201: 2, 429: 22} and bob == {201: 2, 429: 22}


def test_sequence_cycles(server: LiveServer, tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "cycle.yaml").write_text(
        "rules:\n  - sequence: {then: cycle}\n    respond: [pass, {status: 403}, {status: 429}]\n"
    )
    live = start_server("--quiet", "--scenarios", str(scenarios), "--scenario", "cycle")
    try:
        statuses = [
            requests.post(live.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=5).status_code
            for _ in range(7)
        ]
    finally:
        live.stop()
    assert statuses == [201, 403, 429, 201, 403, 429, 201]


# -- 3. rate limits ---------------------------------------------------------------------------------


def test_rate_limit_is_exact_under_concurrency(server: LiveServer) -> None:
    responses = concurrently(40, lambda: post(server, "quota", Auth_Key="carol"))
    assert Counter(r.status_code for r in responses) == {201: 5, 429: 35}
    for response in responses:
        assert response.headers["X-RateLimit-Limit"] == "5"
        assert 0 <= int(response.headers["X-RateLimit-Remaining"]) <= 4
        assert 1 <= int(response.headers["X-RateLimit-Reset"]) <= 10
    throttled = next(r for r in responses if r.status_code == 429)
    assert 1 <= int(throttled.headers["Retry-After"]) <= 10
    assert throttled.json()["statusCode"] == 429
    assert post(server, "quota", Auth_Key="dave").status_code == 201  # another key, another window


def test_rate_limit_window_resets(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "tight.yaml").write_text("rate_limit: {limit: 2, window: 2, key: global}\n")
    live = start_server("--quiet", "--scenarios", str(scenarios), "--scenario", "tight")
    try:

        def status() -> int:
            return requests.post(live.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=5).status_code

        assert [status(), status(), status()] == [201, 201, 429]
        time.sleep(2.2)
        assert status() == 201
    finally:
        live.stop()


# -- 4. latency and faults --------------------------------------------------------------------------


def test_latency(server: LiveServer) -> None:
    started = time.monotonic()
    assert post(server, "slow").status_code == 201
    assert 0.3 <= time.monotonic() - started < 3


def _raw_post(server: LiveServer, scenario: str, timeout: float = 5) -> tuple[int, bytes]:
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request(
            "POST",
            SMTP_PATH,
            body=requests.models.complexjson.dumps(valid_body()),
            headers={**HEADERS, "Content-Type": "application/json", "X-Mock-Scenario": scenario},
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_faults_cycle_per_client(server: LiveServer) -> None:
    status, body = _raw_post(server, "flaky-network")
    assert status == 201 and body.endswith(b"}")
    with pytest.raises(ConnectionResetError):
        _raw_post(server, "flaky-network")
    with pytest.raises(http.client.RemoteDisconnected):
        _raw_post(server, "flaky-network")
    status, body = _raw_post(server, "flaky-network")
    assert status == 201 and body.startswith(b'{"success"')
    with pytest.raises(ValueError):
        requests.models.complexjson.loads(body)
    assert _raw_post(server, "flaky-network")[0] == 201  # and round again


def test_timeout_fault_outlasts_the_client(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "hang.yaml").write_text("rules:\n  - respond: {fault: timeout, hold: 3}\n")
    live = start_server("--quiet", "--scenarios", str(scenarios))  # chosen per request below
    try:
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.post(
                live.url + SMTP_PATH, json=valid_body(), timeout=1, headers={**HEADERS, "X-Mock-Scenario": "hang"}
            )
        # the server keeps answering others meanwhile
        assert requests.post(live.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=5).status_code == 201
    finally:
        live.stop()


def test_fault_scenarios_are_marked_outside_the_contract() -> None:
    config = load_config(SPEC, SCENARIOS)
    assert sorted(n for n, s in config.scenarios.items() if s.outside_contract) == ["flaky-network", "hanging"]


# -- 5. templates -----------------------------------------------------------------------------------


def test_templates_fill_responses_from_the_request(server: LiveServer) -> None:
    first = post(server, "templated", valid_body(name="Mailer", port=2525)).json()
    second = post(server, "templated").json()
    assert first["data"]["name"] == "Mailer" and first["data"]["port"] == 2525  # the number stays a number
    assert first["data"]["description"] == "Created for your-domain.com"
    assert first["message"].startswith("Integration #1 created at 20")
    assert second["message"].startswith("Integration #2 ")
    assert len(first["data"]["id"]) == 36 and first["data"]["id"] != second["data"]["id"]
    assert post(server, "templated", valid_body(port="x")).status_code == 400  # `valid: true`: spec first


@pytest.mark.parametrize(
    "template",
    [
        "{{ request.__class__.__mro__ }}",
        "{{ request.body.__class__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{% for x in range(10**9) %}{% endfor %}",
    ],
)
def test_templates_cannot_run_code(tmp_path: Path, template: str) -> None:
    (tmp_path / "evil.yaml").write_text(
        f"rules:\n  - respond:\n      status: 400\n      body:\n        message: {template!r}\n"
    )
    with pytest.raises(ConfigError, match=r"evil\.yaml:5"):
        load_config(SPEC, tmp_path)


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ request.body.name }", "template error: unexpected '}'"),
        ("{{ request.body.name | nosuchfilter }}", "template error: No filter named 'nosuchfilter'"),
        (
            "{{ request.body.name.nope.deeper }}",
            "template fails on createSmtpIntegration's request example: 'str object'",
        ),
        ("{{ uuid(1, 2, 3) }}", "template fails on createSmtpIntegration's request example: TypeError: random_uuid()"),
    ],
)
def test_one_template_mistake_is_one_error_at_its_own_line(tmp_path: Path, template: str, reason: str) -> None:
    # No `operation:`: the rule applies to all three operations, and must still be reported once.
    (tmp_path / "typo.yaml").write_text(
        "rules:\n  - respond:\n      status: 403\n      body:\n        message: Denied.\n"
        f"        errors:\n          - code: Forbidden\n            message: {template!r}\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(SPEC, tmp_path)
    problems = [str(p) for p in raised.value.problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{tmp_path / 'typo.yaml'}:8: rules[0].respond.body.errors[0].message: {reason}")


# -- 6. state ---------------------------------------------------------------------------------------


def test_stateful_create_then_update(server: LiveServer) -> None:
    first = post(server, "stateful", valid_body(isDefault=True)).json()["data"]
    second = post(server, "stateful", valid_body(isDefault=True, name="Second")).json()["data"]
    url = f"{SMTP_PATH}/{first['id']}"
    updated = requests.put(
        server.url + url,
        json=valid_body(name="Renamed", isDefault=True),
        timeout=5,
        headers={**HEADERS, "X-Mock-Scenario": "stateful"},
    )
    assert updated.status_code == 200
    assert (updated.json()["data"]["id"], updated.json()["data"]["name"]) == (first["id"], "Renamed")
    assert second["isDefault"] is True
    kept = requests.get(server.url + "/__mock/state", timeout=5).json()["smtp-integrations"]["your-domain.com"]
    assert kept[first["id"]]["name"] == "Renamed" and kept[first["id"]]["isDefault"] is True  # the newest default
    assert kept[second["id"]]["isDefault"] is False  # lost its flag to the update
    assert kept[first["id"]]["password"] == "***"
    other_brand = requests.put(
        server.url + url,
        json=valid_body(),
        timeout=5,
        headers={**HEADERS, "Brand-URL": "other.example", "X-Mock-Scenario": "stateful"},
    )
    assert other_brand.status_code == 404
    assert other_brand.json()["errors"][0]["code"] == "AppIntegrationNotFound"


def test_unknown_id_is_404_without_state_reset(server: LiveServer) -> None:
    response = requests.put(
        server.url + f"{SMTP_PATH}/sNoSuchIntegration",
        json=valid_body(),
        timeout=5,
        headers={**HEADERS, "X-Mock-Scenario": "stateful"},
    )
    assert response.status_code == 404


def test_test_endpoint_is_served_from_the_spec(server: LiveServer) -> None:
    body = {
        "host": "smtp.gmail.com",
        "port": 587,
        "username": "u",
        "password": "p",
        "useTls": True,
        "emailAddressFrom": "a@b.c",
        "emailAddressTo": "d@e.f",
    }
    response = post(server, "success", body, path=f"{SMTP_PATH}/test")
    assert (response.status_code, response.json()["data"]) == (200, True)
    assert post(server, "success", {**body, "useTls": None}, path=f"{SMTP_PATH}/test").status_code == 400


# -- 9. CORS ----------------------------------------------------------------------------------------


def test_cors_preflight_allows_the_api_headers(server: LiveServer) -> None:
    response = requests.options(
        server.url + SMTP_PATH,
        timeout=5,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "brand-url, auth-key, content-type, x-mock-scenario, prefer",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"brand-url", "auth-key", "content-type", "x-mock-scenario", "prefer"}
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    actual = post(server, "rate-limited", Origin="http://localhost:3000")
    assert actual.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "Retry-After" in actual.headers["Access-Control-Expose-Headers"]


def test_cors_origins_are_configurable(tmp_path: Path) -> None:
    live = start_server("--quiet", "--cors-origin", "http://app.example:5173")
    try:

        def allowed(origin: str) -> str | None:
            return requests.options(
                live.url + SMTP_PATH, timeout=5, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
            ).headers.get("Access-Control-Allow-Origin")

        assert allowed("http://app.example:5173") == "http://app.example:5173"
        assert allowed("http://evil.example") is None
    finally:
        live.stop()
