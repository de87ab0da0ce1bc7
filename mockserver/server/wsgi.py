"""A request the server has read whole, as a WSGI environ for the app (Flask and its fast lane), and
the app's answer as the status, headers and bytes to send. What WSGI cannot say - wait before
answering, or break the connection - the app writes into the environ's `Directions`."""

from __future__ import annotations

import functools
import io
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

DIRECTIONS = "mockserver.directions"


@dataclass
class Directions:
    """What the app asks of the server beyond its response: answer `delay` seconds late, or break
    the connection (`fault`: connection-reset, empty-response, timeout) once `hold` seconds passed."""

    delay: float = 0.0
    fault: str | None = None
    hold: float = 0.0


@dataclass
class Request:
    """One request as parsed; `body` holds at most the size limit + 1 bytes."""

    method: str
    target: bytes
    version: str
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    chunked: bool = False
    keep_alive: bool = True
    body_broken: bool = False  # the chunked framing was malformed: reading the body fails


@dataclass
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    directions: Directions


class BrokenBody(io.RawIOBase):
    """A body whose chunked framing was malformed: the app's read fails, as a broken socket's would."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise ConnectionAbortedError("malformed chunked request body")


def environ_for(request: Request, server: tuple[str, int], client: tuple[str, int]) -> dict[str, Any]:
    target = request.target
    if target[:1] != b"/" and b"://" in target:  # absolute form: the path is what follows the authority
        rest = target.split(b"://", 1)[1]
        target = b"/" + rest.split(b"/", 1)[1] if b"/" in rest else b"/"
    path, _, query = target.partition(b"?")
    raw_target = request.target.decode("latin-1")
    environ = _constant(server, client).copy()
    environ.update(
        {
            "REQUEST_METHOD": request.method,
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1") if b"%" in path else path.decode("latin-1"),
            "QUERY_STRING": query.decode("latin-1"),
            "REQUEST_URI": raw_target,
            "RAW_URI": raw_target,
            "SERVER_PROTOCOL": f"HTTP/{request.version}",
            "wsgi.input": BrokenBody() if request.body_broken else io.BytesIO(request.body),
            "wsgi.input_terminated": request.chunked,  # werkzeug reads a body without a length only then
            "wsgi.errors": sys.stderr,
            DIRECTIONS: Directions(),
        }
    )
    underscored = []
    keys = _KEYS
    for raw_name, raw_value in request.headers:
        key = keys.get(raw_name)
        if key is None:
            key = _environ_key(raw_name)
        value = raw_value.decode("latin-1")
        if not key:  # CGI would confuse `api_key` with `api-key`: a name with `-` wins
            underscored.append((raw_name.decode("latin-1"), value))
            continue
        if key in environ and key[0] == "H":  # a repeated header (HTTP_...): its values joined
            value = f"{environ[key]},{value}"
        environ[key] = value
    for name, value in underscored:  # an API may declare one (an apiKey scheme named `api_key`)
        key = "HTTP_" + name.upper().replace("-", "_")
        if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            environ.setdefault(key, value)
    return environ


_KEYS: dict[bytes, str] = {}  # a header name as sent -> its environ key ("" for a name with `_`)
_MAX_KEYS = 1024  # names are the client's to choose: the cache stops growing here


def _environ_key(raw_name: bytes) -> str:
    name = raw_name.decode("latin-1")
    key = "" if "_" in name else name.upper().replace("-", "_")
    if key and key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        key = "HTTP_" + key
    if len(_KEYS) < _MAX_KEYS:
        _KEYS[raw_name] = key
    return key


@functools.lru_cache(maxsize=256)  # one per client address and port: the entries no request changes
def _constant(server: tuple[str, int], client: tuple[str, int]) -> dict[str, Any]:
    return {
        "SCRIPT_NAME": "",
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": client[1],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def call(app: WSGIApplication, environ: dict[str, Any]) -> Answer:
    """Run the app on one request; the body it returns, joined."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
        started[:] = [status, headers]
        return _no_write

    result: Iterable[bytes] = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Answer(started[0], started[1], body, environ[DIRECTIONS])


def _no_write(data: bytes) -> None:
    raise NotImplementedError("the mock's app returns its body; it never calls write()")
