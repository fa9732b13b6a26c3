"""A MediaWiki-API-shaped HTTP server on 127.0.0.1 for tests: real sockets, scripted answers.

Serves ``/w/api.php`` with ``action=query`` (titles with normalization, one-hop redirects, missing pages,
disambiguation pageprops, ``list=search``, ``list=categorymembers`` with continuation) and ``action=parse``
(formatversion=2 shape). ``fail_next`` queues failures (429 with Retry-After, 503, maxlag error JSON) for
requests whose parameters match. Every request is recorded, so tests can count them and read headers.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse


@dataclass
class FakePage:
    title: str
    pageid: int
    revid: int
    html: str
    disambiguation: bool = False


@dataclass
class FakeWiki:
    pages: dict[str, FakePage] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    search_results: dict[str, list[str]] = field(default_factory=dict)
    categories: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # title -> [(member, ns)]
    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[dict[str, str], int, dict[str, str], Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self, title: str, html: str, *, pageid: int, revid: int = 1000, disambiguation: bool = False
    ) -> None:
        self.pages[title] = FakePage(title, pageid, revid, html, disambiguation)

    def fail_next(
        self, match: dict[str, str], status: int, headers: dict[str, str] | None = None, body: Any = None
    ):
        """The next request whose params include ``match`` gets this answer instead (once)."""
        self.failures.append((match, status, headers or {}, body))

    def count(self, **match: str) -> int:
        return sum(all(r["params"].get(k) == v for k, v in match.items()) for r in self.requests)

    # -- API --------------------------------------------------------------------------------------------

    @staticmethod
    def normalize(title: str) -> str:
        title = title.replace("_", " ").strip()
        return title[:1].upper() + title[1:]

    def answer(self, params: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            for i, (match, status, headers, body) in enumerate(self.failures):
                if all(params.get(k) == v for k, v in match.items()):
                    del self.failures[i]
                    return status, headers, body
        if params.get("format") != "json" or params.get("formatversion") != "2":
            return 400, {}, {"error": {"code": "badformat"}}
        if params.get("action") == "parse":
            return 200, {}, self.parse(int(params["pageid"]))
        if params.get("list") == "search":
            return 200, {}, self.search(params)
        if params.get("list") == "categorymembers":
            return 200, {}, self.category(params)
        if params.get("action") == "query" and "titles" in params:
            return 200, {}, self.query_titles(params["titles"].split("|"))
        return 400, {}, {"error": {"code": "unknown"}}

    def query_titles(self, titles: list[str]) -> dict[str, Any]:
        normalized, redirects, pages, seen = [], [], [], set()
        for raw in titles:
            title = self.normalize(raw)
            if title != raw:
                normalized.append({"from": raw, "to": title})
            if title in self.redirects:  # one hop, like MediaWiki
                redirects.append({"from": title, "to": self.redirects[title]})
                title = self.redirects[title]
            if title in seen:
                continue
            seen.add(title)
            page = self.pages.get(title)
            if title in self.redirects:
                pages.append({"pageid": 900 + len(pages), "ns": 0, "title": title, "redirect": True})
            elif page is None:
                pages.append({"ns": 0, "title": title, "missing": True})
            else:
                entry: dict[str, Any] = {
                    "pageid": page.pageid,
                    "ns": 0,
                    "title": title,
                    "lastrevid": page.revid,
                }
                if page.disambiguation:
                    entry["pageprops"] = {"disambiguation": ""}
                pages.append(entry)
        query: dict[str, Any] = {"pages": pages}
        if normalized:
            query["normalized"] = normalized
        if redirects:
            query["redirects"] = redirects
        return {"batchcomplete": True, "query": query}

    def parse(self, pageid: int) -> dict[str, Any]:
        for page in self.pages.values():
            if page.pageid == pageid:
                return {
                    "parse": {
                        "title": page.title,
                        "pageid": page.pageid,
                        "revid": page.revid,
                        "text": page.html,
                    }
                }
        return {"error": {"code": "nosuchpageid", "info": f"There is no page with ID {pageid}."}}

    def _paged(self, items: list[dict[str, Any]], params: dict[str, str], limit_key: str, cont_key: str):
        limit = int(params.get(limit_key, "10"))
        offset = int(params.get(cont_key, "0"))
        out: dict[str, Any] = {"batchcomplete": True}
        if offset + limit < len(items):
            out["continue"] = {cont_key: offset + limit, "continue": "-||"}
        return out, items[offset : offset + limit]

    def search(self, params: dict[str, str]) -> dict[str, Any]:
        hits = [{"ns": 0, "title": t} for t in self.search_results.get(params["srsearch"], [])]
        out, page = self._paged(hits, params, "srlimit", "sroffset")
        out["query"] = {"search": page}
        return out

    def category(self, params: dict[str, str]) -> dict[str, Any]:
        members = [{"ns": ns, "title": t} for t, ns in self.categories.get(params["cmtitle"], [])]
        limit = int(params.get("cmlimit", "10"))
        # Real continuation tokens are opaque strings; an offset in a string is enough here.
        offset = int(params.get("cmcontinue", "0"))
        out: dict[str, Any] = {
            "batchcomplete": True,
            "query": {"categorymembers": members[offset : offset + limit]},
        }
        if offset + limit < len(members):
            out["continue"] = {"cmcontinue": str(offset + limit), "continue": "-||"}
        return out


class _Handler(BaseHTTPRequestHandler):
    wiki: FakeWiki

    def do_GET(self) -> None:
        url = urlparse(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        with self.wiki.lock:
            self.wiki.requests.append(
                {"path": url.path, "params": params, "headers": dict(self.headers), "at": time.monotonic()}
            )
        if url.path != "/w/api.php":
            status, headers, body = 404, {}, {"error": {"code": "notfound"}}
        else:
            status, headers, body = self.wiki.answer(params)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


class FakeWikiServer:
    """``with FakeWikiServer(wiki) as server: server.api_url``"""

    def __init__(self, wiki: FakeWiki):
        handler = type("Handler", (_Handler,), {"wiki": wiki})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.api_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/w/api.php"
        # A short poll interval keeps shutdown (and so each test's teardown) fast.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> FakeWikiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
