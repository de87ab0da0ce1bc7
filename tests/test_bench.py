"""The benchmark's own logic: its peers pinned to exact versions, and a report whose ratios and claims
say what the measurements say (the measuring itself is bench/run.py's run, not a test)."""

from __future__ import annotations

import importlib.util
import json
import re
from types import ModuleType
from typing import Any

from .conftest import ROOT


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_peers_are_pinned_to_exact_versions_in_the_lock() -> None:
    wanted = json.loads((ROOT / "bench" / "package.json").read_text())["dependencies"]
    locked = json.loads((ROOT / "bench" / "package-lock.json").read_text())["packages"]
    assert set(wanted) == {"wiremock", "@stoplight/prism-cli"}
    for name, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version} is a range, not a pin"
        assert locked[f"node_modules/{name}"]["version"] == version
        assert locked[""]["dependencies"][name] == version


def row(label: str, rps: float, p99: float, **extra: Any) -> dict[str, Any]:
    measured = {"startup_s": 0.5, "rss_mb": 60.0, "main_rss_mb": 60.0, "rss_growth_mb": 1.0, "processes": 3}
    return {"label": label, "rps": rps, "p50_ms": 1.0, "p99_ms": p99, "errors": 0, **measured, **extra}


def test_the_report_divides_by_each_peer_and_says_how_each_mode_compares() -> None:
    run = bench()
    report = {
        "date": "d",
        "machine": "m",
        "duration_s": 10,
        "connections": 32,
        "threads": 2,
        "ceiling": {"rps": 40000.0, "p50_ms": 0.2, "p99_ms": 1.0, "errors": 0},
        "peers": [row("WireMock", 4000, 150.0, peer="wiremock"), row("Prism", 1000, 300.0, peer="prism")],
        "mock": [
            row("production", 9000, 30.0, key="production"),
            row("default", 500, 600.0, key="default"),
            row(
                "slow",
                3000,
                80.0,
                key="slow-production",
                slow_clients={"held": 1000, "answered": 9000, "failed": 0, "median_s": 0.9},
            ),
            row(
                "stalled",
                8000,
                12.0,
                key="stalled-production",
                slow_clients={"stalled": True, "held": 1000, "answered": 0, "failed": 0, "median_s": None},
            ),
            {**row("nothing answered", 0, 0.0, key="x"), "p50_ms": None, "p99_ms": None},
        ],
        "peers_missing": {},
    }
    text = run.markdown(report)
    lines = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert "| 9,000 | 2.25x | 9.00x | 22.5% | 1.00 | 30.00 |" in lines["production"]
    assert "| 500 | 0.12x | 0.50x |" in lines["default"]
    assert "| 0 | 0.00x | 0.00x | 0.0% | - | - |" in lines["nothing answered"]
    assert "- production: 2.25x WireMock's throughput; p99 30.00 ms against 150.00 ms (5.0x lower)." in text
    assert "- default: 0.50x Prism's throughput; p99 600.00 ms against 300.00 ms (2.0x higher)." in text
    assert "while 1,000 requests were held on the slow scenario" in text and "p99 80.00 ms" in text
    assert (
        "- stalled: while 1,000 request bodies stalled (10 bytes sent of each), the other clients got p50 1.00 ms, "
        "p99 12.00 ms, 0 errors; 0 stalled connections were dropped before the row ended." in text
    )


def test_a_peer_that_cannot_be_installed_is_named_with_the_reason() -> None:
    run = bench()
    report = {"date": "d", "machine": "m", "duration_s": 1, "connections": 1, "threads": 1, "mock": [], "peers": []}
    report["peers_missing"] = {"wiremock": "no Java: `apt-get install default-jre-headless` failed"}
    assert "- wiremock was not measured: no Java: `apt-get install default-jre-headless` failed." in run.markdown(
        report
    )
