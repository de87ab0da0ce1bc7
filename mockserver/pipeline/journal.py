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

from ..accesslog import access_log, log
from ..exchange import Exchange, Reply
from ..rules import MISSING
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


def _body_readable(exchange: Exchange) -> bool:
    """Whether the journal shows the body: one validation parsed, or a JSON one of declared length
    within the limit, read even when the answer did not need it (a 401, a forced 429). A chunked
    body is never waited for."""
    if exchange.body is not None:
        return True
    request = exchange.request
    readable = exchange.body_was_read or 0 < (request.content_length or 0) <= exchange.config.max_body_size
    return readable and is_json(request.mimetype)


def _body(exchange: Exchange) -> Any:
    """The JSON body as sent, secrets masked."""
    if exchange.body is not None:  # validation parsed it
        return redact(exchange.body)
    body = exchange.view().body if _body_readable(exchange) else MISSING
    return None if body is MISSING else redact(body)


class Draft:
    """A journal entry as recorded: the finished exchange and its reply, built into a masked
    JournalRecord only when a store keeps it (see store.Deferred). The stores build an entry when
    it is read or flushed, and never one that the newest `journal_size` have already pushed out:
    under load most entries are never read, and building one (masking the headers, query and both
    bodies) cost about 12 of the 65 us a request took in-process. A journal above store.LAZY_JOURNAL
    entries builds each as it comes. Nothing unmasked leaves the process."""

    __slots__ = ("elapsed_ms", "exchange", "reply", "time")

    def __init__(self, exchange: Exchange, reply: Reply, moment: float, elapsed_ms: float) -> None:
        self.exchange, self.reply, self.time, self.elapsed_ms = exchange, reply, moment, elapsed_ms

    def build(self) -> JournalRecord:
        exchange, reply = self.exchange, self.reply
        request = exchange.request
        credentials = exchange.config.spec.credential_names
        errors = reply.body.get("errors") if reply.status >= 400 and isinstance(reply.body, dict) else None
        entry = {
            "time": self.time,
            "method": request.method,
            "path": request.path,
            "query": _query(request.query_string, credentials),
            "headers": _headers(request.environ, credentials),
            "body": _body(exchange),
            "operation": exchange.operation.operation_id if exchange.operation else None,
            "scenario": exchange.scenario.name if exchange.scenario else None,
            "rule": exchange.decided_by,
            "status": reply.status,
            "response": redact(reply.body) if reply.body is not None else None,
            "response_headers": {k: REDACTED if is_secret(k) else v for k, v in reply.headers.items()},
            "errors": list(errors) if isinstance(errors, list) else [],
            "elapsed_ms": round(self.elapsed_ms, 3),
        }
        if exchange.violations is not None:  # proxied (serve --upstream): what broke the contract, both ways
            entry["violations"] = exchange.violations
        return entry


def record(exchange: Exchange, reply: Reply) -> None:
    elapsed_ms = (time.perf_counter() - exchange.started) * 1000
    request = exchange.request
    store = exchange.state.store
    if store.journal_size:
        if _body_readable(exchange):
            exchange.raw_body()  # read now: the request's stream may be gone by the time the entry is built
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
