"""Step 4, authentication: the spec's security schemes, narrowed by the scenario's `auth` lists.

Checked before the body, as the platform does: a request without a key learns nothing else.
"""

from __future__ import annotations

from werkzeug.wrappers import Request

from ..envelope import Problem, error_reply
from ..exchange import Exchange, Reply
from ..spec import SecurityScheme

BRAND_HEADER = "Brand-URL"


def credential(request: Request, scheme: SecurityScheme) -> str:
    if scheme.location == "query":
        return request.args.get(scheme.parameter, "")
    if scheme.location == "cookie":
        return request.cookies.get(scheme.parameter, "")
    return request.headers.get(scheme.parameter, "")


def authenticate(exchange: Exchange) -> Reply | None:
    operation, scenario, request = exchange.operation, exchange.scenario, exchange.request
    assert operation is not None and scenario is not None
    if operation.security:
        presented = None
        for alternative in operation.security:
            values = [credential(request, scheme).strip() for scheme in alternative]
            if all(values):
                presented = values[0]
                break
        if presented is None:
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
