"""The README's console examples as data, and a shell that runs them as a reader would.

Every ```console block is a list of `$ command` lines, each followed by what it prints. They run
in one bash session, in the README's order (so `P=...` set in one is there in the next), against
a real mock. What differs from run to run is normalised on both sides before comparing: ports,
correlation ids, generated ids, times and durations. In the README, `...` or `…` stands for any
text, and line breaks inside long output are for reading only (whitespace is not compared).

`python3 -m tests.readme_examples` prints what each example prints now, to update the README.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_PORT = 8080  # the port the README shows; the tests serve on a free one

_BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
_NORMALISE = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<correlation-id>"),
    (re.compile(r'"id":"[A-Za-z0-9]{18}"'), '"id":"<id>"'),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"\b\d+ test cases in [\d.]+ s \(\d+ cases/s\)"), "<n> test cases in <t> s (<r> cases/s)"),
    (re.compile(r"(passed|FAILED) +\d+( of \d+)? responses"), r"\1 <n> responses"),
    (re.compile(r"\b(Date|Retry-After|X-RateLimit-Reset): .*"), r"\1: <varies>"),
    (re.compile(r'("ids":)\[[\d,]*\]'), r"\1[<ids>]"),
    (re.compile(r"\bkill \d+"), "kill <pid>"),
]
_WILDCARD = re.compile(r"\.\.\.|…")


@dataclass(frozen=True)
class Example:
    command: str
    expected: str
    line: int  # in README.md, for the failure message

    def ports(self) -> list[int]:
        return [int(p) for p in re.findall(r"127\.0\.0\.1:(\d{4,5})\b", self.command)]


def examples(readme: str) -> list[Example]:
    found = []
    for block in _BLOCK.finditer(readme):
        first_line = readme.count("\n", 0, block.start(1)) + 1
        lines = block.group(1).splitlines()
        index = 0
        while index < len(lines):
            if not lines[index].startswith("$ "):
                raise ValueError(f"README.md:{first_line + index}: a console block's first line must be '$ command'")
            start = index
            command = lines[index][2:]
            while not _complete(command):
                index += 1
                command += "\n" + lines[index]
            index += 1
            output = []
            while index < len(lines) and not lines[index].startswith("$ "):
                output.append(lines[index])
                index += 1
            found.append(Example(command, "\n".join(output).strip(), first_line + start))
    return found


def _complete(command: str) -> bool:
    """Whether a command is whole: no trailing backslash and no quote left open."""
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command, comments=False)
    except ValueError:
        return False
    return True


def normalised(text: str) -> str:
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return text


def matches(expected: str, actual: str) -> bool:
    """`actual` fits `expected` once both are normalised and stripped of whitespace; `...` or `…` in
    `expected` stands for any text."""
    pieces = [re.escape(re.sub(r"\s+", "", piece)) for piece in _WILDCARD.split(normalised(expected))]
    return re.fullmatch(".*?".join(pieces), re.sub(r"\s+", "", normalised(actual)), re.DOTALL) is not None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Shell:
    """One bash session, as a reader's terminal: variables and background jobs carry over."""

    def __init__(self, cwd: Path, ports: dict[int, int]) -> None:
        self.ports = ports
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # background jobs the README starts end with the session
            env={**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "COLUMNS": "120"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def run(self, command: str, timeout: float = 120) -> str:
        """What `command` prints (stdout and stderr), with the README's ports put back."""
        for shown, real in self.ports.items():
            command = command.replace(f"127.0.0.1:{shown}", f"127.0.0.1:{real}")
            command = re.sub(rf"--port {shown}\b", f"--port {real}", command)
        marker = f"__readme_done_{time.monotonic_ns()}__"
        assert self.process.stdin is not None
        # The marker keeps the command's exit status for the next command (`echo $?`).
        self.process.stdin.write(f'{command}\n__s=$?; echo "{marker}"; (exit $__s)\n')
        self.process.stdin.flush()
        output = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no end after {timeout:g} s: {command}\n{''.join(output)}") from None
            if line.rstrip("\n").endswith(marker):  # after output with no final newline (curl's), too
                output.append(line[: line.rindex(marker)])
                break
            output.append(line)
        text = "".join(output)
        for shown, real in self.ports.items():
            text = text.replace(f"127.0.0.1:{real}", f"127.0.0.1:{shown}")
        return text

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # the servers examples start in the background go too
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=10)


def serve_mock(port: int) -> subprocess.Popen[str]:
    """The README's mock (`python3 -m mockserver serve`), on `port`, from the repository root."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    if "http://" not in process.stdout.readline():
        process.kill()
        raise RuntimeError("the mock did not start")
    return process


def run_all(readme: str) -> Iterator[tuple[Example, str]]:
    """Each example with what it prints now, in order, against a fresh mock."""
    found = examples(readme)
    ports = {README_PORT: free_port()}
    for example in found:
        for port in example.ports():
            ports.setdefault(port, free_port())
    mock = serve_mock(ports[README_PORT])
    shell = Shell(ROOT, ports)
    try:
        for example in found:
            yield example, shell.run(example.command)
    finally:
        shell.close()
        mock.terminate()
        mock.wait(timeout=10)


if __name__ == "__main__":
    for example, actual in run_all((ROOT / "README.md").read_text()):
        verdict = "ok" if matches(example.expected, actual) else "DIFFERS"
        print(f"--- README.md:{example.line} [{verdict}] $ {example.command}\n{actual}", flush=True)
