"""Step 1: routing comes from the spec's paths; anything else is a 404 or 405 envelope."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from .conftest import HEADERS, SMTP_PATH, errors_of


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api",
        "/api/v1/app-integrations",
        f"{SMTP_PATH}/",
        f"{SMTP_PATH}x",
        "/api//v1/app-integrations/smtp",
        "/%00",
        "/a/../b",
        "/ünïcode",
    ],
)
def test_unknown_path_is_a_404_envelope(client: FlaskClient, path: str) -> None:
    response = client.post(path, headers=HEADERS, json={})
    assert response.status_code == 404
    assert errors_of(response)[0]["code"] == "NotFound"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "TRACE", "QUERY", "PROPFIND", "CONNECT"])
def test_undeclared_method_is_a_405_with_allow(client: FlaskClient, method: str) -> None:
    response = client.open(SMTP_PATH, method=method, headers=HEADERS)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST, OPTIONS"
    if method != "HEAD":  # HEAD responses carry no body, by HTTP's rules
        assert errors_of(response)[0]["code"] == "MethodNotAllowed"
        assert method in errors_of(response)[0]["message"]


def test_options_says_what_the_path_supports(client: FlaskClient) -> None:
    response = client.options(SMTP_PATH)
    assert response.status_code == 204
    assert response.headers["Allow"] == "POST, OPTIONS"
    assert "Content-Type" not in response.headers and response.data == b""


def test_routing_runs_before_auth(client: FlaskClient) -> None:
    """An unknown route is a 404 even without credentials: nothing is there to protect."""
    assert client.get("/nowhere").status_code == 404
    assert client.get(SMTP_PATH).status_code == 405


def test_templated_paths_match_after_literal_ones() -> None:
    from mockserver.router import Router
    from mockserver.spec import Operation

    def op(method: str, path: str) -> Operation:
        return Operation(f"{method}{path}", method, path, (), None, {}, ())

    router = Router([op("GET", "/items/{id}"), op("GET", "/items/special"), op("PUT", "/items/{id}/tags/{tag}")])
    assert router.match("/items/special")[0].template == "/items/special"  # type: ignore[index]
    item, params = router.match("/items/42")  # type: ignore[misc]
    assert (item.template, params) == ("/items/{id}", {"id": "42"})
    assert router.match("/items/1/tags/blue")[1] == {"id": "1", "tag": "blue"}  # type: ignore[index]
    assert router.match("/items/1/2") is None
    assert router.match("/items/") is None
