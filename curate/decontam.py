"""Decontamination: drop training records that overlap an evaluation set.

The eval sets are the splits ingest registered (its manifests' ``eval_splits``, e.g. FLORES devtest as
``flores:test``). Every side of a record (both sides of a pair, question and answer; the context passage
only with ``include_context``) is compared
with every side of every eval record: exactly after normalization, and by word n-grams (``ngram`` words,
lower-cased, punctuation ignored) for sides of at least n words; shorter sides are compared exactly
only, since a short n-gram index would match half the language. A synthetic record is also dropped when
one of its provenance parents (its few-shot examples or source passage) is an eval record::

    from curate.decontam import EvalIndex
    index = EvalIndex.build(eval_records, config)
    hit = index.contamination(record)   # "" or a reason detail naming the eval set
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from synthmix.config.curate import DecontamConfig
from synthmix.record import Record

_WORD = re.compile(r"\w+", re.UNICODE)


def decontam_key(text: str) -> str:
    """Case, punctuation and spacing do not hide a copy of an eval sentence."""
    return " ".join(_WORD.findall(text.lower()))


def word_ngrams(words: list[str], n: int) -> set[str]:
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass
class EvalIndex:
    """Exact keys and n-grams of every eval record's sides, each mapped to the eval set it came from."""

    ngram: int
    max_overlap: float = 0.0
    include_context: bool = False
    exact: dict[str, str] = field(default_factory=dict)
    grams: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, eval_records: Iterable[tuple[str, Record]], config: DecontamConfig) -> EvalIndex:
        """``eval_records``: (eval set name such as ``flores:test``, record)."""
        index = cls(config.ngram, config.max_overlap, config.include_context)
        for name, record in eval_records:
            index.ids.setdefault(record.id, name)
            for text in index._texts(record).values():
                key = decontam_key(text or "")
                if not key:
                    continue
                index.exact.setdefault(key, name)
                words = key.split(" ")
                if len(words) >= index.ngram:
                    for gram in word_ngrams(words, index.ngram):
                        index.grams.setdefault(gram, name)
        return index

    def _texts(self, record: Record) -> dict[str, str]:
        return {k: v for k, v in record.fields.items() if v and (self.include_context or k != "context")}

    def add_ids(self, ids: Iterable[str], name: str) -> None:
        """Extra ids that mean the same eval record (e.g. its id before normalization changed it)."""
        for i in ids:
            self.ids.setdefault(i, name)

    def contamination(self, record: Record) -> tuple[str, str]:
        """``(reason, detail)`` when the record overlaps an eval set, else ``("", "")``."""
        for stamp in record.provenance:
            for parent in stamp.parents:
                if parent in self.ids:
                    return (
                        "contaminated_parent",
                        f"provenance parent {parent} ({stamp.stage}) is an eval record of {self.ids[parent]}",
                    )
        for name, text in sorted(self._texts(record).items()):
            key = decontam_key(text or "")
            if not key:
                continue
            if key in self.exact:
                return "contaminated", f"{name} equals an eval record of {self.exact[key]}"
            words = key.split(" ")
            if len(words) < self.ngram or not self.grams:
                continue
            grams = word_ngrams(words, self.ngram)
            hits = sorted(g for g in grams if g in self.grams)
            if hits and len(hits) / len(grams) > self.max_overlap:
                return (
                    "contaminated",
                    f"{name} shares {len(hits)} of {len(grams)} {self.ngram}-grams with "
                    f"{self.grams[hits[0]]} (e.g. {hits[0]!r})",
                )
        return "", ""
