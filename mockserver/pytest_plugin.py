"""The `mockserver` pytest fixture, installed with the package (entry point `pytest11`).

    def test_shows_rate_limit(mockserver):
        mockserver.use("rate-limited")
        response = requests.post(mockserver.url_for("/api/v1/app-integrations/smtp"), ...)
        assert response.status_code == 429
        mockserver.verify(count=1, method="POST", status=429)

Where the spec and scenarios are: ini options `mockserver_spec` and `mockserver_scenarios`,
relative to the rootdir (defaults: openapi.yaml and scenarios).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .testing import MockServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mockserver_spec", "OpenAPI document the mockserver fixture serves", default="openapi.yaml")
    parser.addini("mockserver_scenarios", "scenario directory of the mockserver fixture", default="scenarios")


@pytest.fixture
def mockserver(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    """A fresh mock on a free loopback port for each test, stopped afterwards."""
    root = request.config.rootpath
    spec = root / str(request.config.getini("mockserver_spec"))
    scenarios = root / str(request.config.getini("mockserver_scenarios"))
    with MockServer(spec, scenarios) as server:
        yield server
