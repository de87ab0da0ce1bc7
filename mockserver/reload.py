"""Hot reload: watch the spec and the scenario directory, and swap in the new configuration when
it loads cleanly. A broken edit is logged with file, line, field and reason, and the last good
configuration keeps serving."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from .config import MockConfig
from .errors import ConfigError
from .state import MockState

log = logging.getLogger("mockserver.reload")
Snapshot = dict[str, tuple[int, int]]


def snapshot(spec: Path, scenarios: Path) -> Snapshot:
    """Modification time and size of every watched file; any difference means an edit."""
    files = [spec, *(sorted(scenarios.iterdir()) if scenarios.is_dir() else [])]
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
        self._last = snapshot(spec, scenarios)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mockserver-reload", daemon=True)

    def start(self) -> Reloader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def check(self) -> bool:
        """Reload if anything changed; True when a new configuration is now serving."""
        current = snapshot(self.spec, self.scenarios)
        if current == self._last:
            return False
        self._last = current
        try:
            config = self.load()
        except ConfigError as exc:
            self.state.reload_problems = [str(p) for p in exc.problems]
            for problem in exc.problems:
                log.error("reload failed, still serving the last good configuration: %s", problem)
            return False
        self.state.swap(config)
        log.warning("reloaded %s and %d scenarios", self.spec, len(config.scenarios))
        return True
