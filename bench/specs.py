#!/usr/bin/env python3
"""The mock and Stoplight Prism on the same public specs, in one run.

    python3 bench/specs.py                      # ../shared/specs/*.yaml, ~/.cache/mockserver-bench/specs/
    python3 bench/specs.py SPEC [SPEC ...]      # these specs only
    python3 bench/specs.py --max-examples 25    # a bigger contract run per operation

Each spec is served with no scenarios (an empty directory) by `mockserver serve` and by `prism mock`,
each on a free loopback port, and measured: whether it starts (answers HTTP within --start-timeout),
the seconds from launch to its first answer (the mock's with its validation cache warm: a first start
before the measured one), and the failing responses `mockserver contract` finds against it (schemathesis,
every check except ignored_auth, use_after_free and ensure_resource_availability, which no stateless mock
can pass). Prism is the one bench/run.py measures: pinned in bench/package.json, installed with
`npm ci --prefix bench` when missing. A spec split over files is named by its root file;
`SPEC_DIR/*/openapi.yaml` roots are picked up too. Results: bench/results/specs.md and specs.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from run import PRISM, ensure_peers, free_port, stop  # the peers, pinned and installed one way

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SHARED = ROOT.parent / "shared" / "specs"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mockserver-bench"
SPEC_DIR = CACHE / "specs"
EXCLUDED = ("ignored_auth", "use_after_free", "ensure_resource_availability")
_FAILED = re.compile(r"^\s+(\w+)\s+FAILED\s+(\d+) of (\d+) responses")
_PASSED = re.compile(r"^\s+(\w+)\s+passed\s+(\d+) responses")
_SPEC_GAPS = re.compile(r"^\s+- spec gap: (\d+) of these")
_OPERATIONS = re.compile(r"\((\d+) operations?,")


@dataclass
class Run:
    """One server on one spec."""

    starts: bool = False
    start_seconds: float | None = None
    failures: int | None = None  # failing responses, all checks but EXCLUDED
    failed_checks: dict[str, int] = field(default_factory=dict)
    spec_gaps: int = 0  # of the failures: 4xx to invalid input where the spec documents no client error
    responses: int = 0
    note: str = ""


@dataclass
class Row:
    spec: str
    operations: int | None
    mock: Run
    prism: Run


def prism_binary() -> Path:
    """Prism as the benchmark pins it (bench/package.json, installed with `npm ci --prefix bench`)."""
    missing = ensure_peers({"prism"})
    if "prism" in missing:
        raise SystemExit(missing["prism"])
    return PRISM


def prism_version() -> str:
    return str(json.loads((ROOT / "bench" / "package.json").read_text())["dependencies"]["@stoplight/prism-cli"])


def wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout: float) -> float | None:
    """Seconds until `url` answers anything over HTTP; None if the process died or time ran out."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            return None
        try:
            urllib.request.urlopen(url + "/__bench_probe__", timeout=2)
        except urllib.error.HTTPError:
            return time.perf_counter() - started  # any status is an answer
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
            continue
        return time.perf_counter() - started
    return None


def credentials(spec: Path) -> list[str]:
    """`-H` options carrying a made-up credential for each header security scheme the spec declares,
    the same for both servers: neither knows real keys, and without one the contract run of an API
    that requires auth would only see its 401s."""
    sys.path.insert(0, str(ROOT))
    from mockserver.errors import ConfigError
    from mockserver.spec import load_spec

    try:
        schemes = load_spec(spec).schemes.values()
    except ConfigError:
        return []
    values = {"basic": "Basic YmVuY2g6YmVuY2g=", "bearer": "Bearer bench-token"}  # bench:bench
    headers = {s.parameter: values.get(s.scheme, "bench-key") for s in schemes if s.location == "header"}
    return [option for name, value in headers.items() for option in ("-H", f"{name}: {value}")]


def contract(spec: Path, url: str, max_examples: int, timeout: float, run: Run) -> None:
    command = [
        *(sys.executable, "-m", "mockserver", "contract"),
        *("--url", url, "--spec", str(spec), "--seed", "1", "--max-examples", str(max_examples)),
        *("--exclude-checks", ",".join(EXCLUDED)),
        *credentials(spec),
    ]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        run.note = f"contract run over {timeout:.0f} s"
        return
    failed: dict[str, int] = {}
    for line in done.stdout.splitlines():
        if m := _FAILED.match(line):
            failed[m.group(1)] = int(m.group(2))
            run.responses = max(run.responses, int(m.group(3)))
        elif m := _PASSED.match(line):
            run.responses = max(run.responses, int(m.group(2)))
        elif m := _SPEC_GAPS.match(line):
            run.spec_gaps = int(m.group(1))
    if "Contract summary" not in done.stdout:
        run.note = (done.stderr.strip().splitlines() or ["contract did not run"])[-1][:160]
        return
    run.failed_checks, run.failures = failed, sum(failed.values())


def serve_mock(spec: Path, port: int, scenarios: Path, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "mockserver", "serve", "--spec", str(spec), "--scenarios", str(scenarios)]
    command += ["--port", str(port), "--no-reload", "--quiet"]
    with log.open("wb") as out:  # a file, not a pipe: a chatty server must never block on a full pipe
        return subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def serve_prism(binary: Path, spec: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [str(binary), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def measure(
    kind: str, spec: Path, args: argparse.Namespace, scenarios: Path, prism: Path | None
) -> tuple[Run, int | None]:
    run = Run()
    log = scenarios.parent / f"{kind}.log"
    if kind == "mock":  # a first start warms the validation cache, as any second start would find it
        warm = serve_mock(spec, port := free_port(), scenarios, log)
        wait_until_answering(f"http://127.0.0.1:{port}", warm, args.start_timeout)
        stop(warm)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if kind == "mock":
        process = serve_mock(spec, port, scenarios, log)
    else:
        process = serve_prism(prism or Path("prism"), spec, port, log)
    try:
        seconds = wait_until_answering(url, process, args.start_timeout)
        if seconds is None:
            lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
            errors = [line for line in lines if "error" in line.lower()] or lines
            run.note = (errors[0] if errors else "did not answer")[:160]
            return run, None
        run.starts, run.start_seconds = True, round(seconds, 2)
        contract(spec, url, args.max_examples, args.contract_timeout, run)
    finally:
        stop(process)
    found = _OPERATIONS.search(log.read_text(errors="replace")) if kind == "mock" else None
    return run, int(found.group(1)) if found else None


def default_specs() -> list[Path]:
    specs = sorted(SHARED.glob("*.yaml")) + sorted(SPEC_DIR.glob("*.yaml")) + sorted(SPEC_DIR.glob("*/openapi.yaml"))
    return [s for s in specs if s.is_file()]


def cell(run: Run, what: str) -> str:
    if not run.starts:
        return "no" if what == "starts" else "-"
    if what == "starts":
        return "yes"
    if what == "seconds":
        return f"{run.start_seconds:.2f}"
    if run.failures is None:
        return f"({run.note})"
    return f"{run.failures} ({run.spec_gaps} spec gaps)" if run.spec_gaps else str(run.failures)


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| spec | operations | mock starts | mock start (s) | mock failures "
        "| Prism starts | Prism start (s) | Prism failures |",
        "|---|---:|---|---:|---:|---|---:|---:|",
    ]
    for row in rows:
        ops = "-" if row.operations is None else str(row.operations)
        cells = [cell(r, w) for r in (row.mock, row.prism) for w in ("starts", "seconds", "failures")]
        lines.append(f"| {row.spec} | {ops} | {' | '.join(cells)} |")
    return lines


def details(rows: list[Row]) -> list[str]:
    lines = []
    for row in rows:
        for name, run in (("mock", row.mock), ("Prism", row.prism)):
            if run.failed_checks or run.note:
                checks = ", ".join(f"{check} {count}" for check, count in sorted(run.failed_checks.items()))
                lines.append(f"- {row.spec}, {name}: {checks or run.note}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("specs", nargs="*", type=Path, help="OpenAPI documents (default: see above)")
    parser.add_argument("--max-examples", type=int, default=10, help="test cases per operation and phase")
    parser.add_argument("--start-timeout", type=float, default=120.0, help="seconds a server may take to answer")
    parser.add_argument("--contract-timeout", type=float, default=1200.0, help="seconds one contract run may take")
    parser.add_argument("--no-prism", action="store_true", help="measure the mock only")
    args = parser.parse_args()
    specs = args.specs or default_specs()
    if not specs:
        raise SystemExit(f"no specs: none in {SHARED} or {SPEC_DIR}, and none named")
    prism = None if args.no_prism else prism_binary()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mockserver-bench-") as scratch:
        scenarios = Path(scratch) / "scenarios"  # empty: the spec alone
        scenarios.mkdir()
        for spec in specs:
            flat = spec.resolve().parent in (SHARED.resolve(), SPEC_DIR.resolve())
            name = spec.name if flat else f"{spec.parent.name}/{spec.name}"
            print(f"{name}: mock ...", flush=True)
            mock, operations = measure("mock", spec, args, scenarios, None)
            prism_run = Run(note="not measured")
            if prism is not None:
                print(f"{name}: Prism ...", flush=True)
                prism_run, _ = measure("prism", spec, args, scenarios, prism)
            rows.append(Row(name, operations, mock, prism_run))
            write(rows, args.max_examples)  # after each spec: a long run that is stopped keeps what it measured


def write(rows: list[Row], max_examples: int) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    header = [
        f"Contract failures: failing responses found by `mockserver contract --max-examples {max_examples} "
        f"--seed 1`, all checks but {', '.join(EXCLUDED)}; Prism {prism_version()}; no scenarios; a made-up",
        "credential for each header security scheme (`Authorization: Bearer bench-token`, ...), the same for both.",
        "A spec gap is a 4xx answer to invalid input on an operation that documents no client error:",
        "no server passes both status_code_conformance and negative_data_rejection there.",
        "",
    ]
    text = "\n".join([*header, *table(rows), "", *details(rows)]) + "\n"
    (RESULTS / "specs.md").write_text(text)
    (RESULTS / "specs.json").write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
