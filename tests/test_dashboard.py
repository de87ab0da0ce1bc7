"""The dashboard's server side, with Flask's test client: the page and its assets ship in the
package, the API docs model and the served spec, journal entries with both bodies, rules in
words, and the optional admin token."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from mockserver import create_app
from mockserver.config import MockConfig

from .conftest import HEADERS, SMTP_PATH, valid_body

UI = Path(__file__).resolve().parent.parent / "mockserver" / "ui"


def test_a_browser_gets_the_page_and_anything_else_the_endpoint_list(client: FlaskClient) -> None:
    page = client.get("/__mock/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b"<title>mockserver dashboard</title>" in page.data
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for accept in ("application/json", "*/*"):  # curl and scripts keep getting JSON
        listing = client.get("/__mock/", headers={"Accept": accept})
        assert "GET /__mock/journal" in listing.get_json()["endpoints"]


def test_every_asset_the_page_names_is_served_from_the_package(client: FlaskClient) -> None:
    html = (UI / "index.html").read_text()
    for asset in ("app.css", "app.js"):
        assert f"/__mock/ui/{asset}" in html
        response = client.get(f"/__mock/ui/{asset}")
        assert response.status_code == 200 and response.data == (UI / asset).read_bytes()
    assert "http://" not in html and "https://" not in html  # nothing from a CDN: it works offline
    assert "https://" not in (UI / "app.js").read_text()


def test_the_docs_model_resolves_the_spec(client: FlaskClient) -> None:
    model = client.get("/__mock/docs.json").get_json()
    create = next(op for op in model["operations"] if op["id"] == "createSmtpIntegration")
    assert (create["method"], create["path"]) == ("POST", SMTP_PATH)
    parameters = {p["name"]: p for p in create["parameters"]}
    assert parameters["Brand-URL"]["in"] == "header" and parameters["Brand-URL"]["required"]
    assert parameters["Auth-Key"]["description"].startswith("credential")
    fields = {p["name"]: p for p in create["body"]["properties"]}
    assert fields["port"]["type"] == "integer" and fields["port"]["required"]
    assert fields["port"]["constraints"]["format"] == "int32"
    assert create["body"]["example"]["host"]
    assert [r["status"] for r in create["responses"]][:1] == [201]
    assert create["responses"][0]["example"]["success"] is True
    update = next(op for op in model["operations"] if op["id"] == "updateSmtpIntegration")
    assert any(p["in"] == "path" for p in update["parameters"])


def test_the_served_spec_points_at_this_mock(client: FlaskClient, config: MockConfig) -> None:
    document = client.get("/__mock/openapi.json", base_url="http://127.0.0.1:4010").get_json()
    assert document["servers"] == [{"url": "http://127.0.0.1:4010", "description": "this mock"}]
    assert document["paths"].keys() == config.spec.raw["paths"].keys()


def test_journal_entries_carry_both_bodies_secrets_masked_in_the_clients_order(client: FlaskClient) -> None:
    client.post(SMTP_PATH, json=valid_body(port="abc"), headers=HEADERS)
    client.post(SMTP_PATH, json=valid_body(), headers=HEADERS)
    bad, good = client.get("/__mock/journal?limit=2").get_json()["entries"][::-1]
    assert [e["field"] for e in bad["errors"]] == ["port"]
    assert bad["response"]["statusCode"] == 400 and bad["response_headers"]["X-Correlation-Id"]
    assert list(bad["body"]) == list(valid_body())  # as sent, not sorted
    assert good["response"]["data"]["password"] == "***" and good["body"]["password"] == "***"


def test_rules_are_described_in_words(client: FlaskClient) -> None:
    scenarios = {s["name"]: s for s in client.get("/__mock/scenarios").get_json()["scenarios"]}
    throttled = scenarios["third-call-throttled"]["rule_details"][0]
    assert throttled["when"] == ["operation createSmtpIntegration"]
    assert throttled["answers"] == ["pass (the normal answer)", "pass (the normal answer)", "429"]
    assert throttled["sequence"] == {"key": "auth-key", "then": "repeat-last"}
    assert scenarios["flaky-network"]["rule_details"][0]["answers"][1] == "fault connection-reset"
    assert scenarios["forbidden"]["rule_details"][0]["when"] == ["every request"]


@pytest.fixture
def guarded(config: MockConfig) -> FlaskClient:
    return create_app(config=config, admin_token="s3cret-admin").test_client()


def test_the_admin_token_guards_the_dashboard_and_the_admin_api(guarded: FlaskClient) -> None:
    for path in ("/__mock/", "/__mock/journal", "/__mock/ui/app.js", "/__mock/docs.json"):
        refused = guarded.get(path)
        assert refused.status_code == 401, path
        assert "s3cret" not in refused.get_data(as_text=True)
    assert guarded.put("/__mock/scenario", json={"scenario": "forbidden"}).status_code == 401
    assert guarded.get("/__mock/journal", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get("/__mock/journal", headers={"Authorization": "Bearer s3cret-admin"}).status_code == 200
    # the mocked API itself needs no admin token
    assert guarded.post(SMTP_PATH, json=valid_body(), headers=HEADERS).status_code == 201


def test_opening_the_dashboard_with_the_token_sets_a_cookie_and_drops_it_from_the_address(
    guarded: FlaskClient,
) -> None:
    login = guarded.get("/__mock/?token=s3cret-admin&x=1")
    assert login.status_code == 303 and login.headers["Location"] == "/__mock/?x=1"
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/__mock" in cookie
    assert guarded.get("/__mock/journal").status_code == 200  # the cookie now opens it


def test_a_wrong_token_in_the_address_is_refused(guarded: FlaskClient) -> None:
    refused = guarded.get("/__mock/?token=wrong")
    assert refused.status_code == 401 and "Set-Cookie" not in refused.headers
