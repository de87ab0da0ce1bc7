"""One nesting limit everywhere a request goes: a body nested up to 1,024 levels is served (validated,
masked, journaled, stored) by a real server in default mode and under --workers 2; a deeper one is
the spec's 400. Python's recursion limit and orjson's 255-level writer are no longer in the way."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
import requests

from mockserver.jsondoc import MAX_DEPTH, copy_tree, depth, dumps, loads, walk
from mockserver.state import redact
from tests.conftest import HEADERS, SMTP_PATH, LiveServer, valid_body

JSON_HEADERS = {**HEADERS, "Content-Type": "application/json"}


def nested(levels: int) -> Any:
    """`levels` containers, alternating arrays and objects, the innermost holding a password."""
    node: Any = {"password": "hunter2"}
    for level in range(levels - 1):
        node = {"d": node, "n": level} if level % 2 else [node]
    return node


def innermost(value: Any) -> Any:
    while isinstance(value, list) or (isinstance(value, dict) and "d" in value):
        value = value[0] if isinstance(value, list) else value["d"]
    return value


def body_of_depth(levels: int) -> bytes:
    """A valid create whose extra property makes the whole body `levels` deep."""
    body = {**valid_body(), "extra": nested(levels - 1)}
    assert depth(body) == levels
    return dumps(body)


def test_deep_values_round_trip_without_recursion() -> None:
    for levels in (1, 254, 255, 256, MAX_DEPTH, MAX_DEPTH + 2, 5000):
        value = nested(levels)
        text = dumps(value)
        assert depth(loads(text)) == levels
        assert dumps(loads(text)) == text
        assert dumps(copy_tree(value)) == text
    random.seed(7)
    for _ in range(200):  # the iterative writer and reader agree with orjson on ordinary documents
        shallow = {"a": [1, -2.5e-3, 'é"\\\n', True, None, {"b": [], "c": {}}], "d": random.random()}
        assert loads(dumps(shallow)) == shallow
    assert list(walk({"a": [1, {"b": 2}], "c": 3})) == [(("a", 0), 1), (("a", 1, "b"), 2), (("c",), 3)]
    assert depth(copy_tree(nested(600), levels=10)) <= 11
    assert innermost(redact(nested(5000))) == {"password": "***"}


def test_redact_masks_every_secret_whatever_the_shape_and_never_shares_the_input() -> None:
    from collections import OrderedDict

    body = {"name": "a", "password": "p", "token": None, "auth": {"k": "v"}, "items": [{"apiKey": "k", "n": 1}]}
    expected = {"name": "a", "password": "***", "token": None, "auth": "***", "items": [{"apiKey": "***", "n": 1}]}
    for _ in range(3):  # the second time, the object's secret keys come from the cache of key sets
        masked = redact(body)
        assert masked == expected
        assert body["password"] == "p" and body["items"][0]["apiKey"] == "k"  # the input is left as it was
        assert masked["items"] is not body["items"] and masked["items"][0] is not body["items"][0]
    other_order = {"password": "p", "name": "a"}  # another key set: its own plan
    assert redact(other_order) == {"password": "***", "name": "a"}
    subclassed = OrderedDict(secret="s", inner=OrderedDict(password="p"), rows=[OrderedDict(token="t")])
    assert redact(subclassed) == {"secret": "***", "inner": {"password": "***"}, "rows": [{"token": "***"}]}
    wide = {f"k{i}": i for i in range(100)} | {"Password": "p"}  # more keys than are planned
    assert redact(wide)["Password"] == "***" and redact(wide)["k5"] == 5
    assert redact([{"secret": 1}, 2, "x"]) == [{"secret": "***"}, 2, "x"]
    assert redact("password") == "password" and redact(None) is None


@pytest.mark.e2e
@pytest.mark.parametrize("mode", [(), ("--workers", "2")], ids=["default", "workers"])
def test_a_body_of_1024_levels_is_served_and_deeper_is_400(
    live_server: Callable[..., LiveServer], mode: tuple[str, ...]
) -> None:
    server = live_server(*mode, "--quiet")
    url = server.url + SMTP_PATH
    for levels in (254, 256, 490, MAX_DEPTH):
        created = requests.post(url, data=body_of_depth(levels), headers=JSON_HEADERS, timeout=10)
        assert created.status_code == 201, (levels, created.text[:300])
    stateful = {**JSON_HEADERS, "X-Mock-Scenario": "stateful"}
    assert requests.post(url, data=body_of_depth(MAX_DEPTH), headers=stateful, timeout=10).status_code == 201
    too_deep = requests.post(url, data=body_of_depth(MAX_DEPTH + 1), headers=JSON_HEADERS, timeout=10)
    assert too_deep.status_code == 400
    assert too_deep.json()["errors"][0]["message"] == "The request body is nested too deeply (more than 1024 levels)."
    # Invalid and deep where a schema looks: still the worded 400, never a 500.
    invalid = {**valid_body(), "name": nested(MAX_DEPTH - 2), "port": nested(MAX_DEPTH - 2)}
    answer = requests.post(url, data=dumps(invalid), headers=JSON_HEADERS, timeout=10)
    assert answer.status_code == 400
    assert {e["field"] for e in answer.json()["errors"]} == {"name", "port"}
    # The journal kept every body whole (secrets masked at every depth) and serves them back.
    entries = loads(requests.get(server.url + "/__mock/journal", timeout=30).content)["entries"]  # too deep for json
    deepest = next(e for e in entries if e["status"] == 201 and depth(e["body"]) == MAX_DEPTH)
    assert innermost(deepest["body"]["extra"]) == {"password": "***"} and deepest["body"]["password"] == "***"
    assert requests.get(server.url + "/__mock/state", timeout=10).status_code == 200
    log = server.stop()
    assert "Traceback" not in log and " 500 " not in log
