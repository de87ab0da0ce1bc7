"""Both directions of a proxied exchange, checked against the spec.

A violation names its side (request or response), the check that failed (the keys of CHECKS, also
the report's rows), the field or header, and why. Request problems are the ones the mock itself
would have answered with (its 401, 403, 400 or 415 items); response problems reuse the spec's own
response checks (ResponseSpec.violations and header_problems), as scenario files do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from ..exchange import Reply
from ..spec import JSON_MEDIA_TYPE, Operation, Spec, is_json

CHECKS = {
    "request_route": "the request's path and method are an operation of the spec",
    "request_auth": "the request carries the credentials the spec requires",
    "request_media_type": "the request body has a media type the spec accepts",
    "request_schema": "the request's parameters and body match the spec",
    "response_status": "the response status is documented for the operation",
    "response_media_type": "the response body has the documented media type",
    "response_headers": "the response carries the documented headers, with valid values",
    "response_schema": "the response body matches the documented schema",
}
_REQUEST_CHECK = {
    404: "request_route",
    405: "request_route",
    401: "request_auth",
    403: "request_auth",
    415: "request_media_type",
}


@dataclass(frozen=True)
class Violation:
    side: str  # "request" or "response"
    check: str  # a key of CHECKS
    field: str | None  # a body field (`data.port`), a header, `status` or `body`
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"in": self.side, **{k: v for k, v in asdict(self).items() if k != "side"}}


def request_violations(refusal: Reply) -> list[Violation]:
    """What the mock would have refused the request for, as violations (its error items): its router's
    404 or 405, authentication's 401 or 403, validation's 415 or 400."""
    check = _REQUEST_CHECK.get(refusal.status, "request_schema")
    errors = refusal.body.get("errors") if isinstance(refusal.body, dict) else None
    return [
        Violation("request", check, item.get("field"), str(item.get("message")))
        for item in errors or []
        if isinstance(item, dict)
    ]


def response_violations(
    spec: Spec, operation: Operation, status: int, headers: Mapping[str, str], mimetype: str, content: bytes
) -> tuple[list[Violation], Any]:
    """Every way the upstream's response breaks the documented one, and its body parsed (None when
    it is not JSON)."""
    parsed = _json(content) if is_json(mimetype) else None
    body = None if parsed is _NOT_JSON else parsed
    documented = operation.responses.get(status) or spec.shared_response(status)
    if documented is None:
        listed = ", ".join(str(s) for s in sorted(operation.responses))
        message = f"{status} is not documented for {operation.operation_id} (documented: {listed})."
        return [Violation("response", "response_status", "status", message)], body
    found = [
        Violation("response", "response_headers", name, f"header {name} {text}.")
        for name, text in documented.header_problems(headers)
    ]
    if documented.validator is None:
        return found, body  # the spec documents no body for this status: nothing more to hold it to
    if not is_json(mimetype):
        sent = f"Content-Type {mimetype}" if mimetype else "A body without Content-Type"
        problem = f"{sent} is not what the spec documents ({JSON_MEDIA_TYPE})."
        return [*found, Violation("response", "response_media_type", "Content-Type", problem)], body
    if parsed is _NOT_JSON:
        return [*found, Violation("response", "response_schema", "body", "The body is not valid JSON.")], None
    found += [
        Violation("response", "response_schema", v.field or "body", v.message) for v in documented.violations(body)
    ]
    return found, body


_NOT_JSON = object()


def _json(content: bytes) -> Any:
    if not content.strip():
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return _NOT_JSON
