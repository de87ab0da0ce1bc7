"""One process's server: an asyncio event loop serving a listening socket. The app
runs on the loop itself (answering costs tens of microseconds, SQLite calls included), or in a
thread pool when it may wait on the network (Redis, --upstream) and for /__mock/ (the dashboard,
reloads): either way a waiting request holds no thread."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..guard import is_admin_path
from .connection import Connection, Settings
from .outbox import Outbox

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

THREADS = 8  # for an app that may block: store round trips, the upstream, the admin API


class Server:
    def __init__(
        self,
        app: WSGIApplication,
        sock: socket.socket,
        request_timeout: float = 30.0,
        max_body_size: int = 1024 * 1024,
        app_blocks: bool = False,
    ) -> None:
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()
        self._executor = ThreadPoolExecutor(THREADS, thread_name_prefix="mockserver-app")
        offload: Callable[[dict[str, Any]], bool] = (
            (lambda environ: True) if app_blocks else (lambda environ: is_admin_path(environ["PATH_INFO"]))
        )
        host, port = sock.getsockname()[:2]
        self._settings = Settings(
            app, request_timeout, max_body_size, offload, self._executor, (str(host), int(port)), Outbox()
        )

    def serve_forever(self) -> None:
        """Serve until shutdown() (from another thread) or KeyboardInterrupt."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        if threading.current_thread() is threading.main_thread():
            # A stop ends the loop, so whoever called this can still clean up (the journal is written
            # out). Through the loop: a signal that lands on another thread must still wake it.
            for stop in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(stop, loop.stop)
        settings = self._settings
        try:
            server = loop.run_until_complete(
                loop.create_server(lambda: Connection(settings), sock=self.sock, backlog=2048)
            )
            self._started.set()
            try:
                loop.run_forever()
            finally:
                settings.outbox.flush()  # the answers of the loop's last pass
                server.close()
        finally:
            self._started.set()
            self._executor.shutdown(wait=False, cancel_futures=True)
            loop.close()

    def shutdown(self) -> None:
        self._started.wait(10)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)

    def server_close(self) -> None:
        self.sock.close()
