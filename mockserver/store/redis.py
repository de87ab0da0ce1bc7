"""State shared by several mock instances (behind a load balancer) in one Redis database.

Counters are INCR; a rate-limit window and a journal append are Lua scripts, so each is one
atomic round trip; read-modify-writes of items and runtime choices are WATCH/MULTI transactions.
Windows use Redis' own clock, so instances on different hosts agree on when a window ends."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any, cast

import redis

from ..jsondoc import dumps, loads
from . import Control, JournalRecord, RateDecision, keyed_hash

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
RECORD = """
local id = redis.call('INCR', KEYS[2])
redis.call('LPUSH', KEYS[1], id .. ' ' .. ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return id
"""


class RedisStore:
    def __init__(self, url: str, journal_size: int = 1000) -> None:
        self.url = url
        self.journal_size = journal_size
        self._redis: Any = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)  # bytes replies
        self._redis.ping()  # fail at start-up, not on the first request
        self._hit = self._redis.register_script(HIT)
        self._record = self._redis.register_script(RECORD)
        self._control: tuple[bytes, Control] = (b"", Control())
        self._redis.set(PREFIX + "salt", os.urandom(32), nx=True)  # the first instance's salt, for all
        self._salt = cast(bytes, self._redis.get(PREFIX + "salt"))  # bytes replies

    def fingerprint(self, value: str) -> str:
        return keyed_hash(self._salt, value)

    def next_count(self, key: str) -> int:
        return int(self._redis.incr(PREFIX + "count:" + key))

    def hit(self, key: str, limit: int, window: float) -> RateDecision:
        allowed, used, reset = self._hit(keys=[PREFIX + "window:" + key], args=[limit, window])
        return RateDecision(bool(allowed), limit, max(0, limit - int(used)), int(reset))

    def _items_key(self, collection: str, partition: str) -> str:
        return f"{PREFIX}items:{dumps([collection, partition]).decode()}"

    def get(self, collection: str, partition: str, item_id: str) -> dict[str, Any] | None:
        blob = self._redis.hget(self._items_key(collection, partition), item_id)
        return loads(blob) if blob is not None else None

    def put(
        self, collection: str, partition: str, item_id: str, item: dict[str, Any], exclusive: Iterable[str] = ()
    ) -> None:
        key = self._items_key(collection, partition)
        flags = [flag for flag in exclusive if item.get(flag) is True]

        def write(pipe: Any) -> None:
            cleared = {}
            for other_id, blob in pipe.hgetall(key).items() if flags else ():
                other = loads(blob)
                if other_id.decode() != item_id and any(other.get(flag) is True for flag in flags):
                    cleared[other_id] = dumps({**other, **{flag: False for flag in flags if flag in other}})
            pipe.multi()
            pipe.hset(key, mapping={**cleared, item_id: dumps(item)})

        self._redis.transaction(write, key)

    def dump(self) -> dict[str, dict[str, dict[str, Any]]]:
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for key in sorted(self._redis.scan_iter(match=PREFIX + "items:*", count=1000)):
            collection, partition = loads(key[len(PREFIX + "items:") :])
            items = {k.decode(): loads(v) for k, v in self._redis.hgetall(key).items()}
            found.setdefault(collection, {})[partition] = items
        return found

    def reset(self) -> None:
        for kind in ("count", "window", "items"):
            keys = list(self._redis.scan_iter(match=f"{PREFIX}{kind}:*", count=1000))
            if keys:
                self._redis.delete(*keys)

    def record(self, entry: JournalRecord) -> None:
        if self.journal_size:
            self._record(keys=[PREFIX + "journal", PREFIX + "journal:id"], args=[dumps(entry), self.journal_size])

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
