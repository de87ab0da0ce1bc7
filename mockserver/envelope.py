"""The platform's response envelope: `{success, statusCode, message, data, errors}`."""

from __future__ import annotations

import dataclasses
from typing import Any

from .error_shapes import Filled, Problem, render, shape_for
from .error_shapes import documented_code as example_code
from .exchange import Exchange, Reply
from .spec import JSON_MEDIA_TYPE

# The platform's standard messages (Jframework Errors page), used where the spec has no example.
STANDARD_MESSAGES = {
    400: "The input is invalid.",
    401: "The user is not authorized.",
    403: "The user has no permission to access the specified resource.",
    404: "Not Found - The resource was not found.",
    405: "Method Not Allowed - HTTP verb not supported.",
    409: "Conflict - A conflict occurred (e.g. duplicate).",
    413: "Payload Too Large - The request body exceeds the size limit.",
    415: "Unsupported Media Type - The body must be sent as application/json.",
    429: "Too Many Requests - Rate limit exceeded.",
    500: "Internal Server Error - Unexpected server error.",
    502: "Bad Gateway - The upstream server's answer could not be used.",
    503: "Service Unavailable - The service is temporarily unavailable.",
    504: "Gateway Timeout - The upstream server did not answer in time.",
}

ERROR_CODES = {
    400: "InvalidInput",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


CORRELATION_HEADER = "X-Correlation-Id"
# Where the problem is told when the spec documents the status without a body.
PROBLEM_HEADER = "X-Mock-Problem"


def logsafe_header(text: str) -> str:
    """Printable ASCII, at most 300 characters: a header value that cannot split the response."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:300]


_CORRELATION_FIELDS = frozenset({"correlationid", "correlation_id"})


def envelope_message(exchange: Exchange, status: int) -> str:
    """The spec's own wording for `status` if it has an example, else the platform's standard one."""
    spec = exchange.config.spec
    response = exchange.operation.responses.get(status) if exchange.operation else None
    response = response or spec.shared_response(status)
    return (response.message if response else None) or STANDARD_MESSAGES.get(status, "The request failed.")


def error_reply(
    exchange: Exchange,
    status: int,
    problems: list[Problem],
    headers: dict[str, str] | None = None,
    message: str | None = None,
    *,
    documented_code: bool = False,
) -> Reply:
    """The mock's own error, in the shape the spec documents for `status` (error_shapes.py), every
    item naming the request's correlation id. With `documented_code`, the code is the one the spec's
    own example for the status gives (a problem's own code, then the standard one, otherwise)."""
    accept = exchange.request.headers.get("Accept")
    shape = shape_for(exchange.config.spec, exchange.operation, status, exchange.config.seed, accept)
    code = example_code(shape) if documented_code else None
    if code is not None:
        problems = [p if p.code is not None else dataclasses.replace(p, code=code) for p in problems]
    filled = Filled(
        status=status,
        problems=problems,
        summary=message or envelope_message(exchange, status),
        code=code or ERROR_CODES.get(status, "Error"),
        correlation_id=exchange.correlation_id,
        path=exchange.request.path,
    )
    body, media_type = render(shape, filled)
    sent = {CORRELATION_HEADER: exchange.correlation_id, **(headers or {})}
    if isinstance(body, bytes):  # XML or text, serialized by render()
        sent["Content-Type"] = f"{media_type}; charset=utf-8"
        return Reply(status, None, sent, payload=body)
    if media_type and media_type != JSON_MEDIA_TYPE:
        sent["Content-Type"] = media_type
    if body is None:
        sent[PROBLEM_HEADER] = logsafe_header(filled.details)
    return Reply(status, body, sent)


def stamp_correlation_id(reply: Reply, correlation_id: str) -> None:
    """Make an error reply name this request, whoever built it: the header, and every correlation id
    field in the body. A rule's, `Prefer`'s or a rate limit's answer starts from the spec's example,
    whose correlation id is a fixed string that would tie unrelated failures together."""
    for name in [k for k in reply.headers if k.lower() == CORRELATION_HEADER.lower()]:
        del reply.headers[name]
    reply.headers[CORRELATION_HEADER] = correlation_id
    if _names_another(reply.body, correlation_id):
        reply.body = _restamped(reply.body, correlation_id)
        reply.payload = None  # serialized again from the restamped body


def _names_another(value: Any, correlation_id: str) -> bool:
    if isinstance(value, dict):
        return any(
            (k.lower() in _CORRELATION_FIELDS and isinstance(v, str) and v != correlation_id)
            or _names_another(v, correlation_id)
            for k, v in value.items()
        )
    return isinstance(value, list) and any(_names_another(v, correlation_id) for v in value)


def _restamped(value: Any, correlation_id: str) -> Any:
    """A copy with every correlation id field set; the original may be a shared, compiled answer."""
    if isinstance(value, dict):
        return {
            k: correlation_id
            if k.lower() in _CORRELATION_FIELDS and isinstance(v, str)
            else _restamped(v, correlation_id)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_restamped(v, correlation_id) for v in value]
    return value


def store_unavailable(exchange: Exchange, retry_after: int) -> Reply:
    """503 while the state store (--state) cannot be reached: the spec's ServiceUnavailable envelope."""
    problem = Problem(f"The mock's state store is unavailable; retry in {retry_after} s.")
    return error_reply(exchange, 503, [problem], headers={"Retry-After": str(retry_after)})
