"""On-disk HTTP response cache (SQLite) so a rerun of the ingest stage fetches nothing twice.

Responses are keyed by the full request: URL plus every query parameter, sorted, so the same API call hits
the same row whatever order the parameters were built in. The fetch time is stored with the body, which keeps
``fetched_at`` in records (and therefore the output files) identical across reruns served from the cache.

    cache = HttpCache(layout.cache / "http")
    cache.put(url, params, body, status=200)
    hit = cache.get(url, params)   # CachedResponse(body, status, fetched_at) or None
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    fetched_at TEXT NOT NULL
)
"""


def request_key(url: str, params: dict[str, str] | None = None) -> str:
    """The full request as one string: URL and sorted query parameters."""
    query = urlencode(sorted((params or {}).items()))
    return f"{url}?{query}" if query else url


@dataclass(frozen=True, slots=True)
class CachedResponse:
    body: str
    status: int
    fetched_at: str


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class HttpCache:
    """A SQLite file ``responses.sqlite`` under ``directory``; safe to share between recipes."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.path = self.directory / "responses.sqlite"
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        # Opened lazily: constructing a reader must not touch the disk (e.g. for --dry-run).
        if self._conn is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._conn.execute(_SCHEMA)
            self._conn.commit()
        return self._conn

    @staticmethod
    def _hash(url: str, params: dict[str, str] | None) -> str:
        return hashlib.sha256(request_key(url, params).encode("utf-8")).hexdigest()

    def get(self, url: str, params: dict[str, str] | None = None) -> CachedResponse | None:
        with self._lock:
            row = (
                self._db()
                .execute(
                    "SELECT body, status, fetched_at FROM responses WHERE key = ?", (self._hash(url, params),)
                )
                .fetchone()
            )
        return CachedResponse(row[0], row[1], row[2]) if row else None

    def put(
        self, url: str, params: dict[str, str] | None, body: str, status: int = 200, fetched_at: str = ""
    ) -> CachedResponse:
        entry = CachedResponse(body, status, fetched_at or utc_now())
        with self._lock:
            db = self._db()
            db.execute(
                "INSERT OR REPLACE INTO responses (key, url, status, body, fetched_at) VALUES (?, ?, ?, ?, ?)",
                (self._hash(url, params), request_key(url, params), entry.status, body, entry.fetched_at),
            )
            db.commit()
        return entry

    def __len__(self) -> int:
        with self._lock:
            return int(self._db().execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
