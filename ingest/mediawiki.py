"""A polite MediaWiki Action API client: titles, search, category members, parsed article HTML.

Follows the Wikimedia API etiquette: a descriptive User-Agent with a contact, ``maxlag=5`` on every request,
at most ``requests_per_second`` requests, retries with exponential backoff on HTTP 429/5xx and ``maxlag``
errors (honouring ``Retry-After``, capped by ``max_retry_wait``). Every answer goes through an on-disk
``HttpCache`` first, so a rerun makes zero requests; ``offline=True`` never touches the network and raises
``NotCachedError`` for anything the cache lacks.

    client = MediaWikiClient("https://de.wikipedia.org/w/api.php", cache=HttpCache(layout.cache / "http"))
    pages = client.resolve_titles(["Johannes Gutenberg"])      # redirects, missing, disambiguation
    page = client.parse_page(pages["Johannes Gutenberg"].pageid)  # html, revid, fetched_at
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections import deque
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlparse

import requests

from ingest.http_cache import HttpCache, request_key
from synthmix import __version__
from synthmix.errors import MissingRequirementError, SynthmixError

log = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/synthmix/synthmix"
TITLES_PER_QUERY = 50  # the API's limit for anonymous clients
MAXLAG = "5"


def user_agent(contact: str = "") -> str:
    """Wikimedia asks for a User-Agent that names the tool and a way to reach its operator."""
    contact = contact or os.environ.get("SYNTHMIX_CONTACT", "")
    contact_part = f"; {contact}" if contact else "; synthmix ingest"
    return f"synthmix/{__version__} (+{PROJECT_URL}{contact_part}) requests/{requests.__version__}"


class NotCachedError(SynthmixError):
    """Offline and the cache does not hold this request."""

    def __init__(self, what: str):
        super().__init__(f"not in the HTTP cache: {what}")
        self.what = what


@dataclass(frozen=True, slots=True)
class PageRef:
    """A title resolved by the API: the page it lands on, or why it does not exist as an article."""

    requested: str
    title: str = ""
    pageid: int = 0
    problem: str = ""  # "" | missing_page | redirect_loop | disambiguation | invalid_title
    redirected_from: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedPage:
    title: str
    pageid: int
    revid: int
    html: str
    fetched_at: str


@dataclass
class ClientStats:
    requests: int = 0  # sent over the network (including retries)
    cache_hits: int = 0
    retries: int = 0
    waited_seconds: float = 0.0


class MediaWikiClient:
    def __init__(
        self,
        api_url: str,
        *,
        cache: HttpCache,
        offline: bool = False,
        requests_per_second: float = 1.0,
        max_retries: int = 5,
        backoff_seconds: float = 1.0,
        max_retry_wait: float = 30.0,
        timeout: float = 30.0,
        contact: str = "",
        session: requests.Session | None = None,
    ):
        self.api_url = api_url
        self.cache = cache
        self.offline = offline
        self.min_interval = 1.0 / requests_per_second
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.max_retry_wait = max_retry_wait
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent(contact)
        self.session.headers["Accept-Encoding"] = "gzip"
        self.stats = ClientStats()
        self._last_request = 0.0

    # -- transport ---------------------------------------------------------------------------------------

    def _throttle(self) -> None:
        wait = self._last_request + self.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request = time.monotonic()

    def _retry_wait(self, response: requests.Response | None, attempt: int) -> float:
        wait = self.backoff_seconds * (2**attempt)
        header = response.headers.get("Retry-After") if response is not None else None
        if header:
            try:
                wait = float(header)
            except ValueError:
                with contextlib.suppress(TypeError, ValueError):
                    wait = parsedate_to_datetime(header).timestamp() - time.time()
        return max(0.0, min(wait, self.max_retry_wait))

    def _sleep(self, seconds: float, why: str) -> None:
        log.warning("%s: %s; retrying in %.1f s", self.api_url, why, seconds)
        self.stats.retries += 1
        self.stats.waited_seconds += seconds
        time.sleep(seconds)

    def _host_reachable(self) -> bool:
        from synthmix.pipeline import reachable

        url = urlparse(self.api_url)
        return reachable(url.hostname or "", url.port or (443 if url.scheme == "https" else 80))

    def get(self, params: dict[str, str]) -> tuple[dict[str, Any], str]:
        """One API call (cached): the decoded JSON and when it was fetched from the network."""
        full = {**params, "format": "json", "formatversion": "2", "maxlag": MAXLAG}
        cached = self.cache.get(self.api_url, full)
        if cached is not None:
            self.stats.cache_hits += 1
            return json.loads(cached.body), cached.fetched_at
        if self.offline:
            raise NotCachedError(request_key(self.api_url, params))
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            self._throttle()
            self.stats.requests += 1
            try:
                response = self.session.get(self.api_url, params=full, timeout=self.timeout)
            except requests.RequestException as e:
                last_problem = _short_reason(e)
                # No route or no DNS: retrying cannot help, so say so now instead of after a minute.
                if isinstance(e, requests.ConnectionError) and not self._host_reachable():
                    attempt = self.max_retries
                if attempt < self.max_retries:
                    self._sleep(self._retry_wait(None, attempt), last_problem)
                    continue
                raise MissingRequirementError(
                    f"cannot reach {self.api_url} ({last_problem}); check the network, or use --offline "
                    "with a filled cache, or html_dir with saved pages"
                ) from None
            if response.status_code == 429 or response.status_code >= 500:
                last_problem = f"HTTP {response.status_code}"
                if attempt < self.max_retries:
                    self._sleep(self._retry_wait(response, attempt), last_problem)
                    continue
                break
            if response.status_code != 200:
                raise SynthmixError(
                    f"{self.api_url}: HTTP {response.status_code} for {params}; check api_url in the recipe"
                )
            try:
                data = response.json()
            except ValueError:
                raise SynthmixError(
                    f"{self.api_url}: answered with something that is not JSON; is api_url a MediaWiki "
                    "api.php endpoint?"
                ) from None
            if isinstance(data, dict) and data.get("error", {}).get("code") == "maxlag":
                last_problem = "server replication lag (maxlag)"
                if attempt < self.max_retries:
                    self._sleep(self._retry_wait(response, attempt), last_problem)
                    continue
                break
            entry = self.cache.put(self.api_url, full, response.text, status=response.status_code)
            return data, entry.fetched_at
        raise SynthmixError(
            f"{self.api_url}: gave up after {self.max_retries + 1} attempts ({last_problem}); "
            "try again later or lower requests_per_second"
        )

    def _query_all(self, params: dict[str, str], limit: int, list_key: str) -> list[dict[str, Any]]:
        """A list query followed through ``continue`` until ``limit`` items."""
        items: list[dict[str, Any]] = []
        cont: dict[str, str] = {}
        while len(items) < limit:
            data, _ = self.get({**params, **cont})
            self._raise_api_error(data, params)
            items.extend(data.get("query", {}).get(list_key, []))
            if "continue" not in data:
                break
            cont = {k: str(v) for k, v in data["continue"].items()}
        return items[:limit]

    def _raise_api_error(self, data: dict[str, Any], params: dict[str, str]) -> None:
        error = data.get("error")
        if error:
            raise SynthmixError(
                f"{self.api_url}: API error {error.get('code')!r} ({error.get('info', '')}) for {params}"
            )

    # -- queries -----------------------------------------------------------------------------------------

    def resolve_titles(self, titles: list[str]) -> dict[str, PageRef]:
        """Each requested title -> the article it lands on after normalization and redirects."""
        out: dict[str, PageRef] = {}
        for start in range(0, len(titles), TITLES_PER_QUERY):
            batch = titles[start : start + TITLES_PER_QUERY]
            data, _ = self.get(
                {
                    "action": "query",
                    "titles": "|".join(batch),
                    "redirects": "1",
                    "prop": "info|pageprops",
                    "ppprop": "disambiguation",
                }
            )
            self._raise_api_error(data, {"titles": "|".join(batch)})
            query = data.get("query", {})
            normalized = {n["from"]: n["to"] for n in query.get("normalized", [])}
            redirects = {r["from"]: r["to"] for r in query.get("redirects", [])}
            pages = {p.get("title"): p for p in query.get("pages", [])}
            for title in batch:
                out[title] = _resolve_one(title, normalized, redirects, pages)
        return out

    def search(self, query: str, limit: int) -> list[str]:
        hits = self._query_all(
            {
                "action": "query",
                "list": "search",
                "srsearch": query,
                "srnamespace": "0",
                "srlimit": str(min(limit, 50)),
                "srprop": "",
            },
            limit,
            "search",
        )
        return [h["title"] for h in hits]

    def category_members(self, category: str, depth: int, limit: int) -> list[str]:
        """Articles in a category and its subcategories down to ``depth`` (0 = the category itself)."""
        root = category if ":" in category else f"Category:{category}"
        titles: list[str] = []
        seen_titles: set[str] = set()
        seen_cats = {root}
        queue: deque[tuple[str, int]] = deque([(root, 0)])
        while queue and len(titles) < limit:
            cat, level = queue.popleft()
            members = self._query_all(
                {
                    "action": "query",
                    "list": "categorymembers",
                    "cmtitle": cat,
                    "cmnamespace": "0|14",
                    "cmtype": "page|subcat",
                    "cmlimit": "500",
                    "cmprop": "title|ns",
                },
                10_000,
                "categorymembers",
            )
            for m in members:
                if m.get("ns") == 14:
                    if level < depth and m["title"] not in seen_cats:
                        seen_cats.add(m["title"])
                        queue.append((m["title"], level + 1))
                elif m["title"] not in seen_titles and len(titles) < limit:
                    seen_titles.add(m["title"])
                    titles.append(m["title"])
        return titles

    def parse_page(self, pageid: int) -> ParsedPage | None:
        """The rendered article HTML of a page id (None when the page has gone missing)."""
        data, fetched_at = self.get(
            {
                "action": "parse",
                "pageid": str(pageid),
                "prop": "text|revid|displaytitle",
                "disableeditsection": "1",
                "disablelimitreport": "1",
                "disabletoc": "1",
            }
        )
        error = data.get("error")
        if error:
            if error.get("code") in ("missingtitle", "nosuchpageid"):
                return None
            self._raise_api_error(data, {"pageid": str(pageid)})
        parse = data.get("parse", {})
        text = parse.get("text", "")
        if isinstance(text, dict):  # formatversion=1 shape, if a server ignores formatversion=2
            text = text.get("*", "")
        return ParsedPage(
            title=parse.get("title", ""),
            pageid=int(parse.get("pageid", pageid)),
            revid=int(parse.get("revid", 0)),
            html=text,
            fetched_at=fetched_at,
        )


def _short_reason(e: requests.RequestException) -> str:
    text = str(e)
    if "NameResolutionError" in text or "Name or service not known" in text:
        return "DNS lookup failed"
    if "Connection refused" in text:
        return "connection refused"
    if isinstance(e, requests.Timeout):
        return "timed out"
    return type(e).__name__


def _resolve_one(
    title: str, normalized: dict[str, str], redirects: dict[str, str], pages: dict[str, dict[str, Any]]
) -> PageRef:
    current = normalized.get(title, title)
    chain: list[str] = []
    while current in redirects:
        if current in chain:
            return PageRef(title, current, problem="redirect_loop", redirected_from=tuple(chain))
        chain.append(current)
        current = redirects[current]
    page = pages.get(current)
    if page is None or page.get("missing") or page.get("invalid"):
        return PageRef(
            title, current, problem="missing_page" if not (page or {}).get("invalid") else "invalid_title"
        )
    if page.get("redirect"):
        # The API stops following a redirect that points back into the chain: a loop (or a double redirect).
        return PageRef(title, current, int(page.get("pageid", 0)), "redirect_loop", tuple(chain))
    if "disambiguation" in (page.get("pageprops") or {}):
        return PageRef(title, current, int(page.get("pageid", 0)), "disambiguation", tuple(chain))
    return PageRef(title, current, int(page["pageid"]), "", tuple(chain))
