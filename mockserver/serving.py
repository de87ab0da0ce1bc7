"""The HTTP server the mock runs on (werkzeug's threaded server), and the one thing it adds: faults
that break a connection exactly as asked - a reset (RST), or a close with no response at all."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

from flask import Flask
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

_to_reset: set[int] = set()  # sockets whose closing should be an RST, by id
_lock = threading.Lock()


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's own access log is replaced by the journal, which logs no header values."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def make_environ(self) -> Any:
        """Werkzeug drops header names with `_` (CGI would confuse `api_key` with `api-key`); an API may
        declare one (an apiKey scheme named `api_key`), and granian passes them, so this server does too.
        A name with `-` sent alongside wins, as it is what werkzeug already put there."""
        environ = super().make_environ()
        for key, value in self.headers.items():
            if "_" in key:
                name = "HTTP_" + key.upper().replace("-", "_")
                if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                    environ.setdefault(name, value.replace("\r\n", ""))
        return environ

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        """A fault (or a client gone): end this connection instead of waiting for another request on it."""
        self.close_connection = True


class MockWSGIServer(ThreadedWSGIServer):
    def shutdown_request(self, request: Any) -> None:
        with _lock:
            reset = id(request) in _to_reset
            _to_reset.discard(id(request))
        if reset:  # close at once with SO_LINGER 0: the peer gets RST, not FIN
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.close()
            return
        super().shutdown_request(request)


def make_mock_server(
    host: str, port: int, app: Flask, request_timeout: float = 30.0, fd: int | None = None
) -> MockWSGIServer:
    handler = type("Handler", (_QuietHandler,), {"timeout": request_timeout})
    return MockWSGIServer(host, port, app, handler=handler, fd=fd)


def broken_body(fault: str, connection: socket.socket | None) -> Iterator[bytes]:
    """A response body that breaks before its first byte: nothing at all reaches the client."""
    if fault == "connection-reset" and connection is not None:
        with _lock:
            _to_reset.add(id(connection))
        raise ConnectionResetError("fault: connection-reset")
    raise ConnectionAbortedError(f"fault: {fault}")
    yield b""  # pragma: no cover - makes this a generator, so it raises when iterated
