"""Small servers written independently of mockserver, for proving the contract gate.

`docs_server()` follows the documentation page and differs from our mock in everything the docs
leave open: UUID ids, other messages, `details` instead of `message` in error items, null fields
omitted, an extra `createdDate`, only one valid key. Each flaw breaks the contract in one way.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify, request
from jsonschema import Draft202012Validator
from werkzeug.serving import make_server

VALID_KEY = "valid-key-42"
PATH = "/api/v1/app-integrations/smtp"
FLAWS = (
    "server_error",
    "missing_field",
    "wrong_type",
    "accepts_invalid",
    "ignores_auth",
    "no_allow_header",
    "not_json",
)

_TEXT = {"type": "string", "minLength": 1}
_FLAG = {"type": ["boolean", "null"]}
REQUEST = Draft202012Validator(
    {
        "type": "object",
        "required": ["appIntegrationId", "name", "host", "port", "username", "password"],
        "properties": {
            "appIntegrationId": _TEXT,
            "name": _TEXT,
            "host": _TEXT,
            "username": _TEXT,
            "password": _TEXT,
            "port": {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
            "useTls": _FLAG,
            "isDefault": _FLAG,
            "description": {"type": ["string", "null"]},
            "status": {"enum": ["0 - Inactive", "1 - Active"]},
        },
    }
)


def _envelope(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"success": status < 400, "statusCode": status, "message": message, **extra})
    response.status_code = status
    return response


def _error(status: int, message: str, code: str) -> Response:
    return _envelope(status, message, errors=[{"code": code, "details": message, "correlationId": uuid.uuid4().hex}])


TEST_REQUEST = Draft202012Validator(
    {
        "type": "object",
        "required": ["host", "port", "username", "password", "useTls", "emailAddressFrom", "emailAddressTo"],
        "properties": {
            "host": _TEXT,
            "username": _TEXT,
            "password": _TEXT,
            "emailAddressFrom": _TEXT,
            "emailAddressTo": _TEXT,
            "port": {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
            "useTls": {"type": "boolean"},
            "subject": {"type": ["string", "null"]},
            "body": {"type": ["string", "null"]},
        },
    }
)
ROUTES = {PATH: "POST", PATH + "/test": "POST"}  # and PUT PATH/{id}


def docs_server(flaw: str | None = None, lacking: Mapping[str, int] | None = None, delay: float = 0.0) -> Flask:
    """`lacking` maps operations not deployed here ("create", "update", "test") to the status they
    get instead (404, 405 or 501, as a real server's router answers); `delay` slows every answer."""
    app = Flask("docs-server")
    store: dict[tuple[str, str], dict[str, Any]] = {}  # (brand, id) -> integration

    @app.route("/<path:anything>", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "TRACE", "OPTIONS"])
    def dispatch(anything: str) -> Response:
        path = "/" + anything
        allowed = ROUTES.get(path) or ("PUT" if path.startswith(PATH + "/") and path.count("/") == 5 else None)
        if allowed is None:
            return _error(404, "Nothing here.", "NotFound")
        if delay:
            time.sleep(delay)
        kind = "test" if path.endswith("/test") else "update" if allowed == "PUT" else "create"
        if lacking and kind in lacking and request.method == allowed:
            status = lacking[kind]
            return Response(f"{status} {HTTPStatus(status).phrase}\n", status=status, mimetype="text/plain")
        if request.method != allowed:
            response = _error(405, f"Use {allowed}.", "MethodNotAllowed")
            if flaw != "no_allow_header":
                response.headers["Allow"] = allowed
            return response
        refused = _refuse(TEST_REQUEST if path.endswith("/test") else REQUEST)
        if refused is not None:
            return refused
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
        brand = request.headers["Brand-URL"]
        if path.endswith("/test"):
            return _envelope(200, "Sent.", data=True)
        if request.method == "PUT":
            item_id = path.rsplit("/", 1)[1]
            if (brand, item_id) not in store:
                return _error(404, "No such integration.", "AppIntegrationNotFound")
            data = _integration(body, item_id)
            store[(brand, item_id)] = data
            return _envelope(200, "Updated.", data=data)
        if flaw == "server_error" and body.get("isDefault") is True:
            return _error(500, "Oops.", "Internal")
        data = _integration(body, str(uuid.uuid4()))
        store[(brand, data["id"])] = data
        response = _envelope(201, "Created.", data=_flawed(data))
        if flaw == "not_json":
            response = Response(response.get_data(), status=201, mimetype="text/plain")
        return response

    def _refuse(schema: Draft202012Validator) -> Response | None:
        if request.headers.get("Auth-Key") != VALID_KEY and flaw != "ignores_auth":
            return _error(401, "Not authorized.", "Unauthorized")
        if not request.headers.get("Brand-URL"):
            return _error(400, "Brand-URL is required.", "BrandRequired")
        if request.mimetype != "application/json":
            return _error(415, "Send JSON.", "UnsupportedMediaType")
        body = request.get_json(silent=True)
        if flaw != "accepts_invalid" and (body is None or any(True for _ in schema.iter_errors(body))):
            return _error(400, "Bad input.", "InvalidInput")
        return None

    def _flawed(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        if flaw == "missing_field":
            del data["id"]
        if flaw == "wrong_type":
            data["port"] = str(data["port"])
        if flaw == "accepts_invalid":  # whatever came in, send back something that looks right
            data["port"] = data["port"] if isinstance(data["port"], int) and not isinstance(data["port"], bool) else 1
            for name in ("name", "host", "username", "password"):
                data[name] = data[name] if isinstance(data[name], str) else "x"
        return data

    return app


def _integration(body: dict[str, Any], item_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "appIntegration": {"type": "SMTP", "name": "Mail", "status": "Active", "id": str(body.get("appIntegrationId"))},
        "name": body.get("name"),
        "host": body.get("host"),
        "port": body.get("port"),
        "username": body.get("username"),
        "password": body.get("password"),
        "useTls": bool(body.get("useTls")),
        "isDefault": bool(body.get("isDefault")),
        "status": "Active" if body.get("status") == "1 - Active" else "Inactive",
        "id": item_id,
        "createdDate": "2026-11-24T06:00:00Z",
    }
    if body.get("description") is not None:
        data["description"] = body["description"]
    return data


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve `app` on a free loopback port in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def main(argv: list[str]) -> None:
    """`python3 -m tests.servers FLAW --port N`: one of these servers in the background, for trying
    `mockserver contract` by hand (the README does). Returns once it listens; prints how to stop it."""
    import argparse
    import os

    parser = argparse.ArgumentParser(prog="python3 -m tests.servers", description=main.__doc__)
    parser.add_argument("flaw", choices=[*FLAWS, "none"])
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--lacking", action="append", default=[], metavar="OPERATION=STATUS", help="e.g. test=501: not deployed"
    )
    parser.add_argument("--delay", type=float, default=0.0, metavar="S", help="answer S seconds late")
    options = parser.parse_args(argv)
    lacking = {name: int(status) for name, _, status in (item.partition("=") for item in options.lacking)}
    flaw = None if options.flaw == "none" else options.flaw
    server = make_server("127.0.0.1", options.port, docs_server(flaw, lacking, options.delay))
    without = "".join(f", without {name} ({status})" for name, status in lacking.items())
    child = os.fork()
    if child == 0:
        # Stays in the shell's process group: it outlives this command, not the terminal's session.
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)  # werkzeug's request log would land in the reader's terminal
        server.serve_forever()
        os._exit(0)
    print(
        f"serving the docs-following server with the flaw {options.flaw!r}{without} at http://127.0.0.1:{server.port} "
        f"(stop it with: kill {child})"
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
