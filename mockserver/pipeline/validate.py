"""Step 5, request validation: parameters, then the body (media type, size, parsing, schema).

Everything here answers at once with the platform's envelope; nothing reads more than the size
limit, and every parser failure is a 400, never an exception that escapes. How each parameter style
and each media type is read lives in mockserver/validator/.
"""

from __future__ import annotations

from typing import Any

import orjson
from werkzeug.exceptions import ClientDisconnected

from ..envelope import Problem, error_reply
from ..exchange import Exchange, Reply
from ..spec import BodySpec, MediaSpec, Operation, ParameterSpec, is_json
from ..validation import describe_violations
from ..validator.bodies import READERS, BodyError, charset_known
from ..validator.deserializers import MISSING, StyleError, from_pairs, from_text

MALFORMED_CHUNKS = "The request body is malformed chunked encoding: a chunk size or terminator is invalid or missing."


def refusal_status(operation: Operation, in_path: bool = False) -> int:
    """The status that refuses a request breaking the contract, as the spec documents it: 400 (or a
    `4XX`/`default` that covers it), else a documented 422, else for a path parameter a documented 404
    (no item has that id). Only a spec documenting none of them gets an undocumented 400."""
    if operation.response_for(400) is not None:
        return 400
    if 422 in operation.responses:
        return 422
    return 404 if in_path and 404 in operation.responses else 400


def validate_request(exchange: Exchange) -> Reply | None:
    operation = exchange.operation
    assert operation is not None
    problems = _parameter_problems(exchange, operation)
    if problems:
        in_path = {p.field for p in problems} <= {p.name for p in operation.parameters if p.location == "path"}
        return error_reply(exchange, refusal_status(operation, in_path), problems)
    if operation.body is None:
        return None
    return _read_body(exchange, operation.body)


def parameter_value(exchange: Exchange, parameter: ParameterSpec, claimed: frozenset[str]) -> Any:
    """The parameter as its style (or its `content` media type) says to read it, or MISSING."""
    request, location = exchange.request, parameter.location
    if parameter.plain:  # a scalar in its default style (Brand-URL, an id): the text itself
        text = _text(exchange, parameter)
        return MISSING if text is None else parameter.shape.coerce(text)
    if parameter.media_type is None and location in ("query", "cookie"):
        pairs = request.args if location == "query" else request.cookies
        return from_pairs(parameter.style, pairs, parameter.name, parameter.shape, parameter.explode, claimed)
    text = _text(exchange, parameter)
    if text is None:
        return MISSING
    if parameter.media_type is None:
        return from_text(parameter.style, text, parameter.name, parameter.shape, parameter.explode)
    if not is_json(parameter.media_type):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise StyleError(f"{parameter.name} must be a JSON document ({parameter.media_type}).") from None


def _text(exchange: Exchange, parameter: ParameterSpec) -> str | None:
    """The parameter's text as sent (the first, if a query or cookie name repeats)."""
    location, request = parameter.location, exchange.request
    if location == "header":
        return request.headers.get(parameter.name)
    if location == "query":
        return request.args.get(parameter.name)
    if location == "cookie":
        return request.cookies.get(parameter.name)
    return exchange.path_params.get(parameter.name)


def _parameter_problems(exchange: Exchange, operation: Operation) -> list[Problem]:
    problems = []
    for parameter in operation.parameters:
        try:
            value = parameter_value(exchange, parameter, operation.query_names)
        except StyleError as wrong:
            problems.append(Problem(str(wrong), field=parameter.name))
            continue
        if value is MISSING:
            if parameter.required:
                label = f"{parameter.name} {parameter.location}"
                problems.append(Problem(f"The required {label} is missing.", field=parameter.name))
            continue
        if parameter.validator is None or (value == "" and parameter.allow_empty):
            continue
        for violation in describe_violations(parameter.validator, value):
            problems.append(Problem(f"{parameter.name}{_inside(violation.field)} {violation.text}", parameter.name))
    return problems


def _inside(field: str) -> str:
    """Where in an array or object parameter a violation is: `ids[1]`, `color.R`."""
    return "" if not field else field if field.startswith("[") else "." + field


def _media_type_problem(
    mimetype: str, params: dict[str, str], media: MediaSpec | None, body: BodySpec
) -> Problem | None:
    if media is None:
        sent = f"Content-Type {mimetype}" if mimetype else "A body without Content-Type"
        return Problem(f"{sent} is not supported; send {' or '.join(body.media_types)}.", field="Content-Type")
    charset = params.get("charset", "utf-8").lower()
    if media.kind == "json" and charset.replace("-", "") != "utf8":
        return Problem(f"charset={charset} is not supported; JSON must be UTF-8.", field="Content-Type")
    if media.kind in ("form", "xml", "text") and not charset_known(charset):
        return Problem(f"charset={charset} is not supported.", field="Content-Type")
    return None


def _read_body(exchange: Exchange, body: BodySpec) -> Reply | None:
    request, operation = exchange.request, exchange.operation
    assert operation is not None
    declared = request.content_length
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    mimetype, params = request.mimetype, request.mimetype_params  # lower case, parameters apart
    media = body.media_for(mimetype)
    # A Content-Type without a body is an empty value of that type (a file, text, a form), except JSON.
    empty_value = media is not None and media.kind != "json"
    if not declared and not chunked and not empty_value:
        if body.required:
            required = Problem("The request body is required.", field="body")
            return error_reply(exchange, refusal_status(operation), [required])
        return None
    media_problem = _media_type_problem(mimetype, params, media, body)
    if media_problem is not None:
        return error_reply(exchange, 415, [media_problem])
    assert media is not None
    unread = read_whole_body(exchange)
    if unread is not None:
        return unread
    payload = exchange.raw_body()
    try:
        document = READERS[media.kind](payload, media, params)
    except BodyError as bad:
        status = refusal_status(operation) if bad.status == 400 else bad.status
        return error_reply(exchange, status, [Problem(bad.message, field=bad.field)])
    if media.validator is not None and media.kind != "binary":
        violations = describe_violations(media.validator, document)
        if violations:
            problems = [Problem(v.message, field=v.field or "body") for v in violations]
            return error_reply(exchange, refusal_status(operation), problems)
    exchange.body, exchange.media = document, media
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
