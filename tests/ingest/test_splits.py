"""Seeded splits and samples: exact counts, determinism, independence from input order, no duplicate leaks."""

from __future__ import annotations

from ingest.splits import drop_duplicates, sample_and_split
from synthmix.config.sources import SplitConfig
from synthmix.record import Record


def pairs(n: int, offset: int = 0) -> list[Record]:
    return [
        Record(
            kind="translation", origin="real", source="p", fields={"src": f"Satz {i}.", "tgt": f"Phrase {i}."}
        )
        for i in range(offset, offset + n)
    ]


def test_1000_pairs_split_80_20_exactly():
    records, facts = sample_and_split(pairs(1000), limit=0, split=SplitConfig(test=0.2, seed=13), seed=1)
    assert facts["counts"] == {"train": 800, "dev": 0, "test": 200}
    assert sum(r.split == "test" for r in records) == 200
    assert facts["config"] == {"test": 0.2, "dev": 0.0, "seed": 13}


def test_split_is_deterministic_and_independent_of_input_order():
    a, _ = sample_and_split(pairs(300), limit=0, split=SplitConfig(test=0.1, dev=0.1, seed=7), seed=0)
    b, _ = sample_and_split(
        list(reversed(pairs(300))), limit=0, split=SplitConfig(test=0.1, dev=0.1, seed=7), seed=0
    )
    assert {r.id: r.split for r in a} == {r.id: r.split for r in b}
    assert [r.id for r in a] == [r.id for r in pairs(300)]  # input order kept
    c, _ = sample_and_split(pairs(300), limit=0, split=SplitConfig(test=0.1, dev=0.1, seed=8), seed=0)
    assert {r.id: r.split for r in a} != {r.id: r.split for r in c}


def test_limit_samples_before_splitting():
    records, facts = sample_and_split(pairs(2009), limit=1000, split=SplitConfig(test=0.2, seed=13), seed=0)
    assert len(records) == 1000 and facts["records_before_limit"] == 2009
    assert facts["counts"] == {"train": 800, "dev": 0, "test": 200}
    again, _ = sample_and_split(pairs(2009), limit=1000, split=SplitConfig(test=0.2, seed=13), seed=0)
    assert [r.id for r in again] == [r.id for r in records]


def test_limit_without_split_keeps_source_splits_and_uses_the_recipe_seed():
    source = pairs(10)
    for r in source[:5]:
        r.split = "test"
    records, facts = sample_and_split(source, limit=4, split=None, seed=3)
    assert len(records) == 4 and facts["seed"] == 3 and facts["config"] is None
    assert {r.id: r.split for r in records} == {
        r.id: r.split for r in source if r.id in {x.id for x in records}
    }


def test_duplicates_are_rejected_before_splitting():
    records = pairs(3) + pairs(1)
    records[3].meta = {"line": 5}
    kept, rejected = drop_duplicates(records)
    assert len(kept) == 3
    assert [(x.reason, x.record.meta) for x in rejected] == [("duplicate", {"line": 5})]
