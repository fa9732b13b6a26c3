"""Seeded, recorded sampling and train/dev/test splits of a source's records.

Both steps order the records by their content-derived id first, so the result depends only on the records'
content, the fractions and the seed, never on file order or on the machine:

- ``limit``: ``random.Random(seed).sample`` of that many records (before splitting);
- ``split``: ``random.Random(seed).shuffle`` of the id-sorted records; the first ``round(test * n)`` are test,
  the next ``round(dev * n)`` dev, the rest train. 1,000 records at ``test = 0.2`` give exactly 800/200.

Records keep their input order in the output; only their ``split`` changes. Exact duplicates (same id) are
dropped before either step so that one text can never land in both train and test.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from typing import Any

from synthmix.config.sources import SplitConfig
from synthmix.record import SPLITS, Record
from synthmix.store import Rejection

METHOD = "random.Random(seed) over records sorted by content id"


def drop_duplicates(records: list[Record]) -> tuple[list[Record], list[Rejection]]:
    """First occurrence of each id wins; later copies are rejected as ``duplicate``."""
    seen: dict[str, Record] = {}
    kept, rejected = [], []
    for r in records:
        first = seen.get(r.id)
        if first is None:
            seen[r.id] = r
            kept.append(r)
        else:
            where = first.meta.get("line") or first.meta.get("row") or first.meta.get("title") or ""
            rejected.append(Rejection(r, "duplicate", f"same text as an earlier record {where}".strip()))
    return kept, rejected


def _id_order(records: list[Record]) -> list[int]:
    return sorted(range(len(records)), key=lambda i: (records[i].id, i))


def sample(records: list[Record], limit: int, seed: int) -> list[Record]:
    """A seeded sample of ``limit`` records (all when ``limit`` is 0 or covers them), in input order."""
    if not limit or limit >= len(records):
        return list(records)
    chosen = random.Random(seed).sample(_id_order(records), limit)
    return [records[i] for i in sorted(chosen)]


def assign_splits(records: list[Record], config: SplitConfig) -> list[Record]:
    order = _id_order(records)
    random.Random(config.seed).shuffle(order)
    n_test = round(config.test * len(records))
    n_dev = round(config.dev * len(records))
    split_of = {}
    for rank, i in enumerate(order):
        split_of[i] = "test" if rank < n_test else "dev" if rank < n_test + n_dev else "train"
    return [dataclasses.replace(r, split=split_of[i]) for i, r in enumerate(records)]


def sample_and_split(
    records: list[Record], *, limit: int, split: SplitConfig | None, seed: int
) -> tuple[list[Record], dict[str, Any]]:
    """Apply ``limit`` then ``split``; returns the records and the facts the manifest records."""
    before = len(records)
    seed = split.seed if split is not None else seed
    records = sample(records, limit, seed)
    if split is not None:
        records = assign_splits(records, split)
    counts = Counter(r.split for r in records)
    facts = {
        "method": METHOD,
        "seed": seed,
        "limit": limit,
        "records_before_limit": before,
        "config": None if split is None else {"test": split.test, "dev": split.dev, "seed": split.seed},
        "counts": {s: counts.get(s, 0) for s in SPLITS},
    }
    return records, facts
