"""Everything under /__mock/ (the admin API and the dashboard) belongs to the person running the mock,
not to the web pages their browser has open. A page on another origin can send requests to
127.0.0.1 (and read the answers, if CORS lets it); a DNS-rebound name can even make it look
same-origin. So every request under /__mock/ passes one guard, in this order:

1. its `Host` must be one this mock answers to as itself (DNS rebinding fails here);
2. it must not come from another origin (`Origin`, or `Sec-Fetch-Site` where a browser sends no
   Origin), unless that origin was allowed with --admin-origin;
3. a call that changes state must send JSON or no body at all (an HTML form cannot), and no body
   may exceed ADMIN_MAX_BODY (a declared length over it is refused unread, a chunked body at the limit);
4. the admin token, when one is set.

Every answer under /__mock/ also forbids framing and carries the dashboard's Content-Security-Policy.
The mocked API is not guarded: it is meant for frontends on any origin (--cors-origin)."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Response, jsonify, redirect, request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Response as ResponseBase

from .spec import is_json

log = logging.getLogger("mockserver.guard")
ADMIN_PATH = re.compile(r"/__mock(?:/|$)")  # what the guard covers; flask-cors gets the same pattern
API_PATH = re.compile(r"(?!/__mock(?:/|$))")  # everything else: the mocked API
ADMIN_MAX_BODY = 1024 * 1024  # an expectation or a verify query is a few KiB
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_COOKIE = "mockserver_admin"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",  # no <script>/<img> on another origin gets the bytes
}
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})


def is_admin_path(path: str) -> bool:
    return ADMIN_PATH.match(path) is not None


@dataclass(frozen=True)
class AdminPolicy:
    """Who may use /__mock/: `hosts` (names the mock answers to, besides loopback ones; "*": any),
    `origins` (other origins allowed, from --admin-origin; "*": any), `any_ip` (bound to every interface:
    any IP address is a Host the mock answers to, since an address cannot be rebound), the token."""

    hosts: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()
    any_ip: bool = False
    token: str | None = None

    @classmethod
    def for_bind(
        cls, host: str, allowed_hosts: Iterable[str] = (), origins: Iterable[str] = (), token: str | None = None
    ) -> AdminPolicy:
        """The policy for a mock bound to `host`: loopback names always, the bound name itself, each
        --allowed-host; bound to every interface (0.0.0.0, ::), any IP address too."""
        wildcard = host in WILDCARD_BINDS
        names = {_host_name(name) for name in (*allowed_hosts, *([] if wildcard else [host]))}
        return cls(frozenset(names), frozenset(o.rstrip("/").lower() for o in origins), wildcard, token or None)

    def allows_host(self, host: str) -> bool:
        name = _host_name(host)
        if name == "localhost" or "*" in self.hosts or name in self.hosts:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        return address.is_loopback or self.any_ip

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.origins or origin.lower() in self.origins


def _host_name(host: str) -> str:
    """`Host` without its port or IPv6 brackets, lower-cased: `[::1]:8080` -> `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _refuse(status: int, message: str, close: bool = False) -> Response:
    """The refusal, also logged: a page probing the mock shows in its terminal."""
    log.warning(
        "refused %s %s (Host %s, Origin %s): %s",
        request.method,
        request.path,
        request.host,
        request.headers.get("Origin", "none"),
        message.split(";", 1)[0],
    )
    response = jsonify({"error": message})
    response.status_code = status
    if close:  # part of the request is left unread: this connection cannot carry another
        response.headers["Connection"] = "close"
    return response


def guard(policy: AdminPolicy) -> ResponseBase | None:
    """The before-request hook for /__mock/: None lets the request through, else the refusal."""
    if not is_admin_path(request.path):
        return None
    host = request.host
    if not policy.allows_host(host):
        return _refuse(
            403,
            f"this mock does not answer to the Host {host!r} under /__mock/ (a guard against DNS rebinding); "
            f"start it with --allowed-host {_host_name(host) or 'NAME'} to use that name",
        )
    if _cross_origin(policy):
        return _refuse(
            403,
            "the admin API and dashboard refuse calls from pages on other origins; "
            "start the mock with --admin-origin ORIGIN to allow one",
        )
    refused = _body_refusal()
    if refused is not None:
        return refused
    if request.method == "OPTIONS":  # a CORS preflight carries no credentials and changes nothing
        return None
    return check_token(policy.token)


def _cross_origin(policy: AdminPolicy) -> bool:
    """Sent by a page on another origin? Browsers send `Origin` with every call that can change state
    and with every cross-origin fetch; `Sec-Fetch-Site` tells the rest (an <img>, a <script>)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        own = f"{request.scheme}://{request.host}".lower()
        return origin.lower() != own and not policy.allows_origin(origin)
    site = request.headers.get("Sec-Fetch-Site")
    if site not in ("cross-site", "same-site"):
        return False  # same-origin, typed in by the user ("none"), or no browser at all
    # Following a link to the dashboard from another site is fine: the page cannot read what opens.
    # Opening it in a frame is not (frame-ancestors 'none' says so to the browser, this to the server).
    followed = request.headers.get("Sec-Fetch-Mode") == "navigate" and request.headers.get("Sec-Fetch-Dest") in (
        "document",
        None,
    )
    return not (request.method in ("GET", "HEAD") and followed)


def _body_refusal() -> Response | None:
    """A state-changing call sends JSON or nothing (no HTML form can send JSON); no body over the limit.
    The body is read here (one byte past the limit at most), so the views find it cached."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    declared = request.content_length
    changes_state = request.method not in SAFE_METHODS
    if changes_state and not is_json(request.mimetype) and (request.mimetype or declared or chunked):
        return _refuse(415, "the admin API takes JSON: send Content-Type: application/json, or no body")
    if not declared and not chunked:
        return None
    request.max_content_length = ADMIN_MAX_BODY + 1  # werkzeug stops silently at the limit: one more byte tells
    try:
        over = len(request.get_data(cache=True)) > ADMIN_MAX_BODY  # a declared length over it: nothing read
    except RequestEntityTooLarge:
        over = True
    except ClientDisconnected:
        return _refuse(400, "the request body ended before it was complete", close=True)
    if over:  # the rest of the body is never read
        return _refuse(413, f"the admin API takes bodies of at most {ADMIN_MAX_BODY} bytes", close=True)
    return None


def secure_headers(response: ResponseBase) -> ResponseBase:
    """The after-request hook: no answer under /__mock/ may be framed, sniffed, or run foreign code."""
    if is_admin_path(request.path):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def check_token(token: str | None) -> ResponseBase | None:
    """With an admin token set, /__mock/ answers only to it: `Authorization: Bearer TOKEN`, or a
    cookie set by opening any /__mock/ page once with `?token=TOKEN`."""
    if not token:
        return None
    given = request.args.get("token")
    if given is not None and hmac.compare_digest(given.encode(), token.encode()):
        args = {k: v for k, v in request.args.items() if k != "token"}
        target = request.path + ("?" + urlencode(args) if args else "")
        response = redirect(target, code=303)  # the token leaves the address bar and the history
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/__mock")
        return response
    header = request.headers.get("Authorization", "")
    offered = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE, "")
    if offered and hmac.compare_digest(offered.encode(), token.encode()):
        return None
    response = jsonify(
        {"error": "this mock's admin API needs its token: Authorization: Bearer TOKEN, or open /__mock/?token=TOKEN"}
    )
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="mockserver admin"'
    return response
