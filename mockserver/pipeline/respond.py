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
from ..mocker.bodies import Body, ObjectShape
from ..mocker.negotiator import concrete, negotiate
from ..spec import JSON_MEDIA_TYPE, ResponseSpec, StateSpec
from ..state import redact
from ..validator.shape import Shape


def _rendered(value: Any, schema: Mapping[str, Any]) -> Any:
    if value is None and "default" in schema:
        value = schema["default"]
    if RENDERED_AS in schema:
        renderings = schema[RENDERED_AS]
        if isinstance(renderings, dict) and isinstance(value, (str, int)) and str(value) in renderings:
            return renderings[str(value)]
    if type(value) is float and value.is_integer() and "integer" in _types(schema):
        return int(value)
    return value


RENDERED_AS = "x-rendered-as"


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    return [declared] if isinstance(declared, str) else list(declared or [])


def echo(
    target: dict[str, Any],
    request: Mapping[str, Any],
    properties: Mapping[str, Mapping[str, Any]],
    shape: ObjectShape | None = None,
    fresh_id: bool = True,
    sent: Shape | None = None,
) -> None:
    """Write the request's properties into `target` where it has them (its example or generated
    value says the response carries them). With the response object's `shape`, also the properties it
    declares, never a writeOnly one, and a null where the schema admits none is left out. With the
    request's own shape (`sent`), nested writeOnly properties (a card's cvc) stay out too."""
    write_only = shape.write_only if shape is not None else frozenset()
    for name, schema in properties.items():
        if name in write_only:
            continue
        if name in target:
            if name not in request and "default" not in schema and "null" not in _types(schema):
                continue  # not sent, no default, and null is not a value of it: the example's stands
            value = _rendered(request.get(name), schema)
        elif name.endswith("Id") and isinstance(target.get(name[:-2]), dict) and name in request:
            target[name[:-2]] = {**target[name[:-2]], "id": request[name]}
            continue
        elif shape is not None and name in request and name in shape.properties:
            value = _rendered(request[name], schema)
        else:
            continue
        if isinstance(value, (dict, list)):  # a tuple: `dict | list` would build a union on every call
            if sent is not None:
                value = sent.property(name).without_write_only(value)
            if (
                isinstance(value, dict)
                and isinstance(target.get(name), dict)
                and not (shape and shape.fits(name, value))
            ):
                value = _merged(target[name], value)  # a partial object: laid over the response's own
        elif value is None and shape is not None and name not in shape.nullable:
            if name not in shape.required:
                target.pop(name, None)  # absent rather than a null the response schema refuses
            continue
        target[name] = value
    if fresh_id and "id" in target and "id" not in properties:
        target["id"] = new_id(target["id"])


def _merged(base: Any, value: Any) -> Any:
    """A nested object sent in the request, laid over the response's own: its required fields stay."""
    if isinstance(base, dict) and isinstance(value, dict):
        return {**base, **{k: _merged(base.get(k), v) for k, v in value.items()}}
    return value


def respond(exchange: Exchange) -> Reply:
    operation, scenario = exchange.operation, exchange.scenario
    assert operation is not None and scenario is not None
    status, response = operation.success() or (min(operation.responses), operation.responses[min(operation.responses)])
    reply, body = render(exchange, status, response)
    if body is None or reply.status != status:
        return reply
    in_data = isinstance(reply.body, dict) and isinstance(reply.body.get("data"), dict)
    target = reply.body["data"] if in_data else reply.body
    if isinstance(target, dict) and isinstance(exchange.body, dict) and exchange.media is not None:
        _echo_checked(exchange, response, body, reply.body, ("data",) if in_data else ())
    if scenario.stateful and operation.state is not None and isinstance(target, dict):
        missing = keep(exchange, operation.state, target)
        if missing is not None:
            return missing
    return reply


def _echo_checked(exchange: Exchange, response: ResponseSpec, body: Body, whole: Any, at: tuple[str, ...]) -> None:
    """The echo, then the body checked against its schema: a property the echo made invalid gets
    its generated or example value back, so the echo never breaks the contract."""
    assert exchange.media is not None and exchange.operation is not None
    target: dict[str, Any] = whole["data"] if at else whole
    media = response.media.get(body.content_type or "")
    mocker = exchange.config.mocker
    shape = mocker.object_shape(media, at) if media is not None else None
    before = dict(target)
    sent = exchange.media.shape
    echo(target, exchange.body, exchange.media.properties, shape, fresh_id=not body.generated, sent=sent)
    if media is None or media.schema is None:
        return
    valid = mocker.strict_check(media)
    if valid(whole):
        return
    for name in [k for k in target if k not in before or target[k] is not before[k]]:
        if name in before:  # the echo made the body invalid: its values go back, one at a time
            target[name] = before[name]
        else:
            del target[name]
        if valid(whole):
            return
    target.clear()
    target.update(before)


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
    """The spec's own 404 (its example's code and its message), with this request's id and correlation id."""
    problem = Problem(f"No item with id {item_id!r} exists here.", field="id")
    return error_reply(exchange, 404, [problem], documented_code=True)


def render(
    exchange: Exchange,
    status: int,
    response: ResponseSpec,
    *,
    example: str | None = None,
    dynamic: bool | None = None,
) -> tuple[Reply, Body | None]:
    """The documented response in the media type the request accepts (406 when it accepts none):
    its example, or a body generated from its schema. Also returns the body for a JSON echo."""
    operation = exchange.operation
    assert operation is not None
    mocker = exchange.config.mocker
    headers = mocker.headers(operation, status, response)
    if not response.media:
        return Reply(status, None, headers), None
    accept = exchange.request.headers.get("Accept")
    media_type = negotiate(tuple(response.media), accept)
    if media_type is None:
        return not_acceptable(exchange, response, accept or ""), None
    content_type = concrete(media_type, accept)
    body = mocker.body(
        operation,
        status,
        response,
        media_type,
        exchange.path_params,
        example=example,
        dynamic=dynamic,
        content_type=content_type,
    )
    if body.payload is not None:
        text = content_type.startswith("text/") or content_type.endswith(("xml", "+json"))
        headers["Content-Type"] = content_type + ("; charset=utf-8" if text else "")
        return Reply(status, headers=headers, payload=body.payload), None
    if content_type != JSON_MEDIA_TYPE:
        headers["Content-Type"] = content_type
    return Reply(status, body.value, headers), body


def not_acceptable(exchange: Exchange, response: ResponseSpec, accept: str) -> Reply:
    documented = ", ".join(response.media)
    problem = Problem(
        f"This response is documented as {documented}; the request accepts none of them (Accept: {accept}).",
        field="Accept",
        code="NotAcceptable",
    )
    return error_reply(exchange, 406, [problem])
