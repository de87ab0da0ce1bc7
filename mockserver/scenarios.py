"""Scenario files: what the mock answers while a scenario is active.

A scenario is a YAML file in `scenarios/`; its JSON Schema is `mockserver/schemas/scenario.schema.json`.
Each forced response is merged over the spec's example and validated against the spec when loaded,
so a scenario can never make the mock send something the contract does not allow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .errors import ConfigError, ConfigProblem, JsonPath
from .spec import Canned, Operation, Spec
from .validation import explain_errors
from .yamlfile import YamlDocument, load_yaml

DEFAULT_SCENARIO = "success"
SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SCENARIO_SUFFIXES = (".yaml", ".yml")


def scenario_schema() -> dict[str, Any]:
    text = resources.files("mockserver").joinpath("schemas/scenario.schema.json").read_text("utf-8")
    return dict(json.loads(text))


_schema_validator = Draft202012Validator(scenario_schema())


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    source: Path | None = None
    keys: frozenset[str] | None = None  # None: any non-empty key is accepted
    brands: frozenset[str] | None = None  # None: any brand is served
    forced: Mapping[str, Canned] = field(default_factory=dict)  # operationId -> response

    def forced_response(self, operation: Operation) -> Canned | None:
        return self.forced.get(operation.operation_id)


PASS_THROUGH = Scenario(DEFAULT_SCENARIO, "Built in: validate every request and answer as the spec says.")


def deep_merge(base: Any, overlay: Any) -> Any:
    """Objects merge key by key; anything else in `overlay` replaces what `base` had."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base.get(key), value)
        return merged
    return overlay


def load_scenarios(directory: Path, spec: Spec) -> dict[str, Scenario]:
    """Every scenario in `directory`, plus the built-in pass-through `success` if no file defines it."""
    if not directory.is_dir():
        raise ConfigError([ConfigProblem(directory, "scenario directory not found")])
    problems: list[ConfigProblem] = []
    scenarios: dict[str, Scenario] = {}
    for path in sorted(p for p in directory.iterdir() if p.suffix in SCENARIO_SUFFIXES):
        if not SCENARIO_NAME.match(path.stem):
            problems.append(ConfigProblem(path, "scenario names use letters, digits, '.', '_' and '-' only"))
            continue
        if path.stem in scenarios:
            problems.append(ConfigProblem(path, f"scenario {path.stem!r} is defined twice"))
            continue
        try:
            scenarios[path.stem] = load_scenario(path, spec)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    scenarios.setdefault(DEFAULT_SCENARIO, PASS_THROUGH)
    return scenarios


def load_scenario(path: Path, spec: Spec) -> Scenario:
    document = load_yaml(path)
    if document.data is None:
        document.data = {}
    structural = [
        document.problem(v.path, v.text) for v in explain_errors(_schema_validator.iter_errors(document.data))
    ]
    if structural:
        raise ConfigError(structural)
    data: dict[str, Any] = document.data
    problems: list[ConfigProblem] = []
    forced: dict[str, Canned] = {}
    for index, rule in enumerate(data.get("rules") or []):
        where: JsonPath = ("rules", index)
        reference = (rule.get("when") or {}).get("operation")
        if reference is None:
            operations = spec.operations
        else:
            found = spec.operation(reference)
            if found is None:
                known = ", ".join(op.operation_id for op in spec.operations)
                problems.append(
                    document.problem(
                        (*where, "when", "operation"),
                        f"no operation {reference!r} in {spec.path.name} (known: {known})",
                    )
                )
                continue
            operations = [found]
        for operation in operations:
            if operation.operation_id in forced:
                continue  # an earlier rule already answers this operation
            canned = _canned(document, (*where, "respond"), rule["respond"], operation, problems)
            if canned is not None:
                forced[operation.operation_id] = canned
    if problems:
        raise ConfigError(problems)
    auth = data.get("auth") or {}
    return Scenario(
        name=path.stem,
        description=str(data.get("description", "")),
        source=path,
        keys=frozenset(auth["keys"]) if "keys" in auth else None,
        brands=frozenset(auth["brands"]) if "brands" in auth else None,
        forced=forced,
    )


def _canned(
    document: YamlDocument,
    where: JsonPath,
    respond: dict[str, Any],
    operation: Operation,
    problems: list[ConfigProblem],
) -> Canned | None:
    """Build one forced response for `operation` and check it against the spec."""
    status = respond["status"]
    response = operation.responses.get(status)
    if response is None:
        documented = ", ".join(str(s) for s in sorted(operation.responses))
        problems.append(
            document.problem(
                (*where, "status"),
                f"{status} is not documented for {operation.operation_id} (documented: {documented})",
            )
        )
        return None
    example_name = respond.get("example")
    if example_name is not None and example_name not in response.examples:
        known = ", ".join(response.examples) or "none"
        problems.append(
            document.problem(
                (*where, "example"),
                f"no example {example_name!r} for {operation.operation_id} {status} (known: {known})",
            )
        )
        return None
    base = response.examples[example_name] if example_name else response.example
    body = deep_merge(base, respond["body"]) if "body" in respond else base
    headers = {**response.example_headers, **{k: str(v) for k, v in (respond.get("headers") or {}).items()}}
    before = len(problems)
    for violation in response.violations(body):
        problems.append(
            document.problem(
                (*where, "body", *violation.path),
                f"{violation.text.rstrip('.')} (the spec's {operation.operation_id} {status} response)",
            )
        )
    for text in response.header_violations(headers):
        problems.append(document.problem((*where, "headers"), text))
    return Canned.of(status, body, headers) if len(problems) == before else None
