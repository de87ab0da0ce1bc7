#!/usr/bin/env python3
"""Benchmark the mock beside a physical ceiling and its peers, in one run, and report ratios.

    python3 bench/run.py                          # the full run (about 5 minutes)
    python3 bench/run.py --duration 3 --soak 0    # a quick look at every row
    python3 bench/run.py --only production,wiremock,prism    # some rows only (see --help)

What it measures, each with wrk against the docs' sample POST on loopback:
- the ceiling: nginx (2 worker processes) answering the same route with a static 201 body;
- the peers, as users start them: WireMock 3 standalone (`java -jar`, its defaults) with a static stub
  for the route, and `prism mock openapi.yaml` (Stoplight Prism, validating requests against the spec);
- production mode, `mockserver serve --workers 2` (full validation, scenario engine, journal on,
  state shared in SQLite), and the same with the state in Redis;
- the default single-process `mockserver serve`;
- the cost of growth, in production mode: 1, 10 and 100 scenarios loaded; a journal of 0 and of
  100,000 entries (pre-filled before the run);
- slow clients: 1,000 concurrent requests held on the `slow` scenario (300-1500 ms each, asked again
  as soon as answered) while wrk measures what the other clients get, in each mode; and the same with
  1,000 stalled bodies (a head and 10 bytes of the body each, then nothing);
plus start-up time to the first 201 and resident memory (the busiest worker, and the main process).
wrk, nginx, redis-server and Java (default-jre-headless) are installed with apt-get when missing (root,
Debian); WireMock and Prism with `npm ci` from bench/package-lock.json (exact versions). A peer that
cannot be installed is left out with a message saying why. Results go to bench/results/latest.json
and bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
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


BENCH = ROOT / "bench"
WIREMOCK_JAR = BENCH / "node_modules" / "wiremock" / "build"  # the npm package ships the standalone jar
PRISM = BENCH / "node_modules" / ".bin" / "prism"


def apt_install(packages: list[str]) -> None:
    print(f"installing {', '.join(packages)} with apt-get ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *packages],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def ensure_tools() -> None:
    tools = {"wrk": "wrk", "nginx": "nginx-light", "redis-server": "redis-server"}
    packages = [package for name, package in tools.items() if not shutil.which(name)]
    if packages:
        apt_install(packages)


def ensure_peers(wanted: set[str]) -> dict[str, str]:
    """Install what the peer rows need; returns, for each peer that cannot run, why (shown in the report)."""
    missing: dict[str, str] = {}
    if "wiremock" in wanted and not shutil.which("java"):
        try:
            apt_install(["default-jre-headless"])
        except (OSError, subprocess.CalledProcessError) as failed:
            missing["wiremock"] = f"no Java: `apt-get install default-jre-headless` failed ({failed})"
    if wanted & {"wiremock", "prism"} and not (PRISM.exists() and wiremock_jar()):
        npm = shutil.which("npm")
        if npm is None:
            reason = "no npm: install Node.js 18+ and npm, then run `npm ci --prefix bench`"
            missing.update({peer: reason for peer in wanted & {"wiremock", "prism"}})
        else:
            print("installing WireMock and Prism with npm ci --prefix bench ...", flush=True)
            command = [npm, "ci", "--prefix", str(BENCH), "--no-audit", "--no-fund", "--ignore-scripts"]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                reason = f"`npm ci --prefix bench` failed: {result.stderr.strip()[-300:]}"
                missing.update({peer: reason for peer in wanted & {"wiremock", "prism"}})
    return missing


def wiremock_jar() -> Path | None:
    return next(iter(sorted(WIREMOCK_JAR.glob("wiremock-standalone-*.jar"))), None)


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
    if not requests_total:  # wrk prints zeros: nothing was answered in time
        return {"rps": 0.0, "p50_ms": None, "p99_ms": None, "requests": 0, "errors": errors}
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
    getattr(store, "inner", store)._flush()  # the SQLite store itself, under the outage guard
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
        wrk(url, WARM_UP_S, connections, threads)  # warm-up
        return wrk(url, duration, connections, threads)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


PRODUCTION = ["--workers", "2"]
WARM_UP_S = 3  # every server gets this warm-up before it is measured
JVM_WARM_UP_S = 15  # WireMock's JIT needs longer: measured here, 2.2k req/s in the first 5 s, 5k after 20 s


def measure(
    label: str,
    command: list[str],
    duration: int,
    connections: int,
    threads: int,
    cwd: Path = ROOT,
    slow_clients: int = 0,
    warm_up: int = WARM_UP_S,
    stall: bool = False,
) -> dict[str, Any]:
    """Start a server on `command` (its port already in it), time it to the first 201, warm it up, then
    measure it with wrk, with `slow_clients` requests held meanwhile (on the slow scenario, or, with
    `stall`, as bodies that never arrive whole)."""
    port = int(command[command.index("--port") + 1])
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        startup = wait_for_201(url, started, timeout=60)
        wrk(url, warm_up, connections, threads)
        workers = worker_pids(process.pid)
        warm = sum(rss_mb(pid) for pid in [process.pid, *workers])
        with SlowClients(port, slow_clients, stall) as held:
            result = wrk(url, duration, connections, threads)
        result.update(
            label=label,
            startup_s=round(startup, 3),
            rss_mb=round(max(rss_mb(pid) for pid in workers or [process.pid]), 1),  # per serving process
            main_rss_mb=round(rss_mb(process.pid), 1),
            rss_growth_mb=round(sum(rss_mb(pid) for pid in [process.pid, *workers]) - warm, 1),  # all processes
            processes=1 + len(workers),
        )
        if slow_clients:
            result["slow_clients"] = held.summary()
        return result
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a server: politely, then for good after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_mock(
    label: str,
    duration: int,
    connections: int,
    threads: int,
    scenarios: Path | None = None,
    extra: list[str] | None = None,
    slow_clients: int = 0,
    stall: bool = False,
) -> dict[str, Any]:
    port = free_port()
    command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--quiet", "--no-reload"]
    command += [*(["--scenarios", str(scenarios)] if scenarios else []), *(extra or [])]
    result = measure(label, command, duration, connections, threads, slow_clients=slow_clients, stall=stall)
    result["command"] = " ".join(["mockserver", *command[3:]])
    return result


def run_wiremock(duration: int, connections: int, threads: int) -> dict[str, Any]:
    """WireMock standalone as its docs start it (`java -jar ... --port N`, every other option its
    default), with one static stub for the route answering the same 201 body as nginx."""
    jar = wiremock_jar()
    assert jar is not None
    with tempfile.TemporaryDirectory(prefix="bench-wiremock-") as root:
        (Path(root) / "mappings").mkdir()
        stub = {
            "request": {"method": "POST", "urlPath": PATH},
            "response": {"status": 201, "headers": {"Content-Type": "application/json"}, "body": STATIC_201},
        }
        (Path(root) / "mappings" / "smtp.json").write_text(json.dumps(stub))
        command = ["java", "-jar", str(jar), "--port", str(free_port()), "--root-dir", root]
        result = measure(
            f"WireMock {jar.stem.rsplit('-', 1)[1]} standalone, static stub",
            command,
            duration,
            connections,
            threads,
            warm_up=JVM_WARM_UP_S,
        )
    result["command"] = f"java -jar {jar.name} --port N --root-dir DIR"
    return result


def run_prism(duration: int, connections: int, threads: int) -> dict[str, Any]:
    """`prism mock openapi.yaml`, as its docs start it: it validates the request against the spec and
    answers the operation's example."""
    version = json.loads((BENCH / "node_modules" / "@stoplight" / "prism-cli" / "package.json").read_text())["version"]
    command = [str(PRISM), "mock", str(ROOT / "openapi.yaml"), "--host", "127.0.0.1", "--port", str(free_port())]
    result = measure(f"prism mock {version}", command, duration, connections, threads)
    result["command"] = "prism mock openapi.yaml --host 127.0.0.1 --port N"
    return result


class SlowClients:
    """`count` clients, each on its own keep-alive connection, asking for the docs' POST on the `slow`
    scenario again as soon as it is answered: that many requests are held by the server at any time.
    With `stall`, each sends its head and the first 10 bytes of the body, then nothing more: a body that
    never arrives whole. Runs on its own event loop in a thread; entering returns once every client has
    sent its first request."""

    def __init__(self, port: int, count: int, stall: bool = False) -> None:
        self.port, self.count, self.stall = port, count, stall
        self.answered = self.failed = 0
        self.latencies: list[float] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._sent = threading.Semaphore(0)
        self._request = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
            + ("" if stall else "X-Mock-Scenario: slow\r\n")
            + f"Content-Length: {len(BODY)}\r\n\r\n{BODY[: 10 if stall else None]}"
        ).encode()

    def __enter__(self) -> SlowClients:
        if self.count:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
            deadline = time.monotonic() + 30
            for _ in range(self.count):
                if not self._sent.acquire(timeout=max(0.0, deadline - time.monotonic())):
                    break
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        """On uvloop when it is installed (the mock depends on it): the clients cost the machine less CPU."""
        try:
            import uvloop

            loop = uvloop.new_event_loop()
        except ImportError:
            loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        clients = [asyncio.create_task(self._client()) for _ in range(self.count)]
        await self._stop.wait()
        for client in clients:
            client.cancel()
        await asyncio.gather(*clients, return_exceptions=True)

    async def _client(self) -> None:
        first = True
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                self.failed += 1
                await asyncio.sleep(0.1)
                continue
            try:
                while True:
                    sent = time.monotonic()
                    writer.write(self._request)
                    await writer.drain()
                    if first:
                        first = False
                        self._sent.release()
                    if self.stall:  # held until the row ends (cancelled), or dropped by the server
                        if not await reader.read(1):
                            self.failed += 1
                        break
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                    await reader.readexactly(int(length.group(1)) if length else 0)
                    self.latencies.append(time.monotonic() - sent)
                    self.answered += 1
                    if re.search(rb"(?i)\r\nconnection:\s*close", head):
                        break
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                self.failed += 1
            finally:
                writer.close()

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "stalled": self.stall,
            "held": self.count,
            "answered": self.answered,
            "failed": self.failed,
            "median_s": round(ordered[len(ordered) // 2], 3) if ordered else None,
        }


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
        stop(process)


def scenario_dir(count: int) -> Path:
    """The bundled scenarios plus copies of rules-demo up to `count` files."""
    target = Path(tempfile.mkdtemp(prefix=f"bench-scenarios-{count}-"))
    bundled = sorted((ROOT / "scenarios").glob("*.yaml"))
    for path in bundled[:count]:
        shutil.copy(path, target)
    for index in range(max(0, count - len(bundled))):
        shutil.copy(ROOT / "scenarios" / "rules-demo.yaml", target / f"rules-copy-{index:03d}.yaml")
    return target


def ratio(value: float, base: dict[str, Any] | None) -> str:
    return f"{value / base['rps']:.2f}x" if base and base.get("rps") else "-"


def ms(value: float | None) -> str:
    """A latency; none when no request was answered at all (every one timed out)."""
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def markdown(report: dict[str, Any]) -> str:
    ceiling = report.get("ceiling")
    peers = {row["peer"]: row for row in report.get("peers", [])}
    wiremock, prism = peers.get("wiremock"), peers.get("prism")
    lines = [
        f"# Benchmark ({report['date']})",
        "",
        f"Machine: {report['machine']}. Load: wrk -t{report['threads']} -c{report['connections']}, "
        f"{report['duration_s']} s per row after {WARM_UP_S} s of warm-up ({JVM_WARM_UP_S} s for the JVM), "
        "the docs' sample POST, loopback.",
        "",
        "| server | req/s | x WireMock | x Prism | of ceiling | p50 ms | p99 ms | errors | start-up to 201 "
        "| RSS MB per worker (main) | RSS growth during the run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = ([{**ceiling, "label": "nginx static 201 (ceiling)"}] if ceiling else []) + [
        *peers.values(),
        *report.get("mock", []),
    ]
    for row in rows:
        share = f"{row['rps'] / ceiling['rps']:.1%}" if ceiling else "-"
        measured = "startup_s" in row
        memory = (
            f"{row['rss_mb']:.0f}" + (f" ({row['main_rss_mb']:.0f})" if row["processes"] > 1 else "")
            if measured
            else ""
        )
        lines.append(
            f"| {row['label']} | {row['rps']:,.0f} | {ratio(row['rps'], wiremock)} | {ratio(row['rps'], prism)} | "
            f"{share} | {ms(row['p50_ms'])} | {ms(row['p99_ms'])} | {row['errors']} | "
            + (f"{row['startup_s']:.2f} s | {memory} | {row['rss_growth_mb']:+.1f} MB |" if measured else "- | - | - |")
        )
    lines += ["", *summary(report, wiremock, prism)]
    if "soak" in report:
        samples = report["soak"]["samples"]
        lines += [
            "",
            f"Memory under {report['soak']['seconds']} s of load in production mode (all processes, every "
            f"{report['soak']['every_s']} s): " + " → ".join(f"{s['rss_mb']:.0f}" for s in samples) + " MB; "
            f"{sum(s['errors'] for s in samples)} errors.",
        ]
    return "\n".join(lines) + "\n"


def summary(report: dict[str, Any], wiremock: dict[str, Any] | None, prism: dict[str, Any] | None) -> list[str]:
    """One line per claim the table supports: each mode against its peer, and what slow clients cost."""
    lines = []
    rows = {row["key"]: row for row in report.get("mock", []) if "key" in row}
    for key, peer, name in (("production", wiremock, "WireMock"), ("default", prism, "Prism")):
        row = rows.get(key)
        if row and peer and row["rps"] and peer["rps"]:
            p99, theirs = row["p99_ms"], peer["p99_ms"]
            than = f"{theirs / p99:.1f}x lower" if p99 <= theirs else f"{p99 / theirs:.1f}x higher"
            lines.append(
                f"- {row['label']}: {row['rps'] / peer['rps']:.2f}x {name}'s throughput; p99 {p99:.2f} ms "
                f"against {theirs:.2f} ms ({than})."
            )
    for row in report.get("mock", []):
        held = row.get("slow_clients")
        if held and held.get("stalled"):
            lines.append(
                f"- {row['label']}: while {held['held']:,} request bodies stalled (10 bytes sent of each), the "
                f"other clients got p50 {ms(row['p50_ms'])} ms, p99 {ms(row['p99_ms'])} ms, {row['errors']} errors; "
                f"{held['failed']} stalled connections were dropped before the row ended."
            )
        elif held:
            lines.append(
                f"- {row['label']}: while {held['held']:,} requests were held on the slow scenario (300-1500 ms), "
                f"the other clients got p50 {ms(row['p50_ms'])} ms, p99 {ms(row['p99_ms'])} ms, {row['errors']} "
                f"errors; {held['answered']:,} slow answers arrived (median {held['median_s'] or 0:.2f} s), "
                f"{held['failed']} slow connections failed."
            )
    for peer, reason in report.get("peers_missing", {}).items():
        lines.append(f"- {peer} was not measured: {reason}.")
    return lines


ROWS = (
    "ceiling",
    "production",
    "wiremock",
    "prism",
    "redis",
    "default",
    "growth",
    "slow",
    "stalled",
    "again",
    "soak",
)


def run(wanted: set[str], args: argparse.Namespace) -> dict[str, Any]:
    """Measure the `wanted` rows, interleaved so that drift on a shared machine shows (production first and last)."""
    d, c, t = args.duration, args.connections, args.threads
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "duration_s": d,
        "connections": c,
        "threads": t,
        "rows": sorted(wanted, key=ROWS.index),
        "mock": [],
        "peers": [],
        "peers_missing": args.peers_missing,
    }
    mock: list[dict[str, Any]] = report["mock"]

    def row(key: str, result: dict[str, Any]) -> None:
        mock.append({"key": key, **result})
        print(f"  {result['label']}: {result['rps']:,.0f} req/s, p99 {ms(result['p99_ms'])} ms", flush=True)

    if "ceiling" in wanted:
        report["ceiling"] = run_nginx(d, c, t)
    if "production" in wanted:
        row("production", run_mock("serve --workers 2 (production)", d, c, t, extra=PRODUCTION))
    if "wiremock" in wanted:
        report["peers"].append({"peer": "wiremock", **run_wiremock(d, c, t)})
    if "prism" in wanted:
        report["peers"].append({"peer": "prism", **run_prism(d, c, t)})
    if "redis" in wanted:
        with redis_url() as url:
            row("redis", run_mock("serve --workers 2, state in Redis", d, c, t, extra=[*PRODUCTION, "--state", url]))
    if "default" in wanted:
        row("default", run_mock("serve (default, 1 process)", d, c, t))
    if "growth" in wanted:
        for count in (1, 10, 100):
            label = f"production, {count} scenario(s) loaded"
            row(f"scenarios-{count}", run_mock(label, d, c, t, scenarios=scenario_dir(count), extra=PRODUCTION))
        row(
            "journal-off",
            run_mock("production, journal off (size 0)", d, c, t, extra=[*PRODUCTION, "--journal-size", "0"]),
        )
        with tempfile.TemporaryDirectory(prefix="bench-journal-") as workdir:
            state = f"sqlite://{workdir}/state.db"
            prefill_journal(state, 100_000)
            extra = [*PRODUCTION, "--journal-size", "100000", "--state", state]
            row("journal-100k", run_mock("production, journal holding 100,000 entries", d, c, t, extra=extra))
    if "slow" in wanted:
        n = args.slow_clients
        for key, label, extra in (("production", "production", PRODUCTION), ("default", "default", [])):
            title = f"{label}, other clients while {n:,} slow ones wait"
            row(f"slow-{key}", run_mock(title, d, c, t, extra=extra, slow_clients=n))
    if "stalled" in wanted:
        n = args.slow_clients
        for key, label, extra in (("production", "production", PRODUCTION), ("default", "default", [])):
            title = f"{label}, other clients while {n:,} bodies stall"
            row(f"stalled-{key}", run_mock(title, d, c, t, extra=extra, slow_clients=n, stall=True))
    if "again" in wanted:
        row("production-again", run_mock("serve --workers 2 (production), again last", d, c, t, extra=PRODUCTION))
    if "soak" in wanted:
        report["soak"] = soak(args.soak, c, t)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default=",".join(ROWS), help=f"rows to run, comma-separated, of: {', '.join(ROWS)}")
    parser.add_argument("--no-growth", action="store_true", help="skip the scenario-count and journal rows")
    parser.add_argument("--soak", type=int, default=60, help="seconds of the memory soak run (0: skip)")
    parser.add_argument("--slow-clients", type=int, default=1000, help="requests held in the slow rows")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where latest.{json,md} go")
    args = parser.parse_args()
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    if wanted - set(ROWS):
        parser.error(f"unknown rows: {', '.join(sorted(wanted - set(ROWS)))} (known: {', '.join(ROWS)})")
    if args.no_growth:
        wanted.discard("growth")
    if not args.soak:
        wanted.discard("soak")
    try:
        import mockserver  # noqa: F401
    except ImportError as missing:
        sys.exit(f"bench: {missing.name} is not installed; run `python3 -m pip install -e .` in {ROOT} first")
    ensure_tools()
    args.peers_missing = ensure_peers(wanted)
    for peer, reason in args.peers_missing.items():
        print(f"bench: {peer} is left out: {reason}", file=sys.stderr)
        wanted.discard(peer)
    report = run(wanted, args)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.output / "latest.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
