"""The request pipeline, in the order a request meets it. Each step may answer (return a Reply)
or pass the request on (return None); `respond` always answers. The journal sees every reply.
In front of an upstream, a refusal from a CHECKS step is reported and withheld (see forward.py)."""

from __future__ import annotations

from collections.abc import Callable

from ..envelope import stamp_correlation_id, store_unavailable
from ..exchange import Exchange, Reply
from ..store import StoreUnavailableError
from .auth import authenticate
from .forward import forward, withhold
from .journal import record
from .respond import respond
from .routing import route
from .scenario import forced_response, rate_limit, select_scenario, validated_response
from .validate import validate_request

Step = Callable[[Exchange], Reply | None]

STEPS: tuple[Step, ...] = (
    route,  # 404 unknown path, 405 + Allow for an undeclared method
    select_scenario,  # X-Mock-Scenario, a runtime choice, or the server's scenario; 400 if unknown
    rate_limit,  # the scenario's real limit: 429 + Retry-After; X-RateLimit-* on every reply
    forced_response,  # Prefer: code/example, or the scenario's first matching rule (sequences, faults)
    authenticate,  # 401 missing/unknown key, 403 brand not served
    validate_request,  # parameters, then body: 415, 413, 400
    validated_response,  # rules that answer only valid requests (`when: {valid: true}`)
    forward,  # --upstream: the real API answers, checked against the spec; or it lacks the operation
    respond,  # the spec's 2xx, echoing the request (and keeping it, in a stateful scenario)
)

CHECKS: frozenset[Step] = frozenset({authenticate, validate_request})


def handle(exchange: Exchange) -> Reply:
    try:
        reply = _first_reply(exchange)
    except StoreUnavailableError as outage:  # logged once per outage by the store itself
        exchange.decided_by = "state store unavailable"
        reply = store_unavailable(exchange, outage.retry_after)
    if exchange.extra_headers:
        reply.headers.update(exchange.extra_headers)
    if reply.status >= 400 and reply.fault is None and not reply.from_upstream:
        stamp_correlation_id(reply, exchange.correlation_id)
    try:  # noqa: SIM105 - contextlib.suppress would build a context manager for every request
        record(exchange, reply)
    except StoreUnavailableError:  # the journal lives in the store that is down
        pass
    return reply


def _first_reply(exchange: Exchange) -> Reply:
    for step in STEPS:
        reply = step(exchange)
        if reply is not None and not (step in CHECKS and withhold(exchange, reply)):
            exchange.decided_by = exchange.decided_by or step.__name__
            return reply
    raise AssertionError("the last step always answers")  # pragma: no cover


__all__ = ["STEPS", "Step", "handle"]
