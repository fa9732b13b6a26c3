"""Statistics of a dataset's records for its card: sizes, languages, per-source shares, length distributions.

Everything here is plain data (dicts of numbers) so it goes straight into ``card.json`` and the README:

    from synthmix.store import read_records
    from data_cards.stats import dataset_stats
    stats = dataset_stats(read_records(path))
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from data_cards.languages import hub_language
from synthmix.record import INPUT_FIELDS, OUTPUT_FIELDS, Record

# Hub convention for size_categories; the upper bound is exclusive (a 1,000-record set is 1K<n<10K).
SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)  # and "n>1B" beyond
PERCENTILES = (5, 50, 95)
EXAMPLE_CHARS = 300  # longer payload fields are cut in the card's example records


def size_category(n: int) -> str:
    for bound, label in SIZE_CATEGORIES:
        if n < bound:
            return label
    return "n>1B"


def percentile(sorted_values: list[int], q: float) -> float:
    """Linear-interpolated percentile of an already sorted list (numpy's default method)."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def describe(values: Iterable[int]) -> dict[str, float | int]:
    """count, min, mean, p5, p50, p95, max of integer lengths (empty input gives zeros)."""
    data = sorted(values)
    if not data:
        return {"count": 0, "min": 0, "mean": 0.0, "p5": 0.0, "p50": 0.0, "p95": 0.0, "max": 0}
    out: dict[str, float | int] = {
        "count": len(data),
        "min": data[0],
        "mean": round(sum(data) / len(data), 2),
    }
    for q in PERCENTILES:
        out[f"p{q}"] = round(percentile(data, q), 2)
    out["max"] = data[-1]
    return out


def language_label(record: Record) -> str:
    """``de->fr`` for pairs, ``de`` otherwise, ``unknown`` when not recorded (FLORES codes mapped)."""

    def code(c: str | None) -> str:
        return hub_language(c) if c else "unknown"

    if record.kind == "translation":
        return f"{code(record.src_lang)}->{code(record.tgt_lang)}"
    return code(record.lang)


def record_languages(record: Record) -> list[str]:
    """Every language a record carries (both sides of a pair), as Hub codes."""
    codes = [record.src_lang, record.tgt_lang] if record.kind == "translation" else [record.lang]
    return sorted({hub_language(c) for c in codes if c})


def side_lengths(record: Record) -> tuple[str, str, str, str]:
    """(input field, input text, output field, output text); passages have only an input side."""
    inp = record.fields.get(INPUT_FIELDS[record.kind]) or ""
    out = "" if record.kind == "passage" else record.fields.get(OUTPUT_FIELDS[record.kind]) or ""
    return INPUT_FIELDS[record.kind], inp, OUTPUT_FIELDS[record.kind], out


def example_of(r: Record) -> dict[str, Any]:
    """A record as the card shows it: who and what, with long payload fields cut."""

    def cut(text: str) -> str:
        return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS].rstrip() + " ..."

    langs = {k: v for k, v in (("lang", r.lang), ("src_lang", r.src_lang), ("tgt_lang", r.tgt_lang)) if v}
    return {
        "id": r.id,
        "kind": r.kind,
        "origin": r.origin,
        "source": r.source,
        **langs,
        "fields": {k: cut(v) for k, v in sorted(r.fields.items()) if v},
    }


def _shares(counter: Counter[str], total: int) -> dict[str, dict[str, float | int]]:
    return {
        k: {"records": v, "share": round(v / total, 4) if total else 0.0} for k, v in sorted(counter.items())
    }


class StatsAccumulator:
    """Statistics over a stream of records: ``add`` each one, then ``result()`` (and ``lengths()`` for plots).

    Only counters and integer lengths are kept, never the records, so a card for a million-record source
    streams it shard by shard.
    """

    def __init__(self) -> None:
        self.total = 0
        self.by_split: Counter[str] = Counter()
        self.by_source: Counter[str] = Counter()
        self.by_origin: Counter[str] = Counter()
        self.by_kind: Counter[str] = Counter()
        self.by_language: Counter[str] = Counter()
        self.languages: Counter[str] = Counter()
        self.source_origin: dict[str, Counter[str]] = defaultdict(Counter)
        self.source_split: dict[str, Counter[str]] = defaultdict(Counter)
        # [side][origin] -> character counts; words likewise.
        self.chars: dict[str, dict[str, list[int]]] = {
            "input": defaultdict(list),
            "output": defaultdict(list),
        }
        self.words: dict[str, dict[str, list[int]]] = {
            "input": defaultdict(list),
            "output": defaultdict(list),
        }
        # The first train record of each kind (stored order, so the same on every run).
        self.examples: dict[str, dict[str, Any]] = {}

    def add(self, r: Record) -> None:
        self.total += 1
        if r.kind not in self.examples and r.split == "train":
            self.examples[r.kind] = example_of(r)
        self.by_split[r.split] += 1
        self.by_source[r.source] += 1
        self.by_origin[r.origin] += 1
        self.by_kind[r.kind] += 1
        self.by_language[language_label(r)] += 1
        self.languages.update(record_languages(r))
        self.source_origin[r.source][r.origin] += 1
        self.source_split[r.source][r.split] += 1
        _, inp, _, out = side_lengths(r)
        self.chars["input"][r.origin].append(len(inp))
        self.words["input"][r.origin].append(len(inp.split()))
        if r.kind != "passage":
            self.chars["output"][r.origin].append(len(out))
            self.words["output"][r.origin].append(len(out.split()))

    def lengths(self) -> dict[str, dict[str, list[int]]]:
        """Raw character lengths by side and origin, for the histograms (not stored in card.json)."""
        return {side: dict(per) for side, per in self.chars.items() if per}

    def result(self) -> dict[str, Any]:
        total = self.total

        def lengths(table: dict[str, dict[str, list[int]]]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for side, per_origin in table.items():
                everything = [v for vals in per_origin.values() for v in vals]
                if not everything:
                    continue
                out[side] = {"all": describe(everything)}
                out[side].update({origin: describe(vals) for origin, vals in sorted(per_origin.items())})
            return out

        return {
            "records": total,
            "size_category": size_category(total),
            "by_split": dict(sorted(self.by_split.items())),
            "by_origin": dict(sorted(self.by_origin.items())),
            "by_kind": dict(sorted(self.by_kind.items())),
            "by_language": dict(sorted(self.by_language.items())),
            "languages": dict(sorted(self.languages.items())),
            "sources": {
                name: {
                    "records": n,
                    "share": round(n / total, 4) if total else 0.0,
                    "by_origin": dict(sorted(self.source_origin[name].items())),
                    "by_split": dict(sorted(self.source_split[name].items())),
                }
                for name, n in sorted(self.by_source.items())
            },
            "origin_shares": _shares(self.by_origin, total),
            "length_chars": lengths(self.chars),
            "length_words": lengths(self.words),
            "examples": dict(sorted(self.examples.items())),
        }


def dataset_stats(records: Iterable[Record]) -> dict[str, Any]:
    """All statistics a card shows, from the records alone (manifests add the funnel and provenance)."""
    acc = StatsAccumulator()
    for r in records:
        acc.add(r)
    return acc.result()


def length_values(records: Iterable[Record]) -> dict[str, dict[str, list[int]]]:
    """Raw character lengths by side and origin, for the histograms (not stored in card.json)."""
    acc = StatsAccumulator()
    for r in records:
        acc.add(r)
    return acc.lengths()
