"""Steps 2-4: choose the scenario, enforce its rate limit, then answer at once if one of its rules
(or `Prefer`) says so.

Scenario precedence, most specific first: `Prefer: code=... / example=...` (Prism's convention),
the `X-Mock-Scenario` header, a runtime choice for the request's Auth-Key, then for its Brand-URL,
then for everyone (admin API), then the scenario the server was started with.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from ..envelope import Problem, error_reply
from ..errors import format_field
from ..exchange import Exchange, Reply
from ..mocker.negotiator import negotiate
from ..rules import MISSING, Answer, Rule
from ..scenarios import template_context
from ..spec import ResponseSpec
from ..templates import TemplateFailedError
from .respond import render

log = logging.getLogger("mockserver.scenario")

SCENARIO_HEADER = "X-Mock-Scenario"


def select_scenario(exchange: Exchange) -> Reply | None:
    config = exchange.config
    control = exchange.control = exchange.state.control()
    name = exchange.request.headers.get(SCENARIO_HEADER)
    if name is not None:
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
    chosen = (
        (control.by_key and control.by_key.get(exchange.state.store.fingerprint(exchange.header("Auth-Key"))))
        or control.by_brand.get(exchange.header("Brand-URL"))
        or control.everyone
    )
    exchange.scenario = config.scenarios.get(chosen or "") or config.default_scenario
    return None


def _subject(exchange: Exchange, key: str) -> str:
    """Who a counter or window counts: keys of the store never hold a credential in clear text."""
    if key == "auth-key":
        return exchange.state.store.fingerprint(exchange.header("Auth-Key"))
    if key == "brand":
        return exchange.state.store.fingerprint(exchange.header("Brand-URL"))
    if key == "client":
        return exchange.request.remote_addr or "-"
    return "-"


def rate_limit(exchange: Exchange) -> Reply | None:
    scenario, operation = exchange.scenario, exchange.operation
    assert scenario is not None and operation is not None
    limit = scenario.rate_limit
    if limit is None:
        return None
    key = f"rate:{scenario.name}:{limit.key}:{_subject(exchange, limit.key)}"
    decision = exchange.state.store.hit(key, limit.limit, limit.window)
    exchange.extra_headers.update(decision.headers())
    if decision.allowed:
        return None
    exchange.decided_by = "rate limit"
    documented = operation.responses.get(429)
    retry = {"Retry-After": str(decision.reset)}
    if documented is None or not documented.examples:  # the spec's shape, filled (error_shapes.py)
        problem = Problem(f"The rate limit of {limit.limit} requests per {limit.window:g} s is reached; retry later.")
        return error_reply(exchange, 429, [problem], headers=retry)
    reply = Reply.from_canned(documented.canned())
    reply.headers.update(retry)
    return reply


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
        if "code" in preferences or "example" in preferences or "dynamic" in preferences:
            dynamic = {"true": True, "false": False}.get(preferences.get("dynamic", "").lower())
            return _preferred(exchange, preferences.get("code"), preferences.get("example"), dynamic)
    if scenario.latency is not None:
        exchange.delay_seconds = scenario.latency.seconds()
    return _first_rule(exchange, valid_only=False)


def validated_response(exchange: Exchange) -> Reply | None:
    """Rules marked `when: {valid: true}` answer only requests that passed auth and validation."""
    if exchange.withheld is not None:  # refused, but on its way to the upstream (--upstream)
        return None
    return _first_rule(exchange, valid_only=True)


def _first_rule(exchange: Exchange, valid_only: bool) -> Reply | None:
    operation, scenario = exchange.operation, exchange.scenario
    assert operation is not None and scenario is not None
    expected = [
        r
        for r in exchange.state.expectations(exchange.control)
        if (r.match.operations is None or operation.operation_id in r.match.operations)
        and r.match.valid_only == valid_only
    ]
    for rule in (*expected, *scenario.rules_for(operation, valid_only)):
        if rule.match.has_conditions and not rule.match.test(exchange.view()):
            continue
        return _apply(exchange, rule)
    return None


def _apply(exchange: Exchange, rule: Rule) -> Reply | None:
    scenario, operation = exchange.scenario, exchange.operation
    assert scenario is not None and operation is not None
    count = 1
    if rule.is_sequence:
        key = f"seq:{scenario.name}:{rule.name}:{_subject(exchange, rule.sequence_key)}"
        count = exchange.state.store.next_count(key)
    answer = rule.answer(count)
    exchange.decided_by = f"{rule.name} #{count}" if rule.is_sequence else rule.name
    if rule.latency is not None:
        exchange.delay_seconds = rule.latency.seconds()
    if answer.passes:
        return None
    if answer.fault is not None:
        return _fault(exchange, answer)
    templates = answer.templates.get(operation.operation_id)
    canned = answer.canned[operation.operation_id]
    if templates is None:
        return Reply.from_canned(canned)
    context = _context(exchange)
    try:
        body, headers = templates[0].render(context), templates[1].render(context)
    except TemplateFailedError as exc:
        return _template_failed(exchange, rule, exc)
    return Reply(canned.status, body, {k: str(v) for k, v in headers.items()})


def _template_failed(exchange: Exchange, rule: Rule, exc: TemplateFailedError) -> Reply:
    """A template that fails on this request (over its budget, or an error) is the scenario's fault:
    a 500 that says which one, one line in the log, and the next request is served as usual."""
    scenario = exchange.scenario.name if exchange.scenario else "-"
    log.warning("template of rule %r in scenario %r failed: %s", rule.name, scenario, exc)
    problem = Problem(
        f"The template at {format_field(exc.path) or 'the response'} of rule {rule.name!r} in scenario "
        f"{scenario!r} failed on this request: {exc.reason}.",
        code="TemplateFailed",
    )
    return error_reply(exchange, 500, [problem])


def _context(exchange: Exchange) -> dict[str, Any]:
    scenario, request = exchange.scenario, exchange.request
    assert scenario is not None
    store = exchange.state.store
    body = exchange.view().body
    return template_context(
        method=request.method,
        path=request.path,
        headers=dict(request.headers.items()),
        query=dict(request.args.items()),
        body=None if body is MISSING else body,
        path_params=exchange.path_params,
        scenario=scenario.name,
        counter=lambda name="default": store.next_count(f"counter:{scenario.name}:{name}"),
    )


def _fault(exchange: Exchange, answer: Answer) -> Reply:
    operation = exchange.operation
    assert operation is not None
    status = answer.status or operation.success_status or 200
    if answer.fault == "malformed-json":
        example = operation.responses[status].example if status in operation.responses else {"success": True}
        whole = orjson.dumps(example)
        return Reply(status, headers={"Content-Type": "application/json"}, payload=whole[: max(1, len(whole) // 2)])
    return Reply(status, fault=answer.fault, hold_seconds=answer.hold_seconds)


def _preferred(exchange: Exchange, code: str | None, example: str | None, dynamic: bool | None = None) -> Reply:
    """`Prefer: code=`, `example=`, `dynamic=` (Prism's conventions) for any documented status and media
    type: a status covered by `4XX` or `default` is answered from it; without an example, a body is
    generated from the schema. An example named under another media type than the one `Accept`
    chooses is sent serialized into the chosen one if its schema admits the value, else refused
    with 400 saying why (never silently replaced by a generated body)."""
    operation = exchange.operation
    assert operation is not None
    documented = ", ".join([*(str(s) for s in sorted(operation.responses)), *operation.ranges])
    examples = operation.example_names()
    response = None
    if code is not None:
        response = operation.response_for(int(code)) if code.isdigit() and 100 <= int(code) <= 599 else None
        if response is None:
            return _bad_prefer(
                exchange,
                f"Prefer: code={code} is not documented for {operation.operation_id}; documented: {documented}.",
            )
        status = int(code)
    elif example in examples:
        status = examples[example]
        response = operation.responses.get(status)
    elif example is None:  # dynamic= alone: the success response
        status, response = operation.success() or (0, None)
    if response is None or (example is not None and example not in _examples_of(response)):
        known = ", ".join(f"{name} ({s})" for name, s in examples.items()) or "none"
        return _bad_prefer(
            exchange,
            f"Prefer: example={example} is not an example of {operation.operation_id}"
            f"{' ' + str(code) if code else ''}; available: {known}.",
        )
    if example is not None:  # the media type Accept chooses may not have it: another's value, if it fits
        media = response.media.get(negotiate(tuple(response.media), exchange.request.headers.get("Accept")) or "")
        why = exchange.config.mocker.named_example(response, media, example)[1] if media is not None else None
        if media is not None and why is not None:
            return _bad_prefer(exchange, f"Prefer: example={example} cannot be sent as {media.media_type}: {why}.")
    exchange.decided_by = "Prefer header"
    reply, _ = render(exchange, status, response, example=example, dynamic=dynamic)
    return reply


def _examples_of(response: ResponseSpec) -> set[str]:
    return {name for media in response.media.values() for name in media.examples}


def _bad_prefer(exchange: Exchange, message: str) -> Reply:
    return error_reply(exchange, 400, [Problem(message, field="Prefer", code="UnknownPreference")])
