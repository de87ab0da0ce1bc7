"""The Flask application: one catch-all route that hands every request to the pipeline."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from .config import DEFAULT_MAX_BODY_SIZE, MockConfig, load_config
from .envelope import Problem, error_reply
from .exchange import Exchange, Reply
from .pipeline import handle

log = logging.getLogger("mockserver")
JSON = "application/json"


def create_app(
    spec: Path | str = "openapi.yaml",
    scenarios: Path | str = "scenarios",
    scenario: str | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    config: MockConfig | None = None,
) -> Flask:
    """Build the mock for a spec and a scenario directory; raises ConfigError if either is broken."""
    config = config or load_config(spec, scenarios, scenario, max_body_size)
    app = Flask("mockserver")
    app.extensions["mockserver"] = config
    # Every method and every path reaches the pipeline, which routes by the spec itself.
    app.url_map.merge_slashes = False
    for pattern in ("/", "/<path:_path>"):
        app.url_map.add(Rule(pattern, endpoint="mock", methods=None, strict_slashes=False, merge_slashes=False))
    app.view_functions["mock"] = _serve

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        exchange = Exchange(request._get_current_object(), config)  # type: ignore[attr-defined]
        status = exc.code or 500
        return render(error_reply(exchange, status, [Problem(exc.description or exc.name)]))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unexpected error while handling %s %s", request.method, request.path)
        exchange = Exchange(request._get_current_object(), config)  # type: ignore[attr-defined]
        return render(error_reply(exchange, 500, [Problem("The mock failed unexpectedly; see its log.")]))

    return app


def mock_config(app: Flask) -> MockConfig:
    config: MockConfig = app.extensions["mockserver"]
    return config


def _serve(_path: str = "") -> Response:
    from flask import current_app

    exchange = Exchange(request._get_current_object(), mock_config(current_app))  # type: ignore[attr-defined]
    return render(handle(exchange))


def render(reply: Reply) -> Response:
    if reply.status == 204 or (reply.body is None and reply.payload is None):
        return Response(status=reply.status, headers=reply.headers)
    payload = reply.payload if reply.payload is not None else orjson.dumps(reply.body)
    return Response(payload, status=reply.status, headers=reply.headers, mimetype=JSON)
