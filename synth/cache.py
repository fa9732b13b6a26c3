"""SQLite response cache: the record of every request asked and every answer received, never paid twice.

    cache = ResponseCache(layout.cache / "llm.sqlite")
    key = cache_key("groq:llama-3.3-70b-versatile", request)
    if (hit := cache.get(key)) is None:
        ...send...; cache.put(key, job="synthetic", request=request, response=response_dict, ...)

Keyed by sha256 of (backend identity, model, messages, sampling params, seed). WAL mode, and each answer
is committed the moment it arrives, so a ``kill -9`` loses at most the requests in flight; a rerun or a
resumed run finds every stored answer and sends no request twice. Rows keep the request, the raw response,
token counts and timestamps; inspect them with ``sqlite3 data/cache/llm.sqlite 'select ... from responses'``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from synth.client import ChatRequest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    job TEXT NOT NULL,
    request_index INTEGER,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    requested_unix REAL NOT NULL,
    answered_unix REAL NOT NULL
)
"""


def cache_key(backend_identity: str, request: ChatRequest) -> str:
    """sha256 over everything that decides the answer: backend and model, messages, sampling params, seed."""
    payload = json.dumps(
        [backend_identity, request.to_dict()], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ResponseCache:
    """Thread-safe: one connection behind a lock (writes are tiny next to an LLM round trip)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process (only an OS crash can lose the last commits).
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(_SCHEMA)
            self._conn.commit()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(
        self,
        key: str,
        *,
        backend: str,
        model: str,
        job: str,
        index: int,
        request: ChatRequest,
        response: dict[str, Any],
        prompt_tokens: int,
        completion_tokens: int,
        requested_unix: float,
    ) -> None:
        """Store one answer and commit at once: this is what makes a killed run resumable."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    backend,
                    model,
                    job,
                    index,
                    json.dumps(request.to_dict(), ensure_ascii=False),
                    json.dumps(response, ensure_ascii=False),
                    prompt_tokens,
                    completion_tokens,
                    requested_unix,
                    time.time(),
                ),
            )
            self._conn.commit()

    def count(self, job: str | None = None) -> int:
        with self._lock:
            if job is None:
                return int(self._conn.execute("SELECT count(*) FROM responses").fetchone()[0])
            return int(
                self._conn.execute("SELECT count(*) FROM responses WHERE job = ?", (job,)).fetchone()[0]
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
