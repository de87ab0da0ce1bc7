"""GET /__mock/violations: the contract report from proxied traffic, as JSON or JUnit XML.

Built from the journal (so it covers its last --journal-size requests, across every worker and
instance that shares the store): per operation, each check with how many proxied exchanges it
failed and a few distinct messages, so QA can attach it to a run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree

from .checks import CHECKS

EXAMPLES = 5  # distinct messages kept per operation and check


def summarise(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    operations: dict[str, dict[str, Any]] = {}
    exchanges = violating = 0
    for entry in entries:
        if "violations" not in entry:  # not proxied
            continue
        exchanges += 1
        violating += bool(entry["violations"])
        name = entry.get("operation") or f"{entry.get('method')} {entry.get('path')}"
        operation = operations.setdefault(name, {"operation": name, "exchanges": 0, "violating": 0, "checks": {}})
        operation["exchanges"] += 1
        operation["violating"] += bool(entry["violations"])
        failed: set[str] = set()
        for violation in entry["violations"]:
            check = operation["checks"].setdefault(violation["check"], {"failed": 0, "messages": []})
            if violation["check"] not in failed:
                failed.add(violation["check"])
                check["failed"] += 1
            text = f"{violation['in']}: {violation['message']}"
            if text not in check["messages"] and len(check["messages"]) < EXAMPLES:
                check["messages"].append(text)
    return {
        "exchanges": exchanges,
        "violating": violating,
        "conformant": violating == 0,
        "operations": [
            {**op, "checks": [{"check": name, **op["checks"][name]} for name in CHECKS if name in op["checks"]]}
            for op in sorted(operations.values(), key=lambda op: str(op["operation"]))
        ],
    }


def junit(report: dict[str, Any]) -> bytes:
    """One test suite per operation, one test case per check; a failure lists what broke it."""
    suites = ElementTree.Element(
        "testsuites",
        name="mockserver proxy contract",
        tests=str(len(report["operations"]) * len(CHECKS)),
        failures=str(sum(len(op["checks"]) for op in report["operations"])),
    )
    for operation in report["operations"]:
        failed = {check["check"]: check for check in operation["checks"]}
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=operation["operation"],
            tests=str(len(CHECKS)),
            failures=str(len(failed)),
        )
        for name, description in CHECKS.items():
            case = ElementTree.SubElement(suite, "testcase", classname=operation["operation"], name=name)
            if name in failed:
                check = failed[name]
                failure = ElementTree.SubElement(
                    case,
                    "failure",
                    message=f"{description}: failed in {check['failed']} of {operation['exchanges']} proxied exchanges",
                )
                failure.text = "\n".join(check["messages"])
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)
