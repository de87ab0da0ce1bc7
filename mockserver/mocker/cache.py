"""A bounded map: generated bodies are kept per entity, and entities are as many as clients name,
so the oldest go first. A hit takes no lock and moves nothing (the hot path); the order is that of
insertion, which for entities a client keeps using is close to least-recently-used."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        found = self._items.get(key)  # a single dict lookup: atomic, no lock needed
        if found is not None:
            return found
        value = make()  # outside the lock: generating may take milliseconds; a race only makes it twice
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
