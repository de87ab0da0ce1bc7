"""State shared by the worker processes of one machine, in one SQLite file (WAL mode).

Each process and thread opens its own connection on first use, so a store built before the
server forks its workers is safe to use in every one of them. Writes that read first run in
`BEGIN IMMEDIATE` transactions, which SQLite serializes across processes."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from . import Control, JournalRecord, RateDecision, decide

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS windows (key TEXT PRIMARY KEY, start REAL NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items (
    collection TEXT NOT NULL, partition TEXT NOT NULL, id TEXT NOT NULL, item BLOB NOT NULL,
    PRIMARY KEY (collection, partition, id));
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY AUTOINCREMENT, entry BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS control (id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL);
"""
TRIM_EVERY = 64  # journal inserts between trims to `journal_size`


class SqliteStore:
    def __init__(self, url: str, journal_size: int = 1000, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.path = Path(url.removeprefix("sqlite://"))  # sqlite:///tmp/mock.db is /tmp/mock.db
        self.journal_size = journal_size
        self._clock = clock
        self._local = threading.local()
        self._inserts = 0
        self._control: tuple[bytes, Control] = (b"", Control())  # one tuple: threads see both or neither
        db = self._db()
        db.executescript(SCHEMA)  # each statement is idempotent, so workers may race here
        db.execute("INSERT OR IGNORE INTO control VALUES (1, ?)", (orjson.dumps(Control().as_dict()),))

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():  # a forked worker opens its own
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # a mock's state need not survive a power cut
            self._local.db, self._local.pid = db, os.getpid()
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def next_count(self, key: str) -> int:
        row = (
            self._db()
            .execute(
                "INSERT INTO counters VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1 RETURNING n",
                (key,),
            )
            .fetchone()
        )
        return int(row[0])

    def hit(self, key: str, limit: int, window: float) -> RateDecision:
        with self._transaction() as db:
            now = self._clock()
            row = db.execute("SELECT start, used FROM windows WHERE key = ?", (key,)).fetchone()
            start, used, decision = decide(row[0] if row else now, row[1] if row else 0, now, limit, window)
            db.execute("INSERT OR REPLACE INTO windows VALUES (?, ?, ?)", (key, start, used))
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
        return orjson.loads(row[0]) if row else None

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
                    other = orjson.loads(blob)
                    if other.get(flag) is True:
                        other[flag] = False
                        db.execute(
                            "UPDATE items SET item = ? WHERE collection = ? AND partition = ? AND id = ?",
                            (orjson.dumps(other), collection, partition, other_id),
                        )
            db.execute(
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
                (collection, partition, item_id, orjson.dumps(item)),
            )

    def dump(self) -> dict[str, dict[str, dict[str, Any]]]:
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for collection, partition, item_id, blob in self._db().execute(
            "SELECT collection, partition, id, item FROM items ORDER BY rowid"
        ):
            found.setdefault(collection, {}).setdefault(partition, {})[item_id] = orjson.loads(blob)
        return found

    def reset(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM counters")
            db.execute("DELETE FROM windows")
            db.execute("DELETE FROM items")

    def record(self, entry: JournalRecord) -> None:
        if not self.journal_size:
            return
        db = self._db()
        db.execute("INSERT INTO journal (entry) VALUES (?)", (orjson.dumps(entry),))
        self._inserts += 1
        if self._inserts % TRIM_EVERY == 0:  # bounded: memory and disk stay flat
            db.execute("DELETE FROM journal WHERE id <= (SELECT max(id) FROM journal) - ?", (self.journal_size,))

    def journal(self) -> list[JournalRecord]:
        rows = (
            self._db()
            .execute("SELECT id, entry FROM journal ORDER BY id DESC LIMIT ?", (self.journal_size,))
            .fetchall()
        )
        return [{**orjson.loads(blob), "id": entry_id} for entry_id, blob in reversed(rows)]

    def clear_journal(self) -> None:
        self._db().execute("DELETE FROM journal")

    def control(self) -> Control:
        row = self._db().execute("SELECT data FROM control WHERE id = 1").fetchone()
        data, control = self._control
        if row[0] != data:  # parsed again only when it changed
            control = Control.from_dict(orjson.loads(row[0]))
            self._control = (row[0], control)
        return control

    def change_control(self, change: Callable[[Control], Control]) -> Control:
        with self._transaction() as db:
            row = db.execute("SELECT data FROM control WHERE id = 1").fetchone()
            changed = change(Control.from_dict(orjson.loads(row[0])))
            db.execute("UPDATE control SET data = ? WHERE id = 1", (orjson.dumps(changed.as_dict()),))
        return changed

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
