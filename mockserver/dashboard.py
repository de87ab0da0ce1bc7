"""The dashboard at /__mock/: a page for people, built on the admin API. Its assets ship in the
package (mockserver/ui/, no CDN, no build step), so it works offline. This module serves them,
and digests the spec for the API docs view. Who may use it: mockserver/guard.py."""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory

from .spec import Spec, path_of
from .state import MockState

UI = __import__("pathlib").Path(__file__).parent / "ui"

dashboard = Blueprint("mockserver_dashboard", __name__, url_prefix="/__mock")


def _state() -> MockState:
    state: MockState = current_app.extensions["mockserver"]
    return state


def page() -> Response:
    """The single page; the views are sections of it, chosen by the URL's fragment. Its
    Content-Security-Policy, like every /__mock/ answer's, comes from guard.secure_headers."""
    return send_from_directory(UI, "index.html", max_age=0)


@dashboard.get("/ui/<path:name>")
def asset(name: str) -> Response:
    return send_from_directory(UI, name, max_age=0)


@dashboard.get("/openapi.json")
def openapi_document() -> Response:
    """The spec as served, with `servers` pointing at this mock (so a page can call it)."""
    document = copy.deepcopy(_state().config.spec.raw)
    document["servers"] = [{"url": request.host_url.rstrip("/"), "description": "this mock"}]
    return jsonify(document)


@dashboard.get("/docs.json")
def docs() -> Response:
    return jsonify(docs_model(_state().config.spec))


# -- the API docs view's model: the spec with $refs resolved, shaped for reading --------------


def _deref(spec: Spec, node: Any, depth: int = 0) -> Any:
    if depth > 32:  # a recursive schema: stop expanding
        return {}
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = spec.resolve(path_of(ref))[0]
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return _deref(spec, merged, depth + 1)
        return {k: _deref(spec, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_deref(spec, v, depth + 1) for v in node]
    return node


CONSTRAINTS = ("format", "minLength", "maxLength", "minimum", "maximum", "pattern", "enum", "default")


def _schema_summary(schema: dict[str, Any]) -> dict[str, Any]:
    declared = schema.get("type")
    kind = (
        " | ".join(declared) if isinstance(declared, list) else declared or ("object" if "properties" in schema else "")
    )
    return {
        "type": kind,
        "description": schema.get("description", ""),
        "constraints": {k: schema[k] for k in CONSTRAINTS if k in schema},
    }


def _flatten(schema: dict[str, Any]) -> dict[str, Any]:
    """allOf parts merged, so properties and `required` come from every part."""
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema.get("allOf") or []:
        flat = _flatten(part)
        merged["properties"] = {**merged.get("properties", {}), **flat.get("properties", {})}
        merged["required"] = [*merged.get("required", []), *flat.get("required", [])]
    return merged


def docs_model(spec: Spec) -> dict[str, Any]:
    info = spec.raw.get("info") or {}
    operations = []
    for operation in spec.operations:
        path_item = _deref(spec, spec.raw["paths"][operation.path])
        raw = path_item.get(operation.method.lower()) or {}
        parameters = [
            {
                "name": p["name"],
                "in": p["in"],
                "required": bool(p.get("required")),
                **_schema_summary(p.get("schema") or {}),
                "description": p.get("description", ""),
            }
            for p in [*(path_item.get("parameters") or []), *(raw.get("parameters") or [])]
        ]
        for alternative in operation.security[:1]:
            parameters += [
                {
                    "name": s.parameter,
                    "in": s.location,
                    "required": True,
                    "type": "string",
                    "constraints": {},
                    "description": f"credential ({s.name})",
                }
                for s in alternative
            ]
        body = None
        content = ((raw.get("requestBody") or {}).get("content")) or {}
        media_type = next(iter(content), None)
        if media_type is not None:
            schema = _flatten(content[media_type].get("schema") or {})
            required = set(schema.get("required") or [])
            body = {
                "mediaType": media_type,
                "required": bool((raw.get("requestBody") or {}).get("required")),
                "example": operation.request_example,
                "properties": [
                    {"name": name, "required": name in required, **_schema_summary(_flatten(prop))}
                    for name, prop in (schema.get("properties") or {}).items()
                ],
            }
        operations.append(
            {
                "id": operation.operation_id,
                "method": operation.method,
                "path": operation.path,
                "summary": raw.get("summary", ""),
                "description": raw.get("description", ""),
                "parameters": parameters,
                "body": body,
                "responses": [
                    {
                        "status": status,
                        "description": response.description,
                        "example": next(iter(response.examples.values()), None),
                    }
                    for status, response in sorted(operation.responses.items())
                ],
            }
        )
    return {
        "title": info.get("title", ""),
        "version": info.get("version", ""),
        "description": info.get("description", ""),
        "operations": operations,
    }
