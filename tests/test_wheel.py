"""What a user installs: the built wheel, in a fresh virtual environment with nothing else, gives
every command (`serve`, `check`, `diff` and `contract`), run from a project folder of their own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import requests

from .conftest import HEADERS, ROOT, SMTP_PATH, valid_body

pytestmark = pytest.mark.e2e


def _run(*command: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=environ
    )


def test_the_wheel_alone_gives_every_command(tmp_path: Path) -> None:
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", tmp_path / "dist", ROOT, cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((tmp_path / "dist").glob("mockserver-*.whl"))
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    installed = _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    mockserver = tmp_path / "venv" / "bin" / "mockserver"

    project = tmp_path / "project"  # a user's folder: their spec and scenarios, not this repository
    project.mkdir()
    shutil.copy(ROOT / "openapi.yaml", project)
    shutil.copytree(ROOT / "scenarios", project / "scenarios")
    # The package must come from the wheel, not from this checkout.
    where = _run(python, "-c", "import mockserver; print(mockserver.__file__)", cwd=project)
    assert str(tmp_path / "venv") in where.stdout, where.stdout + where.stderr

    check = _run(mockserver, "check", cwd=project)
    assert check.returncode == 0 and "ok: the spec, its examples and every scenario agree" in check.stdout, check

    edited = (project / "openapi.yaml").read_text().replace("maximum: 2147483647", "maximum: 65535")
    (project / "next.yaml").write_text(edited)
    diff = _run(mockserver, "diff", "openapi.yaml", "next.yaml", cwd=project)
    assert diff.returncode == 1 and "port maximum changed from 2147483647 to 65535" in diff.stdout, diff

    server = subprocess.Popen(
        [str(mockserver), "serve", "--port", "0", "--quiet"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "http://" in line, line + (server.stderr.read() if server.stderr else "")
        url = line[line.index("http://") :].split()[0]
        assert requests.post(url + SMTP_PATH, json=valid_body(), headers=HEADERS, timeout=5).status_code == 201
        contract = _run(mockserver, "contract", "--url", url, "--phases", "examples", "--seed", "1", cwd=project)
        assert contract.returncode == 0, contract.stdout[-3000:] + contract.stderr
        assert "Result: conformant" in contract.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
