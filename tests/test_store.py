"""Every state store keeps the same promises: exact counters and windows under concurrent use
(threads and processes), items with exclusive flags, a bounded journal, runtime choices, and
state shared by every store opened on the same URL."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mockserver.store import LAZY_JOURNAL, Control, Store, open_store
from mockserver.store.memory import MemoryStore
from mockserver.store.sqlite import FLUSH_BATCH
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


class CountedDraft:
    """A deferred journal entry (store.Deferred) that counts how often it is built."""

    built = 0

    def __init__(self, n: int) -> None:
        self.n, self.time = n, time.time()

    def build(self) -> dict[str, object]:
        CountedDraft.built += 1
        return {"n": self.n, "time": self.time}


def test_a_deferred_entry_is_built_only_if_it_is_kept(connect: OpenStore, kind: str) -> None:
    """Entries pushed out by `journal_size` newer ones are never built; the kept ones once each.
    Redis builds each at once: the round trip costs more than the building."""
    store = connect(journal_size=5)
    CountedDraft.built = 0
    for n in range(100):
        store.record(CountedDraft(n))
    assert [e["n"] for e in store.journal()] == [95, 96, 97, 98, 99]
    assert [e["n"] for e in store.journal()] == [95, 96, 97, 98, 99]
    assert CountedDraft.built == (100 if kind == "redis" else 5)
    ids = [e["id"] for e in store.journal()]
    assert ids == sorted(ids) and len(set(ids)) == 5
    store.record({"n": "after"})
    assert store.journal()[-1]["id"] > ids[-1]


def test_a_journal_above_the_lazy_size_builds_its_entries_as_they_come(connect: OpenStore) -> None:
    """Bigger than LAZY_JOURNAL, a journal keeps nearly every entry: they are built as they come (SQLite:
    in batches), so unbuilt ones, each holding a whole exchange, never pile up."""
    store = connect(journal_size=LAZY_JOURNAL + 1000)
    CountedDraft.built = 0
    for n in range(FLUSH_BATCH * 3):
        store.record(CountedDraft(n))
    deadline = time.monotonic() + 2
    while CountedDraft.built < FLUSH_BATCH * 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # SQLite's flusher looks every 10 ms
    assert CountedDraft.built >= FLUSH_BATCH * 2
    assert len(store.journal()) == FLUSH_BATCH * 3


def test_a_sqlite_read_gets_what_another_writer_still_buffers_at_once(tmp_path: Path) -> None:
    """Unread, a process writes its journal out only every few seconds; a reader elsewhere asks it to
    flush (a time in a shared memory-mapped file, and a datagram that wakes its flusher) and has its
    entries at once."""
    url = f"sqlite://{tmp_path / 'state.db'}"
    reader, writer = open_store(url, journal_size=50), open_store(url, journal_size=50)
    reader.record({"n": "reader"})
    writer.record({"n": "writer"})
    started = time.monotonic()
    assert [e["n"] for e in reader.journal()] == ["reader", "writer"]
    assert time.monotonic() - started < 0.5
    reader.close()
    writer.close()


def test_an_idle_sqlite_flusher_sleeps_until_it_is_due_or_woken(tmp_path: Path) -> None:
    """No polling: a thread that looks every 10 ms takes the GIL from the serving thread each time."""
    store = open_store(f"sqlite://{tmp_path / 'state.db'}", journal_size=50)
    earlier = set(threading.enumerate())
    store.record({"n": 1})  # starts its flusher
    (flusher,) = [t for t in threading.enumerate() if t.name == "mockserver-journal" and t not in earlier]

    def wakes() -> int:
        status = Path(f"/proc/self/task/{flusher.native_id}/status").read_text()
        return sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches" in line)

    before = wakes()
    time.sleep(1)
    assert wakes() - before <= 2  # looking every 10 ms: about 100
    started = time.monotonic()
    assert [e["n"] for e in open_store(store.url, journal_size=50).journal()] == [1]  # woken by the read
    assert time.monotonic() - started < 0.5
    store.close()


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


def test_counters_keep_the_most_recently_used_keys(
    connect: OpenStore, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(f"mockserver.store.{kind}.MAX_COUNTERS", 50)
    monkeypatch.setattr("mockserver.store.sqlite.SWEEP_EVERY", 10)
    store = connect()
    for _ in range(3):
        store.next_count("busy")
    for index in range(200):
        store.next_count(f"once-{index}")
        if index % 20 == 0:
            store.next_count("busy")  # used all along: never the least recently used
    assert store.next_count("busy") == 14
    assert store.next_count("once-0") == 1  # forgotten, so it starts over
    assert store.next_count("once-199") == 2  # still kept
    if kind == "sqlite":
        assert _sqlite_count(store, "counters") <= 60
    if kind == "redis":
        import redis

        assert redis.Redis.from_url(store.url).hlen("mockserver:counts") <= 50


def test_ended_windows_are_forgotten(connect: OpenStore, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mockserver.store.sqlite.SWEEP_EVERY", 100)
    store = connect()
    for index in range(1100):
        store.hit(f"client-{index}", 5, 0.05)
    time.sleep(1.2 if kind == "redis" else 0.1)  # Redis expires a window a second after it ends
    for index in range(1100):
        store.hit(f"later-{index}", 5, 60)
    if kind == "memory":
        held = len(store._windows)  # type: ignore[attr-defined]
    elif kind == "sqlite":
        held = _sqlite_count(store, "windows")
    else:
        import redis

        held = sum(1 for _ in redis.Redis.from_url(store.url).scan_iter("mockserver:window:*"))
    assert 1100 <= held < 1300  # the later ones, and none of the ended ones past the last clean-up


def test_a_partition_keeps_its_newest_items(connect: OpenStore, caplog: pytest.LogCaptureFixture) -> None:
    url = connect().url
    store = MemoryStore(max_items=3) if url == "memory" else open_store(url, max_items=3)
    for index in range(6):
        store.put("c", "p", str(index), {"id": str(index)})
    store.put("c", "p", "3", {"id": "3", "again": True})  # written again: the newest now
    store.put("c", "p", "6", {"id": "6"})
    store.put("c", "other", "x", {"id": "x"})
    assert set(store.dump()["c"]["p"]) == {"5", "3", "6"}
    assert store.item_count() == 4
    evictions = [r for r in caplog.records if "evicted" in r.getMessage()]
    assert len(evictions) == 1 and "--max-items" in evictions[0].getMessage()
    pages = [store.dump(offset, 2) for offset in (0, 2, 4)]
    assert [sum(len(p) for c in page.values() for p in c.values()) for page in pages] == [2, 2, 0]
    merged = {(c, p, i) for page in pages for c, parts in page.items() for p, items in parts.items() for i in items}
    assert merged == {("c", "p", "5"), ("c", "p", "3"), ("c", "p", "6"), ("c", "other", "x")}
    store.close()


def _sqlite_count(store: Store, table: str) -> int:
    import sqlite3

    with sqlite3.connect(store.url.removeprefix("sqlite://")) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


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


def test_the_sqlite_journal_stays_bounded_across_many_flushes_and_processes(tmp_path: Path) -> None:
    """A row holds one flush's entries: the oldest rows go once `journal_size` entries are certainly
    newer, so what is kept stays near the bound, and a read still sees the newest entries in order."""
    import sqlite3

    url = f"sqlite://{tmp_path / 'state.db'}"
    first, second = open_store(url, journal_size=50).inner, open_store(url, journal_size=50).inner  # type: ignore[attr-defined]
    for n in range(2000):
        (first if n % 3 else second).record({"n": n})
        if n % 7 == 0:
            (first if n % 2 else second)._flush()
    first._flush()
    second._flush()
    entries = first.journal()
    assert [e["n"] for e in entries] == list(range(1950, 2000))
    with sqlite3.connect(tmp_path / "state.db") as db:
        kept = db.execute("SELECT sum(count) FROM journal_batches").fetchone()[0]
    assert 50 <= kept <= 50 + 64 + 2 * 7  # the bound, the trimming slack, a batch per process
    first.close()
    second.close()


def test_a_state_file_with_the_old_journal_table_keeps_its_entries(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:  # as versions before batched rows wrote it
        db.execute(
            "CREATE TABLE journal (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, entry BLOB NOT NULL)"
        )
        db.executemany(
            "INSERT INTO journal (time, entry) VALUES (?, ?)", [(t, f'{{"n": {t}, "time": {t}}}') for t in (2, 1)]
        )
    store = open_store(f"sqlite://{path}", journal_size=10)
    store.record({"n": 3})
    assert [e["n"] for e in store.journal()] == [1, 2, 3]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'journal'").fetchone()[0] == 0
    store.close()
