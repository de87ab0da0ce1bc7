"""The dashboard in Firefox: Debian's Firefox ESR driven over WebDriver BiDi by puppeteer-core
(tests/firefox/smoke.mjs), since Playwright's own Firefox build cannot be fetched here and BiDi
needs no geckodriver. Firefox ESR, Node.js and the locked npm packages are installed by the
test's own setup when missing."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.conftest import HEADERS, SMTP_PATH, LiveServer, valid_body
from tests.services import ensure_installed

pytestmark = pytest.mark.e2e
DRIVER = Path(__file__).resolve().parent / "firefox"


def ensure_driver() -> str:
    """node, with puppeteer-core installed exactly as package-lock.json says."""
    node = ensure_installed("node", "nodejs")
    npm = ensure_installed("npm", "npm")
    lock = DRIVER / "package-lock.json"
    installed = DRIVER / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        env = {**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"}  # the browser is Debian's, not a download
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=DRIVER, env=env, check=True, timeout=600)
    return node


def test_journal_scenarios_and_docs_work_in_firefox(live_server: Callable[..., LiveServer]) -> None:
    firefox = ensure_installed("firefox-esr", "firefox-esr")
    node = ensure_driver()
    server = live_server("--quiet")
    requests.post(server.url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=10)
    requests.post(server.url + SMTP_PATH, json=valid_body(port="x"), headers=HEADERS, timeout=10)

    run = subprocess.run(
        [node, str(DRIVER / "smoke.mjs"), server.url, firefox],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["status"] == "403" and '"port"' in result["marked"]
    newest = requests.get(server.url + "/__mock/journal?limit=1", timeout=5).json()["entries"][0]
    assert "Firefox/" in newest["headers"]["User-Agent"] and newest["status"] == 403
    assert newest["scenario"] == "forbidden"
