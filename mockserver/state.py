"""What the mock remembers while it runs: counters, rate-limit windows, stored resources, the
journal and runtime scenario choices. One lock makes every read-modify-write exact under
concurrent requests; the config itself is swapped whole on reload, never edited in place."""

from __future__ import annotations

import copy
import functools
import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .config import MockConfig
from .rules import Rule

SECRET_HEADERS = frozenset({"auth-key", "authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"})
SECRET_WORDS = ("password", "secret", "token", "apikey", "api-key", "auth")
REDACTED = "***"


@functools.lru_cache(maxsize=4096)  # the same few names, on every request
def is_secret(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_HEADERS or any(word in lowered.replace("_", "-") for word in SECRET_WORDS)


def redact(value: Any) -> Any:
    """A copy of a JSON value with every secret-looking property masked."""
    if isinstance(value, dict):
        return {k: REDACTED if is_secret(str(k)) and v is not None else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


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


class MemoryStore:
    """State for one process. (Across processes or instances, a shared store takes its place.)"""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._counters: dict[str, int] = {}
        self._windows: dict[str, tuple[float, int]] = {}
        self._resources: dict[tuple[str, str], dict[str, Any]] = {}

    def next_count(self, key: str) -> int:
        """1 on the first call for `key`, then 2, 3, ..."""
        with self._lock:
            count = self._counters.get(key, 0) + 1
            self._counters[key] = count
            return count

    def hit(self, key: str, limit: int, window: float) -> RateDecision:
        """Count one request in a fixed window; allowed while the window's count is within `limit`."""
        with self._lock:
            now = self._clock()
            start, used = self._windows.get(key, (now, 0))
            if now >= start + window:
                start, used = now, 0
            allowed = used < limit
            if allowed:
                used += 1
            self._windows[key] = (start, used)
            reset = max(1, math.ceil(start + window - now))
            return RateDecision(allowed, limit, max(0, limit - used), reset)

    def get(self, collection: str, partition: str, item_id: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._resources.get((collection, partition), {}).get(item_id)
            return copy.deepcopy(item) if item is not None else None

    def put(
        self, collection: str, partition: str, item_id: str, item: dict[str, Any], exclusive: Iterable[str] = ()
    ) -> None:
        """Store `item`; an `exclusive` flag it sets true is cleared on the partition's other items."""
        with self._lock:
            items = self._resources.setdefault((collection, partition), {})
            for flag in exclusive:
                if item.get(flag) is True:
                    for other_id, other in items.items():
                        if other_id != item_id and other.get(flag) is True:
                            other[flag] = False
            items[item_id] = copy.deepcopy(item)

    def items(self, collection: str, partition: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._resources.get((collection, partition), {}))

    def dump(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every stored item: collection -> partition -> id -> item."""
        with self._lock:
            found: dict[str, dict[str, dict[str, Any]]] = {}
            for (collection, partition), items in self._resources.items():
                found.setdefault(collection, {})[partition] = copy.deepcopy(items)
            return found

    def reset(self) -> None:
        with self._lock:
            self._counters.clear()
            self._windows.clear()
            self._resources.clear()


@dataclass
class JournalEntry:
    id: int
    time: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    operation: str | None
    scenario: str | None
    rule: str
    status: int
    errors: list[dict[str, Any]]
    elapsed_ms: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Journal:
    """The last `capacity` requests, oldest first; bounded so memory stays flat."""

    def __init__(self, capacity: int = 1000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=capacity)
        self._ids = itertools.count(1)  # next() is atomic under the GIL
        self._lock = threading.Lock()  # copying a deque while another thread appends would fail
        self.capacity = capacity

    def add(self, make: Callable[[int], JournalEntry]) -> None:
        """Build the entry outside the lock, and only when it is kept."""
        if self.capacity:
            entry = make(next(self._ids))
            with self._lock:
                self._entries.append(entry)

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class Overrides:
    """Scenarios chosen at runtime: for everyone, or for one Brand-URL or one Auth-Key."""

    everyone: str | None = None
    by_brand: dict[str, str] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)


class MockState:
    """Everything a running mock holds; the pipeline reads `config` once per request."""

    def __init__(self, config: MockConfig, journal_size: int = 1000, store: MemoryStore | None = None) -> None:
        self.config = config
        self.store = store or MemoryStore()
        self.journal = Journal(journal_size)
        self.overrides = Overrides()
        self.expectations: list[Rule] = []  # runtime rules, ahead of every scenario's
        self.reload_problems: list[str] = []

    def swap(self, config: MockConfig) -> None:
        self.config = config
        self.reload_problems = []

    def choose(self, scenario: str | None, brand: str | None = None, key: str | None = None) -> None:
        """Make `scenario` active for one Auth-Key, one Brand-URL, or everyone; None undoes the choice."""
        target = self.overrides.by_key if key else self.overrides.by_brand if brand else None
        if target is None:
            self.overrides.everyone = scenario
        elif scenario is None:
            target.pop(key or brand or "", None)
        else:
            target[key or brand or ""] = scenario

    def expect(self, rule: Rule) -> None:
        self.expectations = [*self.expectations, rule]

    def reset(self) -> None:
        self.store.reset()
