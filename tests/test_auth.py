"""Step 4: Auth-Key and Brand-URL, checked before the body."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from .conftest import errors_of, post, valid_body


@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_or_empty_auth_key_is_401(client: FlaskClient, key: str | None) -> None:
    response = post(client, valid_body(), headers={"Auth-Key": key})
    assert response.status_code == 401
    envelope = response.get_json()
    assert envelope["message"].startswith("The user is not authorized to access the requested resource.")
    assert errors_of(response)[0]["field"] == "Auth-Key"


def test_auth_is_checked_before_the_body(client: FlaskClient) -> None:
    response = post(client, headers={"Auth-Key": None}, data=b"\xff{not json", content_type="text/plain")
    assert response.status_code == 401


@pytest.mark.parametrize("brand", [None, ""])
def test_missing_or_empty_brand_is_400_naming_it(client: FlaskClient, brand: str | None) -> None:
    response = post(client, valid_body(), headers={"Brand-URL": brand})
    assert response.status_code == 400
    assert [e["field"] for e in errors_of(response)] == ["Brand-URL"]


def test_any_key_and_brand_are_accepted_by_default(client: FlaskClient) -> None:
    assert post(client, valid_body(), headers={"Auth-Key": "anything", "Brand-URL": "b.example"}).status_code == 201


class TestRestrictedScenario:
    """`restricted`: only listed keys (others 401) and brands (others 403)."""

    @staticmethod
    def send(client: FlaskClient, key: str, brand: str) -> int:
        headers = {"Auth-Key": key, "Brand-URL": brand, "X-Mock-Scenario": "restricted"}
        return post(client, valid_body(), headers=headers).status_code

    def test_listed_key_and_brand_are_served(self, client: FlaskClient) -> None:
        assert self.send(client, "demo-key-alice", "acme.example") == 201
        assert self.send(client, "demo-key-bob", "acme.example") == 201

    def test_other_key_is_401(self, client: FlaskClient) -> None:
        assert self.send(client, "demo-key-mallory", "acme.example") == 401

    def test_other_brand_is_403(self, client: FlaskClient) -> None:
        assert self.send(client, "demo-key-alice", "other.example") == 403

    def test_key_is_checked_before_brand(self, client: FlaskClient) -> None:
        assert self.send(client, "nope", "other.example") == 401
