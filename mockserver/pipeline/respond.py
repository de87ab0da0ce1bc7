"""Step 6, success: the spec's example for the operation's 2xx, filled in from the request.

Generic over the spec, so a new operation needs no Python code. The conventions:
- the envelope's `data` object (or the whole body when there is no envelope) receives every
  request property it also has; absent or null values take the request schema's `default`, or
  null where the schema admits it (else the example's value stays); `readOnly` ones are the server's;
- `x-rendered-as` on a request property maps request values to response values
  (`"1 - Active"` -> `"Active"`), integral numbers sent as `587.0` are echoed as integers;
- a request property `fooId` fills `foo.id` when the response has a `foo` object;
- `id` gets a fresh identifier shaped like the example's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..envelope import Problem, error_reply
from ..exchange import Exchange, Reply
from ..ids import new_id
from ..spec import StateSpec
from ..state import redact


def _rendered(value: Any, schema: Mapping[str, Any]) -> Any:
    if value is None and "default" in schema:
        value = schema["default"]
    renderings = schema.get("x-rendered-as")
    if isinstance(renderings, dict) and isinstance(value, str | int) and str(value) in renderings:
        return renderings[str(value)]
    if isinstance(value, float) and value.is_integer() and "integer" in _types(schema):
        return int(value)
    return value


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    return [declared] if isinstance(declared, str) else list(declared or [])


def echo(target: dict[str, Any], request: Mapping[str, Any], properties: Mapping[str, Mapping[str, Any]]) -> None:
    for name, schema in properties.items():
        if name in target:
            if name not in request and "default" not in schema and "null" not in _types(schema):
                continue  # not sent, no default, and null is not a value of it: the example's stands
            target[name] = _rendered(request.get(name), schema)
        elif name.endswith("Id") and isinstance(target.get(name[:-2]), dict) and name in request:
            target[name[:-2]] = {**target[name[:-2]], "id": request[name]}
    if "id" in target and "id" not in properties:
        target["id"] = new_id(target["id"])


def respond(exchange: Exchange) -> Reply:
    operation, scenario = exchange.operation, exchange.scenario
    assert operation is not None and scenario is not None
    status = operation.success_status or min(operation.responses)
    response = operation.responses[status]
    body = response.example
    target = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else body
    if isinstance(target, dict) and isinstance(exchange.body, dict) and exchange.media is not None:
        echo(target, exchange.body, exchange.media.properties)
    if scenario.stateful and operation.state is not None and isinstance(target, dict):
        missing = keep(exchange, operation.state, target)
        if missing is not None:
            return missing
    return Reply(status, body, response.example_headers)


def keep(exchange: Exchange, state: StateSpec, item: dict[str, Any]) -> Reply | None:
    """Stateful mode: store what was created; an update needs an item that exists (else 404)."""
    store = exchange.state.store
    partition = exchange.header(state.partition) if state.partition else ""
    if state.action == "update":
        item_id = exchange.path_params.get(state.id_parameter or "id", "")
        if store.get(state.collection, partition, item_id) is None:
            return not_found(exchange, item_id)
        item["id"] = item_id
    if "id" in item:  # kept with its secrets masked; only this answer echoes them, as the spec says
        store.put(state.collection, partition, str(item["id"]), redact(item), state.exclusive)
    return None


def not_found(exchange: Exchange, item_id: str) -> Reply:
    """The spec's own 404 (code and message), with this request's id and correlation id."""
    operation = exchange.operation
    assert operation is not None
    documented = operation.responses.get(404)
    example = documented.example if documented else None
    errors = example.get("errors") if isinstance(example, dict) else None
    code = errors[0].get("code") if isinstance(errors, list) and errors and isinstance(errors[0], dict) else None
    problem = Problem(f"No item with id {item_id!r} exists here.", field="id", code=code or "NotFound")
    return error_reply(exchange, 404, [problem])
