"""Step 4, authentication: the spec's security schemes, narrowed by the scenario's `auth` lists.

Checked before the body, as the platform does: a request without a credential learns nothing else.
Each scheme is enforced as declared: an API key where its `in` says; http `basic` as well-formed
base64 `user:password`; `bearer`, oauth2 and openIdConnect as a bearer token; any other http scheme
by its name. Alternatives in `security` are ORs, the schemes of one alternative ANDs.
"""

from __future__ import annotations

import base64
import binascii

from werkzeug.wrappers import Request

from ..envelope import Problem, error_reply
from ..exchange import Exchange, Reply
from ..spec import SecurityScheme

BRAND_HEADER = "Brand-URL"
REALM = "mockserver"


def header_text(value: str) -> str | None:
    """A header's bytes read as UTF-8 (WSGI hands them over decoded as latin-1); None when they are not UTF-8."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:  # already text: a test client puts str values in the environ as they are
        return value
    except UnicodeDecodeError:
        return None


def credential(request: Request, scheme: SecurityScheme) -> str | None:
    """The credential `scheme` finds in the request, or None when it is missing or malformed. This is
    what a scenario's `auth: {keys: [...]}` lists: an API key's value, a bearer token, or for basic
    the decoded `user:password`."""
    if scheme.kind == "apiKey":
        if scheme.location == "query":
            value = request.args.get(scheme.parameter, "")
        elif scheme.location == "cookie":
            value = request.cookies.get(scheme.parameter, "")
        else:
            value = header_text(request.headers.get(scheme.parameter, "")) or ""
        return value.strip() or None
    name, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if name.lower() != scheme.scheme or not token:
        return None
    if scheme.scheme == "basic":
        return _basic(token)
    return token


def _basic(token: str) -> str | None:
    """RFC 7617: base64 of `user-id:password`, which must decode to UTF-8 text with a colon."""
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return decoded if ":" in decoded else None


def _unreadable(exchange: Exchange, scheme: SecurityScheme) -> str | None:
    """Why an API key header that was sent cannot be read, if it cannot: named for what it is, not "missing"."""
    if scheme.kind != "apiKey" or scheme.location != "header" or scheme.parameter not in exchange.request.headers:
        return None
    if header_text(exchange.request.headers[scheme.parameter]) is None:
        return f"The {scheme.parameter} header is not valid: its bytes are not UTF-8."
    return None


def describe(scheme: SecurityScheme) -> str:
    """What a client must send for `scheme`, in the words of an error message."""
    if scheme.kind == "apiKey":
        return f"{scheme.parameter} {scheme.location}"
    if scheme.scheme == "basic":
        return "Authorization header with Basic credentials"
    if scheme.scheme == "bearer":
        return "Authorization header with a Bearer token"
    return f"Authorization header with the {scheme.scheme.capitalize()} scheme"


def challenges(security: tuple[tuple[SecurityScheme, ...], ...]) -> dict[str, str]:
    """`WWW-Authenticate` for the schemes that define one (http, oauth2, openIdConnect; not apiKey)."""
    found = [
        f'{scheme.scheme.capitalize()} realm="{REALM}"'
        for alternative in security
        for scheme in alternative
        if scheme.kind != "apiKey"
    ]
    return {"WWW-Authenticate": ", ".join(dict.fromkeys(found))} if found else {}


def authenticate(exchange: Exchange) -> Reply | None:
    operation, scenario, request = exchange.operation, exchange.scenario, exchange.request
    assert operation is not None and scenario is not None
    if operation.security:
        satisfied = []
        for alternative in operation.security:
            values = [credential(request, scheme) for scheme in alternative]
            if all(values):
                satisfied.append(values)
        first = operation.security[0][0]
        if not satisfied:
            schemes = [scheme for alternative in operation.security for scheme in alternative]
            unreadable = [(s.parameter, why) for s in schemes if (why := _unreadable(exchange, s))]
            if unreadable:
                field, why = unreadable[0]
                return error_reply(
                    exchange,
                    401,
                    [Problem(why, field=field)],
                    headers=challenges(operation.security),
                    message="The user is not authorized.",
                )
            wanted = " or ".join(" and ".join(describe(s) for s in alt) for alt in operation.security)
            return error_reply(
                exchange,
                401,
                [Problem(f"The request is missing the required {wanted}.", field=first.parameter)],
                headers=challenges(operation.security),
            )
        if scenario.keys is not None and not any(value in scenario.keys for values in satisfied for value in values):
            return error_reply(
                exchange,
                401,
                [Problem(f"The {first.parameter} is not valid.", field=first.parameter)],
                headers=challenges(operation.security),
                message="The user is not authorized.",
            )
    if scenario.brands is not None:
        brand = request.headers.get(BRAND_HEADER, "").strip()
        if brand and brand not in scenario.brands:  # a missing brand is a validation error (400)
            return error_reply(
                exchange,
                403,
                [Problem(f"The user has no permission to access the brand {brand!r}.", field=BRAND_HEADER)],
            )
    return None
