"""Which scenario makes the mock send which documented status: the drift gate's coverage table.

A status the spec documents that no scenario can produce is drift: a client team could never see
it in the mock, and a change to it would go untested.
"""

from __future__ import annotations

from collections.abc import Iterator

from .config import MockConfig
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
    if operation.success_status is not None:
        statuses.add(operation.success_status)
    if operation.parameters or operation.body is not None:
        statuses.add(400)
    if operation.security:
        statuses.add(401)
    if scenario.brands is not None:
        statuses.add(403)
    if operation.body is not None:
        statuses |= {413, 415}
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
