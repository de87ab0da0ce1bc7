"""Shared fixtures: the bundled config, a test client that checks every response against the spec,
and a real `mockserver serve` process on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mockserver import create_app, load_config
from mockserver.config import MockConfig

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
SCENARIOS = ROOT / "scenarios"
SMTP_PATH = "/api/v1/app-integrations/smtp"
HEADERS = {"Auth-Key": "test-key-123", "Brand-URL": "your-domain.com"}


def valid_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "appIntegrationId": "sApKpllz4sAplsmzha",
        "name": "SMTP Integration",
        "host": "smtp.gmail.com",
        "port": 587,
        "username": "mailer",
        "password": "hunter2-secret",
        "useTls": True,
        "isDefault": False,
        "description": "Transactional mail",
        "status": "1 - Active",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def conformance_problems(config: MockConfig, method: str, path: str, response: TestResponse) -> list[str]:
    """Why `response` breaks openapi.yaml, if it does: status documented, JSON body, schema, headers."""
    if response.status_code == 204 or method.upper() == "HEAD":  # no body to check
        return []
    found = config.router.match(path)
    operation = found[0].methods.get(method.upper()) if found else None
    spec_response = operation.responses.get(response.status_code) if operation else None
    spec_response = spec_response or (None if operation else config.spec.shared_response(response.status_code))
    if spec_response is None:
        return [f"{response.status_code} is not documented for {method} {path}"]
    if response.mimetype != "application/json":
        return [f"content type {response.mimetype} is not application/json"]
    problems = [v.message for v in spec_response.violations(response.get_json())]
    return problems + spec_response.header_violations(dict(response.headers))


class ConformingClient(FlaskClient):
    """A test client that fails the test if the mock ever sends a response the spec does not allow."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        request = response.request
        if request.path.startswith("/__mock/"):  # the mock's own admin API and dashboard, not the contract
            return response
        problems = conformance_problems(
            self.application.extensions["mockserver"].config, request.method, request.path, response
        )
        assert not problems, f"{request.method} {request.path} -> {response.status_code}: {problems}"
        return response


@pytest.fixture(scope="session")
def config() -> MockConfig:
    return load_config(SPEC, SCENARIOS)


@pytest.fixture
def app(config: MockConfig):  # type: ignore[no-untyped-def]
    application = create_app(config=config)
    application.test_client_class = ConformingClient
    return application


@pytest.fixture
def client(app) -> FlaskClient:  # type: ignore[no-untyped-def]
    return app.test_client()


def post(client: FlaskClient, body: Any = None, headers: dict[str, str] | None = None, **kwargs: Any) -> TestResponse:
    """POST to the SMTP endpoint with valid headers unless told otherwise."""
    sent = {**HEADERS, **(headers or {})}
    sent = {k: v for k, v in sent.items() if v is not None}
    if body is not None and "data" not in kwargs:
        kwargs["json"] = body
    return client.post(SMTP_PATH, headers=sent, **kwargs)


def errors_of(response: TestResponse) -> list[dict[str, Any]]:
    envelope = response.get_json()
    assert envelope["success"] is False and envelope["statusCode"] == response.status_code
    assert envelope["errors"], "an error envelope names at least one problem"
    return list(envelope["errors"])


# -- a real server process ------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[str]

    def stop(self) -> str:
        """Stop the server and return everything it logged."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        assert self.process.stderr is not None
        return self.process.stderr.read()


def start_server(
    *args: str, cwd: Path = ROOT, timeout: float = 20, env_extra: dict[str, str] | None = None
) -> LiveServer:
    """`mockserver serve --port 0 ARGS`, waiting for the line that says where it listens."""
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env_extra or {})}
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = process.stdout.readline()
    while "http://" not in line:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"server did not start: {line}{process.stderr.read() if process.stderr else ''}")
        line = process.stdout.readline()
    return LiveServer(line[line.index("http://") :].split()[0], process)


@pytest.fixture
def live_server() -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def start(*args: str, **kwargs: Any) -> LiveServer:
        server = start_server(*args, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
