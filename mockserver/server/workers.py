"""`serve --workers N`: N processes forked after start-up (the config and the app are built once),
each serving on its own event loop; state the workers must agree on lives in a shared store (SQLite
by default, or Redis). A worker that dies is replaced; SIGINT or SIGTERM stops them all.

Each worker listens on a socket of its own, bound to the same port with SO_REUSEPORT, so the kernel
spreads connections evenly. Measured: with one socket shared by both, whichever worker woke first
accepted most of wrk's 32 connections, and --workers 2 served 4,800-5,000 req/s (one process's
worth) in two runs out of three."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("mockserver")


def serve_forked(
    serve: Callable[[socket.socket], None],
    listener: socket.socket,
    workers: int,
    on_ready: Callable[[], None],
    in_each_worker: Callable[[], object] | None = None,
) -> None:
    """Fork `workers` children running `serve(their socket)` until stopped; returns once they all exited.
    `listener` proved the port free (it was bound without SO_REUSEPORT, so a server already on the port
    is refused, not joined); the workers' sockets take its place."""
    family, address = listener.family, listener.getsockname()
    listener.close()
    children: dict[int, float] = {}  # pid: when it started
    stopping = False

    def spawn(sock: socket.socket) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            for other in sockets:  # the other workers' sockets: each is its worker's alone
                if other is not sock:
                    other.close()
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                if in_each_worker is not None:
                    in_each_worker()
                serve(sock)
            except KeyboardInterrupt:
                pass
            except BaseException:
                log.exception("worker %d failed", os.getpid())
                code = 1
            finally:
                os._exit(code)
        children[pid] = time.monotonic()
        sock.close()  # the worker's own: a dead worker's queue must not linger here

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    sockets = [_reuse_port_socket(family, address) for _ in range(workers)]  # all listening before any fork
    for sock in sockets:
        spawn(sock)
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
            if not stopping:  # a stop may have come during that second
                spawn(_reuse_port_socket(family, address))


def _reuse_port_socket(family: int, address: tuple[str, int]) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    return sock
