"""`MockServer`: the mock running in a background thread of a test process, with helpers to script
it and to check what a client sent (in the manner of pytest-httpserver)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from .admin import find
from .app import create_app
from .config import load_config
from .scenarios import compile_expectation
from .server import Server
from .state import MockState


class Expectation:
    """`mock.expect(...)` returns one; `.respond(...)` (or `.fault(...)`) arms it."""

    def __init__(self, server: MockServer, when: dict[str, Any]) -> None:
        self._server, self._when = server, when

    def respond(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """Answer matching requests with `status` (body merged over the spec's example)."""
        answer: dict[str, Any] = {"status": status}
        if body is not None:
            answer["body"] = body
        if headers:
            answer["headers"] = headers
        self._arm(answer)

    def respond_in_turn(self, *answers: dict[str, Any] | str, then: str = "repeat-last") -> None:
        """A sequence, e.g. `respond_in_turn("pass", {"status": 429})`."""
        self._arm(list(answers), sequence={"then": then})

    def fault(self, kind: str, **options: Any) -> None:
        """connection-reset, empty-response, malformed-json or timeout (hold=seconds)."""
        self._arm({"fault": kind, **options})

    def _arm(self, respond: Any, **extra: Any) -> None:
        state = self._server.state
        source = {"name": f"expectation {len(state.control().expectations) + 1}", "when": self._when}
        source.update(respond=respond, **extra)
        compile_expectation(state.config.spec, source)  # raises ConfigError now, not on a request
        state.expect(source)


class MockServer:
    def __init__(
        self, spec: Path | str = "openapi.yaml", scenarios: Path | str = "scenarios", scenario: str | None = None
    ) -> None:
        self.state = MockState(load_config(spec, scenarios, scenario))
        self._app = create_app(config=self.state.config, state=self.state)
        listener = socket.create_server(("127.0.0.1", 0))
        self._server = Server(self._app, listener, max_body_size=self.state.config.max_body_size)
        self._thread = threading.Thread(target=self._server.serve_forever, name="mockserver", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.port}"

    def start(self) -> MockServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def url_for(self, path: str) -> str:
        return self.url + path

    def use(self, scenario: str | None, *, brand: str | None = None, key: str | None = None) -> None:
        """Make `scenario` active for everyone, or for one Brand-URL or Auth-Key (None: undo)."""
        if scenario is not None and scenario not in self.state.config.scenarios:
            raise ValueError(f"no scenario {scenario!r}; available: {self.state.config.scenario_names()}")
        self.state.choose(scenario, brand=brand, key=key)

    def expect(
        self,
        operation: str | None = None,
        *,
        headers: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Expectation:
        """Script an answer for matching requests, ahead of every scenario."""
        when: dict[str, Any] = {}
        if operation:
            when["operation"] = operation
        for name, value in (("headers", headers), ("query", query), ("body", body)):
            if value:
                when[name] = value
        return Expectation(self, when)

    def requests(self, **criteria: Any) -> list[dict[str, Any]]:
        """Journal entries (secrets masked), newest first, filtered like POST /__mock/verify."""
        return find(self.state, criteria)

    def verify(self, count: int | None = None, **criteria: Any) -> list[dict[str, Any]]:
        """Assert that matching requests arrived (exactly `count` of them, if given)."""
        found = self.requests(**criteria)
        if (count is None and not found) or (count is not None and len(found) != count):
            seen = [f"{e['method']} {e['path']} -> {e['status']}" for e in self.requests()[:10]]
            wanted = "at least 1" if count is None else str(count)
            raise AssertionError(
                f"expected {wanted} request(s) matching {criteria}, found {len(found)}; "
                f"received (newest first): {seen or 'nothing'}"
            )
        return found

    def reset(self) -> None:
        """Forget stored items, counters, windows, the journal, expectations and scenario choices."""
        self.state.forget_everything()
