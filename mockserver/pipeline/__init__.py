"""The request pipeline, in the order a request meets it. Each step may answer (return a Reply)
or pass the request on (return None); `respond` always answers. The journal sees every reply."""

from __future__ import annotations

from collections.abc import Callable

from ..envelope import stamp_correlation_id
from ..exchange import Exchange, Reply
from .auth import authenticate
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
    respond,  # the spec's 2xx, echoing the request (and keeping it, in a stateful scenario)
)


def handle(exchange: Exchange) -> Reply:
    for step in STEPS:
        reply = step(exchange)
        if reply is not None:
            exchange.decided_by = exchange.decided_by or step.__name__
            reply.headers.update(exchange.extra_headers)
            if reply.status >= 400 and reply.fault is None:
                stamp_correlation_id(reply, exchange.correlation_id)
            record(exchange, reply)
            return reply
    raise AssertionError("the last step always answers")  # pragma: no cover


__all__ = ["STEPS", "Step", "handle"]
