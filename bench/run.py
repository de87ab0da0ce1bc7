#!/usr/bin/env python3
"""Benchmark the mock beside a physical ceiling, in one run, and report ratios.

    python3 bench/run.py                 # 10 s per measurement, wrk -t2 -c32
    python3 bench/run.py --duration 3    # a quick look

What it measures, each with wrk against the docs' sample POST on loopback:
- the ceiling: nginx answering the same route with a static 201 body (no application code);
- the mock as `mockserver serve` runs by default (full validation, scenario engine, journal on);
- the cost of growth: 1, 10 and 100 scenarios loaded; a journal of 0 and 100,000 entries;
plus start-up time to the first 201 and the mock's resident memory after the load.
wrk and nginx are installed with apt-get when missing (root, Debian). Results go to
bench/results/latest.json and bench/results/latest.md.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
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
    missing = [name for name, package in (("wrk", "wrk"), ("nginx", "nginx-light")) if not shutil.which(name)]
    if not missing:
        return
    packages = ["wrk" if name == "wrk" else "nginx-light" for name in missing]
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
        result = wrk(url, duration, connections, threads)
        result.update(label=label, startup_s=round(startup, 3), rss_mb=round(rss_mb(process.pid), 1))
        return result
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
        "| server | req/s | of ceiling | p50 ms | p99 ms | errors | start-up to 201 | RSS MB |",
        "|---|---|---|---|---|---|---|---|",
        f"| nginx static 201 (ceiling) | {ceiling:,.0f} | 100% | {report['ceiling']['p50_ms']:.2f} | "
        f"{report['ceiling']['p99_ms']:.2f} | {report['ceiling']['errors']} | - | - |",
    ]
    for row in report["mock"]:
        lines.append(
            f"| {row['label']} | {row['rps']:,.0f} | {row['rps'] / ceiling:.1%} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['errors']} | {row['startup_s']:.2f} s | {row['rss_mb']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-growth", action="store_true", help="skip the scenario-count and journal rows")
    args = parser.parse_args()
    ensure_tools()
    d, c, t = args.duration, args.connections, args.threads
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "duration_s": d,
        "connections": c,
        "threads": t,
        "ceiling": run_nginx(d, c, t),
        "mock": [run_mock("mockserver serve (default)", d, c, t)],
    }
    if not args.no_growth:
        for count in (1, 10, 100):
            report["mock"].append(run_mock(f"{count} scenario(s) loaded", d, c, t, scenarios=scenario_dir(count)))
        for size in (0, 100_000):
            report["mock"].append(run_mock(f"journal size {size:,}", d, c, t, extra=["--journal-size", str(size)]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
