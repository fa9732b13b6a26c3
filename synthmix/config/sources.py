"""Recipe section ``[sources.<name>]``: where real records come from (ingest stage).

Three types, told apart by ``type``: ``wikipedia`` (MediaWiki API or saved HTML), ``hub`` (any Hugging Face
dataset through ``datasets``, with presets such as FLORES-200) and ``files`` (local tsv/csv/jsonl/parquet).
Every source can be split (seeded, recorded) and capped; its test split is registered as an eval set that
curation decontaminates against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from synthmix.config.base import require

Kind = Literal["translation", "qa", "instruction", "passage"]


@dataclass(frozen=True)
class SplitConfig:
    """Seeded split of a source that arrives unsplit. Fractions of the records after ``limit``."""

    test: float = 0.0
    dev: float = 0.0
    seed: int = 13

    def __post_init__(self) -> None:
        require(0 <= self.test < 1, "test", f"must be in [0, 1), got {self.test}")
        require(0 <= self.dev < 1, "dev", f"must be in [0, 1), got {self.dev}")
        require(self.test + self.dev < 1, "test", "test + dev must leave some train records")


@dataclass(frozen=True)
class _SourceCommon:
    kind: Kind = "translation"
    lang: str = ""
    src_lang: str = ""
    tgt_lang: str = ""
    # Record field -> column name in the input (e.g. {src = "de", tgt = "fr"}).
    columns: dict[str, str] = field(default_factory=dict)
    split: SplitConfig | None = None
    limit: int = 0  # 0 = every record; otherwise a seeded sample of this many before splitting
    license: str = ""
    # Register the test (and dev) split as an eval set that every training record is decontaminated against.
    eval: bool = True


@dataclass(frozen=True)
class FilesSourceConfig(_SourceCommon):
    type: Literal["files"] = "files"
    path: str = ""
    format: Literal["auto", "tsv", "csv", "jsonl", "parquet"] = "auto"
    # Which split the file holds when it is already split (ignored when ``split`` is set).
    file_split: Literal["train", "dev", "test"] = "train"

    def __post_init__(self) -> None:
        require(bool(self.path), "path", "a files source needs a path")
        require(self.limit >= 0, "limit", f"must be >= 0, got {self.limit}")


@dataclass(frozen=True)
class HubSourceConfig(_SourceCommon):
    type: Literal["hub"] = "hub"
    # A preset fills dataset/config/columns for well-known sets; explicit keys override it.
    preset: Literal["", "flores200", "samanantar", "guanaco", "alpaca"] = ""
    dataset: str = ""
    config: str = ""
    revision: str = ""
    # Hub split name -> synthmix split, e.g. {dev = "train", devtest = "test"}.
    splits: dict[str, Literal["train", "dev", "test"]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require(bool(self.dataset or self.preset), "dataset", "a hub source needs a dataset id or a preset")
        require(
            self.preset != "flores200" or bool(self.src_lang and self.tgt_lang),
            "src_lang",
            "the flores200 preset needs src_lang and tgt_lang, e.g. deu_Latn and fra_Latn",
        )
        require(
            self.preset != "samanantar" or bool(self.tgt_lang or self.config),
            "tgt_lang",
            "the samanantar preset needs tgt_lang (e.g. te) or config",
        )
        require(self.limit >= 0, "limit", f"must be >= 0, got {self.limit}")


@dataclass(frozen=True)
class WikipediaSourceConfig(_SourceCommon):
    type: Literal["wikipedia"] = "wikipedia"
    kind: Kind = "passage"
    lang: str = "en"
    titles: list[str] = field(default_factory=list)
    search: str = ""
    category: str = ""
    category_depth: int = 1
    max_pages: int = 50
    # Saved article HTML files (full pages or parse-API HTML); used instead of the API when set.
    html_dir: str = ""
    api_url: str = ""  # default https://{lang}.wikipedia.org/w/api.php
    passage_sentences: int = 5
    passage_max_chars: int = 1200
    # Sentences shorter than this (in words) are not prose: list fragments, captions, headings.
    min_sentence_words: int = 4
    # Extra section titles to drop (besides See also / References / Weblinks / Voir aussi ...).
    skip_sections: list[str] = field(default_factory=list)
    requests_per_second: float = 1.0
    max_retries: int = 5  # per request, on HTTP 429/5xx, maxlag and connection errors
    backoff_seconds: float = 1.0  # first retry wait when the server sends no Retry-After; doubles
    max_retry_wait: float = 60.0  # cap on any single wait, including a server's Retry-After
    timeout: float = 30.0  # seconds per HTTP request

    def __post_init__(self) -> None:
        require(
            bool(self.titles or self.search or self.category or self.html_dir),
            "titles",
            "a wikipedia source needs titles, search, category or html_dir",
        )
        require(self.kind == "passage", "kind", "a wikipedia source yields passages")
        require(bool(self.lang), "lang", "a wikipedia source needs a language edition, e.g. 'de'")
        require(self.passage_sentences > 0, "passage_sentences", "must be > 0")
        require(self.category_depth >= 0, "category_depth", "must be >= 0")
        require(self.requests_per_second > 0, "requests_per_second", "must be > 0")
        require(self.passage_max_chars >= 0, "passage_max_chars", "must be >= 0 (0 = no limit)")
        require(self.min_sentence_words >= 1, "min_sentence_words", "must be >= 1")
        require(self.max_pages > 0, "max_pages", "must be > 0")
        require(self.max_retries >= 0, "max_retries", "must be >= 0")
        require(self.backoff_seconds >= 0, "backoff_seconds", "must be >= 0")
        require(self.max_retry_wait >= 0, "max_retry_wait", "must be >= 0")
        require(self.timeout > 0, "timeout", "must be > 0")


SourceConfig = FilesSourceConfig | HubSourceConfig | WikipediaSourceConfig
