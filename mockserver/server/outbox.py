"""Answers are handed to the kernel once per pass of the event loop, after every request that pass
read has been answered, not one by one as each is ready.

Each send on loopback wakes the client, and on a busy machine the woken client preempts the
server at once: answered one by one, the server was preempted about once per request and came back
to cold caches for the next one. Measured under wrk (2 workers, 2 cores): 0.84 -> 0.54 involuntary
context switches per request, worker CPU 77 + 22 -> 69 + 12 us (user + system) per request, and
16,200 -> 20,800 req/s with p50 and p99 lower. An answer waits at most for the rest of its pass."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

log = logging.getLogger("mockserver")


class Writer(Protocol):
    loop: asyncio.AbstractEventLoop

    def flush(self) -> None:
        """Hand what it has written to its transport."""


class Outbox:
    """The connections with output waiting, flushed together at the end of the loop's pass."""

    def __init__(self) -> None:
        self.waiting: list[Writer] = []

    def add(self, writer: Writer) -> None:
        if not self.waiting:
            writer.loop.call_soon(self.flush)  # first in the loop's next pass, whose poll does not wait
        self.waiting.append(writer)

    def flush(self) -> None:
        waiting, self.waiting = self.waiting, []
        for writer in waiting:
            try:
                writer.flush()
            except Exception:  # a bug, but the other connections' answers still go out
                log.exception("an answer could not be written")
