"""Step 5, request validation: parameters, then the body (media type, size, JSON, schema).

Everything here answers at once with the platform's envelope; nothing reads more than the size
limit, and every parser failure is a 400, never an exception that escapes.
"""

from __future__ import annotations

from typing import Any

import orjson
from werkzeug.exceptions import ClientDisconnected

from ..envelope import Problem, error_reply
from ..exchange import Exchange, Reply
from ..jsondoc import MAX_DEPTH
from ..spec import BodySpec, Operation, ParameterSpec, is_json
from ..validation import describe_violations

MALFORMED_CHUNKS = "The request body is malformed chunked encoding: a chunk size or terminator is invalid or missing."


def validate_request(exchange: Exchange) -> Reply | None:
    operation = exchange.operation
    assert operation is not None
    problems = _parameter_problems(exchange, operation)
    if problems:
        return error_reply(exchange, 400, problems)
    if operation.body is None:
        return None
    return _read_body(exchange, operation.body)


def _parameter_value(exchange: Exchange, parameter: ParameterSpec) -> str | None:
    request = exchange.request
    if parameter.location == "header":
        return request.headers.get(parameter.name)
    if parameter.location == "query":
        return request.args.get(parameter.name)
    if parameter.location == "cookie":
        return request.cookies.get(parameter.name)
    return exchange.path_params.get(parameter.name)


def _coerce(value: str, schema_type: Any) -> Any:
    """Parameters arrive as text; read them as the type the schema asks for when they are one."""
    types = [schema_type] if isinstance(schema_type, str) else list(schema_type or [])
    if "integer" in types and value.lstrip("-").isdigit():
        return int(value)
    if "number" in types:
        try:
            return float(value)
        except ValueError:
            return value
    if "boolean" in types and value in ("true", "false"):
        return value == "true"
    return value


def _parameter_problems(exchange: Exchange, operation: Operation) -> list[Problem]:
    problems = []
    for parameter in operation.parameters:
        value = _parameter_value(exchange, parameter)
        label = f"{parameter.name} {parameter.location}"
        if value is None:
            if parameter.required:
                problems.append(Problem(f"The required {label} is missing.", field=parameter.name))
            continue
        if parameter.validator is None:
            continue
        for violation in describe_violations(parameter.validator, _coerce(value, parameter.schema_type)):
            problems.append(Problem(f"{parameter.name} {violation.text}", field=parameter.name))
    return problems


def _media_type_problem(exchange: Exchange, body: BodySpec) -> Problem | None:
    request = exchange.request
    mimetype = request.mimetype  # lower-cased, parameters stripped
    accepted = [t.split(";", 1)[0].strip().lower() for t in body.media_types]
    if mimetype not in accepted:
        sent = f"Content-Type {mimetype}" if mimetype else "A body without Content-Type"
        return Problem(f"{sent} is not supported; send {' or '.join(accepted)}.", field="Content-Type")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if is_json(mimetype) and charset.replace("-", "") != "utf8":
        return Problem(f"charset={charset} is not supported; JSON must be UTF-8.", field="Content-Type")
    return None


def _read_body(exchange: Exchange, body: BodySpec) -> Reply | None:
    request = exchange.request
    declared = request.content_length
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not declared and not chunked:
        if body.required:
            return error_reply(exchange, 400, [Problem("The request body is required.", field="body")])
        return None
    media_problem = _media_type_problem(exchange, body)
    if media_problem is not None:
        return error_reply(exchange, 415, [media_problem])
    unread = read_whole_body(exchange)
    if unread is not None:
        return unread
    payload = exchange.raw_body()
    if not payload.strip():
        empty = "The request body is empty; send a JSON document."
        if chunked and not payload and exchange.server_blanks_bad_input:
            empty = "The request body is empty or its chunked encoding is malformed; send a JSON document."
        return error_reply(exchange, 400, [Problem(empty, field="body")])
    if not body.takes_json:
        return None  # a non-JSON body the mock does not interpret
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return error_reply(exchange, 400, [Problem(_json_problem(payload, exc), field="body")])
    if body.validator is not None:
        violations = describe_violations(body.validator, document)
        if violations:
            return error_reply(exchange, 400, [Problem(v.message, field=v.field or "body") for v in violations])
    exchange.body = document
    return None


def read_whole_body(exchange: Exchange) -> Reply | None:
    """Read the body within the size limit; the 413 or 400 (closing the connection) when it cannot be
    read whole. Such a body can be neither validated nor forwarded."""
    try:
        exchange.raw_body()
    except (ClientDisconnected, OSError):  # werkzeug's server raises OSError for a bad chunk size too
        chunked = "chunked" in exchange.request.headers.get("Transfer-Encoding", "").lower()
        broken = MALFORMED_CHUNKS if chunked else "The request body ended before its declared length."
        return error_reply(exchange, 400, [Problem(broken, field="body")], headers={"Connection": "close"})
    if exchange.body_over_limit:
        too_large = Problem(f"The request body is larger than {exchange.config.max_body_size} bytes.", field="body")
        return error_reply(exchange, 413, [too_large], headers={"Connection": "close"})
    return None


def _json_problem(payload: bytes, exc: orjson.JSONDecodeError) -> str:
    """Say why the body is not JSON in the words a client developer needs."""
    nul = payload.find(b"\x00")
    if nul >= 0:
        return f"The request body contains a NUL byte at position {nul}; it is not valid JSON."
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"The request body is not valid UTF-8 (byte 0x{payload[bad.start]:02x} at position {bad.start})."
    if "depth" in exc.msg:
        return f"The request body is nested too deeply (more than {MAX_DEPTH} levels)."
    return f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
