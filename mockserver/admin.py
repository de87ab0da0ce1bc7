"""The admin API under /__mock/: see and switch scenarios, reset state, read and verify the journal,
add expectations at runtime. Plain JSON (not the platform's envelope): it is the mock's own API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from .dashboard import page
from .errors import ConfigError
from .forwarder.report import junit, summarise
from .rules import Rule
from .scenarios import compile_expectation
from .state import MockState, redact

admin = Blueprint("mockserver_admin", __name__, url_prefix="/__mock")


def _state() -> MockState:
    state: MockState = current_app.extensions["mockserver"]
    return state


def _problem(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@admin.get("/")
def index() -> Response:
    """The dashboard for a browser; the list of endpoints for anything else."""
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":  # */* means JSON
        return page()
    return jsonify(
        {
            "endpoints": {
                "GET /__mock/scenarios": "every loaded scenario and which one is active for whom",
                "PUT /__mock/scenario": 'switch: {"scenario": NAME} for everyone, add "brand" or "key" for one caller',
                "DELETE /__mock/scenario": "undo a switch (?brand=... or ?key=..., neither: the one for everyone)",
                "GET /__mock/state": "items kept by stateful scenarios, per collection and Brand-URL; "
                "paged: offset, limit (100 by default, at most 1000), X-Total-Count and Link headers",
                "POST /__mock/reset": "forget stored items, sequence counters and rate-limit windows",
                "GET /__mock/journal": "received requests, newest first; filters: "
                "method, path, status, scenario, operation, limit",
                "DELETE /__mock/journal": "clear the journal",
                "GET /__mock/violations": "serve --upstream: contract violations seen per operation and check "
                "(?format=junit for JUnit XML)",
                "POST /__mock/verify": "count journal entries matching "
                "{method, path, operation, status, scenario, headers, body}",
                "POST /__mock/expectations": "add a rule ahead of every scenario ({when, respond})",
                "DELETE /__mock/expectations": "remove every added rule",
            }
        }
    )


@admin.get("/scenarios")
def scenarios() -> Response:
    state = _state()
    config, control = state.config, state.control()
    return jsonify(
        {
            "default": config.default_scenario.name,
            "active": {
                "everyone": control.everyone,
                "brands": control.by_brand,
                "keys": {f"{key[:8]}…": name for key, name in control.by_key.items()},  # fingerprints
            },
            "scenarios": [
                {
                    "name": s.name,
                    "description": s.description,
                    "source": str(s.source) if s.source else None,
                    "rules": [r.name for r in s.rules],
                    "rule_details": [describe_rule(r) for r in s.rules],
                    "stateful": s.stateful,
                    "outside_contract": s.outside_contract,
                    "rate_limit": s.rate_limit.__dict__ if s.rate_limit else None,
                    # The scenario file's own demo keys: `contract` names them to make ignored_auth meaningful.
                    "auth": {
                        "keys": sorted(s.keys) if s.keys is not None else None,
                        "brands": sorted(s.brands) if s.brands is not None else None,
                    },
                }
                for s in sorted(config.scenarios.values(), key=lambda s: s.name)
            ],
            "expectations": [r.name for r in state.expectations(control)],
            "reload_problems": state.reload_problems,
        }
    )


def describe_rule(rule: Rule) -> dict[str, Any]:
    """A rule in words, for people: when it matches and what it answers."""
    match = rule.match
    when = [f"operation {', '.join(sorted(match.operations))}"] if match.operations else []
    when += [f"header {name}" for name, _ in match.headers] + [f"query {name}" for name, _ in match.query]
    when += ["body " + ".".join(str(p) for p in path) for path, _ in match.body]
    if match.valid_only:
        when.append("after auth and validation")
    answers = []
    for answer in rule.answers:
        if answer.passes:
            answers.append("pass (the normal answer)")
        elif answer.fault:
            answers.append(f"fault {answer.fault}")
        else:
            statuses = sorted({c.status for c in answer.canned.values()})
            answers.append(", ".join(str(s) for s in statuses) or "response")
    sequence = {"key": rule.sequence_key, "then": rule.then} if rule.is_sequence else None
    return {"name": rule.name, "when": when or ["every request"], "answers": answers, "sequence": sequence}


@admin.put("/scenario")
def switch() -> Response:
    body = _json_body()
    state = _state()
    name = body.get("scenario")
    if not isinstance(name, str) or name not in state.config.scenarios:
        return _problem(404, f"no scenario {name!r}", available=sorted(state.config.scenarios))
    state.choose(name, brand=body.get("brand"), key=body.get("key"))
    return scenarios()


@admin.delete("/scenario")
def unswitch() -> Response:
    _state().choose(None, brand=request.args.get("brand"), key=request.args.get("key"))
    return scenarios()


STATE_PAGE = 100  # items in one answer of GET /__mock/state unless ?limit= says otherwise
STATE_PAGE_MAX = 1000


@admin.get("/state")
def stored() -> Response:
    """A page of what the stateful mode keeps, collection -> partition (e.g. Brand-URL) -> id -> item,
    secrets masked: `?offset=` and `?limit=` (STATE_PAGE by default, at most STATE_PAGE_MAX) choose it,
    `X-Total-Count` says how many there are and `Link: <...>; rel="next"` where the next page is."""
    offset = request.args.get("offset", 0, type=int)
    limit = request.args.get("limit", STATE_PAGE, type=int)
    if offset < 0 or not 1 <= limit <= STATE_PAGE_MAX:
        return _problem(400, f"offset must be 0 or more and limit 1 to {STATE_PAGE_MAX}")
    store = _state().store
    total = store.item_count()
    response = jsonify(redact(store.dump(offset, limit)))
    response.headers["X-Total-Count"] = str(total)
    if offset + limit < total:
        response.headers["Link"] = f'</__mock/state?offset={offset + limit}&limit={limit}>; rel="next"'
    return response


@admin.post("/reset")
def reset() -> Response:
    _state().reset()
    return jsonify({"reset": ["stored items", "sequence counters", "rate-limit windows"]})


def _matches(entry: dict[str, Any], criteria: dict[str, Any]) -> bool:
    for name in ("method", "path", "operation", "scenario"):
        wanted = criteria.get(name)
        if wanted is not None and str(entry[name] or "").lower() != str(wanted).lower():
            return False
    status = criteria.get("status")
    if status is not None and str(entry["status"]) != str(status):
        return False
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    for name, value in (criteria.get("headers") or {}).items():
        if headers.get(str(name).lower()) != value:
            return False
    body = entry["body"] if isinstance(entry["body"], dict) else {}
    return all(body.get(name) == value for name, value in (criteria.get("body") or {}).items())


def find(state: MockState, criteria: dict[str, Any]) -> list[dict[str, Any]]:
    """Journal entries matching `criteria`, newest first."""
    return [e for e in reversed(state.store.journal()) if _matches(e, criteria)]


@admin.get("/journal")
def journal() -> Response:
    criteria = {k: v for k, v in request.args.items() if k != "limit"}
    entries = find(_state(), criteria)
    limit = request.args.get("limit", type=int)
    return jsonify({"entries": entries[:limit] if limit is None or limit >= 0 else entries})


@admin.delete("/journal")
def clear_journal() -> Response:
    _state().store.clear_journal()
    return jsonify({"cleared": True})


@admin.get("/violations")
def violations() -> Response:
    """The contract report from proxied traffic (serve --upstream); ?format=junit for JUnit XML."""
    wanted = request.args.get("format", "json")
    if wanted not in ("json", "junit"):
        return _problem(400, f"unknown format {wanted!r}; use json or junit")
    report = summarise(_state().store.journal())
    if wanted == "junit":
        return Response(junit(report), mimetype="application/xml")
    return jsonify(report)


@admin.post("/verify")
def verify() -> Response:
    entries = find(_state(), _json_body())
    return jsonify({"count": len(entries), "ids": [e["id"] for e in entries]})


@admin.post("/expectations")
def expect() -> Response:
    state = _state()
    try:
        source = _json_body()
        compile_expectation(state.config.spec, source)
    except ConfigError as exc:
        return _problem(400, "invalid expectation", problems=[str(p) for p in exc.problems])
    state.expect(source)
    return jsonify({"expectations": [r.name for r in state.expectations()]})


@admin.delete("/expectations")
def clear_expectations() -> Response:
    _state().clear_expectations()
    return jsonify({"expectations": []})
