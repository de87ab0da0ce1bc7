"""Steps 2 and 3: choose the scenario, then answer at once if it (or `Prefer`) forces a response.

Precedence, most specific first: `Prefer: code=... / example=...` (Prism's convention), the
`X-Mock-Scenario` header, then the scenario the server was started with.
"""

from __future__ import annotations

from ..envelope import Problem, error_reply
from ..exchange import Exchange, Reply

SCENARIO_HEADER = "X-Mock-Scenario"


def select_scenario(exchange: Exchange) -> Reply | None:
    config = exchange.config
    name = exchange.request.headers.get(SCENARIO_HEADER)
    if name is None:
        exchange.scenario = config.default_scenario
        return None
    scenario = config.scenarios.get(name.strip())
    if scenario is None:
        return error_reply(
            exchange,
            400,
            [
                Problem(
                    f"Unknown scenario {name!r} in {SCENARIO_HEADER}; available: {config.scenario_names()}.",
                    field=SCENARIO_HEADER,
                    code="UnknownScenario",
                )
            ],
        )
    exchange.scenario = scenario
    return None


def parse_prefer(header: str) -> dict[str, str]:
    """`Prefer: code=403, example="x"` -> {"code": "403", "example": "x"} (RFC 7240 preferences)."""
    preferences = {}
    for part in header.replace(";", ",").split(","):
        key, sep, value = part.partition("=")
        if sep:
            preferences[key.strip().lower()] = value.strip().strip('"')
    return preferences


def forced_response(exchange: Exchange) -> Reply | None:
    operation, scenario = exchange.operation, exchange.scenario
    assert operation is not None and scenario is not None
    prefer = exchange.request.headers.get("Prefer")
    if prefer:
        preferences = parse_prefer(prefer)
        if "code" in preferences or "example" in preferences:
            return _preferred(exchange, preferences.get("code"), preferences.get("example"))
    canned = scenario.forced_response(operation)
    if canned is None:
        return None
    exchange.decided_by = "scenario rule"
    return Reply.from_canned(canned)


def _preferred(exchange: Exchange, code: str | None, example: str | None) -> Reply:
    operation = exchange.operation
    assert operation is not None
    documented = ", ".join(str(s) for s in sorted(operation.responses))
    examples = operation.example_names()
    if code is not None:
        if not code.isdigit() or int(code) not in operation.responses:
            return _bad_prefer(
                exchange,
                f"Prefer: code={code} is not documented for {operation.operation_id}; documented: {documented}.",
            )
        status = int(code)
    elif example in examples:
        status = examples[example]
    else:
        status = -1
    response = operation.responses.get(status)
    if response is None or (example is not None and example not in response.examples):
        known = ", ".join(f"{name} ({s})" for name, s in examples.items()) or "none"
        return _bad_prefer(
            exchange,
            f"Prefer: example={example} is not an example of {operation.operation_id}"
            f"{' ' + str(status) if code else ''}; available: {known}.",
        )
    if not response.examples:
        return _bad_prefer(exchange, f"The spec has no example for {operation.operation_id} {status}.")
    exchange.decided_by = "Prefer header"
    return Reply.from_canned(response.canned(example))


def _bad_prefer(exchange: Exchange, message: str) -> Reply:
    return error_reply(exchange, 400, [Problem(message, field="Prefer", code="UnknownPreference")])
