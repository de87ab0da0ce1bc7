"""Where a running mock keeps what must stay right when it is scaled out: sequence counters,
rate-limit windows, stored items, the journal, and the runtime choices (active scenario,
expectations). One interface, three homes:

- `memory`: one process (the default `serve`, tests, the pytest fixture);
- `sqlite:///PATH`: several worker processes on one machine (`serve --workers N`), no extra service;
- `redis://HOST:PORT/DB`: several instances behind a load balancer.

Every read-modify-write is atomic in the store itself (a lock, a SQLite write transaction, a Redis
script or transaction), so limits and sequences hold exactly under concurrent load.

Nothing grows without bound, whatever clients send: a rate-limit window is forgotten once it has
ended, sequence counters are kept for the MAX_COUNTERS most recently used keys, each partition of
stored items keeps its newest `max_items` (the oldest written is evicted, logged once), and the journal
keeps its newest `journal_size` entries.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

JournalRecord = dict[str, Any]  # JSON-ready; the store assigns "id"


class Deferred(Protocol):
    """A journal entry the store builds only if it keeps it: when it is read or written out, never
    once `journal_size` newer entries have pushed it out (pipeline/journal.py's Draft)."""

    time: float

    def build(self) -> JournalRecord: ...


JournalEntry = JournalRecord | Deferred
# A journal of up to this many entries (the default size) keeps them unbuilt until read or written
# out. An unbuilt entry holds its whole exchange, about 16 KB; a bigger journal builds each entry as
# it comes (SQLite: in batches of FLUSH_BATCH), since it keeps nearly all of them anyway.
LAZY_JOURNAL = 1000


def built(entry: JournalEntry) -> JournalRecord:
    return entry if isinstance(entry, dict) else entry.build()


def entry_time(entry: JournalEntry) -> float:
    return entry.setdefault("time", time.time()) if isinstance(entry, dict) else entry.time


Items = dict[str, dict[str, dict[str, Any]]]  # collection -> partition -> id -> item

MAX_COUNTERS = 100_000  # sequence counters kept; the least recently used key is forgotten first
DEFAULT_MAX_ITEMS = 1000  # stored items per partition (serve --max-items)
SWEEP_EVERY = 1000  # window and counter clean-ups in the shared stores, in calls per process

log = logging.getLogger("mockserver.store")


class Evictions:
    """Says once per store, in the log, that a partition is full and the oldest items now go."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._said = False

    def evicted(self, collection: str, partition: str, count: int) -> None:
        if count and not self._said:
            self._said = True
            log.warning(
                "stateful items: %s/%s reached %d items; the oldest written are evicted from now on, in "
                "every partition (--max-items; logged once)",
                collection,
                partition or "-",
                self.max_items,
            )


def keyed_hash(salt: bytes, value: str) -> str:
    """What a store keeps instead of a credential it must still recognise (an Auth-Key with a runtime
    switch, the subject of a counter or window): HMAC-SHA256 with the store's own random salt, which
    every process sharing the store reads from it, so no table of common keys' hashes applies."""
    return hmac.new(salt, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


def decide(start: float, used: int, now: float, limit: int, window: float) -> tuple[float, int, RateDecision]:
    """The fixed-window rule every store applies: a window opens at its first request."""
    if now >= start + window:
        start, used = now, 0
    allowed = used < limit
    if allowed:
        used += 1
    reset = max(1, math.ceil(start + window - now))
    return start, used, RateDecision(allowed, limit, max(0, limit - used), reset)


@dataclass(frozen=True)
class Control:
    """Runtime choices made through the admin API: scenarios for everyone, per Brand-URL or per
    Auth-Key, and expectation rules (kept as their JSON source; each process compiles them)."""

    everyone: str | None = None
    by_brand: dict[str, str] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    expectations: tuple[dict[str, Any], ...] = ()

    def choose(self, scenario: str | None, brand: str | None = None, key: str | None = None) -> Control:
        """Make `scenario` active for one Auth-Key, one Brand-URL, or everyone; None undoes the choice."""
        if not key and not brand:
            return replace(self, everyone=scenario)
        chosen = dict(self.by_key if key else self.by_brand)
        if scenario is None:
            chosen.pop(key or brand or "", None)
        else:
            chosen[key or brand or ""] = scenario
        return replace(self, by_key=chosen) if key else replace(self, by_brand=chosen)

    def as_dict(self) -> dict[str, Any]:
        return {
            "everyone": self.everyone,
            "by_brand": self.by_brand,
            "by_key": self.by_key,
            "expectations": list(self.expectations),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Control:
        return cls(data["everyone"], data["by_brand"], data["by_key"], tuple(data["expectations"]))


class Store(Protocol):
    url: str
    journal_size: int  # 0: no journal

    def fingerprint(self, value: str) -> str:
        """`keyed_hash` with this store's salt: the same in every process that shares the store."""

    def next_count(self, key: str) -> int:
        """1 on the first call for `key`, then 2, 3, ..."""

    def hit(self, key: str, limit: int, window: float) -> RateDecision:
        """Count one request in `key`'s fixed window; allowed while within `limit`."""

    def get(self, collection: str, partition: str, item_id: str) -> dict[str, Any] | None: ...

    def put(
        self, collection: str, partition: str, item_id: str, item: dict[str, Any], exclusive: Iterable[str] = ()
    ) -> None:
        """Store `item`; an `exclusive` flag it sets true is cleared on the partition's other items."""

    def dump(self, offset: int = 0, limit: int | None = None) -> Items:
        """A page of the stored items: from the `offset`-th, at most `limit`, in a stable order (oldest
        written first, within each partition at least)."""

    def item_count(self) -> int:
        """How many items are stored, in every collection and partition."""

    def reset(self) -> None:
        """Forget counters, windows and stored items (not the journal or runtime choices)."""

    def record(self, entry: JournalEntry) -> None:
        """Append to the journal, which keeps only the newest `journal_size` entries."""

    def journal(self) -> list[JournalRecord]:
        """The journal, oldest first, each entry with its "id"."""

    def clear_journal(self) -> None: ...

    def control(self) -> Control:
        """The current runtime choices; called on every request, so cheap when nothing changed."""

    def change_control(self, change: Any) -> Control:
        """Apply `change(Control) -> Control` atomically; returns the new value."""

    def close(self) -> None: ...


class StoreUnavailableError(Exception):
    """The state store cannot be reached: the request is answered 503 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"the state store is unavailable; retry after {retry_after} s")


T = TypeVar("T")
PROBE_EVERY = 1.0  # seconds between attempts to reach a store that is down


class Guarded:
    """A shared store (SQLite, Redis) whose outages are handled once, not on every request.

    While the store cannot be reached (`outages`: the errors that mean so), every call raises
    StoreUnavailableError at once without touching it, except one call a second, which tries the store
    again: recovery is automatic. The outage is logged in one line when it starts and one when it ends
    (during an outage of 10 s the mock once logged 17,342 tracebacks)."""

    def __init__(self, inner: Store, outages: tuple[type[Exception], ...]) -> None:
        self.inner, self._outages = inner, outages
        self.url, self.journal_size = inner.url, inner.journal_size
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_try = 0.0
        self._refused = 0

    def _call(self, method: Callable[..., T], *args: Any) -> T:
        if self._down_since is not None:
            with self._lock:
                now = time.monotonic()
                if self._down_since is not None and now < self._next_try:
                    self._refused += 1
                    raise StoreUnavailableError(max(1, math.ceil(self._next_try - now)))
                self._next_try = now + PROBE_EVERY  # this call is the one that tries
        try:
            result = method(*args)
        except self._outages as exc:
            self._went_down(exc)
            raise StoreUnavailableError(math.ceil(PROBE_EVERY)) from None
        if self._down_since is not None:
            self._came_back()
        return result

    def _went_down(self, exc: Exception) -> None:
        with self._lock:
            self._next_try = time.monotonic() + PROBE_EVERY
            if self._down_since is None:
                self._down_since, self._refused = time.monotonic(), 1
                log.error("state store %s is unavailable (%s): answering 503 until it is back", _safe(self.url), exc)

    def _came_back(self) -> None:
        with self._lock:
            if self._down_since is not None:
                log.warning(
                    "state store %s is back after %.1f s (%d requests were answered 503)",
                    _safe(self.url),
                    time.monotonic() - self._down_since,
                    self._refused,
                )
                self._down_since = None

    def fingerprint(self, value: str) -> str:
        return self.inner.fingerprint(value)  # no I/O: the salt was read when the store opened

    def next_count(self, key: str) -> int:
        return self._call(self.inner.next_count, key)

    def hit(self, key: str, limit: int, window: float) -> RateDecision:
        return self._call(self.inner.hit, key, limit, window)

    def get(self, collection: str, partition: str, item_id: str) -> dict[str, Any] | None:
        return self._call(self.inner.get, collection, partition, item_id)

    def put(
        self, collection: str, partition: str, item_id: str, item: dict[str, Any], exclusive: Iterable[str] = ()
    ) -> None:
        self._call(self.inner.put, collection, partition, item_id, item, exclusive)

    def dump(self, offset: int = 0, limit: int | None = None) -> Items:
        return self._call(self.inner.dump, offset, limit)

    def item_count(self) -> int:
        return self._call(self.inner.item_count)

    def reset(self) -> None:
        self._call(self.inner.reset)

    def record(self, entry: JournalEntry) -> None:
        self._call(self.inner.record, entry)

    def journal(self) -> list[JournalRecord]:
        return self._call(self.inner.journal)

    def clear_journal(self) -> None:
        self._call(self.inner.clear_journal)

    def control(self) -> Control:
        return self._call(self.inner.control)

    def change_control(self, change: Any) -> Control:
        return self._call(self.inner.change_control, change)

    def close(self) -> None:
        self.inner.close()


def _safe(url: str) -> str:
    """A store URL for the log, without a password (redis://:secret@host)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


def open_store(url: str = "memory", journal_size: int = 1000, max_items: int = DEFAULT_MAX_ITEMS) -> Store:
    """A store from its URL: `memory`, `sqlite:///PATH` or `redis://HOST:PORT/DB`."""
    if url == "memory":
        from .memory import MemoryStore

        return MemoryStore(journal_size=journal_size, max_items=max_items)
    if url.startswith("sqlite://"):
        import sqlite3

        from .sqlite import SqliteStore

        return Guarded(SqliteStore(url, journal_size=journal_size, max_items=max_items), (sqlite3.OperationalError,))
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        from .redis import RedisStore

        outages = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        return Guarded(RedisStore(url, journal_size=journal_size, max_items=max_items), outages)
    raise ValueError(f"unknown state store {url!r}: use memory, sqlite:///PATH or redis://HOST:PORT/DB")
