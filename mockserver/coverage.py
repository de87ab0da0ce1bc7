"""Which scenario makes the mock send which documented status: the drift gate's coverage table.

A status the spec documents that no scenario can produce is drift: a client team could never see
it in the mock, and a change to it would go untested. What the mock sends by itself counts:
its success (an example, or a body generated from the schema) and its own errors (validation,
authentication, media types, Accept). And a produced status must come with a body: an empty one
where the spec documents a schema, or one its schema refuses, is drift too (`sent_bodies`).
"""

from __future__ import annotations

from collections.abc import Iterator

from .config import MockConfig
from .error_shapes import Filled, Problem, render, shape_for
from .errors import ConfigProblem
from .scenarios import Scenario
from .spec import Operation

Coverage = dict[str, dict[int, list[str]]]  # operationId -> status -> scenario names


def produced_statuses(scenario: Scenario, operation: Operation) -> set[int]:
    """What `scenario` can answer for `operation`, following the pipeline's steps."""
    if scenario.outside_contract:
        return set()
    fixed = scenario.fixed_statuses(operation)
    statuses = set(fixed) if fixed is not None else scenario.statuses(operation) | _pipeline(scenario, operation)
    if scenario.rate_limit is not None:
        statuses.add(429)
    return statuses & set(operation.responses)


def _pipeline(scenario: Scenario, operation: Operation) -> set[int]:
    """What the steps after the rules answer: validation, auth, success, and state."""
    statuses: set[int] = set()
    success = operation.success()
    if success is not None:
        statuses.add(success[0])
    if operation.parameters or operation.body is not None:
        statuses.add(400)
    if operation.security:
        statuses.add(401)
    if scenario.brands is not None:
        statuses.add(403)
    if operation.body is not None:
        statuses |= {413, 415}
    success = operation.success()
    if success is not None and success[1].media:
        statuses.add(406)  # an Accept header that names none of the success's media types
    if scenario.stateful and operation.state is not None and operation.state.action == "update":
        statuses.add(404)
    return statuses


def coverage(config: MockConfig) -> Coverage:
    table: Coverage = {}
    for operation in config.spec.operations:
        row: dict[int, list[str]] = {status: [] for status in sorted(operation.responses)}
        for name, scenario in sorted(config.scenarios.items()):
            for status in produced_statuses(scenario, operation):
                row[status].append(name)
        table[operation.operation_id] = row
    return table


def uncovered(config: MockConfig, table: Coverage) -> Iterator[ConfigProblem]:
    document = config.spec.document
    for operation in config.spec.operations:
        for status, names in table[operation.operation_id].items():
            if not names:
                yield document.problem(
                    ("paths", operation.path, operation.method.lower(), "responses", str(status)),
                    f"{operation.operation_id} documents {status} but no scenario produces it "
                    f"(add a scenario with a rule that responds {status})",
                )


def outside(config: MockConfig) -> list[str]:
    return sorted(name for name, s in config.scenarios.items() if s.outside_contract)


def table_lines(table: Coverage) -> Iterator[str]:
    width = max((len(op) for op in table), default=9)
    yield f"{'operation':<{width}}  status  scenarios"
    for operation, row in table.items():
        for index, (status, names) in enumerate(row.items()):
            label = operation if index == 0 else ""
            yield f"{label:<{width}}  {status:<6}  {', '.join(names) or 'NONE'}"


def sent_bodies(config: MockConfig, table: Coverage) -> Iterator[ConfigProblem]:
    """Each produced status, answered as the mock answers it (no scenario rule: those are checked
    when scenarios load): a documented schema gets a body, and the body is one the schema admits."""
    spec, document = config.spec, config.spec.document
    for operation in spec.operations:
        success = operation.success()
        for status, names in table[operation.operation_id].items():
            if not names:
                continue
            response = operation.responses[status]
            where = ("paths", operation.path, operation.method.lower(), "responses", str(status))
            if success is not None and status == success[0]:
                media = next(iter(response.media.values()), None)
                if media is None or media.schema is None:
                    continue
                body = config.mocker.body(operation, status, response, media.media_type)
                value, sent = body.value, body.value is not None or bool(body.payload)
                check = media.validator
            else:
                value, media_type = render(shape_for(spec, operation, status, config.seed), _sample_error(status))
                sent = value is not None and media_type != ""
                check = response.validator if media_type == response.json_media else None
                if check is None and not any(m.schema is not None for m in response.media.values()):
                    continue
            if not sent:
                yield document.problem(
                    where, f"{operation.operation_id} documents a schema for {status} but the mock sends no body"
                )
            elif check is not None and (wrong := check.violations(value)):
                yield document.problem(
                    where,
                    f"{operation.operation_id} {status}: the body the mock sends breaks its schema: {wrong[0].message}",
                )


def _sample_error(status: int) -> Filled:
    """A representative error: one problem naming a field."""
    problem = Problem("The sample value is invalid.", field="sample", code="Sample")
    return Filled(status, [problem], "The request failed.", "Error", "0" * 32, "/")
