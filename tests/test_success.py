"""Step 6: a valid create answers 201 with the integration as the platform would return it."""

from __future__ import annotations

import re

import orjson
import pytest
from flask.testing import FlaskClient

from .conftest import post, valid_body

DOCS_ID = re.compile(r"^[A-Za-z0-9]{18}$")  # shaped like the docs' `sApKpllz4sAplsmzha`


def created(client: FlaskClient, **changes: object) -> dict:  # type: ignore[type-arg]
    response = post(client, valid_body(**changes))
    assert response.status_code == 201, response.get_json()
    envelope = response.get_json()
    assert (envelope["success"], envelope["statusCode"], envelope["errors"]) == (True, 201, [])
    return dict(envelope["data"])


def test_request_is_echoed(client: FlaskClient) -> None:
    data = created(client)
    sent = valid_body()
    for name in ("name", "host", "port", "username", "password", "useTls", "isDefault", "description"):
        assert data[name] == sent[name], name
    assert data["status"] == "Active"
    assert data["appIntegration"]["id"] == sent["appIntegrationId"]
    assert data["appIntegration"]["type"] == "SMTP"


@pytest.mark.parametrize("value", [None, ...])
def test_absent_or_null_flags_default_to_false(client: FlaskClient, value: object) -> None:
    data = created(client, useTls=value, isDefault=value)
    assert (data["useTls"], data["isDefault"]) == (False, False)


@pytest.mark.parametrize(
    ("sent", "rendered"), [("0 - Inactive", "Inactive"), ("1 - Active", "Active"), (..., "Inactive")]
)
def test_status_is_rendered_by_name(client: FlaskClient, sent: object, rendered: str) -> None:
    assert created(client, status=sent)["status"] == rendered


def test_description_absent_or_null_is_null(client: FlaskClient) -> None:
    assert created(client, description=...)["description"] is None
    assert created(client, description=None)["description"] is None


def test_integral_float_port_is_an_int32(client: FlaskClient) -> None:
    response = post(
        client, data=orjson.dumps(valid_body()).replace(b'"port":587', b'"port":587.0'), content_type="application/json"
    )
    assert response.status_code == 201
    assert b'"port":587,' in response.data  # echoed as 587, not 587.0
    assert created(client, port=2**31 - 1)["port"] == 2**31 - 1
    assert created(client, port=-(2**31))["port"] == -(2**31)


def test_every_create_gets_a_fresh_id_shaped_like_the_docs(client: FlaskClient) -> None:
    ids = [created(client)["id"] for _ in range(500)]
    assert len(set(ids)) == 500
    assert all(DOCS_ID.match(i) for i in ids)


def test_docs_page_sample_request_is_accepted(client: FlaskClient) -> None:
    sample = {
        "appIntegrationId": "text",
        "name": "text",
        "host": "text",
        "port": 1,
        "username": "text",
        "password": "text",
        "useTls": True,
        "isDefault": True,
        "description": "text",
        "status": "0 - Inactive",
    }
    response = post(client, sample)
    assert response.status_code == 201
    assert response.get_json()["data"]["status"] == "Inactive"


def test_unicode_is_echoed_intact(client: FlaskClient) -> None:
    assert created(client, name="Почта 📧 \u0000 end")["name"] == "Почта 📧 \u0000 end"
