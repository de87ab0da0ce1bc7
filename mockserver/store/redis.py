"""State shared by several mock instances (behind a load balancer) in one Redis database.

Counters, a rate-limit window and a journal append are Lua scripts, so each is one atomic round trip;
read-modify-writes of items and runtime choices are WATCH/MULTI transactions. Windows use Redis'
own clock, so instances on different hosts agree on when a window ends, and expire with it (PEXPIRE).
Counters live in one hash, with a sorted set of when each was last used, so the least recently used
beyond MAX_COUNTERS go; each partition's items are a hash with a sorted set of when each was written."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..jsondoc import dumps, loads
from . import (
    DEFAULT_MAX_ITEMS,
    MAX_COUNTERS,
    Control,
    Evictions,
    Items,
    JournalEntry,
    JournalRecord,
    RateDecision,
    built,
    keyed_hash,
)

PREFIX = "mockserver:"
# The fixed-window rule of `store.decide`, run atomically inside Redis.
HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'start', 'used')
local start, used = tonumber(state[1]) or now, tonumber(state[2]) or 0
if now >= start + window then start, used = now, 0 end
local allowed = 0
if used < limit then allowed, used = 1, used + 1 end
redis.call('HSET', KEYS[1], 'start', string.format('%.6f', start), 'used', used)
redis.call('PEXPIRE', KEYS[1], math.ceil((start + window - now) * 1000) + 1000)
return {allowed, used, math.max(1, math.ceil(start + window - now))}
"""
COUNT = """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]) + tonumber(t[2]) / 1000000, ARGV[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[2])
if excess > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  redis.call('ZREM', KEYS[2], unpack(oldest))
  redis.call('HDEL', KEYS[1], unpack(oldest))
end
return n
"""
RECORD = """
local id = redis.call('INCR', KEYS[2])
redis.call('LPUSH', KEYS[1], id .. ' ' .. ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return id
"""


class RedisStore:
    def __init__(self, url: str, journal_size: int = 1000, max_items: int = DEFAULT_MAX_ITEMS) -> None:
        self.url = url
        self.journal_size = journal_size
        self._evictions = Evictions(max_items)
        # One immediate retry (a pooled connection may have died with a restarted server), no backoff:
        # a store that is down is answered 503 at once (store.Guarded), not after seconds of retries.
        self._redis: Any = redis.Redis.from_url(
            url, socket_connect_timeout=5, socket_timeout=10, retry=Retry(NoBackoff(), 1)
        )  # bytes replies
        self._redis.ping()  # fail at start-up, not on the first request
        self._hit = self._redis.register_script(HIT)
        self._record = self._redis.register_script(RECORD)
        self._count = self._redis.register_script(COUNT)
        self._control: tuple[bytes, Control] = (b"", Control())
        self._redis.set(PREFIX + "salt", os.urandom(32), nx=True)  # the first instance's salt, for all
        self._salt = cast(bytes, self._redis.get(PREFIX + "salt"))  # bytes replies

    def fingerprint(self, value: str) -> str:
        return keyed_hash(self._salt, value)

    def next_count(self, key: str) -> int:
        return int(self._count(keys=[PREFIX + "counts", PREFIX + "counts:used"], args=[key, MAX_COUNTERS]))

    def hit(self, key: str, limit: int, window: float) -> RateDecision:
        allowed, used, reset = self._hit(keys=[PREFIX + "window:" + key], args=[limit, window])
        return RateDecision(bool(allowed), limit, max(0, limit - int(used)), int(reset))

    def _items_key(self, collection: str, partition: str) -> str:
        return f"{PREFIX}items:{dumps([collection, partition]).decode()}"

    @staticmethod
    def _order_key(items_key: str) -> str:
        """The sorted set of when each item of a partition was written."""
        return PREFIX + "written:" + items_key.removeprefix(PREFIX + "items:")

    def get(self, collection: str, partition: str, item_id: str) -> dict[str, Any] | None:
        blob = self._redis.hget(self._items_key(collection, partition), item_id)
        return loads(blob) if blob is not None else None

    def put(
        self, collection: str, partition: str, item_id: str, item: dict[str, Any], exclusive: Iterable[str] = ()
    ) -> None:
        key = self._items_key(collection, partition)
        order = self._order_key(key)
        flags = [flag for flag in exclusive if item.get(flag) is True]
        evicted: list[bytes] = []

        def write(pipe: Any) -> None:
            cleared = {}
            for other_id, blob in pipe.hgetall(key).items() if flags else ():
                other = loads(blob)
                if other_id.decode() != item_id and any(other.get(flag) is True for flag in flags):
                    cleared[other_id] = dumps({**other, **{flag: False for flag in flags if flag in other}})
            excess = pipe.zcard(order) + (pipe.zscore(order, item_id) is None) - self._evictions.max_items
            evicted[:] = [i for i in pipe.zrange(order, 0, excess - 1) if i != item_id.encode()] if excess > 0 else []
            pipe.multi()
            pipe.hset(key, mapping={**cleared, item_id: dumps(item)})
            pipe.zadd(order, {item_id: time.time()})
            if evicted:
                pipe.hdel(key, *evicted)
                pipe.zrem(order, *evicted)

        self._redis.transaction(write, key, order)
        self._evictions.evicted(collection, partition, len(evicted))

    def _partitions(self) -> list[str]:
        return sorted(k.decode() for k in self._redis.scan_iter(match=PREFIX + "items:*", count=1000))

    def dump(self, offset: int = 0, limit: int | None = None) -> Items:
        """Partition by partition (sorted), oldest written first within each."""
        found: Items = {}
        for key in self._partitions():
            if limit is not None and limit <= 0:
                break
            size = int(self._redis.hlen(key))
            if offset >= size:
                offset -= size
                continue
            stop = -1 if limit is None else offset + limit - 1
            ids = self._redis.zrange(self._order_key(key), offset, stop)
            offset = 0
            if limit is not None:
                limit -= len(ids)
            collection, partition = loads(key.removeprefix(PREFIX + "items:"))
            items = {i.decode(): loads(blob) for i, blob in zip(ids, self._redis.hmget(key, ids), strict=True) if blob}
            found.setdefault(collection, {})[partition] = items
        return found

    def item_count(self) -> int:
        return sum(int(self._redis.hlen(key)) for key in self._partitions())

    def reset(self) -> None:
        keys = [PREFIX + "counts", PREFIX + "counts:used"]
        for kind in ("window", "items", "written"):
            keys += self._redis.scan_iter(match=f"{PREFIX}{kind}:*", count=1000)
        self._redis.delete(*keys)

    def record(self, entry: JournalEntry) -> None:
        if self.journal_size:  # built at once: a round trip to Redis costs more than building it
            keys = [PREFIX + "journal", PREFIX + "journal:id"]
            self._record(keys=keys, args=[dumps(built(entry)), self.journal_size])

    def journal(self) -> list[JournalRecord]:
        entries = []
        for raw in reversed(self._redis.lrange(PREFIX + "journal", 0, self.journal_size - 1)):
            entry_id, _, blob = raw.partition(b" ")
            entries.append({**loads(blob), "id": int(entry_id)})
        return entries

    def clear_journal(self) -> None:
        self._redis.delete(PREFIX + "journal")

    def control(self) -> Control:
        raw = self._redis.get(PREFIX + "control") or b""
        data, control = self._control
        if raw != data:  # parsed again only when it changed
            control = Control.from_dict(loads(raw)) if raw else Control()
            self._control = (raw, control)
        return control

    def change_control(self, change: Callable[[Control], Control]) -> Control:
        key = PREFIX + "control"

        def write(pipe: Any) -> Control:
            raw = pipe.get(key)
            changed = change(Control.from_dict(loads(raw)) if raw else Control())
            pipe.multi()
            pipe.set(key, dumps(changed.as_dict()))
            return changed

        changed: Control = self._redis.transaction(write, key, value_from_callable=True)
        return changed

    def close(self) -> None:
        self._redis.close()
