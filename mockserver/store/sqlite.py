"""State shared by the worker processes of one machine, in one SQLite file (WAL mode).

Each process and thread opens its own connection on first use, so a store built before the
server forks its workers is safe to use in every one of them. Every write is a `BEGIN IMMEDIATE`
transaction taken under an exclusive flock on a lock file beside the database: SQLite's own
busy handler waits by sleeping (1 ms and up), which halved throughput with two workers writing
the journal; a flock waiter is woken by the kernel the moment the lock is free.

The journal is written in batches: a transaction per request from each of two workers measured
300 us per request against 180 us without (the writers evict each other's page cache). Each
process buffers its newest `journal_size` entries unbuilt (store.Deferred), and a flusher thread
writes them every FLUSH_EVERY seconds, at stop, or as soon as a reader asks: each flush is one row
holding its entries as a JSON array (a row per entry cost 7 us per entry in the flush, a row per
batch under 1 us). An entry pushed out of the buffer by `journal_size` newer ones could never be
read, so it is never built: under load most are not (flushing every 10 ms, building and writing
every entry, cost a fifth of a worker's time). A journal above LAZY_JOURNAL entries keeps nearly
all of them, so it is written every FLUSH_BATCH entries instead: a buffer of 5 s of unbuilt entries
took 490 MB per worker at 100,000, and building them at once held the GIL for 260 ms.

A journal read first asks every process to flush (a time in a small shared memory-mapped file,
and a datagram on loopback that wakes their flushers) and waits until every live process has
flushed past the moment the read began, so it still sees every request answered before it. A
flusher sleeps until then or until its next flush is due: looking every 10 ms took the GIL from
the serving thread 100 times a second, which cost 3% of a worker's throughput.

The runtime choices are read on every request, but change only through the admin API: a counter in
a small shared memory-mapped file says when they changed, so a request reads memory, not SQLite
(a SELECT per request was 10% of a worker's time under load)."""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import itertools
import mmap
import os
import socket
import sqlite3
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..jsondoc import dumps, loads
from . import (
    DEFAULT_MAX_ITEMS,
    LAZY_JOURNAL,
    MAX_COUNTERS,
    SWEEP_EVERY,
    Control,
    Evictions,
    Items,
    JournalEntry,
    JournalRecord,
    RateDecision,
    built,
    decide,
    entry_time,
    keyed_hash,
    log,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS windows (key TEXT PRIMARY KEY, start REAL NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items (
    collection TEXT NOT NULL, partition TEXT NOT NULL, id TEXT NOT NULL, item BLOB NOT NULL,
    PRIMARY KEY (collection, partition, id));
CREATE TABLE IF NOT EXISTS journal_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, first_id INTEGER NOT NULL, count INTEGER NOT NULL,
    oldest REAL NOT NULL, newest REAL NOT NULL, entries BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS flushers (writer TEXT PRIMARY KEY, pid INTEGER NOT NULL, flushed REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS control (id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS salt (id INTEGER PRIMARY KEY CHECK (id = 1), value BLOB NOT NULL);
"""
# Columns added to files made before them: when a window ends, when a counter was used (they bound
# growth), and the loopback port that wakes a flusher (0: none).
COLUMNS = {
    "windows": "ends REAL NOT NULL DEFAULT 0",
    "counters": "used REAL NOT NULL DEFAULT 0",
    "flushers": "port INTEGER NOT NULL DEFAULT 0",
}
INDEXES = """
CREATE INDEX IF NOT EXISTS windows_by_end ON windows (ends);
CREATE INDEX IF NOT EXISTS counters_by_use ON counters (used);
"""
FLUSH_INTERVAL = 0.01  # seconds between a big journal's flusher's looks, and between a reader's
FLUSH_EVERY = 5.0  # seconds between journal flushes of one process when nobody reads
FLUSH_BATCH = 100  # entries: a journal above LAZY_JOURNAL is written out this many at a time (about 2 ms)
FLUSH_WAIT = 2.0  # a journal read waits at most this long for the other processes' flushes


class SqliteStore:
    def __init__(
        self,
        url: str,
        journal_size: int = 1000,
        clock: Callable[[], float] = time.time,
        max_items: int = DEFAULT_MAX_ITEMS,
    ) -> None:
        self.url = url
        self.path = Path(url.removeprefix("sqlite://"))  # sqlite:///tmp/mock.db is /tmp/mock.db
        self.journal_size = journal_size
        self._clock = clock
        self._local = threading.local()
        self._pending: deque[tuple[float, JournalEntry]] = deque(maxlen=journal_size)
        self._recorded = 0  # since the last flush, including what the buffer pushed out
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._flusher_pid = 0
        self._flushed_until = 0.0
        self._flushed_at = 0.0  # time.monotonic()
        self._writer = ""
        self._wake: socket.socket | None = None  # this process's flusher sleeps on it
        self._untrimmed = 0
        self._evictions = Evictions(max_items)
        self._calls = {"hit": 0, "next_count": 0}  # per process, for the clean-ups every SWEEP_EVERY
        self._control: tuple[int, Control] = (-1, Control())  # one tuple: threads see both or neither
        self._version = _shared_counter(Path(f"{self.path}.version"))
        self._wanted = _shared_counter(Path(f"{self.path}.flush"))  # the newest read's start: flush up to it
        _private_file(self.path)  # before SQLite creates it: its -wal and -shm files take its mode
        db = self._db()
        db.executescript(SCHEMA)  # each statement is idempotent, so workers may race here
        with self._transaction() as locked:
            for table, column in COLUMNS.items():
                if column.split()[0] not in {row[1] for row in locked.execute(f"PRAGMA table_info({table})")}:
                    locked.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
        db.executescript(INDEXES)
        db.execute("INSERT OR IGNORE INTO control VALUES (1, ?)", (dumps(Control().as_dict()),))
        db.execute("INSERT OR IGNORE INTO salt VALUES (1, ?)", (os.urandom(32),))
        with self._transaction() as locked:
            _migrate_journal(locked)
        self._salt: bytes = db.execute("SELECT value FROM salt WHERE id = 1").fetchone()[0]

    def fingerprint(self, value: str) -> str:
        return keyed_hash(self._salt, value)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():  # a forked worker opens its own
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # a mock's state need not survive a power cut
            db.execute("PRAGMA cache_size=-512")  # KiB; one connection per thread, and the data is small
            # One descriptor per thread: flock excludes other descriptors, not this one.
            self._local.lock = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._local.db, self._local.pid = db, os.getpid()
        return db

    @contextmanager
    def _transaction(self, after_commit: Callable[[], None] | None = None) -> Iterator[sqlite3.Connection]:
        """A write transaction; `after_commit` runs once it is committed, still under the lock."""
        db = self._db()
        lock = self._local.lock
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            if after_commit is not None:
                after_commit()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

    def _due(self, kind: str) -> bool:
        """Whether this process's clean-up of `kind` is due (every SWEEP_EVERY calls)."""
        self._calls[kind] += 1
        return self._calls[kind] % SWEEP_EVERY == 0

    def next_count(self, key: str) -> int:
        with self._transaction() as db:
            sql = (
                "INSERT INTO counters (key, n, used) VALUES (?, 1, ?) "
                "ON CONFLICT (key) DO UPDATE SET n = n + 1, used = excluded.used RETURNING n"
            )
            row = db.execute(sql, (key, time.time())).fetchone()
            if self._due("next_count"):  # keep the MAX_COUNTERS most recently used
                db.execute(
                    "DELETE FROM counters WHERE key IN (SELECT key FROM counters ORDER BY used DESC LIMIT -1 OFFSET ?)",
                    (MAX_COUNTERS,),
                )
        return int(row[0])

    def hit(self, key: str, limit: int, window: float) -> RateDecision:
        with self._transaction() as db:
            now = self._clock()
            row = db.execute("SELECT start, used FROM windows WHERE key = ?", (key,)).fetchone()
            start, used, decision = decide(row[0] if row else now, row[1] if row else 0, now, limit, window)
            db.execute(
                "INSERT OR REPLACE INTO windows (key, start, used, ends) VALUES (?, ?, ?, ?)",
                (key, start, used, start + window),
            )
            if self._due("hit"):  # forget the windows that have ended
                db.execute("DELETE FROM windows WHERE ends <= ?", (now,))
        return decision

    def get(self, collection: str, partition: str, item_id: str) -> dict[str, Any] | None:
        row = (
            self._db()
            .execute(
                "SELECT item FROM items WHERE collection = ? AND partition = ? AND id = ?",
                (collection, partition, item_id),
            )
            .fetchone()
        )
        return loads(row[0]) if row else None

    def put(
        self, collection: str, partition: str, item_id: str, item: dict[str, Any], exclusive: Iterable[str] = ()
    ) -> None:
        with self._transaction() as db:
            for flag in exclusive:
                if item.get(flag) is not True:
                    continue
                rows = db.execute(
                    "SELECT id, item FROM items WHERE collection = ? AND partition = ? AND id != ?",
                    (collection, partition, item_id),
                ).fetchall()
                for other_id, blob in rows:
                    other = loads(blob)
                    if other.get(flag) is True:
                        other[flag] = False
                        db.execute(
                            "UPDATE items SET item = ? WHERE collection = ? AND partition = ? AND id = ?",
                            (dumps(other), collection, partition, other_id),
                        )
            db.execute(  # a REPLACE gives the row a new rowid: rowids are in the order items were written
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
                (collection, partition, item_id, dumps(item)),
            )
            where = "FROM items WHERE collection = ? AND partition = ?"
            excess = db.execute(f"SELECT count(*) {where}", (collection, partition)).fetchone()[0]
            excess -= self._evictions.max_items
            if excess > 0:
                db.execute(
                    f"DELETE FROM items WHERE rowid IN (SELECT rowid {where} ORDER BY rowid LIMIT ?)",
                    (collection, partition, excess),
                )
                self._evictions.evicted(collection, partition, excess)

    def dump(self, offset: int = 0, limit: int | None = None) -> Items:
        found: Items = {}
        for collection, partition, item_id, blob in self._db().execute(
            "SELECT collection, partition, id, item FROM items ORDER BY rowid LIMIT ? OFFSET ?",
            (-1 if limit is None else limit, offset),
        ):
            found.setdefault(collection, {}).setdefault(partition, {})[item_id] = loads(blob)
        return found

    def item_count(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM items").fetchone()[0])

    def reset(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM counters")
            db.execute("DELETE FROM windows")
            db.execute("DELETE FROM items")

    def record(self, entry: JournalEntry) -> None:
        if not self.journal_size:
            return
        if self._flusher_pid != _Process.pid:
            self._start_flusher()
        item = (entry_time(entry), entry)
        with self._pending_lock:
            self._pending.append(item)
            self._recorded += 1

    def _start_flusher(self) -> None:
        """Once per process: announce this process as a journal writer, and start its flusher thread."""
        with self._pending_lock:
            if self._flusher_pid == os.getpid():
                return
            self._flusher_pid = os.getpid()
            self._writer = f"{os.getpid()}-{id(self)}"
            self._pending = deque(maxlen=self.journal_size)  # a forked child does not own its parent's buffer
            self._recorded = 0
            self._flushed_at = time.monotonic()
            self._wake = _wake_socket()
        port = self._wake.getsockname()[1] if self._wake is not None else 0
        with self._transaction() as db:  # registered before its first entry, so readers wait for it
            db.execute(
                "INSERT OR REPLACE INTO flushers (writer, pid, flushed, port) VALUES (?, ?, 0, ?)",
                (self._writer, os.getpid(), port),
            )
        threading.Thread(target=self._flush_forever, name="mockserver-journal", daemon=True).start()

    def _flush_forever(self) -> None:
        wake = self._wake
        while True:
            if self.journal_size > LAZY_JOURNAL or wake is None:  # a big journal is written as it comes
                time.sleep(FLUSH_INTERVAL)
            else:  # until the next flush is due, or a reader wakes it
                due_in = self._flushed_at + FLUSH_EVERY - time.monotonic() if self._pending else FLUSH_EVERY
                wake.settimeout(max(FLUSH_INTERVAL, due_in))
                with contextlib.suppress(TimeoutError):
                    wake.recv(16)  # what it says does not matter: the shared time says what a reader wants
            waiting = len(self._pending)
            due = waiting and (
                time.monotonic() - self._flushed_at >= FLUSH_EVERY
                or (self.journal_size > LAZY_JOURNAL and waiting >= FLUSH_BATCH)
            )
            if not due and _read_time(self._wanted) <= self._flushed_until:
                continue
            try:
                self._flush()
            except sqlite3.Error:  # e.g. the file was removed at shutdown; the next tick retries
                continue
            except Exception:  # building an entry failed: a bug, but the journal keeps going
                log.exception("the journal could not be written")

    def _flush(self) -> None:
        """Write out what this process buffered. One flush at a time: a reader's own flush waits for the
        flusher thread's, whose entries it must see."""
        with self._flush_lock:
            self._flush_now()

    def _flush_now(self) -> None:
        flushed_until = time.time()
        with self._pending_lock:
            pending, self._pending = self._pending, deque(maxlen=self.journal_size)
            recorded, self._recorded = self._recorded, 0
            self._flushed_until, self._flushed_at = flushed_until, time.monotonic()
        batch = [(moment, dumps(built(entry))) for moment, entry in pending]  # outside the write lock
        with self._transaction() as db:
            cleared = db.execute("SELECT value FROM meta WHERE key = 'cleared'").fetchone()
            floor = cleared[0] if cleared else 0.0
            kept = [entry for entry in batch if entry[0] >= floor]
            if kept:
                _insert_batch(db, kept, skipped=recorded - len(pending))
            db.execute("UPDATE flushers SET flushed = ? WHERE writer = ?", (flushed_until, self._writer))
            self._untrimmed += len(kept)
            if self._untrimmed > max(64, self.journal_size // 10):  # bounded: memory and disk stay flat
                self._untrimmed = 0
                self._trim(db)

    def _trim(self, db: sqlite3.Connection) -> None:
        """Drop the batches whose every entry is older than the newest `journal_size` entries: those of
        batches that began after this one ended. Batches of two processes overlap in time (by a flush
        interval), so a batch goes only when that many entries are certainly newer than all of it."""
        batches = db.execute("SELECT id, count, oldest, newest FROM journal_batches ORDER BY oldest").fetchall()
        starts = [oldest for _, _, oldest, _ in batches]
        newer = list(itertools.accumulate(reversed([count for _, count, _, _ in batches]), initial=0))[::-1]
        gone = [
            (batch_id,)
            for batch_id, _, _, newest in batches
            if newer[bisect.bisect_right(starts, newest)] >= self.journal_size
        ]
        db.executemany("DELETE FROM journal_batches WHERE id = ?", gone)

    def _wait_for_flushes(self, since: float) -> None:
        """Until every live writer has flushed what it answered before `since`."""
        mine = self._writer if self._flusher_pid == os.getpid() else ""
        if mine:
            self._flush()
        deadline = time.monotonic() + FLUSH_WAIT
        while time.monotonic() < deadline:
            if _read_time(self._wanted) < since:  # on every look: a concurrent read may have written an older time
                struct.pack_into("d", self._wanted, 0, since)
            rows = self._db().execute("SELECT writer, pid, port FROM flushers WHERE flushed < ?", (since,))
            behind = [port for writer, pid, port in rows if writer != mine and _alive(pid)]
            if not behind:
                return
            _wake(behind)
            time.sleep(FLUSH_INTERVAL / 2)

    def journal(self) -> list[JournalRecord]:
        self._wait_for_flushes(time.time())
        entries = []
        for first_id, blob in self._db().execute("SELECT first_id, entries FROM journal_batches"):
            for entry_id, entry in enumerate(loads(blob), first_id):
                entry["id"] = entry_id
                entries.append(entry)
        entries.sort(key=lambda entry: (entry["time"], entry["id"]))
        return entries[-self.journal_size :] if self.journal_size else []

    def clear_journal(self) -> None:
        """Entries answered before now are dropped, also those still buffered in other processes."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('cleared', ?)", (time.time(),))
            db.execute("DELETE FROM journal_batches")

    def control(self) -> Control:
        version = int.from_bytes(self._version[:8], "little")  # read before the row: a change can only make it newer
        cached, control = self._control
        if version != cached:
            row = self._db().execute("SELECT data FROM control WHERE id = 1").fetchone()
            control = Control.from_dict(loads(row[0]))
            self._control = (version, control)
        return control

    def _bump_version(self) -> None:
        """After the commit and under the write lock, so no change is ever hidden behind an old number."""
        version = int.from_bytes(self._version[:8], "little") + 1
        self._version[:8] = version.to_bytes(8, "little")

    def change_control(self, change: Callable[[Control], Control]) -> Control:
        with self._transaction(after_commit=self._bump_version) as db:
            row = db.execute("SELECT data FROM control WHERE id = 1").fetchone()
            changed = change(Control.from_dict(loads(row[0])))
            db.execute("UPDATE control SET data = ? WHERE id = 1", (dumps(changed.as_dict()),))
        return changed

    def close(self) -> None:
        if self._flusher_pid == os.getpid() and self._pending:  # what this process answered is kept
            with contextlib.suppress(sqlite3.Error):
                self._flush()
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            os.close(self._local.lock)
            self._local.db = None


def _insert_batch(db: sqlite3.Connection, batch: list[tuple[float, bytes]], skipped: int = 0) -> None:
    """One row for a flush's entries (each already JSON); their ids are the last `len(batch)` of the
    next `skipped + len(batch)` numbers (`skipped`: the older ones pushed out unbuilt)."""
    taken = skipped + len(batch)
    last_id = db.execute(
        "INSERT INTO meta VALUES ('journal_ids', ?) ON CONFLICT (key) DO UPDATE SET value = value + ? RETURNING value",
        (taken, taken),
    ).fetchone()[0]
    times = [moment for moment, _ in batch]
    db.execute(
        "INSERT INTO journal_batches (first_id, count, oldest, newest, entries) VALUES (?, ?, ?, ?, ?)",
        (
            int(last_id) - len(batch) + 1,
            len(batch),
            min(times),
            max(times),
            b"[" + b",".join(e for _, e in batch) + b"]",
        ),
    )


def _migrate_journal(db: sqlite3.Connection) -> None:
    """A state file from before batched rows: its journal table (a row per entry) becomes one batch."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journal'").fetchone() is None:
        return
    rows = db.execute("SELECT time, entry FROM journal ORDER BY time, id").fetchall()
    if rows:
        _insert_batch(db, [(moment, entry.encode() if isinstance(entry, str) else entry) for moment, entry in rows])
    db.execute("DROP TABLE journal")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _private_file(path: Path) -> None:
    """The state file readable by its owner only (it holds journal entries and items): created 0600,
    or tightened to that if it exists. SQLite gives its -wal and -shm files the database's mode."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class _Process:
    """This process's id, kept current across forks: os.getpid() is a system call, and every request
    is recorded."""

    pid = os.getpid()

    @classmethod
    def forked(cls) -> None:
        cls.pid = os.getpid()


os.register_at_fork(after_in_child=_Process.forked)


def _wake_socket() -> socket.socket | None:
    """A loopback port a reader can wake this process's flusher on; None where none can be had."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return None
    try:
        sock.bind(("127.0.0.1", 0))
    except OSError:
        sock.close()
        return None
    return sock


def _wake(ports: list[int]) -> None:
    """Wake these flushers (on every look of a waiting reader: a datagram may be lost)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for port in ports:
            if port:  # 0: a flusher that looks every 10 ms (it has no port, or is from before ports)
                with contextlib.suppress(OSError):
                    sock.sendto(b"flush", ("127.0.0.1", port))


def _read_time(shared: mmap.mmap) -> float:
    moment: float = struct.unpack_from("d", shared)[0]
    return moment


def _shared_counter(path: Path) -> mmap.mmap:
    """8 bytes of a file mapped shared: every process that maps it (forked or not) sees one counter."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        if os.fstat(fd).st_size < 8:
            os.ftruncate(fd, 8)
        return mmap.mmap(fd, 8)
    finally:
        os.close(fd)
