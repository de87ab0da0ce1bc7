"""`serve --upstream`: the mock as a validating proxy, end to end. Every upstream is a real server
process on loopback (tests/servers.py: docs-following, flawed, lacking operations, slow), or a port
where nothing answers; the mock is a real `serve` process in front of it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
from flask import Flask, Response, jsonify, request

from mockserver import create_app, load_config
from mockserver.forwarder import Forwarder, Upstream, check_url
from mockserver.state import MockState

from .conftest import ROOT, SCENARIOS, SMTP_PATH, SPEC, valid_body
from .readme_examples import free_port
from .servers import VALID_KEY, serving

KEY = {"Auth-Key": VALID_KEY, "Brand-URL": "your-domain.com"}
SECRET = "hunter2-secret"  # valid_body()'s password

pytestmark = pytest.mark.e2e


@pytest.fixture
def upstream() -> Iterator[Callable[..., str]]:
    """Start `python3 -m tests.servers FLAW --port N [--lacking OP=STATUS] [--delay S]`, a process of its
    own; yields a function that returns its URL. Each is stopped at the end."""
    started: list[int] = []

    def start(flaw: str = "none", *options: str) -> str:
        port = free_port()
        printed = subprocess.run(
            [sys.executable, "-m", "tests.servers", flaw, "--port", str(port), *options],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        started.append(int(re.findall(r"kill (\d+)", printed)[0]))
        return f"http://127.0.0.1:{port}"

    yield start
    for pid in started:
        os.kill(pid, signal.SIGTERM)


def create(base: str, body: dict[str, Any] | None = None, **headers: str) -> requests.Response:
    return requests.post(base + SMTP_PATH, json=valid_body() if body is None else body, headers={**KEY, **headers})


def journal(base: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = requests.get(base + "/__mock/journal").json()["entries"]
    return entries


def report(base: str) -> dict[str, Any]:
    found: dict[str, Any] = requests.get(base + "/__mock/violations").json()
    return found


# -- a conformant upstream ---------------------------------------------------------------------------


def test_a_conformant_upstream_answers_through_the_proxy(live_server, upstream) -> None:
    mock = live_server("--upstream", upstream())
    answer = create(mock.url)
    assert answer.status_code == 201
    data = answer.json()["data"]
    assert data["createdDate"] == "2026-11-24T06:00:00Z"  # the upstream's own field: its answer, unchanged
    assert re.fullmatch(r"[0-9a-f-]{36}", data["id"])  # the upstream's UUIDs, not the mock's 18-letter ids
    assert answer.headers["X-Mock-Violations"] == "0"
    entry = journal(mock.url)[0]
    assert (entry["rule"], entry["status"], entry["violations"]) == ("upstream", 201, [])
    assert entry["headers"]["Auth-Key"] == "***" and entry["response"]["data"]["password"] == "***"
    summary = report(mock.url)
    assert summary["conformant"] is True and summary["exchanges"] == 1

    browser = requests.post(mock.url + SMTP_PATH, json=valid_body(), headers={**KEY, "Origin": "http://ui.test"})
    assert browser.status_code == 201  # CORS still applies in front of the upstream
    assert browser.headers["Access-Control-Allow-Origin"] in ("*", "http://ui.test")
    assert "X-Mock-Violations" in browser.headers["Access-Control-Expose-Headers"]


def test_what_the_mock_answers_never_reaches_the_upstream(live_server, upstream) -> None:
    mock = live_server("--upstream", upstream())
    assert create(mock.url, **{"X-Mock-Scenario": "rate-limited"}).status_code == 429
    assert create(mock.url, Prefer="code=403").status_code == 403
    assert requests.get(mock.url + "/__mock/scenarios").status_code == 200  # the admin API stays the mock's
    unknown = requests.get(mock.url + "/__mock/no-such-page")
    assert unknown.status_code == 404 and unknown.json()["message"] == "Not Found - The resource was not found."
    rules = [e["rule"] for e in journal(mock.url)]
    assert rules == ["route", "Prefer header", "rules[0]"]  # rate-limited's rule
    assert report(mock.url)["exchanges"] == 0


def test_what_the_spec_lacks_is_forwarded_as_it_is_and_reported(live_server, upstream) -> None:
    base = upstream()
    mock = live_server("--upstream", base)
    unknown = requests.get(mock.url + "/api/v1/not-in-the-spec", headers=KEY)
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["details"] == "Nothing here."  # upstream's
    wrong_method = requests.delete(mock.url + SMTP_PATH, headers=KEY)
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"  # the upstream's Allow
    method, path = journal(mock.url)
    assert path["rule"] == "upstream (not in the spec)" and path["operation"] is None
    assert path["violations"] == [
        {
            "in": "request",
            "check": "request_route",
            "field": None,
            "message": "No operation is declared at /api/v1/not-in-the-spec.",
        }
    ]
    assert method["violations"][0]["message"] == "DELETE is not supported here; use POST."
    operations = [op["operation"] for op in report(mock.url)["operations"]]
    assert operations == ["DELETE /api/v1/app-integrations/smtp", "GET /api/v1/not-in-the-spec"]

    strict = live_server("--upstream", base, "--strict")
    refused = requests.get(strict.url + "/api/v1/not-in-the-spec", headers=KEY)
    assert refused.status_code == 404 and "No operation is declared" in refused.json()["errors"][0]["message"]


def test_latency_rate_limits_and_faults_still_apply_in_front(live_server, upstream) -> None:
    mock = live_server("--upstream", upstream())
    quota = [create(mock.url, **{"X-Mock-Scenario": "quota"}) for _ in range(6)]
    assert [a.status_code for a in quota] == [201] * 5 + [429]
    assert [a.headers["X-RateLimit-Remaining"] for a in quota] == ["4", "3", "2", "1", "0", "0"]
    assert all("createdDate" in a.json()["data"] for a in quota[:5])  # the five went upstream

    started = time.monotonic()
    assert create(mock.url, **{"X-Mock-Scenario": "slow"}).json()["data"]["createdDate"]
    assert time.monotonic() - started >= 0.3

    flaky = {**KEY, "X-Mock-Scenario": "flaky-network"}
    assert requests.post(mock.url + SMTP_PATH, json=valid_body(), headers=flaky).json()["data"]["createdDate"]
    with pytest.raises(requests.ConnectionError):
        requests.post(mock.url + SMTP_PATH, json=valid_body(), headers=flaky)
    rules = [e["rule"] for e in journal(mock.url)]
    assert rules == ["flaky #2", "upstream", "upstream", "rate limit", *["upstream"] * 5], rules


def test_an_invalid_request_is_forwarded_and_reported(live_server, upstream) -> None:
    mock = live_server("--upstream", upstream())
    answer = create(mock.url, valid_body(port="587"))
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["details"] == "Bad input."  # the upstream's 400, not the mock's
    assert answer.headers["X-Mock-Violations"] == "1"
    no_key = requests.post(mock.url + SMTP_PATH, json=valid_body(), headers={"Brand-URL": "your-domain.com"})
    assert no_key.status_code == 401 and no_key.json()["errors"][0]["details"] == "Not authorized."
    missing_key, bad_port = journal(mock.url)
    assert bad_port["violations"] == [
        {"in": "request", "check": "request_schema", "field": "port", "message": "port must be an integer (int32)."}
    ]
    assert missing_key["violations"][0]["check"] == "request_auth"
    assert missing_key["violations"][0]["field"] == "Auth-Key"
    checks = [c["check"] for c in report(mock.url)["operations"][0]["checks"]]
    assert checks == ["request_auth", "request_schema"]


# -- an upstream that breaks the contract ------------------------------------------------------------


@pytest.mark.parametrize(
    ("flaw", "field", "message"),
    [
        ("wrong_type", "data.port", "data.port must be an integer (int32)."),
        ("missing_field", "data.id", "data.id is required."),
    ],
)
def test_a_flawed_response_reaches_the_client_unchanged_with_its_violations(
    live_server, upstream, flaw: str, field: str, message: str
) -> None:
    mock = live_server("--upstream", upstream(flaw))
    answer = create(mock.url)
    assert answer.status_code == 201
    assert answer.headers["X-Mock-Violations"] == "1"
    if flaw == "wrong_type":
        assert answer.json()["data"]["port"] == "587"
    expected = {"in": "response", "check": "response_schema", "field": field, "message": message}
    assert journal(mock.url)[0]["violations"] == [expected]
    summary = report(mock.url)
    assert summary["conformant"] is False
    assert summary["operations"][0]["checks"] == [
        {"check": "response_schema", "failed": 1, "messages": [f"response: {message}"]}
    ]
    xml = ElementTree.fromstring(requests.get(mock.url + "/__mock/violations?format=junit").content)
    failures = [case.get("name") for case in xml.iter("testcase") if case.find("failure") is not None]
    assert failures == ["response_schema"]
    assert xml.get("failures") == "1" and message in ElementTree.tostring(xml, encoding="unicode")


def test_an_undocumented_status_and_a_non_json_body_are_violations(live_server, upstream) -> None:
    mock = live_server("--upstream", upstream("server_error"))
    answer = create(mock.url, valid_body(isDefault=True))
    assert answer.status_code == 500  # passed on as it came
    (violation,) = journal(mock.url)[0]["violations"]
    assert violation["check"] == "response_status" and violation["field"] == "status"
    assert violation["message"].startswith("500 is not documented for createSmtpIntegration")

    text = live_server("--upstream", upstream("not_json"))
    create(text.url)
    (violation,) = journal(text.url)[0]["violations"]
    assert violation["check"] == "response_media_type" and violation["field"] == "Content-Type"


def test_strict_refuses_invalid_requests_and_violating_responses(live_server, upstream) -> None:
    mock = live_server("--upstream", upstream("wrong_type"), "--strict")
    answer = create(mock.url)
    assert answer.status_code == 502
    body = answer.json()
    assert body["message"] == "The upstream's response broke the contract."
    assert body["errors"][0]["field"] == "data.port" and "must be an integer" in body["errors"][0]["message"]
    assert answer.headers["X-Mock-Violations"] == "1"
    refused = create(mock.url, valid_body(port="587"))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message"] == "port must be an integer (int32)."  # the mock's own 400
    invalid, violating = journal(mock.url)
    assert (invalid["rule"], invalid["violations"][0]["in"]) == ("validate_request", "request")
    assert (violating["rule"], violating["status"]) == ("upstream", 502)


# -- an upstream that lacks operations ---------------------------------------------------------------


def test_operations_the_upstream_lacks_are_mocked(live_server, upstream) -> None:
    mock = live_server("--upstream", upstream("none", "--lacking", "test=501", "--lacking", "update=405"))
    test_body = {
        "host": "smtp.gmail.com",
        "port": 587,
        "username": "u",
        "password": SECRET,
        "useTls": True,
        "emailAddressFrom": "a@b.c",
        "emailAddressTo": "d@e.f",
    }
    tested = requests.post(mock.url + SMTP_PATH + "/test", json=test_body, headers=KEY)
    assert tested.status_code == 200 and tested.json()["success"] is True
    updated = requests.put(mock.url + SMTP_PATH + "/sApKpllz4sAplsmzha", json=valid_body(), headers=KEY)
    assert updated.status_code == 200 and "createdDate" not in updated.json()["data"]  # the mock's 200
    assert create(mock.url).json()["data"]["createdDate"]  # the deployed operation still goes upstream
    rules = [e["rule"] for e in journal(mock.url)]
    assert rules == ["upstream", "mocked (upstream answered 405)", "mocked (upstream answered 501)"]


def test_a_documented_404_is_the_upstreams_answer_and_mock_operation_always_mocks(live_server, upstream) -> None:
    mock = live_server("--upstream", upstream(), "--mock-operation", "createSmtpIntegration")
    missing = requests.put(mock.url + SMTP_PATH + "/sNoSuchIntegration", json=valid_body(), headers=KEY)
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "AppIntegrationNotFound"
    created = create(mock.url)
    assert created.status_code == 201 and "createdDate" not in created.json()["data"]  # the mock's 201
    rules = [e["rule"] for e in journal(mock.url)]
    assert rules == ["mocked (--mock-operation)", "upstream"]


# -- an upstream that is down or slow ----------------------------------------------------------------


def test_an_unreachable_upstream_is_a_502_naming_no_credentials(live_server) -> None:
    mock = live_server("--upstream", f"http://robot:pa55word@127.0.0.1:{free_port()}")
    started = time.monotonic()
    answer = create(mock.url)
    assert time.monotonic() - started < 5
    assert answer.status_code == 502
    assert answer.json()["errors"][0]["code"] == "UpstreamUnavailable"
    assert "pa55word" not in answer.text and "***@127.0.0.1" in answer.text
    assert journal(mock.url)[0]["rule"] == "upstream unreachable"
    logged = mock.stop()
    assert "pa55word" not in logged


@pytest.mark.parametrize("kind", ["slow", "silent"])
def test_a_slow_or_silent_upstream_is_a_504_within_the_timeout(live_server, upstream, kind: str) -> None:
    if kind == "slow":
        url = upstream("none", "--delay", "5")
    else:  # accepts connections (the kernel does) and never answers
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    mock = live_server("--upstream", url, "--upstream-timeout", "0.5")
    started = time.monotonic()
    answer = create(mock.url)
    took = time.monotonic() - started
    assert answer.status_code == 504 and 0.5 <= took < 2.5
    assert answer.json()["errors"][0]["code"] == "UpstreamUnavailable"
    assert journal(mock.url)[0]["rule"] == "upstream timed out"


# -- record and replay -------------------------------------------------------------------------------


def _without_correlation(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: _without_correlation(v) for k, v in body.items() if k != "correlationId"}
    if isinstance(body, list):
        return [_without_correlation(v) for v in body]
    return body


def test_recorded_exchanges_replay_offline_with_secrets_masked(live_server, upstream, tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    proxy = live_server("--upstream", upstream(), "--record", str(recorded))
    created = create(proxy.url)
    item_id = created.json()["data"]["id"]
    exchanges: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", SMTP_PATH, valid_body()),
        ("PUT", f"{SMTP_PATH}/{item_id}", valid_body(name="Renamed")),
        ("PUT", f"{SMTP_PATH}/sNoSuchIntegration", valid_body()),
        ("POST", SMTP_PATH, valid_body(port="587")),  # the upstream's 400, recorded too
    ]
    live = [created] + [requests.request(m, proxy.url + p, json=b, headers=KEY) for m, p, b in exchanges[1:]]
    assert [r.status_code for r in live] == [201, 200, 404, 400]
    proxy_journal = requests.get(proxy.url + "/__mock/journal").text
    proxy.stop()

    files = sorted(p.name for p in recorded.glob("*.yaml"))
    assert files == [
        "createSmtpIntegration-201.yaml",
        "createSmtpIntegration-400.yaml",
        "success.yaml",
        "updateSmtpIntegration-200.yaml",
        "updateSmtpIntegration-404.yaml",
    ]
    for text in [proxy_journal, *(p.read_text() for p in recorded.iterdir() if p.is_file())]:
        assert SECRET not in text and VALID_KEY not in text
    assert "{{ request.path_params.id }}" in (recorded / "updateSmtpIntegration-200.yaml").read_text()
    checked = subprocess.run(
        [sys.executable, "-m", "mockserver", "check", "--scenarios", str(recorded)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "scenarios (createSmtpIntegration-201, createSmtpIntegration-400, success," in checked.stdout
    # Every recorded file loads; what is left is coverage: no recording answered 403 or 429.
    problems = [line for line in checked.stderr.splitlines() if line.startswith("error:")]
    assert problems and all("no scenario produces it" in line for line in problems), checked.stderr

    replay = live_server("--scenarios", str(recorded))
    replayed = [requests.request(m, replay.url + p, json=b, headers=KEY) for m, p, b in exchanges[:2]]
    for before, after in zip(live[:2], replayed, strict=True):
        assert after.status_code == before.status_code
        expected = before.json()
        expected["data"]["password"] = "***"  # masked when recorded
        assert after.json() == expected
    other_id = requests.put(replay.url + SMTP_PATH + "/sAnotherIdentifier", json=valid_body(), headers=KEY)
    assert other_id.json()["data"]["id"] == "sAnotherIdentifier"  # ids follow the request
    for name, index in (("updateSmtpIntegration-404", 2), ("createSmtpIntegration-400", 3)):
        method, path, body = exchanges[index]
        again = requests.request(method, replay.url + path, json=body, headers={**KEY, "X-Mock-Scenario": name})
        assert again.status_code == live[index].status_code
        assert _without_correlation(again.json()) == _without_correlation(live[index].json())


def test_a_violating_response_is_not_recorded(live_server, upstream, tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    proxy = live_server("--upstream", upstream("wrong_type"), "--record", str(recorded))
    assert create(proxy.url).status_code == 201
    assert create(proxy.url).status_code == 201
    logged = proxy.stop()
    assert list(recorded.glob("*.yaml")) == []
    reasons = [line for line in logged.splitlines() if "not recorded" in line]
    assert len(reasons) == 1  # once per operation and status
    assert "POST /api/v1/app-integrations/smtp answered 201" in reasons[0] and "data.port" in reasons[0]


# -- production mode ---------------------------------------------------------------------------------


def test_the_proxy_works_under_workers(live_server, upstream) -> None:
    mock = live_server("--upstream", upstream("wrong_type"), "--workers", "2", "--quiet", timeout=60)
    answers = [create(mock.url) for _ in range(4)]
    assert [a.status_code for a in answers] == [201] * 4
    assert {a.headers["X-Mock-Violations"] for a in answers} == {"1"}
    entries = journal(mock.url)
    assert len(entries) == 4 and {e["rule"] for e in entries} == {"upstream"}
    assert report(mock.url)["operations"][0]["checks"][0]["failed"] == 4


# -- the command line, and what goes upstream --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--mock-operation", "x"], "need --upstream URL"),
        (["--record", "x"], "need --upstream URL"),
        (["--upstream", "ftp://example.com"], "is not an http:// or https:// URL"),
        (["--upstream", "http://127.0.0.1:9", "--mock-operation", "nope"], "--mock-operation nope: no such operation"),
    ],
)
def test_proxy_options_are_checked_before_serving(args: list[str], says: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2 and says in run.stderr


def test_help_lists_the_proxy_options() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    for option in ("--upstream URL", "--upstream-timeout", "--strict", "--mock-operation ID", "--record DIR"):
        assert option in shown


def test_hop_by_hop_headers_are_dropped_and_host_rewritten() -> None:
    echo = Flask("echo")

    @echo.route("/<path:anything>", methods=["POST"])
    def headers(anything: str) -> Any:
        echoed = jsonify(
            {"headers": dict(request.headers.items()), "path": request.full_path, "body": request.data.decode()}
        )
        echoed.headers.add("Set-Cookie", "a=1")
        echoed.headers.add("Set-Cookie", "b=2")
        return echoed

    with serving(echo) as url:
        forwarder = Forwarder(Upstream(url + "/base/"))
        sent = [
            ("Host", "mock.example"),
            ("Connection", "keep-alive, X-Private"),
            ("Keep-Alive", "timeout=5"),
            ("TE", "trailers"),
            ("Proxy-Authorization", "Basic abc"),
            ("X-Mock-Scenario", "success"),
            ("Auth-Key", "k"),
            ("Content-Length", "999"),
        ]
        answer = forwarder.send("POST", "/api/x", b"a=1&b=2", sent, b"hello")
        forwarder.close()
        # Through the mock (in-process): the proxy headers are added, the client's own ones kept.
        config = load_config(SPEC, SCENARIOS)
        app = create_app(config=config, state=MockState(config, forwarder=Forwarder(Upstream(url))))
        proxied = app.test_client().post(SMTP_PATH, json=valid_body(), headers={**KEY, "X-Forwarded-For": "10.1.2.3"})
        echoed = {k.lower(): v for k, v in proxied.get_json()["headers"].items()}
        assert echoed["x-forwarded-for"] == "10.1.2.3, 127.0.0.1" and echoed["x-forwarded-host"] == "localhost"
        assert echoed["auth-key"] == VALID_KEY and proxied.headers["X-Mock-Violations"] != "0"
        assert proxied.headers.getlist("Set-Cookie") == ["a=1", "b=2"]  # repeated headers stay repeated
    seen = json.loads(answer.content)
    assert seen["path"] == "/base/api/x?a=1&b=2" and seen["body"] == "hello"
    names = {k.lower(): v for k, v in seen["headers"].items()}
    assert names["host"] == url.removeprefix("http://")
    assert names["auth-key"] == "k" and names["content-length"] == "5"
    for dropped in ("keep-alive", "te", "proxy-authorization", "x-mock-scenario", "x-private"):
        assert dropped not in names


def test_upstream_urls_are_shown_without_credentials() -> None:
    assert Upstream("https://bot:s3cret@api.example.com:8443/v1").shown == "https://***@api.example.com:8443/v1"
    assert Upstream("https://api.example.com").shown == "https://api.example.com"
    assert check_url("https://api.example.com/base") is None
    assert check_url("https://api.example.com/?q=1") is not None


def test_an_upstream_body_past_the_bound_is_a_502_not_held_in_memory() -> None:
    big = Flask("big")

    @big.route("/<path:anything>", methods=["POST"])
    def endless(anything: str) -> Any:
        return Response((b"x" * 65536 for _ in range(64)), mimetype="application/json")  # 4 MiB, streamed

    with serving(big) as url:
        config = load_config(SPEC, SCENARIOS)
        upstream = Upstream(url, max_response_size=1024 * 1024)
        app = create_app(config=config, state=MockState(config, forwarder=Forwarder(upstream)))
        answer = app.test_client().post(SMTP_PATH, json=valid_body(), headers=KEY)
    assert answer.status_code == 502
    assert answer.get_json()["errors"][0]["message"] == (
        f"The upstream {url} answered with a body larger than 1048576 bytes."
    )
