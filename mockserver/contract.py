"""`mockserver contract`: schemathesis against any base URL, summarized per check.

schemathesis is the engine and prints each failure with a curl command to reproduce it; this
module chooses the defaults (every phase, every check that applies, a bounded run), keeps keys out
of shell history (environment variables), tells an unreachable server apart from a contract
violation, and ends with a table per check read from schemathesis' own event stream.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from .spec import HTTP_METHODS
from .validator.views import resolve
from .yamlfile import load_yaml

EXIT_CONFORMANT = 0
EXIT_VIOLATIONS = 1
EXIT_UNUSABLE = 2

DEFAULT_MAX_EXAMPLES = 100
ENV_PREFIX = "MOCKSERVER_"

# schemathesis' own names, kept here so `serve` does not import schemathesis at start-up;
# tests/test_contract_command.py proves they are still schemathesis' lists.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "object_level_authorization",
)
PHASES = ("examples", "coverage", "fuzzing", "stateful")
REPORT_FORMATS = ("junit", "vcr", "har", "ndjson", "json", "wfc", "pytest", "allure", "html")
FILTERS = ("operation-id", "path", "method")  # --include-KIND / --exclude-KIND
IGNORED_AUTH = "ignored_auth"


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


def known_names(option: str, values: Sequence[str], allowed: Sequence[str], what: str) -> list[str]:
    """`values` if each is one of `allowed`; else a ValueError naming the unknown ones and the valid ones."""
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(
            f"{option}: unknown {what} {', '.join(repr(u) for u in unknown)}; valid {what}s: {', '.join(allowed)}"
        )
    return list(values)


@dataclass(frozen=True)
class OperationFilter:
    """`--include-path /users` or `--exclude-operation-id deleteUser`, as schemathesis takes them."""

    include: bool
    kind: str  # one of FILTERS
    value: str

    @property
    def option(self) -> str:
        return f"--{'include' if self.include else 'exclude'}-{self.kind}"

    def matches(self, operation_id: str, method: str, path: str) -> bool:
        found = {"operation-id": operation_id, "path": path, "method": method.upper()}[self.kind]
        return found == (self.value.upper() if self.kind == "method" else self.value)


def selected(operations: Iterable[tuple[str, str, str]], filters: Sequence[OperationFilter]) -> list[str]:
    """The operations (id, method, path) a run tests: within every kind of include (any of its values),
    and outside every exclude. Checked before the run, so a typo is not a run that tests nothing."""
    chosen = []
    for operation in operations:
        includes = [f for f in filters if f.include]
        kinds = {f.kind for f in includes}
        if all(any(f.matches(*operation) for f in includes if f.kind == kind) for kind in kinds) and not any(
            f.matches(*operation) for f in filters if not f.include
        ):
            chosen.append(operation[0])
    return chosen


def _response_objects(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each distinct Response Object, named by its first use."""
    seen: set[int] = set()
    uses: list[tuple[str, Any]] = []
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = resolve(document, item.get(method) if isinstance(item, dict) else None)
            responses = (operation.get("responses") if isinstance(operation, dict) else None) or {}
            uses += [(f"{method.upper()} {path} -> {status}", r) for status, r in responses.items()]
    for name, response in ((document.get("components") or {}).get("responses") or {}).items():
        uses.append((f"#/components/responses/{name}", response))
    for where, use in uses:
        response = resolve(document, use)  # a bundled split spec's responses are references
        if isinstance(response, dict) and id(response) not in seen:
            seen.add(id(response))
            yield where, response


def prune_broken_links(document: dict[str, Any]) -> list[str]:
    """Leave out the response links that lead nowhere (an operationId the spec lacks, an operationRef
    or $ref naming nothing) and say which: schemathesis refuses to finish a run over a spec with one,
    whatever the server does, and the rest of the spec still deserves its stateful phase."""
    operation_ids = {
        operation.get("operationId")
        for item in (document.get("paths") or {}).values()
        if isinstance(item, dict)
        for operation in (item.get(method) for method in HTTP_METHODS)
        if isinstance(operation, dict)
    }
    pruned = []
    for where, response in _response_objects(document):
        links = response.get("links")
        if not isinstance(links, dict):
            continue
        for name, link in list(links.items()):
            target = resolve(document, link)
            if not isinstance(target, dict) or not target:  # resolve() gives {} for a dangling reference
                reason = "a reference that names nothing"
            elif "operationId" in target and target["operationId"] not in operation_ids:
                reason = f"operation {target['operationId']!r}, which the spec does not have"
            elif "operationRef" in target and not resolve(document, {"$ref": target["operationRef"]}):
                reason = f"operationRef {target['operationRef']!r}, which names nothing here"
            else:
                continue
            del links[name]
            pruned.append(f"{where} link {name!r} leads to {reason}")
    return pruned


@contextmanager
def usable_links(path: Path) -> Iterator[tuple[Path, list[str]]]:
    """`path`, or a copy without the links that lead nowhere, and what was left out."""
    document = load_yaml(path).data
    pruned = prune_broken_links(document) if isinstance(document, dict) else []
    if not pruned:
        yield path, pruned
        return
    with tempfile.TemporaryDirectory(prefix="mockserver-links-") as folder:
        copy = Path(folder) / f"{path.stem}.json"
        copy.write_text(json.dumps(document, default=str))
        yield copy, pruned


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
    filters: Sequence[OperationFilter] = ()
    show_secrets: bool = False
    key_header: str | None = None  # the spec's API key header, if it has one (for ignored_auth's note)

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
        return ["--config-file", str(config), *self.command(self.events_path(scratch))], env

    def events_path(self, scratch: Path) -> Path:
        """Where schemathesis writes its event stream: the user's NDJSON report when one was asked
        for (schemathesis writes one NDJSON file per run), else a scratch file."""
        return Path(dict(self.reports).get("ndjson") or scratch / "events.ndjson")

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
            ",".join(["ndjson", *(kind for kind, _ in self.reports if kind != "ndjson")]),
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
        for operation_filter in self.filters:
            command += [operation_filter.option, operation_filter.value]
        if self.show_secrets:
            command += ["--output-sanitize", "false"]
        for kind, path in self.reports:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            if kind != "ndjson":
                command += [f"--report-{kind}-path", path]
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


def mock_listing(url: str, headers: dict[str, str], timeout: float = 3) -> dict[str, Any] | None:
    """The scenario listing of a mockserver at `url`, or None when something else answers there."""
    request = urllib.request.Request(url + "/__mock/scenarios", headers={**headers, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            listing = json.loads(response.read(4 * 1024 * 1024))
    except (OSError, ValueError):
        return None
    if isinstance(listing, dict) and isinstance(listing.get("scenarios"), list) and "default" in listing:
        return listing
    return None


def ignored_auth_note(listing: dict[str, Any], headers: dict[str, str], key_header: str) -> str | None:
    """Why ignored_auth cannot pass against this mock as called, and which scenario and key make it
    meaningful; None when the scenario that will answer checks keys.

    ignored_auth sends made-up credentials and expects 401/403; a scenario without `auth.keys`
    accepts any key on purpose (frontends need no set-up)."""
    sent = {k.lower(): v for k, v in headers.items()}
    active = listing.get("active") or {}
    name = (
        sent.get("x-mock-scenario")
        or (active.get("brands") or {}).get(sent.get("brand-url", ""))
        or active.get("everyone")
        or listing["default"]
    )
    scenarios = {s.get("name"): s for s in listing["scenarios"] if isinstance(s, dict)}
    if ((scenarios.get(name) or {}).get("auth") or {}).get("keys"):
        return None
    found = f"this is a mockserver whose scenario {name!r} accepts any {key_header}"
    restricting = next((s for s in scenarios.values() if (s.get("auth") or {}).get("keys")), None)
    if restricting is None:
        return f"{found}, and none of its scenarios lists keys (auth: {{keys: [...]}})"
    auth = restricting["auth"]
    options = [f"X-Mock-Scenario: {restricting['name']}", f"{key_header}: {auth['keys'][0]}"]
    if auth.get("brands"):
        options.append(f"Brand-URL: {auth['brands'][0]}")
    return f"{found}; ignored_auth is meaningful with {' '.join('-H ' + shlex.quote(o) for o in options)}"


def adapt_to_mock(run: ContractRun) -> str | None:
    """A one-line note when `run.url` is a mockserver whose answering scenario accepts any key. Unless
    ignored_auth was asked for by name, it is skipped then: it would fail by design, not by drift."""
    wanted = IGNORED_AUTH in run.checks or ("all" in run.checks and IGNORED_AUTH not in run.exclude_checks)
    if run.key_header is None or not wanted:
        return None
    listing = mock_listing(run.url, run.headers)
    note = ignored_auth_note(listing, run.headers, run.key_header) if listing else None
    if note is None:
        return None
    if IGNORED_AUTH in run.checks:
        return f"{note}; it will fail as called"
    run.exclude_checks = [*run.exclude_checks, IGNORED_AUTH]
    return f"{note}; skipped here"


@dataclass
class Summary:
    cases: int = 0
    seconds: float = 0.0
    passed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    failure_titles: dict[str, set[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    spec_gaps: Counter[str] = field(default_factory=Counter)  # operation -> undocumented 4xx to invalid input

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
            cases = recorder.get("cases") or {}
            summary.cases += len(cases)
            for case_id, checks in (recorder.get("checks") or {}).items():
                negative = _is_negative(cases.get(case_id))
                for check in checks:
                    _count(summary, check, negative)
        elif name in ("NonFatalError", "FatalError"):
            summary.errors.append(_error_text(payload))
        elif name == "EngineFinished":
            summary.seconds = float(payload.get("running_time") or 0)
    return summary


def _is_negative(case: Any) -> bool:
    """Whether schemathesis meant this test case to be invalid input."""
    meta = ((case or {}).get("value") or {}).get("meta") or {}
    return bool((meta.get("generation") or {}).get("mode") == "negative")


_UNDOCUMENTED = re.compile(r"Received: (\d+)\nDocumented: (.*)")


def spec_gap(failure: dict[str, Any], negative: bool) -> str | None:
    """The operation, when a failure is the spec's rather than the server's: a 4xx answer to input
    schemathesis made invalid, on an operation that documents no client error at all. There a server
    that rejects the input fails status_code_conformance and one that accepts it fails
    negative_data_rejection; only documenting a 400, 4XX or default response fixes it."""
    match = _UNDOCUMENTED.match(str(failure.get("message") or ""))
    if not negative or failure.get("type") != "UndefinedStatusCode" or match is None:
        return None
    documented = [code.strip().upper() for code in match.group(2).split(",")]
    if not match.group(1).startswith("4") or any(code.startswith("4") for code in documented):
        return None
    return str(failure.get("operation") or "?")


def _count(summary: Summary, check: dict[str, Any], negative: bool = False) -> None:
    if check.get("status") == "success":
        summary.passed[check["name"]] += 1
        return
    summary.failed[check["name"]] += 1
    failure = (check.get("failure_info") or {}).get("failure") or {}
    title = failure.get("title") or failure.get("message") or "failed"
    summary.failure_titles.setdefault(check["name"], set()).add(str(title))
    operation = spec_gap(failure, negative)
    if operation is not None:
        summary.spec_gaps[operation] += 1


def _error_text(payload: dict[str, Any]) -> str:
    info = payload.get("info") or payload.get("value") or payload
    return str(info.get("message") if isinstance(info, dict) and "message" in info else info)[:300]


def summary_lines(summary: Summary, sanitized: bool = True) -> Iterator[str]:
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
        if name == "status_code_conformance" and summary.spec_gaps:
            yield from _spec_gap_lines(summary.spec_gaps, f"  {'':<{width}}    ")
    for error in summary.errors:
        yield f"  error: {error}"
    if summary.exit_code == EXIT_CONFORMANT:
        yield "Result: conformant"
    elif summary.exit_code == EXIT_VIOLATIONS:
        only_gaps = set(summary.failed) == {"status_code_conformance"} and sum(summary.spec_gaps.values()) == sum(
            summary.failed.values()
        )
        gaps = "; spec gaps only: the server answered as a validating server must" if only_gaps else ""
        yield f"Result: contract violated ({', '.join(sorted(summary.failed))}){gaps}"
        yield "Reproduce a failure with the curl command printed under it."
        if sanitized:
            yield "[Filtered] in those commands stands for a secret kept out of this log (a key, a generated password):"
            yield "put your own value back, or run again with --show-secrets."
    else:
        yield "Result: the run could not complete (see the errors above)"


def _spec_gap_lines(gaps: Counter[str], indent: str) -> Iterator[str]:
    operations = sorted(gaps)
    shown = ", ".join(operations[:2]) + (f" and {len(operations) - 2} more" if len(operations) > 2 else "")
    yield f"{indent}- spec gap: {sum(gaps.values())} of these are a 4xx to invalid input on operations that"
    yield f"{indent}  document no client error: {shown}."
    yield f"{indent}  No server passes both this check and negative_data_rejection there;"
    yield f"{indent}  document a 400, 4XX or default response."


def run_contract(run: ContractRun, out: TextIO = sys.stdout) -> int:
    """Run schemathesis with `run`'s settings, stream its output, then summarize. Returns the exit code."""
    reason = unreachable(run.url)
    if reason is not None:
        print(f"error: cannot reach {run.url}: {reason}", file=sys.stderr)
        return EXIT_UNUSABLE
    note = adapt_to_mock(run)
    if note:
        out.write(f"note: {note}\n")
        out.flush()
    with tempfile.TemporaryDirectory(prefix="mockserver-contract-") as scratch:
        events = run.events_path(Path(scratch))
        options, env = run.invocation(Path(scratch))
        command = [sys.executable, "-m", "schemathesis.cli", *options]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        assert process.stdout is not None
        for line in reproducible_output(process.stdout, scratch):
            out.write(line)
        process.wait()
        if not events.exists():
            print(f"error: schemathesis did not run (exit {process.returncode})", file=sys.stderr)
            return EXIT_UNUSABLE
        summary = read_events(events.read_text().splitlines())
    for line in summary_lines(summary, sanitized=not run.show_secrets):
        out.write(line + "\n")
    out.flush()
    return summary.exit_code


_REPLAY = re.compile(r"^\s*st replay \S+\s*$")


def reproducible_output(lines: Iterable[str], scratch: str) -> Iterator[str]:
    """schemathesis' report, less what cannot work for our users: `st replay ID` needs a crash store
    this run does not keep (the curl line above it is the reproduction), and paths in our scratch
    folder are gone after the run."""
    blank = None
    for line in lines:
        if _REPLAY.match(line):
            blank = None  # the blank line before it goes too
            continue
        if blank is not None:
            yield blank
            blank = None
        if not line.strip():
            blank = line
        elif scratch not in line:
            yield line
    if blank is not None:
        yield blank
