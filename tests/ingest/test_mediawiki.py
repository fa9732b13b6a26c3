"""The MediaWiki client against a real HTTP server on 127.0.0.1: etiquette, retries, cache, resolution."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest.http_cache import HttpCache
from ingest.mediawiki import MediaWikiClient, NotCachedError
from synthmix import __version__
from synthmix.errors import SynthmixError
from tests.ingest.fake_mediawiki import FakeWiki, FakeWikiServer


def make_client(server: FakeWikiServer, tmp_path: Path, **kwargs) -> MediaWikiClient:
    options = {"requests_per_second": 1000.0, "backoff_seconds": 0.01, **kwargs}
    return MediaWikiClient(server.api_url, cache=HttpCache(tmp_path / "http"), **options)


def test_every_request_has_user_agent_maxlag_and_json_v2(
    server, wiki: FakeWiki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SYNTHMIX_CONTACT", "ops@example.org")
    make_client(server, tmp_path).resolve_titles(["Johannes Gutenberg"])
    (request,) = wiki.requests
    agent = request["headers"]["User-Agent"]
    assert agent.startswith(f"synthmix/{__version__} (+https://")
    assert "ops@example.org" in agent
    assert request["params"]["maxlag"] == "5"
    assert (request["params"]["format"], request["params"]["formatversion"]) == ("json", "2")


def test_resolves_redirects_missing_loops_and_disambiguation(server, tmp_path: Path):
    refs = make_client(server, tmp_path).resolve_titles(
        ["gutenberg", "Nirgendwo", "Loop A", "Mercury", "Johannes_Gutenberg"]
    )
    assert (refs["gutenberg"].title, refs["gutenberg"].pageid, refs["gutenberg"].problem) == (
        "Johannes Gutenberg",
        2566,
        "",
    )
    assert refs["gutenberg"].redirected_from == ("Gutenberg",)
    assert refs["Johannes_Gutenberg"].pageid == 2566
    assert refs["Nirgendwo"].problem == "missing_page"
    assert refs["Loop A"].problem == "redirect_loop"
    assert refs["Mercury"].problem == "disambiguation"


def test_retries_429_honouring_retry_after_then_succeeds(server, wiki: FakeWiki, tmp_path: Path):
    wiki.fail_next({"action": "parse"}, 429, {"Retry-After": "1"}, {"error": {"code": "ratelimited"}})
    client = make_client(server, tmp_path)
    page = client.parse_page(2566)
    assert page is not None and page.revid == 241873512
    assert wiki.count(action="parse") == 2
    assert client.stats.retries == 1
    assert client.stats.waited_seconds == pytest.approx(1.0)


def test_maxlag_error_is_retried_and_never_cached(server, wiki: FakeWiki, tmp_path: Path):
    lag = {"error": {"code": "maxlag", "info": "Waiting for db1: 7 seconds lagged", "lag": 7}}
    wiki.fail_next({"action": "parse"}, 200, {"Retry-After": "0"}, lag)
    wiki.fail_next({"action": "parse"}, 503, {"Retry-After": "0"}, lag)
    client = make_client(server, tmp_path)
    page = client.parse_page(2566)
    assert page is not None and page.title == "Johannes Gutenberg"
    assert wiki.count(action="parse") == 3
    assert client.stats.retries == 2
    assert len(client.cache) == 1  # only the good answer


def test_retry_after_is_capped(server, wiki: FakeWiki, tmp_path: Path):
    wiki.fail_next({"action": "parse"}, 429, {"Retry-After": "3600"}, {})
    client = make_client(server, tmp_path, max_retry_wait=0.05)
    assert client.parse_page(2566) is not None
    assert client.stats.waited_seconds == pytest.approx(0.05)


def test_gives_up_after_max_retries_with_a_message(server, wiki: FakeWiki, tmp_path: Path):
    for _ in range(3):
        wiki.fail_next({"action": "parse"}, 503, {}, {})
    client = make_client(server, tmp_path, max_retries=2)
    with pytest.raises(SynthmixError, match=r"gave up after 3 attempts \(HTTP 503\)"):
        client.parse_page(2566)
    assert wiki.count(action="parse") == 3


def test_cache_makes_a_second_client_send_zero_requests(server, wiki: FakeWiki, tmp_path: Path):
    first = make_client(server, tmp_path)
    refs = first.resolve_titles(["Johannes Gutenberg"])
    html = first.parse_page(refs["Johannes Gutenberg"].pageid)
    sent = len(wiki.requests)
    assert sent == 2
    second = make_client(server, tmp_path)
    again = second.parse_page(second.resolve_titles(["Johannes Gutenberg"])["Johannes Gutenberg"].pageid)
    assert len(wiki.requests) == sent
    assert second.stats.requests == 0 and second.stats.cache_hits == 2
    assert again == html  # same html and the same fetched_at, so outputs are identical


def test_offline_client_raises_for_what_the_cache_lacks(server, wiki: FakeWiki, tmp_path: Path):
    client = make_client(server, tmp_path, offline=True)
    with pytest.raises(NotCachedError, match="not in the HTTP cache"):
        client.resolve_titles(["Johannes Gutenberg"])
    assert wiki.requests == []


def test_search_follows_continuation(server, wiki: FakeWiki, tmp_path: Path):
    wiki.search_results["many"] = [f"Page {i}" for i in range(7)]
    client = make_client(server, tmp_path)
    client_titles = client._query_all(
        {"action": "query", "list": "search", "srsearch": "many", "srlimit": "3"}, 100, "search"
    )
    assert [h["title"] for h in client_titles] == [f"Page {i}" for i in range(7)]
    assert wiki.count(list="search") == 3
    assert client.search("many", 5) == [f"Page {i}" for i in range(5)]


@pytest.mark.parametrize(
    ("depth", "expected"),
    [
        (0, ["Johannes Gutenberg"]),
        (1, ["Johannes Gutenberg", "Table only"]),
        (2, ["Johannes Gutenberg", "Table only", "Empty"]),
    ],
)
def test_category_members_respect_depth(server, tmp_path: Path, depth: int, expected: list[str]):
    assert make_client(server, tmp_path).category_members("Drucker", depth, 50) == expected


def test_parse_of_a_vanished_page_is_none(server, tmp_path: Path):
    assert make_client(server, tmp_path).parse_page(424242) is None


def test_unreachable_server_fails_at_once_as_a_missing_requirement(tmp_path: Path):
    from synthmix.errors import MissingRequirementError

    client = MediaWikiClient("http://127.0.0.1:9/w/api.php", cache=HttpCache(tmp_path), backoff_seconds=5)
    with pytest.raises(
        MissingRequirementError, match=r"cannot reach http://127\.0\.0\.1:9/w/api\.php \(connection refused\)"
    ):
        client.resolve_titles(["X"])
    assert client.stats.requests == 1 and client.stats.retries == 0  # no pointless backoff loop


def test_requests_are_spaced_by_requests_per_second(server, wiki: FakeWiki, tmp_path: Path):
    client = make_client(server, tmp_path, requests_per_second=10.0)
    start = time.monotonic()
    for title in ("A", "B", "C", "D"):
        client.resolve_titles([title])
    # At most 10 per second: the 4th request cannot leave before 3 intervals of 0.1 s (a lower bound; the
    # server records when it arrived, on the same clock).
    assert len(wiki.requests) == 4
    assert wiki.requests[-1]["at"] - start >= 0.3
