"""Last step, the journal: every request is remembered (bounded) for the admin API and logged in
one line. Secrets are masked before anything is kept: header values such as Auth-Key, query
parameters such as token, and body fields such as password never reach the journal or the log in
clear text. The log line is written by a thread (mockserver/accesslog.py), not on the request path."""

from __future__ import annotations

import functools
import logging
import time
from typing import Any
from urllib.parse import unquote_plus

from ..accesslog import access_log, log
from ..exchange import Exchange, Reply
from ..rules import MISSING
from ..spec import is_json
from ..state import REDACTED, is_secret, redact


@functools.lru_cache(maxsize=1024)  # the same few header keys on every request
def _header_name(environ_key: str) -> tuple[str, bool] | None:
    """`HTTP_BRAND_URL` -> ("Brand-Url", secret?); None for what is not a header."""
    if environ_key.startswith("HTTP_"):
        name = environ_key[5:].replace("_", "-").title()
    elif environ_key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        name = environ_key.replace("_", "-").title()
    else:
        return None
    return name, is_secret(name)


def _headers(environ: dict[str, Any], credentials: frozenset[str]) -> dict[str, str]:
    """The request's headers, secrets masked; read from the WSGI environ (werkzeug's header view
    costs several times more)."""
    found = {}
    for key, value in environ.items():
        named = _header_name(key)
        if named is not None and value != "":
            found[named[0]] = REDACTED if named[1] or named[0].lower() in credentials else value
    return found


def _query(raw: bytes, credentials: frozenset[str]) -> str:
    """The query string as sent, with the value of every parameter named like a secret (token,
    apiKey, api_key, access_token, password...) or carrying one of the spec's credentials masked."""
    text = raw.decode("latin-1")
    if not text:
        return text
    parts = []
    for part in text.split("&"):
        name, sep, _ = part.partition("=")
        plain = unquote_plus(name)
        parts.append(f"{name}={REDACTED}" if sep and (is_secret(plain) or plain.lower() in credentials) else part)
    return "&".join(parts)


def _body(exchange: Exchange) -> Any:
    """The JSON body as sent, secrets masked. A body of declared length is read even when the answer
    did not need it (a 401, a forced 429): the journal shows what was sent. A chunked body is never
    waited for."""
    request = exchange.request
    if exchange.body is not None:  # validation parsed it
        return redact(exchange.body)
    readable = exchange.body_was_read or 0 < (request.content_length or 0) <= exchange.config.max_body_size
    body = exchange.view().body if readable and is_json(request.mimetype) else MISSING
    return None if body is MISSING else redact(body)


def record(exchange: Exchange, reply: Reply) -> None:
    elapsed_ms = (time.perf_counter() - exchange.started) * 1000
    request = exchange.request
    scenario = exchange.scenario.name if exchange.scenario else None
    errors = reply.body.get("errors") if reply.status >= 400 and isinstance(reply.body, dict) else None

    store = exchange.state.store
    if store.journal_size:
        credentials = exchange.config.spec.credential_names
        entry = {
            "time": time.time(),
            "method": request.method,
            "path": request.path,
            "query": _query(request.query_string, credentials),
            "headers": _headers(request.environ, credentials),
            "body": _body(exchange),
            "operation": exchange.operation.operation_id if exchange.operation else None,
            "scenario": scenario,
            "rule": exchange.decided_by,
            "status": reply.status,
            "response": redact(reply.body) if reply.body is not None else None,
            "response_headers": {k: REDACTED if is_secret(k) else v for k, v in reply.headers.items()},
            "errors": list(errors) if isinstance(errors, list) else [],
            "elapsed_ms": round(elapsed_ms, 3),
        }
        if exchange.violations is not None:  # proxied (serve --upstream): what broke the contract, both ways
            entry["violations"] = exchange.violations
        store.record(entry)
    if log.isEnabledFor(logging.INFO):
        violations = len(exchange.violations or [])
        access_log.add(
            request.method,
            request.path,
            reply.status,
            scenario or "-",
            exchange.decided_by,
            f", {violations} contract violation{'s' * (violations != 1)}" if violations else "",
            elapsed_ms,
        )
