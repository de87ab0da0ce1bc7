"""`serve --workers N`: N processes forked after start-up (the config, the app and the listening
socket are built once), each serving the shared socket on its own event loop; state the workers must
agree on lives in a shared store (SQLite by default, or Redis). A worker that dies is replaced;
SIGINT or SIGTERM stops them all."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("mockserver")


def serve_forked(
    serve: Callable[[], None],
    workers: int,
    on_ready: Callable[[], None],
    in_each_worker: Callable[[], object] | None = None,
) -> None:
    """Fork `workers` children running `serve()` until stopped; returns once they all exited."""
    children: dict[int, float] = {}  # pid: when it started
    stopping = False

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                if in_each_worker is not None:
                    in_each_worker()
                serve()
            except KeyboardInterrupt:
                pass
            except BaseException:
                log.exception("worker %d failed", os.getpid())
                code = 1
            finally:
                os._exit(code)
        children[pid] = time.monotonic()

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    for _ in range(workers):
        spawn()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    on_ready()
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        started = children.pop(pid, time.monotonic())
        if not stopping:
            log.warning("worker %d exited (status %d); starting another", pid, status)
            if time.monotonic() - started < 1:
                time.sleep(1)  # a worker that cannot start is not restarted in a tight loop
            spawn()
