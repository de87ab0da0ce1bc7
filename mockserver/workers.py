"""`serve --workers N`: the production server. Granian (HTTP in Rust, Python only for the app)
runs N worker processes forked from this one after the config is loaded, so start-up pays for
loading once. State the workers must agree on lives in a shared store (SQLite by default).

Chosen by measurement (README, "Benchmark"): on 2 cores, 2 workers, wrk -t2 -c32, the same app,
granian served about 1.9x the requests per second of gunicorn's gthread and sync workers, with a
lower p99. What granian cannot do is break a connection from inside a WSGI app (no socket), so the
connection faults answer 501 there (see app.py) and the single-process server keeps them.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

LOG_CONFIG: dict[str, Any] = {  # granian's own lines go to stderr with ours; stdout carries only the URL
    "formatters": {  # escaped like ours (mockserver/logsafe.py): granian may log what a client sent
        "generic": {"()": "mockserver.logsafe.SafeFormatter", "fmt": "[%(levelname)s] %(message)s"},
        "access": {"()": "mockserver.logsafe.SafeFormatter", "fmt": "%(message)s"},
    },
    "handlers": {
        "console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
        "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
    },
}


def wait_until_accepting(host: str, port: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.01)
    return False


def serve_with_workers(
    app: Flask,
    host: str,
    port: int,
    workers: int,
    request_timeout: float,
    on_ready: Callable[[], None],
    in_each_worker: Callable[[], object] | None = None,
) -> None:
    """Serve `app` with `workers` granian processes until interrupted; `on_ready` runs once the
    port accepts connections, `in_each_worker` right after each worker is forked."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    if in_each_worker is not None:
        os.register_at_fork(after_in_child=in_each_worker)
    server = Granian(
        "mockserver.app:create_app",  # only named: the workers get `app` itself, forked
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=4,  # measured: 1: 5.2-6.3k req/s, 4: 7.2-7.4k, 8: 4.8-5.8k (p99 32+ ms)
        backlog=2048,
        http1_settings=HTTP1Settings(header_read_timeout=int(request_timeout * 1000)),
        log_level=LogLevels.warning,
        log_dictconfig=LOG_CONFIG,
        respawn_failed_workers=True,
    )
    url_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host

    def announce_when_ready() -> None:
        if wait_until_accepting(url_host, port):
            on_ready()

    threading.Thread(target=announce_when_ready, name="mockserver-ready", daemon=True).start()
    server.serve(target_loader=lambda _target: app)
