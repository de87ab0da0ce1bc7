"""Step 1, routing: find the operation, or answer 404 / 405 (with `Allow`) / OPTIONS. With
`--upstream`, what the spec lacks goes to the upstream instead (forward.forward_unrouted)."""

from __future__ import annotations

from ..envelope import Problem, error_reply
from ..exchange import Exchange, Reply
from .forward import forward_unrouted


def route(exchange: Exchange) -> Reply | None:
    request = exchange.request
    found = exchange.config.router.match(request.path)
    if found is None:
        refusal = error_reply(exchange, 404, [Problem(f"No operation is declared at {request.path}.")])
        return forward_unrouted(exchange, refusal)
    item, exchange.path_params = found
    method = request.method.upper()
    operation = item.methods.get(method)
    if operation is not None:
        exchange.operation = operation
        return None
    if method == "OPTIONS":  # HTTP semantics (RFC 9110): say what the resource supports
        return Reply(204, headers={"Allow": item.allow})
    supported = ", ".join(sorted(item.methods))
    refusal = error_reply(
        exchange, 405, [Problem(f"{method} is not supported here; use {supported}.")], headers={"Allow": item.allow}
    )
    return forward_unrouted(exchange, refusal)
