"""`serve --upstream URL --record DIR`: real exchanges become scenario files that replay them.

Each distinct exchange (operation and status) is written once, as `DIR/<operationId>-<status>.yaml`
(choose it with `X-Mock-Scenario`), and the first success of each operation also joins
`DIR/success.yaml`, the scenario `serve --scenarios DIR` answers with by default, so the recorded API
replays offline. What is written is what a scenario file may say, checked by the same loader:
- secrets are masked (state.redact: passwords, tokens, keys), and only the headers the spec
  documents for the response are kept (never Set-Cookie or the upstream's own);
- ids stay consistent with the request: a response id equal to a path parameter or to a request
  body `...Id` field is written as the template that echoes it (`{{ request.path_params.id }}`,
  `{{ request.body.appIntegrationId or "sApK..." }}`);
- the body is sent as recorded (`merge: false`), not merged over the spec's example;
- a response that breaks the contract cannot be a valid scenario: it is skipped, and logged once.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import yaml

from ..exchange import Exchange
from ..jsondoc import DESCEND, Key, transform
from ..scenarios import DEFAULT_SCENARIO
from ..state import REDACTED, is_secret, redact
from .checks import Violation

log = logging.getLogger("mockserver.record")
HEADER = "# Recorded by `mockserver serve --upstream ... --record`; secrets are masked. Edit freely.\n"


class Recorder:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._lock = threading.Lock()  # threads of one process; an flock guards success.yaml across workers
        self._skipped: set[str] = set()

    def keep(
        self, exchange: Exchange, status: int, headers: Mapping[str, str], body: Any, violations: list[Violation]
    ) -> None:
        operation = exchange.operation
        assert operation is not None
        name = f"{operation.operation_id}-{status}"
        documented = operation.responses.get(status)
        why = None
        if violations:
            why = "; ".join(v.message for v in violations)
        elif documented is None:  # a scenario may answer only what the operation itself documents
            why = f"{status} is documented for every operation, not for {operation.operation_id} itself"
        if why is not None:
            if name not in self._skipped:
                self._skipped.add(name)
                log.warning(
                    "not recorded: %s %s answered %d, which cannot be a scenario: %s", *_said(exchange), status, why
                )
            return
        target = self.directory / f"{name}.yaml"
        if target.exists():
            return
        assert documented is not None  # else `why` said so
        kept = {
            spec.name: REDACTED if is_secret(spec.name) else value
            for spec in documented.headers.values()
            for key, value in headers.items()
            if key.lower() == spec.name.lower()
        }
        rule: dict[str, Any] = {"name": f"recorded {name}", "when": {"operation": operation.operation_id}}
        if 200 <= status < 300:
            rule["when"]["valid"] = True  # invalid requests still get the mock's 400, 401...
        rule["respond"] = {"status": status, **({"headers": kept} if kept else {})}
        rule["respond"].update(merge=False, body=_echoing_ids(redact(body), exchange))
        said = " ".join(_said(exchange))
        _write_once(target, {"description": f"Recorded: {said} answered {status}.", "rules": [rule]})
        if 200 <= status < 300:
            self._replay_by_default(rule)

    def _replay_by_default(self, rule: dict[str, Any]) -> None:
        """Add the rule to success.yaml unless its operation is there already."""
        target = self.directory / f"{DEFAULT_SCENARIO}.yaml"
        with self._lock, open(self.directory / ".record.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            document: dict[str, Any] = {
                "description": "Recorded from the upstream: each operation's first success.",
                "rules": [],
            }
            if target.exists():
                document = yaml.safe_load(target.read_text()) or document
            operation = rule["when"]["operation"]
            if any(r.get("when", {}).get("operation") == operation for r in document["rules"]):
                return
            document["rules"].append(rule)
            _write(target, document)


def _said(exchange: Exchange) -> tuple[str, str]:
    return exchange.request.method, exchange.request.path


def _echoing_ids(body: Any, exchange: Exchange) -> Any:
    """Response ids the request chose, as templates that echo them (see the module's docstring)."""
    sources = {value: f"request.path_params.{name}" for name, value in exchange.path_params.items() if value}
    if isinstance(exchange.body, dict):  # optional in the request: the recorded value when it is not sent
        sources.update(
            {
                value: f"request.body.{name} or {orjson.dumps(value).decode()}"
                for name, value in exchange.body.items()
                if name.endswith("Id") and isinstance(value, str) and value and name.isidentifier()
            }
        )

    def echo(key: Key, node: Any) -> Any:
        if isinstance(node, str) and isinstance(key, str) and key.lower().endswith("id") and node in sources:
            return "{{ " + sources[node] + " }}"
        return DESCEND

    return transform(body, echo) if sources else body


def _dump(document: dict[str, Any]) -> str:
    return HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)


def _write(target: Path, document: dict[str, Any]) -> None:
    """Replace `target` whole: a reader (the hot reload) never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".record-", suffix=".tmp")
    with os.fdopen(handle, "w") as out:
        out.write(_dump(document))
    os.replace(temporary, target)


def _write_once(target: Path, document: dict[str, Any]) -> None:
    """Create `target` unless another thread or worker just did: the first exchange of a kind wins."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".record-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(_dump(document))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, target)
    finally:
        os.unlink(temporary)
