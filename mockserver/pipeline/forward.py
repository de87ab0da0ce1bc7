"""With `serve --upstream URL`, the real API answers what the mock does not.

`forward` stands where `respond` would answer: everything before it (scenario switching, rate
limits, `Prefer`, rules, faults, expectations) still answers first. Authentication and validation
still run, but their refusal is withheld (`withhold`) and reported as request violations while the
request goes upstream anyway, as Prism's proxy does; `--strict` lets them answer instead. The
upstream's answer is checked against the spec and passed on unchanged, with `X-Mock-Violations`.
An operation the upstream lacks (an undocumented 404, 405 or 501) and `--mock-operation` ones are
left to `respond`, so the mock fills in what is not deployed yet. A path or method the spec lacks
has no operation to check against: the router hands it to `forward_unrouted`, which sends it on as
it is and reports it.
"""

from __future__ import annotations

import logging
from typing import Any

from ..envelope import Problem, error_reply
from ..exchange import Exchange, Reply
from ..forwarder import Forwarder, UpstreamError, UpstreamResponse
from ..forwarder.checks import Violation, request_violations, response_violations
from .validate import read_whole_body

log = logging.getLogger("mockserver.forward")
VIOLATIONS_HEADER = "X-Mock-Violations"
NOT_IMPLEMENTED = (404, 405, 501)
ADMIN_PREFIX = "/__mock"


def _forwarder(exchange: Exchange) -> Forwarder | None:
    """The forwarder when this request is for the upstream (not an operation the mock always answers)."""
    forwarder = exchange.state.forwarder
    operation = exchange.operation
    if forwarder is None or operation is None or operation.operation_id in forwarder.upstream.mock_operations:
        return None
    return forwarder


def _report(exchange: Exchange, found: list[Violation]) -> None:
    exchange.violations = [*(exchange.violations or []), *(v.as_json() for v in found)]
    exchange.extra_headers[VIOLATIONS_HEADER] = str(len(exchange.violations))


def withhold(exchange: Exchange, refusal: Reply) -> bool:
    """Whether a refusal from authentication or validation is withheld so the request goes upstream
    anyway (reported as violations either way). Not with --strict, and not when the body could not
    be read whole (a 413, a client gone mid-body): there is nothing to forward then."""
    forwarder = _forwarder(exchange)
    if forwarder is None or refusal.headers.get("Connection") == "close":
        return False
    _report(exchange, request_violations(refusal))
    if forwarder.upstream.strict:
        return False
    exchange.withheld = exchange.withheld or refusal
    return True


def forward(exchange: Exchange) -> Reply | None:
    forwarder = exchange.state.forwarder
    if forwarder is None:
        return None
    if _forwarder(exchange) is None:
        exchange.decided_by = "mocked (--mock-operation)"
        return None
    operation = exchange.operation
    assert operation is not None
    answer = _send(exchange, forwarder)
    if isinstance(answer, Reply):
        return answer
    if _not_implemented(exchange, answer):
        exchange.decided_by = f"mocked (upstream answered {answer.status})"
        return exchange.withheld  # what the mock would have said; None lets `respond` answer
    headers_seen = dict(answer.headers)
    found, body = response_violations(
        exchange.config.spec, operation, answer.status, headers_seen, answer.mimetype, answer.content
    )
    _report(exchange, found)
    exchange.decided_by = "upstream"
    if forwarder.recorder is not None:
        forwarder.recorder.keep(exchange, answer.status, headers_seen, body, found)
    if found and forwarder.upstream.strict:
        problems = [Problem(f"The upstream's response: {v.message}", field=v.field) for v in found]
        return error_reply(exchange, 502, problems, message="The upstream's response broke the contract.")
    return _as_it_came(answer, body)


def forward_unrouted(exchange: Exchange, refusal: Reply) -> Reply:
    """A path or method the spec lacks (the router's 404 or 405): with an upstream, forwarded as it is
    and reported as a request violation, since there is no documented response to check it against.
    Not with --strict, and never the mock's own paths under /__mock/."""
    forwarder = exchange.state.forwarder
    if forwarder is None or forwarder.upstream.strict or exchange.request.path.startswith(ADMIN_PREFIX):
        return refusal
    _report(exchange, request_violations(refusal))
    answer = _send(exchange, forwarder)
    if isinstance(answer, Reply):
        return answer
    exchange.decided_by = "upstream (not in the spec)"
    return _as_it_came(answer, None)


def _send(exchange: Exchange, forwarder: Forwarder) -> UpstreamResponse | Reply:
    """The upstream's answer to this request, or the reply that says why there is none."""
    unread = read_whole_body(exchange)  # an operation without a body schema may still be sent one
    if unread is not None:
        return unread
    _report(exchange, [])
    request = exchange.request
    forwarding = _forwarded_for(exchange)  # replaces the client's own, extending X-Forwarded-For
    replaced = {name.lower() for name, _ in forwarding}
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in replaced] + forwarding
    try:
        return forwarder.send(request.method, request.path, request.query_string, headers, exchange.raw_body())
    except UpstreamError as exc:
        return _no_answer(exchange, forwarder, exc)


def _as_it_came(answer: UpstreamResponse, body: Any) -> Reply:
    """The upstream's response for the client, unchanged (several Set-Cookie lines stay several)."""
    first: dict[str, str] = {}
    repeated = []
    for name, value in answer.headers:
        if name in first:
            repeated.append((name, value))
        else:
            first[name] = value
    return Reply(answer.status, body, first, payload=answer.content, from_upstream=True, repeated_headers=repeated)


def _forwarded_for(exchange: Exchange) -> list[tuple[str, str]]:
    """The de facto proxy headers, so the upstream can see who asked and where (RFC 7239's ancestors)."""
    request = exchange.request
    client = request.remote_addr or ""
    earlier = request.headers.get("X-Forwarded-For")
    return [
        ("X-Forwarded-For", f"{earlier}, {client}" if earlier else client),
        ("X-Forwarded-Host", request.host),
        ("X-Forwarded-Proto", request.scheme),
    ]


def _not_implemented(exchange: Exchange, answer: UpstreamResponse) -> bool:
    """An upstream 404, 405 or 501 for an operation the spec has means it is not deployed there, unless
    the spec documents that status for the operation and the answer fits it (an item that does not
    exist is a real 404)."""
    operation = exchange.operation
    assert operation is not None
    if answer.status not in NOT_IMPLEMENTED:
        return False
    documented = operation.responses.get(answer.status)
    if documented is None:
        return True
    found, _ = response_violations(
        exchange.config.spec, operation, answer.status, dict(answer.headers), answer.mimetype, answer.content
    )
    return bool(found)


def _no_answer(exchange: Exchange, forwarder: Forwarder, exc: UpstreamError) -> Reply:
    """A 504 for an upstream that did not answer in time, a 502 for one that cannot be reached or
    answers past the size bound: within the timeout, never a hang."""
    status = 504 if exc.timed_out else 502
    exchange.decided_by = "upstream timed out" if exc.timed_out else "upstream unreachable"
    log.warning("upstream %s: %s", forwarder.upstream.shown, exc)
    problem = Problem(f"The upstream {forwarder.upstream.shown} {exc}.", code="UpstreamUnavailable")
    return error_reply(exchange, status, [problem])
