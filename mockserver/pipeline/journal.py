"""Last step, the journal: one log line per request. It never records header values or bodies,
so keys and passwords cannot leak into logs."""

from __future__ import annotations

import logging
import time

from ..exchange import Exchange, Reply

log = logging.getLogger("mockserver.journal")


def record(exchange: Exchange, reply: Reply) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    elapsed_ms = (time.perf_counter() - exchange.started) * 1000
    scenario = exchange.scenario.name if exchange.scenario else "-"
    log.info(
        "%s %s -> %d (scenario %s, %s) %.1f ms",
        exchange.request.method,
        exchange.request.path,
        reply.status,
        scenario,
        exchange.decided_by,
        elapsed_ms,
    )
