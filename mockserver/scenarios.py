"""Scenario files: what the mock answers while a scenario is active.

A scenario is a YAML file in `scenarios/`; its JSON Schema is `mockserver/schemas/scenario.schema.json`.
Rules are compiled when the file loads, and every response they can give is merged over the
spec's example and validated against the spec then, so a scenario can never make the mock send
what the contract does not allow (faults aside, which mark the scenario as outside the contract).
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

from .errors import ConfigError, ConfigProblem, JsonPath, unexpected_problem
from .mocker.bodies import Mocker
from .rules import Answer, Condition, Latency, Match, PatternError, RateLimit, Rule, parse_field_path
from .spec import Canned, Operation, ResponseSpec, Spec
from .templates import CaseInsensitive, Template, TemplateFailedError, has_template, template_problems
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
    rules: tuple[Rule, ...] = ()
    rate_limit: RateLimit | None = None
    latency: Latency | None = None
    stateful: bool = False
    outside_contract: bool = False
    _rules_for: dict[tuple[str, bool | None], tuple[Rule, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def rules_for(self, operation: Operation, valid_only: bool | None = None) -> tuple[Rule, ...]:
        """The rules that may answer `operation`; `valid_only` picks those matched after validation.
        Worked out once per operation: every request asks twice."""
        key = (operation.operation_id, valid_only)
        found = self._rules_for.get(key)
        if found is None:
            found = self._rules_for[key] = tuple(
                r
                for r in self.rules
                if (r.match.operations is None or operation.operation_id in r.match.operations)
                and (valid_only is None or r.match.valid_only == valid_only)
            )
        return found

    def fixed_statuses(self, operation: Operation) -> set[int] | None:
        """The statuses a rule that matches every request of `operation` always answers with, if any."""
        for rule in self.rules_for(operation):
            if rule.match.has_conditions or rule.match.valid_only:
                continue
            if any(a.passes or a.fault for a in rule.answers):
                return None
            return {a.canned[operation.operation_id].status for a in rule.answers}
        return None

    def statuses(self, operation: Operation) -> set[int]:
        """Every status a rule of this scenario can answer `operation` with."""
        return {
            a.canned[operation.operation_id].status
            for rule in self.rules_for(operation)
            for a in rule.answers
            if operation.operation_id in a.canned
        }


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
        except Exception as exc:  # RecursionError and whatever else no check foresaw: still this file's problem
            problems.append(unexpected_problem(path, exc))
    if problems:
        raise ConfigError(problems)
    scenarios.setdefault(DEFAULT_SCENARIO, PASS_THROUGH)
    return scenarios


def load_scenario(path: Path, spec: Spec) -> Scenario:
    document = load_yaml(path)
    return compile_scenario(document, spec, path.stem)


def compile_scenario(document: YamlDocument, spec: Spec, name: str) -> Scenario:
    """Check a scenario document against its schema and the spec, and compile its rules."""
    if document.data is None:
        document.data = {}
    structural = [
        document.problem(v.path, v.text) for v in explain_errors(_schema_validator.iter_errors(document.data))
    ]
    if structural:
        raise ConfigError(structural)
    data: dict[str, Any] = document.data
    compiler = _RuleCompiler(document, spec)
    rules = tuple(compiler.rule(index, rule) for index, rule in enumerate(data.get("rules") or []))
    rate_limit = None
    if "rate_limit" in data:
        limit = data["rate_limit"]
        rate_limit = RateLimit(int(limit["limit"]), float(limit["window"]), limit.get("key", "auth-key"))
        for operation in spec.operations:
            if 429 not in operation.responses:
                compiler.problems.append(
                    document.problem(
                        ("rate_limit",), f"{operation.operation_id} documents no 429 response to throttle with"
                    )
                )
    if compiler.problems:
        raise ConfigError(compiler.problems)
    auth = data.get("auth") or {}
    has_faults = any(answer.fault for rule in rules for answer in rule.answers)
    return Scenario(
        name=name,
        description=str(data.get("description", "")),
        source=document.path,
        keys=frozenset(auth["keys"]) if "keys" in auth else None,
        brands=frozenset(auth["brands"]) if "brands" in auth else None,
        rules=rules,
        rate_limit=rate_limit,
        latency=Latency.parse(data.get("latency")),
        stateful=bool(data.get("stateful", False)),
        outside_contract=bool(data.get("outside_contract", False)) or has_faults,
    )


class _RuleCompiler:
    def __init__(self, document: YamlDocument, spec: Spec) -> None:
        self.document, self.spec = document, spec
        self.mocker = Mocker(spec)  # a rule's base where the spec has no example: a generated body
        self.problems: list[ConfigProblem] = []
        self.failed_templates: set[JsonPath] = set()  # each reported once, whichever operation failed first

    def problem(self, where: JsonPath, reason: str) -> None:
        self.problems.append(self.document.problem(where, reason))

    def rule(self, index: int, data: dict[str, Any]) -> Rule:
        where: JsonPath = ("rules", index)
        match = self.match((*where, "when"), data.get("when") or {})
        operations = [
            op for op in self.spec.operations if match.operations is None or op.operation_id in match.operations
        ]
        answers_data = data["respond"] if isinstance(data["respond"], list) else [data["respond"]]
        answers_where = (*where, "respond")
        answers = tuple(
            self.answer((*answers_where, i) if isinstance(data["respond"], list) else answers_where, answer, operations)
            for i, answer in enumerate(answers_data)
        )
        sequence = data.get("sequence") or {}
        return Rule(
            name=str(data.get("name") or f"rules[{index}]"),
            match=match,
            answers=answers,
            then=sequence.get("then", "repeat-last"),
            sequence_key=sequence.get("key", "scenario"),
            latency=Latency.parse(data.get("latency")),
        )

    def match(self, where: JsonPath, when: dict[str, Any]) -> Match:
        operations = None
        if "operation" in when:
            found = self.spec.operation(when["operation"])
            if found is None:
                known = ", ".join(op.operation_id for op in self.spec.operations)
                self.problem(
                    (*where, "operation"),
                    f"no operation {when['operation']!r} in {self.spec.path.name} (known: {known})",
                )
                operations = frozenset[str]()
            else:
                operations = frozenset({found.operation_id})
        return Match(
            operations=operations,
            headers=tuple(
                (name.lower(), self.condition((*where, "headers", name), c))
                for name, c in (when.get("headers") or {}).items()
            ),
            query=tuple(
                (name, self.condition((*where, "query", name), c)) for name, c in (when.get("query") or {}).items()
            ),
            body=tuple(
                (parse_field_path(name), self.condition((*where, "body", name), c))
                for name, c in (when.get("body") or {}).items()
            ),
            valid_only=bool(when.get("valid", False)),
        )

    def condition(self, where: JsonPath, spec: Any) -> Condition:
        try:
            return Condition.parse(spec)
        except PatternError as exc:
            self.problem(
                (*where, "matches"),
                f"not a pattern RE2 accepts ({exc}); patterns run in linear time, so backreferences "
                "and lookaround are not supported",
            )
            return Condition()

    def answer(self, where: JsonPath, data: Any, operations: list[Operation]) -> Answer:
        if data == "pass":
            return Answer(passes=True)
        if "fault" in data:
            return Answer(fault=data["fault"], status=data.get("status"), hold_seconds=float(data.get("hold", 30)))
        canned: dict[str, Canned] = {}
        templates: dict[str, Any] = {}
        syntax = template_problems(data.get("body"), (*where, "body")) + template_problems(
            data.get("headers"), (*where, "headers")
        )
        for problem_path, problem in syntax:
            self.problem(problem_path, problem)
        if syntax:  # one error per mistake: nothing below can be checked without the template
            return Answer()
        for operation in operations:
            built = self.response(where, data, operation)
            if built is None:
                continue
            response, body, headers = built
            if has_template(body) or has_template(headers):
                templates[operation.operation_id] = (Template(body), Template(headers))
                sample = self.sample(where, operation, templates[operation.operation_id])
                if sample is None:
                    continue
                body, headers = sample
            before = len(self.problems)
            for violation in response.violations(body):
                self.problem(
                    (*where, "body", *violation.path),
                    f"{violation.text.rstrip('.')} (the spec's {operation.operation_id} {response.status} response)",
                )
            for text in response.header_violations(headers):
                self.problem((*where, "headers"), text)
            if len(self.problems) == before:
                canned[operation.operation_id] = Canned.of(response.status, body, headers)
        return Answer(canned=canned, templates=templates)

    def response(
        self, where: JsonPath, data: dict[str, Any], operation: Operation
    ) -> tuple[ResponseSpec, Any, dict[str, Any]] | None:
        status = data["status"]
        response = operation.response_for(status)
        if response is None:
            documented = ", ".join([*(str(s) for s in sorted(operation.responses)), *operation.ranges])
            self.problem(
                (*where, "status"),
                f"{status} is not documented for {operation.operation_id} (documented: {documented})",
            )
            return None
        example_name = data.get("example")
        if example_name is not None and example_name not in response.examples:
            known = ", ".join(response.examples) or "none"
            self.problem(
                (*where, "example"),
                f"no example {example_name!r} for {operation.operation_id} {status} (known: {known})",
            )
            return None
        base = response.examples[example_name] if example_name else response.example
        json_media = response.media.get(response.json_media)
        if base is None and not example_name and json_media is not None and json_media.schema is not None:
            base = self.mocker.body(operation, status, response, response.json_media).value  # no example: generated
        if data.get("merge", True):
            body = deep_merge(base, data["body"]) if "body" in data else base
        else:
            body = data.get("body")
        headers = {
            **self.mocker.headers(operation, status, response),
            **{k: v if isinstance(v, str) else str(v) for k, v in (data.get("headers") or {}).items()},
        }
        return response, body, headers

    def sample(
        self, where: JsonPath, operation: Operation, templates: tuple[Template, Template]
    ) -> tuple[Any, Any] | None:
        """Render templates against the spec's own request example, to validate their shape now;
        None (and a problem) when one fails."""
        context = template_context(
            method=operation.method,
            path=operation.path,
            headers={"Brand-URL": "your-domain.com", "Auth-Key": "key"},
            query={},
            body=self.spec.request_example(operation),
            path_params={"id": "sApKpllz4sAplsmzha"},
            scenario="sample",
            counter=lambda name="default": 1,
        )
        rendered = []
        for part, template in zip(("body", "headers"), templates, strict=True):
            try:
                rendered.append(template.render(context))
            except TemplateFailedError as exc:
                failing = (*where, part, *exc.path)
                if failing not in self.failed_templates:  # once, however many operations share it
                    self.failed_templates.add(failing)
                    self.problem(failing, f"template fails on {operation.operation_id}'s request example: {exc.reason}")
                return None
        return rendered[0], rendered[1]


def template_context(
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: Any,
    path_params: Mapping[str, str],
    scenario: str,
    counter: Any,
) -> dict[str, Any]:
    from .templates import GENERATORS

    return {
        "request": {
            "method": method,
            "path": path,
            "headers": CaseInsensitive(headers),
            "query": dict(query),
            "body": body,
            "path_params": dict(path_params),
        },
        "scenario": scenario,
        "counter": counter,
        **GENERATORS,
    }


__all__ = [
    "DEFAULT_SCENARIO",
    "PASS_THROUGH",
    "Scenario",
    "deep_merge",
    "load_scenarios",
    "scenario_schema",
    "template_context",
]


def compile_expectation(spec: Spec, source: dict[str, Any]) -> Rule:
    """A runtime rule (admin API, pytest fixture), checked exactly like a scenario file's (raises ConfigError)."""
    document = YamlDocument(path=Path("<expectation>"), data={"rules": [source]})
    return compile_scenario(document, spec, "expectation").rules[0]
