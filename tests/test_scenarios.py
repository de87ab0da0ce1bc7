"""Steps 2-3: choosing a scenario per server, per request, or with Prism's `Prefer` header."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from mockserver import ConfigError, create_app, load_config
from mockserver.config import MockConfig
from mockserver.scenarios import scenario_schema

from .conftest import SCENARIOS, SPEC, errors_of, post, valid_body

BUNDLED = [
    "flaky-network",
    "forbidden",
    "hanging",
    "quota",
    "rate-limited",
    "restricted",
    "rules-demo",
    "slow",
    "stateful",
    "success",
    "templated",
    "third-call-throttled",
    "unauthorized",
    "validation-error",
]


def test_bundled_scenarios(config: MockConfig) -> None:
    assert sorted(config.scenarios) == BUNDLED
    assert config.default_scenario.name == "success"
    assert all(s.description for s in config.scenarios.values())


@pytest.mark.parametrize(
    ("scenario", "status"),
    [("success", 201), ("unauthorized", 401), ("forbidden", 403), ("rate-limited", 429), ("validation-error", 400)],
)
def test_scenario_per_request(client: FlaskClient, scenario: str, status: int) -> None:
    response = post(client, valid_body(), headers={"X-Mock-Scenario": scenario})
    assert response.status_code == status  # and ConformingClient checked it against the spec


def test_rate_limited_sends_retry_after(client: FlaskClient) -> None:
    response = post(client, valid_body(), headers={"X-Mock-Scenario": "rate-limited"})
    assert response.headers["Retry-After"] == "30"
    assert response.get_json()["message"] == "The user has exceeded the rate limit."


def test_partial_scenario_body_is_merged_over_the_spec_example(client: FlaskClient) -> None:
    envelope = post(client, valid_body(), headers={"X-Mock-Scenario": "unauthorized"}).get_json()
    assert envelope["message"] == "The user is not authorized."  # from the scenario
    assert envelope["success"] is False and envelope["data"] is None  # from the spec's example
    assert "expired" in envelope["errors"][0]["message"]


def test_validation_error_scenario_names_fields(client: FlaskClient) -> None:
    response = post(client, valid_body(), headers={"X-Mock-Scenario": "validation-error"})
    assert [e["field"] for e in errors_of(response)] == ["port", "host"]


def test_server_scenario_applies_when_the_request_names_none() -> None:
    client = create_app(config=load_config(SPEC, SCENARIOS, scenario="forbidden")).test_client()
    assert post(client, valid_body()).status_code == 403
    assert post(client, valid_body(), headers={"X-Mock-Scenario": "success"}).status_code == 201


def test_unknown_scenario_is_400_listing_the_available_ones(client: FlaskClient) -> None:
    response = post(client, valid_body(), headers={"X-Mock-Scenario": "nope"})
    assert response.status_code == 400
    problem = errors_of(response)[0]
    assert problem["field"] == "X-Mock-Scenario" and problem["code"] == "UnknownScenario"
    assert "'nope'" in problem["message"] and ", ".join(BUNDLED) in problem["message"]


def test_forced_response_comes_before_auth(client: FlaskClient) -> None:
    """A frontend can see a 429 without having a key set up yet."""
    response = post(client, None, headers={"Auth-Key": None, "X-Mock-Scenario": "rate-limited"})
    assert response.status_code == 429


class TestPrefer:
    @pytest.mark.parametrize("status", [201, 400, 401, 403, 413, 415, 429])
    def test_code(self, client: FlaskClient, status: int) -> None:
        assert post(client, valid_body(), headers={"Prefer": f"code={status}"}).status_code == status

    def test_example_by_name(self, client: FlaskClient) -> None:
        response = post(client, valid_body(), headers={"Prefer": "example=docsPage"})
        assert response.status_code == 201
        assert response.get_json()["data"]["appIntegration"]["name"] == "Stripe"  # the docs page, verbatim

    def test_code_and_example(self, client: FlaskClient) -> None:
        response = post(client, valid_body(), headers={"Prefer": 'code=201, example="created"'})
        assert response.status_code == 201

    def test_prefer_wins_over_the_scenario(self, client: FlaskClient) -> None:
        headers = {"Prefer": "code=403", "X-Mock-Scenario": "rate-limited"}
        assert post(client, valid_body(), headers=headers).status_code == 403

    def test_other_preferences_are_ignored(self, client: FlaskClient) -> None:
        assert post(client, valid_body(), headers={"Prefer": "return=minimal"}).status_code == 201

    @pytest.mark.parametrize(
        ("prefer", "words"),
        [
            ("code=418", "code=418 is not documented"),
            ("code=abc", "code=abc is not documented"),
            ("example=nope", "example=nope is not an example"),
            ("code=401, example=docsPage", "example=docsPage is not an example of createSmtpIntegration 401"),
        ],
    )
    def test_unknown_code_or_example_is_400(self, client: FlaskClient, prefer: str, words: str) -> None:
        response = post(client, valid_body(), headers={"Prefer": prefer})
        assert response.status_code == 400
        problem = errors_of(response)[0]
        assert words in problem["message"] and problem["field"] == "Prefer"


# -- loading: broken scenario files are named with file, line, field and reason --------------------


def test_scenario_schema_is_valid_json_schema() -> None:
    Draft202012Validator.check_schema(scenario_schema())


def _problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "broken.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(SPEC, tmp_path)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules:\n  - respond: [\n", "broken.yaml:3: invalid YAML"),
        ("rules:\n\t- x\n", "broken.yaml:2: invalid YAML"),
        ("- just\n- a list\n", "broken.yaml:1: must be an object"),
        ("descripton: typo\n", "broken.yaml:1: Additional properties are not allowed ('descripton'"),
        (
            "rules:\n  - when: {operation: nope}\n    respond: {status: 201}\n",
            "broken.yaml:2: rules[0].when.operation: no operation 'nope' in openapi.yaml "
            "(known: createSmtpIntegration, updateSmtpIntegration, testSmtpIntegration)",
        ),
        (
            "rules:\n  - respond:\n      status: 418\n",
            "broken.yaml:3: rules[0].respond.status: 418 is not documented for createSmtpIntegration",
        ),
        ("rules:\n  - respond:\n      status: '429'\n", "broken.yaml:3: rules[0].respond.status: must be an integer"),
        (
            "rules:\n  - respond:\n      status: 429\n      body:\n        statusCode: 200\n",
            "broken.yaml:5: rules[0].respond.body.statusCode: must be 429 "
            "(the spec's createSmtpIntegration 429 response)",
        ),
        (
            "rules:\n  - respond:\n      status: 201\n      body:\n        data:\n          port: '587'\n",
            "broken.yaml:6: rules[0].respond.body.data.port: must be an integer (int32)",
        ),
        (
            "rules:\n  - respond:\n      status: 201\n      example: nope\n",
            "broken.yaml:4: rules[0].respond.example: no example 'nope' for createSmtpIntegration 201",
        ),
        ("auth:\n  keys: []\n", "broken.yaml:2: auth.keys: must have at least 1 item."),
    ],
)
def test_broken_scenario_is_named_precisely(tmp_path: Path, text: str, expected: str) -> None:
    problems = _problems(tmp_path, text)
    assert any(expected in p for p in problems), problems


def test_every_broken_file_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("rules: 5\n")
    (tmp_path / "b.yaml").write_text("{{{\n")
    with pytest.raises(ConfigError) as caught:
        load_config(SPEC, tmp_path)
    assert sorted(p.file.name for p in caught.value.problems) == ["a.yaml", "b.yaml"]


def test_empty_scenario_file_is_a_pass_through(tmp_path: Path) -> None:
    (tmp_path / "quiet.yaml").write_text("")
    config = load_config(SPEC, tmp_path, scenario="quiet")
    assert post(create_app(config=config).test_client(), valid_body()).status_code == 201


def test_unknown_server_scenario_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no scenario 'nope' \\(available: flaky-network, forbidden, hanging"):
        load_config(SPEC, SCENARIOS, scenario="nope")


def test_missing_scenario_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scenario directory not found"):
        load_config(SPEC, tmp_path / "absent")
