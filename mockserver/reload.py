"""Hot reload: watch the spec and the scenario directory, and swap in the new configuration when
it loads cleanly. A broken edit is logged with file, line, field and reason, and the last good
configuration keeps serving. Nothing a file holds can stop the watching: every failure is a reported
problem, and a watchdog starts the watcher again should it die all the same."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from .config import MockConfig
from .errors import ConfigError, unexpected_problem
from .state import MockState

log = logging.getLogger("mockserver.reload")
Snapshot = dict[str, tuple[int, int]]


def snapshot(spec: Path, scenarios: Path, included: tuple[Path, ...] = ()) -> Snapshot:
    """Modification time and size of every watched file (the spec, the files a split spec refers to,
    the scenarios); any difference means an edit."""
    try:
        files = [spec, *included, *(sorted(scenarios.iterdir()) if scenarios.is_dir() else [])]
    except OSError:  # the directory went away or cannot be read: the load will say so
        files = [spec, *included]
    found: Snapshot = {}
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found


class Reloader:
    def __init__(
        self, state: MockState, load: Callable[[], MockConfig], spec: Path, scenarios: Path, interval: float = 0.5
    ) -> None:
        self.state, self.load, self.spec, self.scenarios, self.interval = state, load, spec, scenarios, interval
        self._last = snapshot(spec, scenarios, self._included())
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self.restarts = 0

    def _included(self) -> tuple[Path, ...]:
        """The other files of a spec split over files, as the serving configuration read them."""
        return tuple(d.path for d in self.state.config.spec.document.included.values())

    def start(self) -> Reloader:
        """Start watching (in each --workers process: threads do not survive the fork)."""
        self._watcher = self._start_watcher()
        self._watchdog = threading.Thread(target=self._guard, name="mockserver-reload-watchdog", daemon=True)
        self._watchdog.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._watchdog, self._watcher):
            if thread is not None:
                thread.join(timeout=5)

    def _start_watcher(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="mockserver-reload", daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # check() reports what loading meets; this is a bug in the watching itself
                log.exception("hot reload: checking for edits failed; trying again")

    def _guard(self) -> None:
        """The watchdog: whatever ended the watcher (a BaseException, a bug), watching goes on."""
        while not self._stop.wait(self.interval * 2):
            if self._watcher is not None and not self._watcher.is_alive() and not self._stop.is_set():
                self.restarts += 1
                log.error("hot reload: the watcher stopped; restarting it (restart %d)", self.restarts)
                self._watcher = self._start_watcher()

    def check(self) -> bool:
        """Reload if anything changed; True when a new configuration is now serving."""
        current = snapshot(self.spec, self.scenarios, self._included())
        if current == self._last:
            return False
        changed = sorted(f for f in current.keys() | self._last.keys() if current.get(f) != self._last.get(f))
        self._last = current
        try:
            config = self.load()
        except ConfigError as exc:
            problems = [str(p) for p in exc.problems]
        except Exception as exc:  # the loaders name the file for what they meet; this names what changed
            problems = [str(unexpected_problem(Path(", ".join(changed)), exc))]
        else:
            self.state.swap(config)
            log.warning("reloaded %s and %d scenarios", self.spec, len(config.scenarios))
            return True
        self.state.reload_problems = problems
        for problem in problems:
            log.error("reload failed, still serving the last good configuration: %s", problem)
        return False
