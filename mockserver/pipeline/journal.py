"""Last step, the journal: every request is remembered (bounded) for the admin API and logged in
one line. Secrets are masked when an entry is built, before a store writes it anywhere or anyone
reads it: header values such as Auth-Key, query parameters such as token, and body fields such as
password never reach the journal, the state file or the log in clear text. The log line is
written by a thread (mockserver/accesslog.py), not on the request path."""

from __future__ import annotations

import functools
import logging
import time
from typing import Any
from urllib.parse import unquote_plus

import orjson
from werkzeug.exceptions import ClientDisconnected

from ..accesslog import access_log, log
from ..exchange import Exchange, Reply
from ..jsondoc import dumps, loads_any
from ..spec import is_json
from ..state import REDACTED, is_secret, redact
from ..store import JournalRecord


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


def _raw_json_body(exchange: Exchange) -> bytes | None:
    """The JSON body as sent, when the journal shows it: one validation parsed, or one of declared
    length within the limit, read now even when the answer did not need it (a 401, a forced 429).
    A chunked body is never waited for."""
    request = exchange.request
    if exchange.body is None:
        readable = exchange.body_was_read or 0 < (request.content_length or 0) <= exchange.config.max_body_size
        if not readable or not is_json(request.mimetype):
            return None
    elif exchange.media is None or exchange.media.kind != "json":
        return None
    try:
        raw = exchange.raw_body()
    except (OSError, ClientDisconnected):
        return None
    return None if exchange.body_over_limit else raw


class Draft:
    """A journal entry as recorded: what it will show, unmasked and as bytes where it can be, built
    into a masked JournalRecord only when a store keeps it (see store.Deferred). The stores build an
    entry when it is read or flushed, and never one that the newest `journal_size` have already
    pushed out: under load most entries are never read. It keeps the bytes of a JSON body and of a
    JSON reply (serialized here, once, for the wire too), not their trees, and not the exchange: a
    kept entry is a few objects, so a journal of 1,000 costs the request path little. A journal above
    store.LAZY_JOURNAL entries builds each as it comes. Nothing unmasked leaves the process."""

    __slots__ = (
        "body",
        "credentials",
        "elapsed_ms",
        "environ",
        "operation",
        "path",
        "payload",
        "raw_body",
        "response",
        "response_headers",
        "rule",
        "scenario",
        "status",
        "time",
        "violations",
    )

    def __init__(self, exchange: Exchange, reply: Reply, moment: float, elapsed_ms: float) -> None:
        self.time, self.elapsed_ms = moment, elapsed_ms
        request = exchange.request
        self.environ, self.path = request.environ, request.path
        self.raw_body = _raw_json_body(exchange)
        self.body = exchange.body if self.raw_body is None else None  # a form's, XML's... as read
        operation, scenario = exchange.operation, exchange.scenario
        self.operation = operation.operation_id if operation else None
        self.scenario = scenario.name if scenario else None
        self.rule, self.violations = exchange.decided_by, exchange.violations
        self.credentials = exchange.config.spec.credential_names
        self.status, self.response_headers = reply.status, reply.headers
        self.response, self.payload = reply.body, None
        if reply.payload is None and reply.body is not None and reply.status != 204:
            reply.payload = self.payload = dumps(reply.body)  # what the wire sends: kept, not the tree
            self.response = None

    def build(self) -> JournalRecord:
        response, credentials, environ = self.response, self.credentials, self.environ
        if self.payload is not None:
            response = loads_any(self.payload)
        errors = response.get("errors") if self.status >= 400 and isinstance(response, dict) else None
        entry = {
            "time": self.time,
            "method": environ.get("REQUEST_METHOD", "GET").upper(),
            "path": self.path,
            "query": _query(environ.get("QUERY_STRING", "").encode("latin-1"), credentials),
            "headers": _headers(environ, credentials),
            "body": redact(self.body if self.raw_body is None else _parsed(self.raw_body)),
            "operation": self.operation,
            "scenario": self.scenario,
            "rule": self.rule,
            "status": self.status,
            "response": redact(response) if response is not None else None,
            "response_headers": {k: REDACTED if is_secret(k) else v for k, v in self.response_headers.items()},
            "errors": list(errors) if isinstance(errors, list) else [],
            "elapsed_ms": round(self.elapsed_ms, 3),
        }
        if self.violations is not None:  # proxied (serve --upstream): what broke the contract, both ways
            entry["violations"] = self.violations
        return entry


def _parsed(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def record(exchange: Exchange, reply: Reply) -> None:
    elapsed_ms = (time.perf_counter() - exchange.started) * 1000
    request = exchange.request
    store = exchange.state.store
    if store.journal_size:
        store.record(Draft(exchange, reply, time.time(), elapsed_ms))
    if log.isEnabledFor(logging.INFO):
        violations = len(exchange.violations or [])
        access_log.add(
            request.method,
            request.path,
            reply.status,
            exchange.scenario.name if exchange.scenario else "-",
            exchange.decided_by,
            f", {violations} contract violation{'s' * (violations != 1)}" if violations else "",
            elapsed_ms,
        )
