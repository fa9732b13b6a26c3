"""The curation funnel: how many records entered and left each stage, why, per source and per language.

Each curated source's manifest carries ``funnel`` (its own records) and ``funnel_all_sources`` (every
source together, with a ``by_source`` breakdown); data_cards renders them. One entry per stage, in order::

    {"stage": "near_dedup", "in": 980, "out": 950, "rejected_by_reason": {"near_duplicate": 30},
     "by_language": {"de-fr": {"in": 980, "out": 950}}}

Languages are ``src-tgt`` for pairs and the record's ``lang`` otherwise (``?`` when unset).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from curate.langid import iso639_1
from synthmix.record import Record

STAGES = ("normalize", "exact_dedup", "near_dedup", "langid", "quality", "decontam", "relevance")


def _code(lang: str | None) -> str:
    return iso639_1(lang) or lang or "?"


def language_key(record: Record) -> str:
    """``de-fr`` for pairs, ``de`` otherwise; FLORES codes (``deu_Latn``) read as ISO 639-1."""
    if record.kind == "translation":
        return f"{_code(record.src_lang)}-{_code(record.tgt_lang)}"
    return _code(record.lang)


@dataclass
class Funnel:
    # stage -> Counter over (source, language) of records entering, and (source, language, reason) dropped.
    entered: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)
    dropped: dict[str, Counter[tuple[str, str, str]]] = field(default_factory=dict)
    # Wall-clock seconds per stage (time since the previous stage was counted); not part of ``entries``,
    # which must be identical between runs and executors.
    seconds: dict[str, float] = field(default_factory=dict)
    _clock: float = field(default_factory=time.perf_counter, repr=False)

    def add(self, stage: str, entering: Iterable[Record], rejected: Iterable[tuple[Record, str]]) -> None:
        """Count one stage: the records that entered it and the (record, reason) pairs it dropped."""
        self.entered[stage] = Counter((r.source, language_key(r)) for r in entering)
        self.dropped[stage] = Counter((r.source, language_key(r), reason) for r, reason in rejected)
        now = time.perf_counter()
        self.seconds[stage] = round(now - self._clock, 3)
        self._clock = now

    def entries(self, source: str | None = None) -> list[dict[str, Any]]:
        """The funnel for one source (``by_language``) or for all (adds ``by_source``)."""
        out = []
        for stage in STAGES:
            if stage not in self.entered:
                continue
            ins = Counter({k: v for k, v in self.entered[stage].items() if source is None or k[0] == source})
            drops = Counter(
                {k: v for k, v in self.dropped[stage].items() if source is None or k[0] == source}
            )
            n_in, n_drop = sum(ins.values()), sum(drops.values())
            by_reason: Counter[str] = Counter()
            lang_in: Counter[str] = Counter()
            lang_drop: Counter[str] = Counter()
            src_in: Counter[str] = Counter()
            src_drop: Counter[str] = Counter()
            for (src, lang), n in ins.items():
                lang_in[lang] += n
                src_in[src] += n
            for (src, lang, reason), n in drops.items():
                by_reason[reason] += n
                lang_drop[lang] += n
                src_drop[src] += n
            entry: dict[str, Any] = {
                "stage": stage,
                "in": n_in,
                "out": n_in - n_drop,
                "rejected_by_reason": dict(sorted(by_reason.items())),
                "by_language": {
                    lang: {"in": lang_in[lang], "out": lang_in[lang] - lang_drop[lang]}
                    for lang in sorted(lang_in)
                },
            }
            if source is None:
                entry["by_source"] = {
                    s: {"in": src_in[s], "out": src_in[s] - src_drop[s]} for s in sorted(src_in)
                }
            out.append(entry)
        return out
