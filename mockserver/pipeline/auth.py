"""Step 4, authentication: the spec's security schemes, narrowed by the scenario's `auth` lists.

Checked before the body, as the platform does: a request without a key learns nothing else.
"""

from __future__ import annotations

from werkzeug.wrappers import Request

from ..envelope import Problem, error_reply
from ..exchange import Exchange, Reply
from ..spec import SecurityScheme

BRAND_HEADER = "Brand-URL"


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
    """The credential as sent, stripped; "" when absent or blank, None when its bytes are not UTF-8."""
    if scheme.location == "query":
        return request.args.get(scheme.parameter, "").strip()
    if scheme.location == "cookie":
        return request.cookies.get(scheme.parameter, "").strip()
    text = header_text(request.headers.get(scheme.parameter, ""))
    return None if text is None else text.strip()


def _unreadable(exchange: Exchange, scheme: SecurityScheme) -> str | None:
    """Why a header credential that was sent cannot be read, if it cannot."""
    if scheme.location != "header" or scheme.parameter not in exchange.request.headers:
        return None
    if credential(exchange.request, scheme) is None:
        return f"The {scheme.parameter} header is not valid: its bytes are not UTF-8."
    if exchange.server_blanks_bad_input and not exchange.header(scheme.parameter):
        return (
            f"The {scheme.parameter} header is empty or not printable ASCII, which this server (--workers) "
            "cannot read; serve without --workers to send it in UTF-8."
        )
    return None


def authenticate(exchange: Exchange) -> Reply | None:
    operation, scenario, request = exchange.operation, exchange.scenario, exchange.request
    assert operation is not None and scenario is not None
    if operation.security:
        presented = None
        for alternative in operation.security:
            values = [credential(request, scheme) for scheme in alternative]
            if all(values):
                presented = values[0]
                break
        if presented is None:
            schemes = [scheme for alternative in operation.security for scheme in alternative]
            unreadable = [(s.parameter, why) for s in schemes if (why := _unreadable(exchange, s))]
            if unreadable:
                field, why = unreadable[0]
                return error_reply(exchange, 401, [Problem(why, field=field)], message="The user is not authorized.")
            names = " or ".join(" and ".join(s.parameter for s in alt) for alt in operation.security)
            where = operation.security[0][0]
            return error_reply(
                exchange,
                401,
                [Problem(f"The request is missing the required {names} {where.location}.", field=where.parameter)],
            )
        if scenario.keys is not None and presented not in scenario.keys:
            field = operation.security[0][0].parameter
            return error_reply(
                exchange,
                401,
                [Problem(f"The {field} is not valid.", field=field)],
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
