"""The Flask application: the admin API under /__mock/, and one catch-all route that hands every
other request to the pipeline."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, jsonify, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from .admin import admin
from .config import DEFAULT_MAX_BODY_SIZE, MockConfig, load_config
from .dashboard import dashboard
from .envelope import Problem, error_reply
from .exchange import Exchange, Reply
from .guard import ADMIN_PATH, API_PATH, AdminPolicy, guard, is_admin_path, secure_headers
from .jsondoc import JsonProvider, dumps
from .pipeline import handle
from .quickrequest import QuickRequest
from .server import DIRECTIONS
from .state import MockState
from .store import StoreUnavailableError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("mockserver")
JSON = "application/json"
CORS_HEADERS = ["Brand-URL", "Auth-Key", "Content-Type", "X-Mock-Scenario", "Prefer", "Accept"]
ADMIN_CORS_HEADERS = ["Authorization", "Content-Type", "Accept"]
EXPOSED_HEADERS = [
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-Correlation-Id",
    "X-Mock-Violations",
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
    admin_token: str | None = None,
    host: str = "127.0.0.1",
    allowed_hosts: Sequence[str] = (),
    admin_origins: Sequence[str] = (),
) -> Flask:
    """Build the mock for a spec and a scenario directory; raises ConfigError if either is broken.
    `host` is the address served on: with `allowed_hosts`, `admin_origins` and `admin_token` it says
    who may use /__mock/ (see guard.py)."""
    config = config or load_config(spec, scenarios, scenario, max_body_size)
    app = Flask("mockserver")
    app.json = JsonProvider(app)  # orjson, any depth; bodies in the journal keep the client's order
    app.extensions["mockserver"] = state or MockState(config, journal_size)
    app.register_blueprint(admin)
    app.register_blueprint(dashboard)
    policy = AdminPolicy.for_bind(host, allowed_hosts, admin_origins, admin_token)
    app.before_request(lambda: guard(policy))
    app.after_request(secure_headers)
    # The mocked API answers the origins of --cors-origin; /__mock/ only those of --admin-origin.
    resources: dict[str | re.Pattern[str], dict[str, Any]] = {}
    if cors_origins:
        resources[API_PATH] = {"origins": list(cors_origins)}
    if policy.origins:
        resources[ADMIN_PATH] = {"origins": sorted(policy.origins), "allow_headers": ADMIN_CORS_HEADERS}
    if resources:
        CORS(
            app,
            resources=resources,
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
        return _http_error(_exchange(), exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        return _unexpected(_exchange())

    @app.errorhandler(StoreUnavailableError)
    def store_down(exc: StoreUnavailableError) -> Response:  # the admin API and dashboard; logged by the store
        response = jsonify({"error": str(exc)})
        response.status_code, response.headers["Retry-After"] = 503, str(exc.retry_after)
        return response

    app.wsgi_app = FastLane(app, cors_origins)  # type: ignore[method-assign]
    return app


class FastLane:
    """The WSGI entry point. API requests from non-browser clients (load tests, contract tests,
    backends) go straight to the pipeline: Flask's request context, URL map and after-request hooks
    cost about as much as the pipeline itself. The admin API and anything with an `Origin` header
    (browsers, which need flask-cors) go through Flask."""

    def __init__(self, app: Flask, cors_origins: Sequence[str]) -> None:
        self.flask_wsgi: WSGIApplication = app.wsgi_app
        self.state = mock_state(app)
        # What flask-cors adds to a request without Origin: the same, without running it.
        self.cors_headers = (
            {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": ", ".join(sorted(EXPOSED_HEADERS))}
            if "*" in cors_origins
            else {}
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        if "HTTP_ORIGIN" in environ or is_admin_path(environ.get("PATH_INFO", "")):
            return self.flask_wsgi(environ, start_response)
        exchange = Exchange(QuickRequest(environ), self.state)
        try:
            reply = answer(exchange)
            if isinstance(reply, Reply):
                return self.send(reply, environ, start_response)
            response = reply
        except HTTPException as exc:
            response = _http_error(exchange, exc)
        except Exception:
            response = _unexpected(exchange)
        response.headers.update(self.cors_headers)
        return response(environ, start_response)

    def send(self, reply: Reply, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        """What werkzeug's Response would send, without building one (a fifth of the request's cost)."""
        headers, payload = _wire(reply)
        headers += [*self.cors_headers.items(), ("Content-Length", str(len(payload)))]
        for name, value in headers:
            if "\n" in value or "\r" in value:  # a template must not be able to split the response
                raise ValueError(f"header {name} contains a line break")
        start_response(_status_line(reply.status), headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" or reply.status == 204 else [payload]


@functools.cache
def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} UNKNOWN"


def mock_state(app: Flask) -> MockState:
    state: MockState = app.extensions["mockserver"]
    return state


def _exchange() -> Exchange:
    return Exchange(request._get_current_object(), mock_state(current_app))  # type: ignore[attr-defined]


def _serve(_path: str = "") -> Response:
    reply = answer(_exchange())
    return render(reply) if isinstance(reply, Reply) else reply


def answer(exchange: Exchange) -> Reply | Response:
    """Run the pipeline. Under mockserver's server, a delay or a fault is handed to it to carry out
    (a timer, a broken connection); elsewhere (Flask's test client) the delay is slept here."""
    reply = handle(exchange)
    directions = exchange.request.environ.get(DIRECTIONS)
    if directions is None:
        return _in_process(exchange, reply)
    directions.delay = exchange.delay_seconds
    if reply.fault is not None:
        directions.fault, directions.hold = reply.fault, reply.hold_seconds
        return Reply(reply.status)  # never sent: the server breaks the connection instead
    return reply


def _in_process(exchange: Exchange, reply: Reply) -> Reply | Response:
    """Without a connection (Flask's test client, another WSGI server) a fault cannot break one: 501."""
    if exchange.delay_seconds > 0:
        time.sleep(exchange.delay_seconds)
    if reply.fault is None:
        return reply
    problem = Problem(
        f"The fault {reply.fault!r} breaks the connection, which only `mockserver serve` can do.",
        code="FaultNotSupported",
    )
    return render(error_reply(exchange, 501, [problem]))


def _http_error(exchange: Exchange, exc: HTTPException) -> Response:
    return render(error_reply(exchange, exc.code or 500, [Problem(exc.description or exc.name)]))


def _unexpected(exchange: Exchange) -> Response:
    request = exchange.request
    log.exception("unexpected error while handling %s %s", request.method, request.path)
    return render(error_reply(exchange, 500, [Problem("The mock failed unexpectedly; see its log.")]))


def _wire(reply: Reply) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body a reply goes out with: JSON unless it says otherwise; no body, no type."""
    headers = [*reply.headers.items(), *reply.repeated_headers]
    if reply.status == 204 or (reply.body is None and reply.payload is None):
        return [(k, v) for k, v in headers if k.lower() != "content-type"], b""
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", JSON))
    return headers, reply.payload if reply.payload is not None else dumps(reply.body)


def render(reply: Reply) -> Response:
    headers, payload = _wire(reply)
    response = Response(payload, status=reply.status, headers=headers)
    if not payload:
        response.headers.pop("Content-Type", None)  # werkzeug adds a default type
    return response
