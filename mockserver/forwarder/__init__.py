"""`serve --upstream URL`: the mock as a validating proxy in front of the real API.

Requests that nothing in the mock answers (no `Prefer`, rule, fault or expectation) are sent on to
the upstream by the pipeline's `forward` step; both directions are checked against the spec
(`checks.py`), exchanges can be written as scenarios that replay them (`recorder.py`), and the
violations seen are summarised for QA (`report.py`). This module holds the settings and the HTTP
client: httpx, for connection pooling, timeouts and TLS verification in one well-kept library.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import httpx  # imported on first use: serve without --upstream never needs it (40 ms of start-up)

    from .recorder import Recorder

DEFAULT_TIMEOUT = 10.0
# The most of an upstream's body the mock holds: it checks bodies whole, and must stay bounded (a 502 past it).
MAX_RESPONSE_SIZE = 32 * 1024 * 1024
# RFC 9110 7.6.1: meaningful for one connection only, never passed on by a proxy (nor those that
# the Connection header names).
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
    | {"proxy-authenticate", "proxy-authorization"}
)
# Not sent upstream: httpx sets Host and Content-Length for the upstream; the mock's own control header.
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "x-mock-scenario"}
# Not passed back: httpx has already decoded the body; the mock's server sets the length of what it
# sends, and its own Date and Server (two of each would confuse clients).
NOT_RETURNED = HOP_BY_HOP | {"content-length", "content-encoding", "date", "server"}


class UpstreamError(Exception):
    """No usable answer from the upstream, said as what it did ("gave no answer: ..."); `timed_out`
    tells 504 from 502."""

    def __init__(self, reason: str, timed_out: bool) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


@dataclass(frozen=True)
class Upstream:
    """What `serve` was told about the real API."""

    url: str
    timeout: float = DEFAULT_TIMEOUT
    strict: bool = False
    mock_operations: frozenset[str] = frozenset()
    record: Path | None = None
    max_response_size: int = MAX_RESPONSE_SIZE

    @property
    def shown(self) -> str:
        """The URL with any user and password masked: fit for logs and the console."""
        parts = urlsplit(self.url)
        if parts.username is None and parts.password is None:
            return self.url
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    headers: list[tuple[str, str]]  # as received, less what must not be passed back
    content: bytes
    elapsed_ms: float

    @property
    def mimetype(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value.split(";", 1)[0].strip().lower()
        return ""


def check_url(url: str) -> str | None:
    """Why `url` cannot be an upstream, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http:// or https:// URL"
    if parts.query or parts.fragment:
        return f"{url!r} has a query or fragment; give the base URL the API's paths go under"
    return None


@dataclass
class Forwarder:
    """Sends requests upstream over a pooled client. The client is made in the process that uses it:
    `--workers` forks after start-up, and a pool's sockets must not be shared between processes."""

    upstream: Upstream
    recorder: Recorder | None = None  # --record DIR
    _clients: dict[int, httpx.Client] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def client(self) -> httpx.Client:
        pid = os.getpid()
        client = self._clients.get(pid)
        if client is None:
            with self._lock:
                client = self._clients.get(pid)
                if client is None:
                    import httpx

                    client = httpx.Client(
                        timeout=httpx.Timeout(self.upstream.timeout),
                        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                        follow_redirects=False,  # a redirect is the upstream's answer, passed on as it is
                    )
                    self._clients = {pid: client}  # a forked child drops its parent's
        return client

    def url_for(self, path: str, query: bytes) -> str:
        base = self.upstream.url.rstrip("/")
        return base + path + (("?" + query.decode("latin-1")) if query else "")

    def send(
        self, method: str, path: str, query: bytes, headers: Iterable[tuple[str, str]], body: bytes
    ) -> UpstreamResponse:
        """One request upstream; raises UpstreamError when there is no answer within the timeout."""
        import httpx

        headers = list(headers)
        named = {n.strip().lower() for k, v in headers if k.lower() == "connection" for n in v.split(",")}
        request_headers = [(k, v) for k, v in headers if k.lower() not in NOT_FORWARDED and k.lower() not in named]
        request = self.client.build_request(
            method, self.url_for(path, query), headers=request_headers, content=body or None
        )
        try:
            response = self.client.send(request, stream=True)
            try:
                content = self._bounded_body(response)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise UpstreamError(
                f"gave no answer within {self.upstream.timeout:g} s ({type(exc).__name__})", True
            ) from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(f"gave no answer: {_reason(exc)}", False) from exc
        raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]  # names as sent
        returned = [(k, v) for k, v in raw if k.lower() not in NOT_RETURNED]
        return UpstreamResponse(response.status_code, returned, content, response.elapsed.total_seconds() * 1000)

    def _bounded_body(self, response: httpx.Response) -> bytes:
        limit, size, chunks = self.upstream.max_response_size, 0, []
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise UpstreamError(f"answered with a body larger than {limit} bytes", False)
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def _reason(exc: httpx.HTTPError) -> str:
    """Why the upstream gave no answer, without the URL (which may carry credentials)."""
    cause = exc.__cause__ or exc.__context__
    detail = str(cause or exc).split("] ", 1)[-1] or type(exc).__name__
    return f"{type(exc).__name__}: {detail}"


__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_RESPONSE_SIZE",
    "Forwarder",
    "Upstream",
    "UpstreamError",
    "UpstreamResponse",
    "check_url",
]
