"""`mockserver contract`: schemathesis against any base URL, summarized per check.

schemathesis is the engine and prints each failure with a curl command to reproduce it; this
module chooses the defaults (every phase, every check that applies, a bounded run), keeps keys out
of shell history (environment variables), tells an unreachable server apart from a contract
violation, and ends with a table per check read from schemathesis' own event stream.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

EXIT_CONFORMANT = 0
EXIT_VIOLATIONS = 1
EXIT_UNUSABLE = 2

DEFAULT_MAX_EXAMPLES = 100
REPORT_FORMATS = ("junit", "har", "vcr", "ndjson", "json", "html", "allure", "pytest", "wfc")
ENV_PREFIX = "MOCKSERVER_"


def env_headers(names: Iterable[str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """Headers taken from the environment: `Auth-Key` from MOCKSERVER_AUTH_KEY, and so on."""
    environ = dict(os.environ) if environ is None else environ
    found = {}
    for name in names:
        value = environ.get(ENV_PREFIX + name.upper().replace("-", "_"))
        if value:
            found[name] = value
    return found


def parse_report(option: str) -> tuple[str, str]:
    """`junit=reports/junit.xml` -> ("junit", "reports/junit.xml")."""
    kind, sep, path = option.partition("=")
    kind = kind.strip().lower()
    if not sep or not path or kind not in REPORT_FORMATS:
        raise ValueError(f"--report takes FORMAT=PATH with FORMAT one of {', '.join(REPORT_FORMATS)}; got {option!r}")
    return kind, path


@dataclass
class ContractRun:
    spec: Path
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    checks: Sequence[str] = ("all",)
    exclude_checks: Sequence[str] = ()
    max_examples: int = DEFAULT_MAX_EXAMPLES
    max_time: float | None = None
    workers: int = 1
    seed: int | None = None
    phases: Sequence[str] = ()
    reports: Sequence[tuple[str, str]] = ()

    def invocation(self, scratch: Path) -> tuple[list[str], dict[str, str]]:
        """The schemathesis command and its environment. Header values travel in the environment,
        referenced from a config file, so keys never show in a process listing."""
        config = scratch / "schemathesis.toml"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
        entries = []
        for index, (name, value) in enumerate(self.headers.items()):
            env[f"MOCKSERVER_CONTRACT_HEADER_{index}"] = value
            entries.append(f'{json.dumps(name)} = "${{MOCKSERVER_CONTRACT_HEADER_{index}}}"')
        config.write_text(f"headers = {{ {', '.join(entries)} }}\n" if entries else "")
        return ["--config-file", str(config), *self.command(scratch / "events.ndjson")], env

    def command(self, events: Path) -> list[str]:
        command = [
            "run",
            str(self.spec),
            "--url",
            self.url,
            "--checks",
            ",".join(self.checks),
            "--max-examples",
            str(self.max_examples),
            "--workers",
            str(self.workers),
            "--generation-database",
            "none",
            "--no-color",
            "--report",
            ",".join(["ndjson", *(kind for kind, _ in self.reports)]),
            "--report-ndjson-path",
            str(events),
        ]
        if self.exclude_checks:
            command += ["--exclude-checks", ",".join(self.exclude_checks)]
        if self.max_time is not None:
            command += ["--max-time", str(self.max_time)]
        if self.seed is not None:
            command += ["--seed", str(self.seed)]
        if self.phases:
            command += ["--phases", ",".join(self.phases)]
        for kind, path in self.reports:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            option = "--report-html-path" if kind == "html" else f"--report-{kind}-path"
            command += [option, path]
        return command


def unreachable(url: str, timeout: float = 5) -> str | None:
    """Why `url` cannot be reached, or None if something answers on its host and port."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return None
    except socket.gaierror:
        return f"cannot resolve host {parts.hostname!r}"
    except TimeoutError:
        return f"no answer from {parts.hostname}:{port} within {timeout:g} s"
    except OSError as exc:
        return f"cannot connect to {parts.hostname}:{port}: {exc.strerror or exc}"


@dataclass
class Summary:
    cases: int = 0
    seconds: float = 0.0
    passed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    failure_titles: dict[str, set[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.failed:
            return EXIT_VIOLATIONS
        return EXIT_UNUSABLE if self.errors or not self.cases else EXIT_CONFORMANT


def read_events(lines: Iterable[str]) -> Summary:
    """Count test cases and check outcomes in schemathesis' NDJSON event stream."""
    summary = Summary()
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        name, payload = next(iter(event.items()))
        if name == "ScenarioFinished":
            recorder = payload.get("recorder") or {}
            summary.cases += len(recorder.get("cases") or {})
            for checks in (recorder.get("checks") or {}).values():
                for check in checks:
                    _count(summary, check)
        elif name in ("NonFatalError", "FatalError"):
            summary.errors.append(_error_text(payload))
        elif name == "EngineFinished":
            summary.seconds = float(payload.get("running_time") or 0)
    return summary


def _count(summary: Summary, check: dict[str, Any]) -> None:
    if check.get("status") == "success":
        summary.passed[check["name"]] += 1
        return
    summary.failed[check["name"]] += 1
    failure = (check.get("failure_info") or {}).get("failure") or {}
    title = failure.get("title") or failure.get("message") or "failed"
    summary.failure_titles.setdefault(check["name"], set()).add(str(title))


def _error_text(payload: dict[str, Any]) -> str:
    info = payload.get("info") or payload.get("value") or payload
    return str(info.get("message") if isinstance(info, dict) and "message" in info else info)[:300]


def summary_lines(summary: Summary) -> Iterator[str]:
    rate = summary.cases / summary.seconds if summary.seconds else 0.0
    yield ""
    yield f"Contract summary: {summary.cases} test cases in {summary.seconds:.1f} s ({rate:.0f} cases/s)"
    names = sorted(set(summary.passed) | set(summary.failed))
    width = max((len(n) for n in names), default=10)
    for name in names:
        failed, total = summary.failed.get(name, 0), summary.failed.get(name, 0) + summary.passed.get(name, 0)
        verdict = f"FAILED  {failed} of {total} responses" if failed else f"passed  {total} responses"
        yield f"  {name:<{width}}  {verdict}"
        for title in sorted(summary.failure_titles.get(name, ())):
            yield f"  {'':<{width}}    - {title}"
    for error in summary.errors:
        yield f"  error: {error}"
    if summary.exit_code == EXIT_CONFORMANT:
        yield "Result: conformant"
    elif summary.exit_code == EXIT_VIOLATIONS:
        yield f"Result: contract violated ({', '.join(sorted(summary.failed))}); see the failures above to reproduce"
    else:
        yield "Result: the run could not complete (see the errors above)"


def run_contract(run: ContractRun, out: TextIO = sys.stdout) -> int:
    """Run schemathesis with `run`'s settings, stream its output, then summarize. Returns the exit code."""
    reason = unreachable(run.url)
    if reason is not None:
        print(f"error: cannot reach {run.url}: {reason}", file=sys.stderr)
        return EXIT_UNUSABLE
    with tempfile.TemporaryDirectory(prefix="mockserver-contract-") as scratch:
        events = Path(scratch) / "events.ndjson"
        options, env = run.invocation(Path(scratch))
        command = [sys.executable, "-m", "schemathesis.cli", *options]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        assert process.stdout is not None
        for line in process.stdout:
            if scratch not in line:  # the event stream is ours, read below, and gone after the run
                out.write(line)
        process.wait()
        if not events.exists():
            print(f"error: schemathesis did not run (exit {process.returncode})", file=sys.stderr)
            return EXIT_UNUSABLE
        summary = read_events(events.read_text().splitlines())
    for line in summary_lines(summary):
        out.write(line + "\n")
    out.flush()
    return summary.exit_code
