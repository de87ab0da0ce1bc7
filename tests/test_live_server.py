"""End to end: `mockserver serve` as a real process on a free loopback port."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
import requests

from .conftest import HEADERS, SMTP_PATH, LiveServer, valid_body

pytestmark = pytest.mark.e2e

Start = Callable[..., LiveServer]


def raw_exchange(url: str, data: bytes, timeout: float = 5) -> bytes:
    """Send raw bytes over a socket and return everything the server answers before closing."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks)


def status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/") else 0


def test_every_documented_status_is_reachable_over_http(live_server: Start) -> None:
    url = live_server().url + SMTP_PATH
    session = requests.Session()

    def post(**kwargs: object) -> int:
        kwargs.setdefault("headers", HEADERS)
        return session.post(url, timeout=10, **kwargs).status_code  # type: ignore[arg-type]

    assert post(json=valid_body()) == 201
    assert post(json=valid_body(port="x")) == 400
    assert post(json=valid_body(), headers={"Brand-URL": "b"}) == 401
    assert post(json=valid_body(), headers={**HEADERS, "X-Mock-Scenario": "forbidden"}) == 403
    assert (
        post(data=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers={**HEADERS, "Content-Type": "application/json"})
        == 413
    )
    assert post(data=b"name=x", headers={**HEADERS, "Content-Type": "application/x-www-form-urlencoded"}) == 415
    assert post(json=valid_body(), headers={**HEADERS, "X-Mock-Scenario": "rate-limited"}) == 429
    assert session.get(url, timeout=10).status_code == 405
    assert session.post(url.replace("smtp", "nothing-here"), timeout=10).status_code == 404


def test_huge_declared_length_is_refused_at_once(live_server: Start) -> None:
    server = live_server()
    head = (
        f"POST {SMTP_PATH} HTTP/1.1\r\nHost: x\r\nAuth-Key: k\r\nBrand-URL: b\r\n"
        "Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{"
    ).encode()
    started = time.monotonic()
    raw = raw_exchange(server.url, head)
    assert status_of(raw) == 413
    assert b'"statusCode":413' in raw
    assert time.monotonic() - started < 3


def test_oversized_chunked_body_is_413(live_server: Start) -> None:
    server = live_server("--max-body-size", "1KiB")
    chunk = b"x" * 4096
    body = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n"
    head = (
        f"POST {SMTP_PATH} HTTP/1.1\r\nHost: x\r\nAuth-Key: k\r\nBrand-URL: b\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    assert status_of(raw_exchange(server.url, head + body)) == 413


def test_stalled_client_is_dropped_and_others_are_served(live_server: Start) -> None:
    server = live_server("--request-timeout", "1")
    parts = urlsplit(server.url)
    stalled = socket.create_connection((parts.hostname, parts.port), timeout=10)
    stalled.sendall(
        (
            f"POST {SMTP_PATH} HTTP/1.1\r\nHost: x\r\nAuth-Key: k\r\nBrand-URL: b\r\n"
            'Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{"name":'
        ).encode()
    )
    # meanwhile, another client is answered at once
    assert requests.post(server.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=5).status_code == 201
    started = time.monotonic()
    answer = stalled.recv(65536)  # the server gives up on the stalled body and closes
    stalled.close()
    assert time.monotonic() - started < 5
    assert answer == b"" or status_of(answer) == 400


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(40)),  # a TLS hello
        b"GARBAGE\r\n\r\n",
        b"POST " + b"/a" * 40000 + b" HTTP/1.1\r\n\r\n",
        b"POST /api/v1/app-integrations/smtp HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"\x00" * 1000,
    ],
)
def test_server_survives_garbage_on_the_wire(live_server: Start, garbage: bytes) -> None:
    server = live_server()
    raw_exchange(server.url, garbage, timeout=3)
    response = requests.post(server.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=5)
    assert response.status_code == 201


def test_secrets_never_reach_the_log(live_server: Start) -> None:
    server = live_server()
    secret_key, secret_password = "AK-very-secret-7731", "pw-hunter2-9914"
    url = server.url + SMTP_PATH
    headers = {"Auth-Key": secret_key, "Brand-URL": "b.example"}
    requests.post(url, json=valid_body(password=secret_password), headers=headers, timeout=5)
    requests.post(url, json=valid_body(password=secret_password, port="x"), headers=headers, timeout=5)
    requests.post(url + f"?key={secret_key}", data=b"{", headers=headers, timeout=5)
    requests.post(
        url, json=valid_body(password=secret_password), headers={**headers, "X-Mock-Scenario": "nope"}, timeout=5
    )
    log = server.stop()
    assert "POST /api/v1/app-integrations/smtp -> 201" in log  # the journal did log the requests
    assert secret_key not in log and secret_password not in log
