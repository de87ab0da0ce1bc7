"""Every state store keeps the same promises: exact counters and windows under concurrent use
(threads and processes), items with exclusive flags, a bounded journal, runtime choices, and
state shared by every store opened on the same URL."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mockserver.store import Control, Store, open_store
from mockserver.store.memory import MemoryStore
from tests.services import redis_server

OpenStore = Callable[..., Store]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", "redis"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "memory":
        return "memory"
    if kind == "sqlite":
        return f"sqlite://{tmp_path / 'state.db'}"
    url = str(request.getfixturevalue("redis_url"))
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def connect(url: str) -> Iterator[OpenStore]:
    """Open stores on this test's URL; a memory store is one object, so 'another' is the same one."""
    opened: list[Store] = []

    def open_one(journal_size: int = 1000) -> Store:
        if url == "memory" and opened:
            return opened[0]
        store = open_store(url, journal_size=journal_size)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


def test_counters_count_per_key(connect: OpenStore) -> None:
    store = connect()
    assert [store.next_count("a") for _ in range(3)] == [1, 2, 3]
    assert store.next_count("b") == 1


def test_a_window_allows_its_limit_then_refuses_until_it_ends(connect: OpenStore) -> None:
    store = connect()
    decisions = [store.hit("k", 3, 0.5) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert all(d.reset == 1 and d.limit == 3 for d in decisions)
    assert decisions[0].headers() == {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "1"}
    time.sleep(0.6)
    assert store.hit("k", 3, 0.5).allowed
    assert store.hit("other", 3, 0.5).remaining == 2


def test_items_keep_exclusive_flags_on_the_newest(connect: OpenStore) -> None:
    store = connect()
    store.put("c", "b", "1", {"id": "1", "isDefault": True, "port": 2**40}, ["isDefault"])
    store.put("c", "b", "2", {"id": "2", "isDefault": True}, ["isDefault"])
    store.put("c", "other", "3", {"id": "3", "isDefault": True}, ["isDefault"])
    store.put("c", "b", "4", {"id": "4", "isDefault": False}, ["isDefault"])
    assert store.get("c", "b", "1") == {"id": "1", "isDefault": False, "port": 2**40}
    assert store.get("c", "b", "nope") is None
    assert store.dump() == {
        "c": {
            "b": {
                "1": {"id": "1", "isDefault": False, "port": 2**40},
                "2": {"id": "2", "isDefault": True},
                "4": {"id": "4", "isDefault": False},
            },
            "other": {"3": {"id": "3", "isDefault": True}},
        }
    }


def test_items_are_copies(connect: OpenStore) -> None:
    store = connect()
    item = {"id": "1", "tags": ["a"]}
    store.put("c", "p", "1", item)
    item["tags"].append("changed")
    found = store.get("c", "p", "1")
    assert found == {"id": "1", "tags": ["a"]}
    found["tags"].append("changed")  # type: ignore[index]
    assert store.get("c", "p", "1") == {"id": "1", "tags": ["a"]}


def test_reset_forgets_counters_windows_items_but_not_journal_or_choices(connect: OpenStore) -> None:
    store = connect()
    store.next_count("a")
    store.hit("k", 1, 60)
    store.put("c", "p", "1", {"id": "1"})
    store.record({"path": "/x"})
    store.change_control(lambda c: c.choose("forbidden"))
    store.reset()
    assert store.next_count("a") == 1
    assert store.hit("k", 1, 60).allowed
    assert store.dump() == {}
    assert [e["path"] for e in store.journal()] == ["/x"]
    assert store.control().everyone == "forbidden"


def test_the_journal_is_bounded_ordered_and_clearable(connect: OpenStore) -> None:
    store = connect(journal_size=5)
    for n in range(200):
        store.record({"n": n, "body": {"nested": [1, None, "é"]}})
    entries = store.journal()
    assert [e["n"] for e in entries] == [195, 196, 197, 198, 199]
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert entries[0]["body"] == {"nested": [1, None, "é"]}
    store.clear_journal()
    assert store.journal() == []
    store.record({"n": "after"})
    assert store.journal()[0]["id"] > ids[-1]


def test_a_zero_journal_keeps_nothing(connect: OpenStore) -> None:
    store = connect(journal_size=0)
    store.record({"n": 1})
    assert store.journal() == []


def test_runtime_choices(connect: OpenStore) -> None:
    store = connect()
    assert store.control() == Control()
    store.change_control(lambda c: c.choose("forbidden"))
    store.change_control(lambda c: c.choose("unauthorized", brand="acme.example"))
    store.change_control(lambda c: c.choose("rate-limited", key="k-1"))
    store.change_control(lambda c: Control(c.everyone, c.by_brand, c.by_key, ({"respond": {"status": 403}},)))
    control = store.control()
    assert (control.everyone, control.by_brand, control.by_key) == (
        "forbidden",
        {"acme.example": "unauthorized"},
        {"k-1": "rate-limited"},
    )
    assert control.expectations == ({"respond": {"status": 403}},)
    store.change_control(lambda c: c.choose(None, key="k-1"))
    assert store.control().by_key == {}


def test_every_store_on_one_url_shares_everything(connect: OpenStore) -> None:
    first, second = connect(), connect()
    first.next_count("seq")
    first.hit("k", 2, 60)
    first.put("c", "p", "1", {"id": "1"})
    first.record({"path": "/from-first"})
    first.change_control(lambda c: c.choose("forbidden"))
    assert second.next_count("seq") == 2
    assert second.hit("k", 2, 60).remaining == 0
    assert second.get("c", "p", "1") == {"id": "1"}
    assert [e["path"] for e in second.journal()] == ["/from-first"]
    assert second.control().everyone == "forbidden"


def test_threads_never_overshoot_a_limit_or_repeat_a_count(connect: OpenStore) -> None:
    store = connect()
    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(lambda _: store.hit("burst", 37, 60).allowed, range(200)))
        counts = list(pool.map(lambda _: store.next_count("burst"), range(200)))
    assert sum(allowed) == 37
    assert sorted(counts) == list(range(1, 201))


def _hammer(url: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = open_store(url)
    allowed = sum(store.hit("shared", 37, 60).allowed for _ in range(50))
    counts = [store.next_count("shared") for _ in range(50)]
    results.put((allowed, counts))


@pytest.mark.parametrize("kind", ["sqlite", "redis"])  # a memory store lives in one process
def test_processes_never_overshoot_a_limit_or_repeat_a_count(kind: str, url: str) -> None:
    results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    workers = [multiprocessing.Process(target=_hammer, args=(url, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    assert sum(allowed for allowed, _ in outcomes) == 37
    assert sorted(c for _, counts in outcomes for c in counts) == list(range(1, 201))


def test_a_memory_store_takes_a_clock() -> None:
    now = [1000.0]
    store = MemoryStore(clock=lambda: now[0])
    assert store.hit("k", 1, 10).allowed
    assert not store.hit("k", 1, 10).allowed
    now[0] += 10
    assert store.hit("k", 1, 10).allowed


def test_an_unknown_store_url_is_refused() -> None:
    with pytest.raises(ValueError, match="memory, sqlite:///PATH or redis://HOST:PORT/DB"):
        open_store("postgres://x")
