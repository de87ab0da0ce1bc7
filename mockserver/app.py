"""The Flask application: the admin API under /__mock/, and one catch-all route that hands every
other request to the pipeline."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
from flask import Flask, Response, current_app, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from .admin import admin
from .config import DEFAULT_MAX_BODY_SIZE, MockConfig, load_config
from .envelope import Problem, error_reply
from .exchange import Exchange, Reply
from .pipeline import handle
from .serving import broken_body
from .state import MockState

log = logging.getLogger("mockserver")
JSON = "application/json"
CORS_HEADERS = ["Brand-URL", "Auth-Key", "Content-Type", "X-Mock-Scenario", "Prefer", "Accept"]
EXPOSED_HEADERS = [
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-Correlation-Id",
    "Allow",
]


def create_app(
    spec: Path | str = "openapi.yaml",
    scenarios: Path | str = "scenarios",
    scenario: str | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    config: MockConfig | None = None,
    journal_size: int = 1000,
    cors_origins: Sequence[str] = ("*",),
    state: MockState | None = None,
) -> Flask:
    """Build the mock for a spec and a scenario directory; raises ConfigError if either is broken."""
    config = config or load_config(spec, scenarios, scenario, max_body_size)
    app = Flask("mockserver")
    app.extensions["mockserver"] = state or MockState(config, journal_size)
    app.register_blueprint(admin)
    if cors_origins:
        CORS(
            app,
            origins=list(cors_origins),
            allow_headers=CORS_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
            vary_header=True,
        )
    # Every method and every path reaches the pipeline, which routes by the spec itself.
    app.url_map.merge_slashes = False
    for pattern in ("/", "/<path:_path>"):
        app.url_map.add(Rule(pattern, endpoint="mock", methods=None, strict_slashes=False, merge_slashes=False))
    app.view_functions["mock"] = _serve

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        return render(error_reply(_exchange(), status, [Problem(exc.description or exc.name)]))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unexpected error while handling %s %s", request.method, request.path)
        return render(error_reply(_exchange(), 500, [Problem("The mock failed unexpectedly; see its log.")]))

    return app


def mock_state(app: Flask) -> MockState:
    state: MockState = app.extensions["mockserver"]
    return state


def _exchange() -> Exchange:
    return Exchange(request._get_current_object(), mock_state(current_app))  # type: ignore[attr-defined]


def _serve(_path: str = "") -> Response:
    exchange = _exchange()
    reply = handle(exchange)
    if exchange.delay_seconds > 0:
        time.sleep(exchange.delay_seconds)
    if reply.fault is not None:
        return _fault(reply)
    return render(reply)


def render(reply: Reply) -> Response:
    if reply.status == 204 or (reply.body is None and reply.payload is None):
        empty = Response(status=reply.status, headers=reply.headers)
        empty.headers.pop("Content-Type", None)  # no body, so no type
        return empty
    payload = reply.payload if reply.payload is not None else orjson.dumps(reply.body)
    return Response(payload, status=reply.status, headers=reply.headers, mimetype=JSON)


def _connection() -> socket.socket | None:
    """The client's socket, where the server exposes it."""
    found = request.environ.get("werkzeug.socket")
    return found if isinstance(found, socket.socket) else None


def _fault(reply: Reply) -> Response:
    """Break the connection on purpose: a reset, nothing at all, or silence until `hold` runs out.
    The body raises before its first byte, so the server sends nothing and closes."""
    if reply.fault == "timeout":
        time.sleep(reply.hold_seconds)
    return Response(
        broken_body(reply.fault or "empty-response", _connection()), status=reply.status, direct_passthrough=True
    )
