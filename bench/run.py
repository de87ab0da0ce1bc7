#!/usr/bin/env python3
"""Benchmark the mock beside a physical ceiling, in one run, and report ratios.

    python3 bench/run.py                 # 10 s per measurement, wrk -t2 -c32
    python3 bench/run.py --duration 3    # a quick look

What it measures, each with wrk against the docs' sample POST on loopback:
- the ceiling: nginx (2 worker processes) answering the same route with a static 201 body;
- production mode, `mockserver serve --workers 2` (full validation, scenario engine, journal on,
  state shared in SQLite), and the same with the state in Redis;
- the default single-process `mockserver serve`, for comparison;
- the cost of growth, in production mode: 1, 10 and 100 scenarios loaded; a journal of 0 and of
  100,000 entries (pre-filled before the run);
plus start-up time to the first 201 and resident memory (the busiest worker, and the main process).
wrk, nginx and redis-server are installed with apt-get when missing (root, Debian). Results go to
bench/results/latest.json and bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the package from this checkout, installed or not
RESULTS = ROOT / "bench" / "results"
PATH = "/api/v1/app-integrations/smtp"
BODY = (
    '{"appIntegrationId":"text","name":"text","host":"text","port":1,"username":"text","password":"text",'
    '"useTls":true,"isDefault":true,"description":"text","status":"0 - Inactive"}'
)
HEADERS = {"Content-Type": "application/json", "Auth-Key": "text", "Brand-URL": "text"}
STATIC_201 = (
    '{"success":true,"statusCode":201,"message":"The request was successful.","data":{"appIntegration":'
    '{"type":"SMTP","name":"SMTP","status":"Active","id":"text"},"name":"text","host":"text","port":1,'
    '"username":"text","password":"text","useTls":true,"isDefault":true,"description":"text",'
    '"status":"Inactive","id":"sApKpllz4sAplsmzha"},"errors":[]}'
)


def ensure_tools() -> None:
    tools = {"wrk": "wrk", "nginx": "nginx-light", "redis-server": "redis-server"}
    packages = [package for name, package in tools.items() if not shutil.which(name)]
    if not packages:
        return
    print(f"installing {', '.join(packages)} with apt-get ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *packages],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def post_once(url: str) -> int:
    request = urllib.request.Request(url + PATH, data=BODY.encode(), headers=HEADERS, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return int(response.status)
    except OSError:
        return 0


def wait_for_201(url: str, started: float, timeout: float = 30) -> float:
    while time.monotonic() - started < timeout:
        if post_once(url) == 201:
            return time.monotonic() - started
        time.sleep(0.005)
    raise RuntimeError(f"{url} gave no 201 within {timeout} s")


def wrk(url: str, duration: int, connections: int, threads: int) -> dict[str, Any]:
    headers = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in HEADERS.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "POST"\nwrk.body = [[{BODY}]]\n{headers}')
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name, url + PATH]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)

    def latency(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    requests_total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(g) for g in socket_errors.groups()) if socket_errors else 0
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": requests_total,
        "errors": errors,
    }


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def worker_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in children.read_text().split()] if children.exists() else []


def prefill_journal(state_url: str, entries: int) -> None:
    """Fill a SQLite state file's journal with `entries` realistic entries before the server starts."""
    from mockserver.store import open_store

    store = open_store(state_url, journal_size=entries)
    entry = {
        "method": "POST",
        "path": PATH,
        "query": "",
        "headers": {**HEADERS, "Auth-Key": "***"},
        "body": json.loads(BODY),
        "operation": "createSmtpIntegration",
        "scenario": "success",
        "rule": "respond",
        "status": 201,
        "errors": [],
        "elapsed_ms": 0.2,
    }
    for _ in range(entries):
        store.record({**entry, "time": time.time()})
    store._flush()  # type: ignore[attr-defined]
    store.close()


@contextlib.contextmanager
def redis_url() -> Iterator[str]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as workdir:
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def run_nginx(duration: int, connections: int, threads: int) -> dict[str, Any]:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    (workdir / "nginx.conf").write_text(f"""
worker_processes 2;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {workdir};
    server {{
        listen 127.0.0.1:{port};
        location {PATH} {{ default_type application/json; return 201 '{STATIC_201}'; }}
    }}
}}
""")
    process = subprocess.Popen(["nginx", "-c", str(workdir / "nginx.conf"), "-p", str(workdir), "-g", "daemon off;"])
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_201(url, time.monotonic())
        wrk(url, 2, connections, threads)  # warm-up
        return wrk(url, duration, connections, threads)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


PRODUCTION = ["--workers", "2"]


def run_mock(
    label: str,
    duration: int,
    connections: int,
    threads: int,
    scenarios: Path | None = None,
    extra: list[str] | None = None,
) -> dict[str, Any]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mockserver",
        "serve",
        "--port",
        str(port),
        "--quiet",
        "--no-reload",
        *(["--scenarios", str(scenarios)] if scenarios else []),
        *(extra or []),
    ]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        startup = wait_for_201(url, started)
        wrk(url, 2, connections, threads)  # warm-up
        workers = worker_pids(process.pid)
        warm = sum(rss_mb(pid) for pid in [process.pid, *workers])
        result = wrk(url, duration, connections, threads)
        result.update(
            label=label,
            command=" ".join(["mockserver", *command[3:]]),
            startup_s=round(startup, 3),
            rss_mb=round(max(rss_mb(pid) for pid in workers or [process.pid]), 1),  # per serving process
            main_rss_mb=round(rss_mb(process.pid), 1),
            rss_growth_mb=round(sum(rss_mb(pid) for pid in [process.pid, *workers]) - warm, 1),  # all processes
            processes=1 + len(workers),
        )
        return result
    finally:
        process.terminate()
        process.wait(timeout=10)


def soak(duration: int, connections: int, threads: int, every: int = 10) -> dict[str, Any]:
    """Production mode under load for `duration` s: total RSS of all its processes every `every` s."""
    port = free_port()
    command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--quiet", "--no-reload", *PRODUCTION]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_201(url, time.monotonic())
        samples = []
        for _ in range(max(1, duration // every)):
            result = wrk(url, every, connections, threads)
            total = sum(rss_mb(pid) for pid in [process.pid, *worker_pids(process.pid)])
            samples.append({"rss_mb": round(total, 1), "rps": round(result["rps"]), "errors": result["errors"]})
        return {"seconds": duration, "every_s": every, "samples": samples}
    finally:
        process.terminate()
        process.wait(timeout=10)


def scenario_dir(count: int) -> Path:
    """The bundled scenarios plus copies of rules-demo up to `count` files."""
    target = Path(tempfile.mkdtemp(prefix=f"bench-scenarios-{count}-"))
    bundled = sorted((ROOT / "scenarios").glob("*.yaml"))
    for path in bundled[:count]:
        shutil.copy(path, target)
    for index in range(max(0, count - len(bundled))):
        shutil.copy(ROOT / "scenarios" / "rules-demo.yaml", target / f"rules-copy-{index:03d}.yaml")
    return target


def markdown(report: dict[str, Any]) -> str:
    ceiling = report["ceiling"]["rps"]
    lines = [
        f"# Benchmark ({report['date']})",
        "",
        f"Machine: {report['machine']}. Load: wrk -t{report['threads']} -c{report['connections']}, "
        f"{report['duration_s']} s per row, the docs' sample POST, loopback.",
        "",
        "| server | req/s | of ceiling | p50 ms | p99 ms | errors | start-up to 201 | RSS MB per worker (main) "
        "| RSS growth during the run |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| nginx static 201 (ceiling) | {ceiling:,.0f} | 100% | {report['ceiling']['p50_ms']:.2f} | "
        f"{report['ceiling']['p99_ms']:.2f} | {report['ceiling']['errors']} | - | - | - |",
    ]
    for row in report["mock"]:
        memory = f"{row['rss_mb']:.0f}" + (f" ({row['main_rss_mb']:.0f})" if row["processes"] > 1 else "")
        lines.append(
            f"| {row['label']} | {row['rps']:,.0f} | {row['rps'] / ceiling:.1%} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['errors']} | {row['startup_s']:.2f} s | {memory} | "
            f"{row['rss_growth_mb']:+.1f} MB |"
        )
    if "soak" in report:
        samples = report["soak"]["samples"]
        lines += [
            "",
            f"Memory under {report['soak']['seconds']} s of load in production mode (all processes, every "
            f"{report['soak']['every_s']} s): " + " → ".join(f"{s['rss_mb']:.0f}" for s in samples) + " MB; "
            f"{sum(s['errors'] for s in samples)} errors.",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-growth", action="store_true", help="skip the scenario-count and journal rows")
    parser.add_argument("--soak", type=int, default=60, help="seconds of the memory soak run (0: skip)")
    args = parser.parse_args()
    try:
        import granian  # noqa: F401

        import mockserver  # noqa: F401
    except ImportError as missing:
        sys.exit(f"bench: {missing.name} is not installed; run `python3 -m pip install -e .` in {ROOT} first")
    ensure_tools()
    d, c, t = args.duration, args.connections, args.threads
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "duration_s": d,
        "connections": c,
        "threads": t,
        "ceiling": run_nginx(d, c, t),
        "mock": [run_mock("serve --workers 2 (production)", d, c, t, extra=PRODUCTION)],
    }
    with redis_url() as url:
        report["mock"].append(
            run_mock("serve --workers 2, state in Redis", d, c, t, extra=[*PRODUCTION, "--state", url])
        )
    report["mock"].append(run_mock("serve (default, 1 process)", d, c, t))
    if not args.no_growth:
        for count in (1, 10, 100):
            label = f"production, {count} scenario(s) loaded"
            report["mock"].append(run_mock(label, d, c, t, scenarios=scenario_dir(count), extra=PRODUCTION))
        report["mock"].append(
            run_mock("production, journal off (size 0)", d, c, t, extra=[*PRODUCTION, "--journal-size", "0"])
        )
        with tempfile.TemporaryDirectory(prefix="bench-journal-") as workdir:
            state = f"sqlite://{workdir}/state.db"
            prefill_journal(state, 100_000)
            extra = [*PRODUCTION, "--journal-size", "100000", "--state", state]
            report["mock"].append(run_mock("production, journal holding 100,000 entries", d, c, t, extra=extra))
    report["mock"].append(run_mock("serve --workers 2 (production), again last", d, c, t, extra=PRODUCTION))
    if args.soak:
        report["soak"] = soak(args.soak, c, t)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
