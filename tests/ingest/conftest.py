"""Fixtures for ingest tests: a MediaWiki-shaped server on 127.0.0.1 filled with fixture pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ingest.fake_mediawiki import FakeWiki, FakeWikiServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"


def fixture_html(name: str) -> str:
    return (FIXTURES / "html" / name).read_text(encoding="utf-8")


@pytest.fixture
def wiki() -> FakeWiki:
    w = FakeWiki()
    w.add("Johannes Gutenberg", fixture_html("gutenberg_parse.html"), pageid=2566, revid=241873512)
    w.add("Mercury", fixture_html("disambiguation_parse.html"), pageid=19, disambiguation=True)
    w.add("Table only", fixture_html("no_prose_parse.html"), pageid=77)
    w.add("Empty", '<div class="mw-parser-output"></div>', pageid=78)
    w.redirects.update({"Gutenberg": "Johannes Gutenberg", "Loop A": "Loop B", "Loop B": "Loop A"})
    w.search_results["Buchdruck Erfinder"] = ["Johannes Gutenberg", "Table only", "Nirgendwo"]
    w.categories["Category:Drucker"] = [("Johannes Gutenberg", 0), ("Category:Frühe Drucker", 14)]
    w.categories["Category:Frühe Drucker"] = [("Table only", 0), ("Category:Noch tiefer", 14)]
    w.categories["Category:Noch tiefer"] = [("Empty", 0)]
    return w


@pytest.fixture
def server(wiki: FakeWiki) -> Iterator[FakeWikiServer]:
    with FakeWikiServer(wiki) as s:
        yield s
