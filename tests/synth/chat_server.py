"""A scripted chat-completions server on 127.0.0.1 for tests and bench/bench_synth.py.

Speaks the Groq / OpenAI protocol on ``POST /openai/v1/chat/completions`` (what the ``groq`` SDK calls when
``base_url="http://127.0.0.1:PORT"``) and ``POST /v1/chat/completions`` (the ``openai`` SDK with
``base_url=".../v1"``). A ``script(n, body) -> Reply`` decides each answer: good JSON, malformed JSON,
truncated output, refusals, 429 with Retry-After, 500s, slow answers. It can enforce a requests/min limit
(token bucket, answers 429 when exceeded) and logs every request it receives.

    with ChatServer(script) as server:
        ... base_url = server.url ...
        server.log        # [{"n", "path", "body", "status", "t"}]
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATHS = ("/openai/v1/chat/completions", "/v1/chat/completions")


@dataclass
class Reply:
    status: int = 200
    content: str = ""
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    error: dict[str, Any] | None = None  # error body for non-200 replies


def request_seed(body: dict[str, Any]) -> int:
    return int(body.get("seed") or 0)


_DE_NOUNS = ["Garten", "Bahnhof", "Markt", "Hafen", "Wald", "Platz", "Turm", "Laden"]
_FR_NOUNS = ["jardin", "gare", "marché", "port", "bois", "place", "tour", "magasin"]
_DE_ADJ = ["ruhig", "voll", "schön", "alt", "groß", "leer", "hell", "neu"]
_FR_ADJ = ["calme", "plein", "beau", "vieux", "grand", "vide", "clair", "neuf"]


def pair_for(seed: int, j: int) -> dict[str, str]:
    """A German-French pair that is unique per (seed, j) and detected as the right languages."""
    a, b = seed % 8, (seed // 8 + j) % 8
    number = seed * 100 + j
    return {
        "src": f"Der {_DE_NOUNS[a]} in der Straße Nummer {number} ist heute sehr {_DE_ADJ[b]} und wir gehen gern dorthin.",
        "tgt": f"Le {_FR_NOUNS[a]} de la rue numéro {number} est très {_FR_ADJ[b]} aujourd'hui et nous aimons y aller.",
    }


def good_pairs(body: dict[str, Any], n: int = 3) -> str:
    seed = request_seed(body)
    return json.dumps({"pairs": [pair_for(seed, j) for j in range(n)]}, ensure_ascii=False)


def good_reply(n: int, body: dict[str, Any]) -> Reply:
    return Reply(content=good_pairs(body))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        owner = self.server.owner
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            body = {}
        if self.path not in PATHS:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}, {})
            return
        n, reply = owner.next_reply(self.path, body, dict(self.headers))
        owner.enter()
        try:
            self._answer(owner, n, body, reply)
        finally:
            owner.leave()

    def _answer(self, owner: ChatServer, n: int, body: dict[str, Any], reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        if reply.status != 200:
            payload = {"error": reply.error or {"message": f"scripted {reply.status}", "type": "scripted"}}
            self._send(reply.status, payload, reply.headers)
            owner.mark(n, reply.status)
            return
        owner.hold_if_needed()
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        completion_tokens = max(1, len(reply.content) // 4)
        payload = {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content},
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_chars // 4,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_chars // 4 + completion_tokens,
            },
        }
        self._send(200, payload, reply.headers)
        owner.mark(n, 200)

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ChatServer


class ChatServer:
    def __init__(
        self,
        script: Callable[[int, dict[str, Any]], Reply] = good_reply,
        *,
        requests_per_minute: float = 0.0,
        burst: float = 2.0,
        answer_limit: int = 0,
    ):
        """``requests_per_minute`` > 0 enforces a limit (429 beyond it); ``answer_limit`` > 0 makes every
        request after that many 200 answers hang until ``release()`` (to kill a client mid-run)."""
        self.script = script
        self.log: list[dict[str, Any]] = []
        self.rate = requests_per_minute / 60.0
        self.burst = burst
        self._level = burst
        self._last = time.monotonic()
        self.rejected_429 = 0
        self.answer_limit = answer_limit
        self.answered = 0
        self._granted = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def release(self) -> None:
        self._release.set()

    def next_reply(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Reply]:
        with self._lock:
            n = len(self.log)
            entry = {
                "n": n,
                "path": path,
                "body": body,
                "key": body_key(body),
                "status": None,
                "t": time.monotonic(),
                "auth": headers.get("Authorization", headers.get("authorization", "")),
            }
            self.log.append(entry)
            if self.rate > 0:
                now = time.monotonic()
                self._level = min(self.burst, self._level + (now - self._last) * self.rate)
                self._last = now
                if self._level < 1.0:
                    self.rejected_429 += 1
                    wait = (1.0 - self._level) / self.rate
                    return n, Reply(status=429, headers={"retry-after": f"{wait:.3f}"})
                self._level -= 1.0
        return n, self.script(n, body)

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def hold_if_needed(self) -> None:
        """Let the first ``answer_limit`` answers through; hold the rest until ``release()``."""
        with self._lock:
            if not self.answer_limit or self._granted < self.answer_limit:
                self._granted += 1
                return
        self._release.wait()

    def mark(self, n: int, status: int) -> None:
        with self._lock:
            self.log[n]["status"] = status
            if status == 200:
                self.answered += 1

    def statuses(self) -> list[int | None]:
        with self._lock:
            return [e["status"] for e in self.log]


def body_key(body: dict[str, Any]) -> str:
    """Identity of a request as the server sees it (messages, params, seed)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
