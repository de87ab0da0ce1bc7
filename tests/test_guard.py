"""/__mock/ belongs to the user, not to web pages (mockserver/guard.py): Host allow-list, no calls from
other origins, JSON-only state changes, a body limit, no framing. The policy with Flask's test client;
then the same over HTTP against a real `mockserver serve`. tests/test_browser_security.py attacks it
from a real browser."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from mockserver import create_app
from mockserver.config import MockConfig
from mockserver.guard import ADMIN_MAX_BODY

from .conftest import HEADERS, SMTP_PATH, LiveServer, start_server, valid_body
from .test_live_server import raw_exchange, status_of

FOREIGN = "http://127.0.0.1:9"  # another port is another origin (and the same site: cookies would go)
RULE = {"when": {"operation": "createSmtpIntegration"}, "respond": {"status": 403}}


def make(config: MockConfig, **options: object) -> FlaskClient:
    app: Flask = create_app(config=config, **options)  # type: ignore[arg-type]
    return app.test_client()


@pytest.fixture
def client(config: MockConfig) -> FlaskClient:
    return make(config)


# -- Host: the DNS-rebinding guard ----------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost:8080", "127.0.0.1", "127.0.0.2:1", "[::1]:4010", "LOCALHOST."])
def test_loopback_names_with_any_port_are_served(client: FlaskClient, host: str) -> None:
    assert client.get("/__mock/journal", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["rebind.example:8080", "10.0.0.5", "localhost.evil.example", "mock.test"])
def test_other_hosts_are_refused_under_mock_but_the_mocked_api_still_answers(client: FlaskClient, host: str) -> None:
    refused = client.get("/__mock/journal", headers={"Host": host})
    assert refused.status_code == 403 and "--allowed-host" in refused.get_json()["error"]
    assert client.get("/__mock/", headers={"Host": host, "Accept": "text/html"}).status_code == 403
    assert client.post(SMTP_PATH, json=valid_body(), headers={**HEADERS, "Host": host}).status_code == 201


def test_allowed_hosts_and_the_bound_name_are_served(config: MockConfig) -> None:
    named = make(config, host="mock.internal", allowed_hosts=["mock.test"])
    for host in ("mock.internal:8080", "mock.test", "MOCK.TEST:1", "127.0.0.1"):
        assert named.get("/__mock/journal", headers={"Host": host}).status_code == 200, host
    assert named.get("/__mock/journal", headers={"Host": "other.test"}).status_code == 403
    anything = make(config, allowed_hosts=["*"])
    assert anything.get("/__mock/journal", headers={"Host": "whatever.example"}).status_code == 200


def test_bound_to_every_interface_any_ip_address_is_served_but_no_other_name(config: MockConfig) -> None:
    for bind in ("0.0.0.0", "::"):
        everywhere = make(config, host=bind)
        for host in ("192.168.1.20:8080", "[fe80::1]:8080", "localhost"):
            assert everywhere.get("/__mock/journal", headers={"Host": host}).status_code == 200, host
        assert everywhere.get("/__mock/journal", headers={"Host": "rebind.example"}).status_code == 403


# -- other origins -------------------------------------------------------------------------------


def test_reads_and_writes_from_another_origin_are_refused(client: FlaskClient) -> None:
    headers = {"Origin": FOREIGN}
    assert client.get("/__mock/journal", headers=headers).status_code == 403
    assert client.put("/__mock/scenario", json={"scenario": "forbidden"}, headers=headers).status_code == 403
    assert client.post("/__mock/reset", headers=headers).status_code == 403
    assert client.post("/__mock/expectations", json=RULE, headers=headers).status_code == 403
    assert client.delete("/__mock/journal", headers=headers).status_code == 403
    assert client.get("/__mock/scenarios").get_json()["active"]["everyone"] is None
    assert client.get("/__mock/scenarios").get_json()["expectations"] == []


def test_no_cors_for_mock_paths_unless_an_admin_origin_is_configured(config: MockConfig, client: FlaskClient) -> None:
    preflight = {"Origin": FOREIGN, "Access-Control-Request-Method": "PUT"}
    assert "Access-Control-Allow-Origin" not in client.options("/__mock/scenario", headers=preflight).headers
    assert "Access-Control-Allow-Origin" not in client.get("/__mock/journal").headers  # not even "*"
    allowed = make(config, admin_origins=["http://localhost:3000"])
    ok = {"Origin": "http://localhost:3000"}
    response = allowed.options("/__mock/scenario", headers={**ok, "Access-Control-Request-Method": "PUT"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert allowed.put("/__mock/scenario", json={"scenario": "forbidden"}, headers=ok).status_code == 200
    assert allowed.get("/__mock/journal", headers={"Origin": FOREIGN}).status_code == 403


def test_the_mocked_api_keeps_its_cors(client: FlaskClient) -> None:
    response = client.post(SMTP_PATH, json=valid_body(), headers={**HEADERS, "Origin": FOREIGN})
    assert response.status_code == 201 and response.headers["Access-Control-Allow-Origin"] in ("*", FOREIGN)


def test_sec_fetch_site_refuses_what_sends_no_origin_but_not_a_followed_link(client: FlaskClient) -> None:
    no_cors = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"}
    assert client.get("/__mock/journal", headers=no_cors).status_code == 403
    assert client.get("/__mock/journal", headers={**no_cors, "Sec-Fetch-Site": "same-site"}).status_code == 403
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Accept": "text/html"}
    assert client.get("/__mock/", headers=link).status_code == 200  # it can open, not read
    own = {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}
    assert client.post("/__mock/reset", headers=own).status_code == 200


def test_state_changes_take_json_or_no_body_so_no_html_form_passes(client: FlaskClient) -> None:
    for kind in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"):
        refused = client.post("/__mock/reset", data="a=b", headers={"Content-Type": kind})
        assert refused.status_code == 415, kind
        assert client.post("/__mock/expectations", data="{}", headers={"Content-Type": kind}).status_code == 415
    assert client.post("/__mock/reset", headers={"Content-Type": "text/plain"}).status_code == 415  # an empty form
    assert client.post("/__mock/reset").status_code == 200  # curl -X POST: no body, no type
    assert client.post("/__mock/expectations", json=RULE).status_code == 200
    assert client.get("/__mock/journal", headers={"Content-Type": "text/plain"}).status_code == 200  # reads are reads


def test_admin_bodies_over_the_limit_are_413(client: FlaskClient) -> None:
    big = b'{"method": "' + b"x" * ADMIN_MAX_BODY + b'"}'
    response = client.post("/__mock/verify", data=big, content_type="application/json")
    assert response.status_code == 413 and "1048576" in response.get_json()["error"]
    assert client.post("/__mock/verify", json={"method": "x" * 1000}).status_code == 200


# -- no framing, one policy for every page ---------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/__mock/", "/__mock/ui/index.html", "/__mock/ui/app.js", "/__mock/ui/nothing.css", "/__mock/journal"]
)
def test_every_mock_path_forbids_framing_and_carries_the_csp(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"


def test_refusals_carry_the_same_headers(client: FlaskClient) -> None:
    refused = client.get("/__mock/", headers={"Host": "rebind.example"})
    assert refused.status_code == 403 and refused.headers["X-Frame-Options"] == "DENY"


def test_the_token_still_guards_and_a_preflight_needs_none(config: MockConfig) -> None:
    guarded = make(config, admin_token="s3cret", admin_origins=["http://localhost:3000"])
    assert guarded.get("/__mock/journal").status_code == 401
    preflight = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}
    assert guarded.options("/__mock/journal", headers=preflight).status_code == 200
    assert (
        guarded.get("/__mock/journal", headers={"Origin": FOREIGN, "Authorization": "Bearer s3cret"}).status_code == 403
    )


# -- over HTTP, against a real server ------------------------------------------------------------


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start_server("--quiet")
    yield server
    server.stop()


def peak_rss_kib(server: LiveServer) -> int:
    """VmHWM: the most the server process has ever held at once."""
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


@pytest.mark.e2e
class TestOverHttp:
    def test_a_foreign_page_can_neither_read_nor_change_anything(self, live: LiveServer) -> None:
        base = live.url + "/__mock"
        requests.post(base + "/reset", timeout=5)
        requests.post(live.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=5)
        before = requests.get(base + "/journal", timeout=5).json()["entries"]
        origin = {"Origin": FOREIGN}
        read = requests.get(base + "/journal", headers=origin, timeout=5)
        assert read.status_code == 403 and "Access-Control-Allow-Origin" not in read.headers
        for method, path, kwargs in [
            ("PUT", "/scenario", {"json": {"scenario": "forbidden"}}),
            ("POST", "/reset", {}),
            (
                "POST",
                "/expectations",
                {"data": '{"respond": {"status": 403}}', "headers": {"Content-Type": "text/plain"}},
            ),
            ("DELETE", "/journal", {}),
        ]:
            headers = {**origin, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
            assert requests.request(method, base + path, headers=headers, timeout=5, **kwargs).status_code == 403  # type: ignore[arg-type]
        form = requests.post(base + "/reset", data={"a": "b"}, timeout=5)  # a form's body, even without Origin
        assert form.status_code == 415
        assert requests.get(base + "/journal", timeout=5).json()["entries"] == before
        listing = requests.get(base + "/scenarios", timeout=5).json()
        assert listing["active"]["everyone"] is None and listing["expectations"] == []

    def test_a_rebound_host_is_refused(self, live: LiveServer) -> None:
        port = live.url.rsplit(":", 1)[1]
        raw = raw_exchange(
            live.url,
            f"GET /__mock/journal HTTP/1.1\r\nHost: rebind.example:{port}\r\nConnection: close\r\n\r\n".encode(),
        )
        assert status_of(raw) == 403 and b"DNS rebinding" in raw
        assert requests.get(f"http://localhost:{port}/__mock/journal", timeout=5).status_code == 200

    def test_a_huge_admin_body_is_refused_unread(self, live: LiveServer) -> None:
        before = peak_rss_kib(live)
        head = (
            "POST /__mock/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {300 * 1024 * 1024}\r\n\r\n"
        ).encode()
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", int(live.url.rsplit(":", 1)[1])), timeout=10) as sock:
            sock.sendall(head + b'{"method": "' + b"x" * (4 * 1024 * 1024))
            sock.shutdown(socket.SHUT_WR)  # the client gives up sending: werkzeug's server stops discarding
            answer = sock.recv(65536)
        assert status_of(answer) == 413 and time.monotonic() - started < 3

        def chunks() -> Iterator[bytes]:
            yield b'{"method": "'
            for _ in range(64):
                yield b"x" * (1024 * 1024)

        chunked = requests.post(
            live.url + "/__mock/verify", data=chunks(), headers={"Content-Type": "application/json"}
        )
        assert chunked.status_code == 413
        # 64 MiB sent: the app holds 1 MiB at most; werkzeug's server discards the rest (so the client sees
        # the 413) 10 MB at a time, which costs about 19 MiB at the peak whether 48 or 200 MiB are sent
        assert peak_rss_kib(live) - before < 32 * 1024
        assert requests.post(live.url + "/__mock/verify", json={"method": "POST"}, timeout=5).status_code == 200

    def test_the_dashboards_files_forbid_framing(self, live: LiveServer) -> None:
        for path in ("/__mock/", "/__mock/ui/index.html", "/__mock/ui/app.js"):
            response = requests.get(live.url + path, headers={"Accept": "text/html"}, timeout=5)
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
            assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.e2e
def test_admin_origin_and_allowed_host_options(live_server: Callable[..., LiveServer]) -> None:
    server = live_server("--quiet", "--admin-origin", "http://localhost:3000", "--allowed-host", "mock.test")
    allowed = requests.put(
        server.url + "/__mock/scenario",
        json={"scenario": "forbidden"},
        headers={"Origin": "http://localhost:3000"},
        timeout=5,
    )
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert requests.get(server.url + "/__mock/journal", headers={"Origin": FOREIGN}, timeout=5).status_code == 403
    port = server.url.rsplit(":", 1)[1]
    for host, status in ((f"mock.test:{port}", 200), (f"other.test:{port}", 403)):
        raw = raw_exchange(
            server.url, f"GET /__mock/journal HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        )
        assert status_of(raw) == status, host


@pytest.mark.e2e
def test_the_guard_holds_under_workers(live_server: Callable[..., LiveServer]) -> None:
    server = live_server("--quiet", "--workers", "1")
    base = server.url + "/__mock"
    assert requests.get(base + "/journal", headers={"Origin": FOREIGN}, timeout=5).status_code == 403
    assert requests.post(base + "/reset", data={"a": "b"}, timeout=5).status_code == 415
    port = server.url.rsplit(":", 1)[1]
    raw = raw_exchange(
        server.url, f"GET /__mock/ HTTP/1.1\r\nHost: rebind.example:{port}\r\nConnection: close\r\n\r\n".encode()
    )
    assert status_of(raw) == 403
    big = raw_exchange(
        server.url,
        b"POST /__mock/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 314572800\r\nConnection: close\r\n\r\n{",
    )
    assert status_of(big) == 413
    assert "frame-ancestors 'none'" in requests.get(base + "/ui/app.js", timeout=5).headers["Content-Security-Policy"]
    assert requests.put(base + "/scenario", json={"scenario": "forbidden"}, timeout=5).status_code == 200
