"""State for one process: plain dicts behind one lock."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Any

from ..jsondoc import copy_tree
from . import (
    DEFAULT_MAX_ITEMS,
    LAZY_JOURNAL,
    MAX_COUNTERS,
    Control,
    Evictions,
    Items,
    JournalEntry,
    JournalRecord,
    RateDecision,
    built,
    decide,
    keyed_hash,
)


class MemoryStore:
    url = "memory"

    def __init__(
        self, clock: Callable[[], float] = time.time, journal_size: int = 1000, max_items: int = DEFAULT_MAX_ITEMS
    ) -> None:
        self.journal_size = journal_size
        self._lock = threading.Lock()
        self._clock = clock
        self._counters: OrderedDict[str, int] = OrderedDict()  # least recently used first
        self._windows: dict[str, tuple[float, int, float]] = {}  # key -> (start, used, end)
        self._sweep_at = 1024  # windows held when the ended ones are next swept away
        self._resources: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # items oldest written first
        self._evictions = Evictions(max_items)
        self._journal: deque[tuple[int, JournalEntry]] = deque(maxlen=journal_size)
        self._journal_ids = itertools.count(1)
        self._control = Control()
        self._salt = os.urandom(32)

    def fingerprint(self, value: str) -> str:
        return keyed_hash(self._salt, value)

    def next_count(self, key: str) -> int:
        with self._lock:
            count = self._counters.pop(key, 0) + 1
            self._counters[key] = count
            if len(self._counters) > MAX_COUNTERS:
                self._counters.popitem(last=False)
            return count

    def hit(self, key: str, limit: int, window: float) -> RateDecision:
        with self._lock:
            now = self._clock()
            start, used, _ = self._windows.get(key, (now, 0, now))
            start, used, decision = decide(start, used, now, limit, window)
            self._windows[key] = (start, used, start + window)
            if len(self._windows) >= self._sweep_at:  # amortized: the sweep halves how often it runs
                self._windows = {k: w for k, w in self._windows.items() if w[2] > now}
                self._sweep_at = max(1024, 2 * len(self._windows))
            return decision

    def get(self, collection: str, partition: str, item_id: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._resources.get((collection, partition), {}).get(item_id)
            return copy_tree(item) if item is not None else None

    def put(
        self, collection: str, partition: str, item_id: str, item: dict[str, Any], exclusive: Iterable[str] = ()
    ) -> None:
        with self._lock:
            items = self._resources.setdefault((collection, partition), {})
            for flag in exclusive:
                if item.get(flag) is True:
                    for other_id, other in items.items():
                        if other_id != item_id and other.get(flag) is True:
                            other[flag] = False
            items.pop(item_id, None)  # written again: now the newest
            items[item_id] = copy_tree(item)
            excess = len(items) - self._evictions.max_items
            for oldest in list(itertools.islice(items, max(0, excess))):
                del items[oldest]
            self._evictions.evicted(collection, partition, excess)

    def dump(self, offset: int = 0, limit: int | None = None) -> Items:
        with self._lock:
            found: Items = {}
            every = (
                (collection, partition, item_id, item)
                for (collection, partition), items in self._resources.items()
                for item_id, item in items.items()
            )
            stop = None if limit is None else offset + limit
            for collection, partition, item_id, item in itertools.islice(every, offset, stop):
                found.setdefault(collection, {}).setdefault(partition, {})[item_id] = copy_tree(item)
            return found

    def item_count(self) -> int:
        with self._lock:
            return sum(len(items) for items in self._resources.values())

    def reset(self) -> None:
        with self._lock:
            self._counters.clear()
            self._windows.clear()
            self._resources.clear()

    def record(self, entry: JournalEntry) -> None:
        if self._journal.maxlen:
            entry_id = next(self._journal_ids)  # atomic under the GIL
            if self.journal_size > LAZY_JOURNAL:
                entry = built(entry)
            if isinstance(entry, dict):
                entry["id"] = entry_id
            with self._lock:
                self._journal.append((entry_id, entry))

    def journal(self) -> list[JournalRecord]:
        with self._lock:  # copying a deque while another thread appends would fail
            kept = [(entry_id, _built(entry_id, entry)) for entry_id, entry in self._journal]
            self._journal = deque(kept, maxlen=self.journal_size)  # each entry is built once
        return [entry for _, entry in kept]

    def clear_journal(self) -> None:
        with self._lock:
            self._journal.clear()

    def control(self) -> Control:
        return self._control

    def change_control(self, change: Callable[[Control], Control]) -> Control:
        with self._lock:
            self._control = change(self._control)
            return self._control

    def close(self) -> None:
        pass


def _built(entry_id: int, entry: JournalEntry) -> JournalRecord:
    """The entry with its id. One recorded built got its id then; a draft is built here, once (the
    deque keeps what this returns)."""
    if isinstance(entry, dict):
        return entry
    record = built(entry)
    record["id"] = entry_id
    return record
