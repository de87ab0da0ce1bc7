"""Bytes a client got wrong are named for what they are, over a real socket, in the platform's error
envelope: an Auth-Key that is not UTF-8 is invalid (not missing), a malformed chunk size is a malformed
chunked body (not an empty one), in both modes (the server hands the app the bytes as they came)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import SMTP_PATH, LiveServer, valid_body
from .test_live_server import raw_exchange, status_of

pytestmark = pytest.mark.e2e
SERVERS = pytest.mark.parametrize("mode", [(), ("--workers", "1")], ids=["one-process", "workers"])


def send(server: LiveServer, headers: bytes, body: bytes) -> tuple[int, dict[str, Any]]:
    head = f"POST {SMTP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nBrand-URL: b.example\r\nConnection: close\r\n".encode()
    raw = raw_exchange(server.url, head + headers + b"\r\n" + body)
    return status_of(raw), json.loads(raw.split(b"\r\n\r\n", 1)[1])


def json_body() -> bytes:
    return json.dumps(valid_body()).encode()


@SERVERS
def test_an_auth_key_that_is_not_utf8_is_invalid_not_missing(
    live_server: Callable[..., LiveServer], mode: tuple[str, ...]
) -> None:
    server = live_server("--quiet", *mode)
    body = json_body()
    headers = b"Auth-Key: \xff\xfekey\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    status, envelope = send(server, headers, body)
    assert status == 401 and envelope["statusCode"] == 401 and envelope["success"] is False
    assert envelope["message"] == "The user is not authorized."
    [error] = envelope["errors"]
    assert error["code"] == "Unauthorized" and error["field"] == "Auth-Key"
    assert "missing" not in error["message"]
    assert error["message"] == "The Auth-Key header is not valid: its bytes are not UTF-8."


def test_a_utf8_auth_key_is_accepted_and_an_absent_one_is_still_missing(live_server: Callable[..., LiveServer]) -> None:
    server = live_server("--quiet")
    body = json_body()
    headers = f"Auth-Key: clé\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
    assert send(server, headers, body)[0] == 201
    absent = b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    status, envelope = send(server, absent, body)
    assert status == 401 and "missing the required Auth-Key header" in envelope["errors"][0]["message"]


@SERVERS
def test_a_malformed_chunk_size_is_a_malformed_chunked_body(
    live_server: Callable[..., LiveServer], mode: tuple[str, ...]
) -> None:
    server = live_server("--quiet", *mode)
    headers = b"Auth-Key: k\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    status, envelope = send(server, headers, b"zz\r\n" + json_body() + b"\r\n0\r\n\r\n")
    assert status == 400 and envelope["statusCode"] == 400
    [error] = envelope["errors"]
    assert error["field"] == "body" and error["code"] == "InvalidInput"
    assert error["message"].startswith("The request body is malformed chunked encoding")
    body = json_body()
    good = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    assert send(server, headers, good)[0] == 201
