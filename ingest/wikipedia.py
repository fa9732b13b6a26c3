"""Wikipedia source: articles by title, search or category (MediaWiki API) or saved HTML -> passage records.

Each page is cleaned (``ingest.cleaner``), split into sentences with Punkt in the page's language
(``ingest.sentences``), filtered to prose sentences and grouped into passages of ``passage_sentences``
sentences / ``passage_max_chars`` characters that never cross a section boundary. Every passage keeps the
page's url, title, page id, revision id, section, language, license (CC BY-SA 4.0) and fetch time. Pages that
cannot give passages are rejected with a reason: missing_page, redirect_loop, disambiguation, empty_article,
no_prose, bad_encoding, redirect (a saved redirect page).

    reader = WikipediaReader("wiki", config, cache_dir=layout.cache / "http", stamp=stamp)
    result = reader.read()   # records, rejections, facts
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from tqdm import tqdm

from ingest.cleaner import MATH, clean_article, content_html, read_saved_page
from ingest.files import display_path
from ingest.http_cache import HttpCache
from ingest.mediawiki import TITLES_PER_QUERY, MediaWikiClient, NotCachedError, PageRef
from ingest.sentences import SentenceSplitter, base_language, build_passages, starts_lowercase
from synthmix.config.sources import WikipediaSourceConfig
from synthmix.errors import MissingRequirementError
from synthmix.record import ProvenanceStamp, Record
from synthmix.store import Rejection

log = logging.getLogger(__name__)

LICENSE = "CC BY-SA 4.0"
HTML_SUFFIXES = (".html", ".htm")

# A prose sentence ends like one: terminal punctuation, optionally followed by closing quotes or brackets.
_TERMINAL = re.compile(r"[.!?…。！？][\"'»“”’)\]」』]*$")
# Scripts written without spaces between words: sentence length is counted in characters there.
UNSPACED_LANGS = {"zh", "ja", "th", "lo", "km", "my", "bo"}


def api_url_for(config: WikipediaSourceConfig) -> str:
    return config.api_url or f"https://{config.lang}.wikipedia.org/w/api.php"


def article_url(api_url: str, title: str) -> str:
    """https://de.wikipedia.org/w/api.php + "Johann Gutenberg" -> https://de.wikipedia.org/wiki/Johann_Gutenberg"""
    parsed = urlparse(api_url)
    base_path = parsed.path.rsplit("/w/", 1)[0] if "/w/" in parsed.path else ""
    return f"{parsed.scheme}://{parsed.netloc}{base_path}/wiki/{quote(title.replace(' ', '_'), safe='/:(),')}"


def is_prose_sentence(sentence: str, min_words: int, lang: str = "") -> bool:
    """A full sentence of running text: no math hole, enough words, no lowercase start, terminal
    punctuation. Drops list fragments ("eine Legierung aus Blei"), lead-ins ("... include:")."""
    long_enough = (
        len(sentence) >= 2 * min_words
        if base_language(lang) in UNSPACED_LANGS
        else len(sentence.split()) >= min_words
    )
    return (
        MATH not in sentence
        and long_enough
        and bool(_TERMINAL.search(sentence))
        and not starts_lowercase(sentence)
    )


@dataclass
class ReadResult:
    records: list[Record] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PageInfo:
    """What a record needs to say about the page it came from."""

    title: str
    url: str
    pageid: int | None
    revid: int | None
    fetched_at: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "title": self.title,
            "pageid": self.pageid,
            "revid": self.revid,
            "fetched_at": self.fetched_at,
            **self.extra,
        }


class WikipediaReader:
    def __init__(
        self,
        name: str,
        config: WikipediaSourceConfig,
        *,
        cache_dir: Path,
        stamp: ProvenanceStamp,
        offline: bool = False,
        progress: bool = True,
    ):
        self.name = name
        self.config = config
        self.cache_dir = Path(cache_dir)
        self.stamp = stamp
        self.offline = offline
        self.progress = progress
        self.splitter = SentenceSplitter(config.lang)
        # Wikipedia text is CC BY-SA 4.0; a recipe may spell it differently (e.g. "CC-BY-SA-4.0").
        self.license = config.license or LICENSE
        self.sentences_kept = 0
        self.sentences_dropped = 0  # not prose: fragments, lead-ins, formulas, too short

    # -- one page ----------------------------------------------------------------------------------------

    def _reject(self, page: PageInfo, reason: str, detail: str) -> Rejection:
        record = Record(
            kind="passage",
            origin="real",
            source=self.name,
            fields={},
            lang=self.config.lang,
            meta={**page.meta(), "license": self.license},
            provenance=(self.stamp,),
        )
        return Rejection(record, reason, detail)

    def page_records(self, html: Any, page: PageInfo) -> tuple[list[Record], Rejection | None]:
        """Passages of one article (HTML string or soup), or why it has none."""
        article = clean_article(html, self.config.lang, tuple(self.config.skip_sections))
        if not article.has_content:
            return [], self._reject(page, "empty_article", "the HTML has no article text")
        if article.disambiguation:
            return [], self._reject(page, "disambiguation", "a disambiguation page lists articles, not prose")
        sections = []
        for section in article.sections:
            sentences = []
            for block in section.blocks:
                for sentence in self.splitter.split(block):
                    if is_prose_sentence(sentence, self.config.min_sentence_words, self.config.lang):
                        sentences.append(sentence)
                    else:
                        self.sentences_dropped += 1
            self.sentences_kept += len(sentences)
            if sentences:
                sections.append((section.title, sentences))
        if not sections:
            return [], self._reject(
                page, "no_prose", f"{article.blocks} text block(s), no prose sentence among them"
            )
        passages = build_passages(
            sections, max_sentences=self.config.passage_sentences, max_chars=self.config.passage_max_chars
        )
        records = [
            Record(
                kind="passage",
                origin="real",
                source=self.name,
                fields={"text": p.text},
                lang=self.config.lang,
                meta={
                    **page.meta(),
                    "license": self.license,
                    "section": p.section,
                    "passage": i,
                    "sentences": p.sentences,
                },
                provenance=(self.stamp,),
            )
            for i, p in enumerate(passages)
        ]
        return records, None

    # -- saved HTML --------------------------------------------------------------------------------------

    def read_html_dir(self) -> ReadResult:
        folder = Path(self.config.html_dir)
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in HTML_SUFFIXES and p.is_file())
        result = ReadResult()
        if len(files) > self.config.max_pages:
            log.info(
                "%s: %d HTML files, reading the first %d (max_pages)",
                self.name,
                len(files),
                self.config.max_pages,
            )
            files = files[: self.config.max_pages]
        pages_ok = 0
        for path in tqdm(files, desc=f"ingest {self.name}", unit="page", disable=not self.progress):
            rel = display_path(path)
            try:
                html = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError as e:
                info = PageInfo(path.stem.replace("_", " "), "", None, None, None, {"file": rel})
                result.rejected.append(
                    self._reject(
                        info, "bad_encoding", f"{rel}: not UTF-8 at byte {e.start}; re-save as UTF-8"
                    )
                )
                continue
            saved = read_saved_page(path, html)
            if saved.lang and saved.lang != self.config.lang:
                log.warning(
                    "%s: %s is a %r page, read as %r (lang)", self.name, rel, saved.lang, self.config.lang
                )
            info = PageInfo(
                saved.title,
                saved.url or article_url(api_url_for(self.config), saved.title),
                saved.pageid,
                saved.revid,
                None,  # a saved file does not say when it was fetched
                {"file": rel},
            )
            if saved.is_redirect:
                result.rejected.append(self._reject(info, "redirect", f"{rel} is a redirect page"))
                continue
            if saved.disambiguation:
                result.rejected.append(
                    self._reject(
                        info, "disambiguation", f"{rel}: a disambiguation page lists articles, not prose"
                    )
                )
                continue
            records, rejection = self.page_records(content_html(html), info)
            result.records.extend(records)
            if rejection:
                result.rejected.append(rejection)
            else:
                pages_ok += 1
        result.facts = {
            **self._sentence_facts(),
            "pages": len(files),
            "pages_with_passages": pages_ok,
            "html_dir": self.config.html_dir,
        }
        return result

    # -- MediaWiki API -----------------------------------------------------------------------------------

    def client(self) -> MediaWikiClient:
        c = self.config
        return MediaWikiClient(
            api_url_for(c),
            cache=HttpCache(self.cache_dir),
            offline=self.offline,
            requests_per_second=c.requests_per_second,
            max_retries=c.max_retries,
            backoff_seconds=c.backoff_seconds,
            max_retry_wait=c.max_retry_wait,
            timeout=c.timeout,
        )

    def read_api(self, client: MediaWikiClient | None = None) -> ReadResult:
        c = self.config
        client = client or self.client()
        missing: list[str] = []
        wanted: list[str] = list(dict.fromkeys(c.titles))
        if c.search:
            try:
                wanted += client.search(c.search, c.max_pages)
            except NotCachedError:
                missing.append(f"search {c.search!r}")
        if c.category:
            try:
                wanted += client.category_members(c.category, c.category_depth, c.max_pages)
            except NotCachedError:
                missing.append(f"category {c.category!r}")
        wanted = _cap(list(dict.fromkeys(wanted)), c)
        refs: dict[str, PageRef] = {}
        # Batch by batch, as the client does, so an offline run reuses the cached batches and names the rest.
        for start in range(0, len(wanted), TITLES_PER_QUERY):
            batch = wanted[start : start + TITLES_PER_QUERY]
            try:
                refs.update(client.resolve_titles(batch))
            except NotCachedError:
                missing.extend(f"page {t!r}" for t in batch)
        result = ReadResult()
        seen: set[int] = set()
        pages_ok = 0
        api = api_url_for(c)
        for title in tqdm(wanted, desc=f"ingest {self.name}", unit="page", disable=not self.progress):
            ref = refs.get(title)
            if ref is None:
                continue
            info = PageInfo(
                ref.title or title, article_url(api, ref.title or title), ref.pageid or None, None, None
            )
            if ref.redirected_from:
                info = PageInfo(info.title, info.url, info.pageid, None, None, {"requested": title})
            if ref.problem:
                detail = {
                    "missing_page": f"no article {ref.title!r} on {api}",
                    "invalid_title": f"{title!r} is not a valid page title",
                    "redirect_loop": f"redirects loop: {' -> '.join([*ref.redirected_from, ref.title])}",
                    "disambiguation": f"{ref.title!r} is a disambiguation page; name one of its articles",
                }[ref.problem]
                reason = "missing_page" if ref.problem == "invalid_title" else ref.problem
                result.rejected.append(self._reject(info, reason, detail))
                continue
            if ref.pageid in seen:
                continue  # two requested titles landing on the same article
            seen.add(ref.pageid)
            try:
                parsed = client.parse_page(ref.pageid)
            except NotCachedError:
                missing.append(f"page {ref.title!r}")
                continue
            if parsed is None:
                result.rejected.append(self._reject(info, "missing_page", f"page id {ref.pageid} has gone"))
                continue
            info = PageInfo(
                parsed.title or info.title,
                info.url,
                parsed.pageid,
                parsed.revid,
                parsed.fetched_at,
                info.extra,
            )
            records, rejection = self.page_records(parsed.html, info)
            result.records.extend(records)
            if rejection:
                result.rejected.append(rejection)
            else:
                pages_ok += 1
        if missing:
            raise MissingRequirementError(
                f"sources.{self.name}: --offline and not in the HTTP cache ({self.cache_dir}): "
                + ", ".join(missing)
                + "; run once without --offline to fetch them"
            )
        stats = client.stats
        result.facts = {
            **self._sentence_facts(),
            "api_url": api,
            "pages": len(seen),
            "pages_with_passages": pages_ok,
            "http": {"requests": stats.requests, "cache_hits": stats.cache_hits, "retries": stats.retries},
        }
        return result

    def _sentence_facts(self) -> dict[str, int]:
        return {"sentences_kept": self.sentences_kept, "sentences_dropped": self.sentences_dropped}

    def read(self) -> ReadResult:
        if self.config.html_dir:
            return self.read_html_dir()
        client = self.client()
        try:
            return self.read_api(client)
        finally:
            client.cache.close()


def _cap(wanted: list[str], c: WikipediaSourceConfig) -> list[str]:
    # Titles named in the recipe are always read; search and category results fill up to max_pages.
    named = list(dict.fromkeys(c.titles))
    rest = [t for t in wanted if t not in named]
    return named + rest[: max(0, c.max_pages - len(named))]
