"""Data cards: what writing a card and staging an upload cost, relative to reading the data itself.

    .venv/bin/python bench/bench_cards.py          (also run by `make bench`)

Builds a seeded curated source of 20,000 records (real and synthetic translation pairs plus synthetic QA,
with meta like ingest and synth write it) in a temp dir, then times, in the same run:

- baseline: ``synthmix.store.read_records`` of the dataset (any consumer pays this);
- ``dataset_stats`` over the records, a whole ``write_card`` (records, stats, provenance, YAML, prose,
  three plots), and ``--dry-run`` staging of the upload folder, each as a ratio to the baseline;
- the length histograms drawn as one filled outline per origin (what plots.py does) against one bar patch
  per bin (matplotlib's default), same data, as a speed ratio.
"""

from __future__ import annotations

import io
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data_cards.cards import write_card
from data_cards.publish import write_dry_run
from data_cards.stats import dataset_stats, length_values
from synthmix.layout import Layout
from synthmix.record import Record
from synthmix.store import read_records, write_dataset

N = 20_000
WORDS = [f"w{i}" for i in range(3000)]


def sentence(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi))) + "."


def build(root: Path) -> Path:
    rng = random.Random(13)
    records = []
    for i in range(N):
        synthetic = i % 3 == 0
        meta = (
            {
                "model": "llama-3.3-70b-versatile",
                "backend": "groq",
                "template": "translation_pairs@v1",
                "template_hash": "9b2e41d0aa",
                "sampling": {"temperature": 0.9},
                "prompt_tokens": 400,
                "completion_tokens": 120,
                "cache_key": f"k{i // 10}",
            }
            if synthetic
            else {"license": "CC-BY-SA-4.0", "dataset": "openlanguagedata/flores_plus", "row": i}
        )
        if i % 5 == 4:
            records.append(
                Record(
                    kind="qa",
                    origin="synthetic",
                    source="bench",
                    lang="de",
                    fields={"question": sentence(rng, 4, 12) + "?", "answer": sentence(rng, 1, 8)},
                    meta=meta,
                    split="train",
                )
            )
        else:
            records.append(
                Record(
                    kind="translation",
                    origin="synthetic" if synthetic else "real",
                    source="bench",
                    src_lang="deu_Latn",
                    tgt_lang="fra_Latn",
                    fields={"src": sentence(rng, 5, 30), "tgt": sentence(rng, 5, 30)},
                    meta=meta,
                    split="test" if i % 10 == 1 else "train",
                )
            )
    layout = Layout("bench", root)
    funnel = [
        {"stage": s, "in": N + 100, "out": N + 100 - k, "rejected_by_reason": {"x": k}}
        for k, s in enumerate(["normalize", "exact_dedup", "near_dedup", "langid", "quality", "decontam"])
    ]
    write_dataset(
        layout.curate("bench"),
        records,
        stage="curate",
        extra={"funnel": funnel, "decontam": {"eval_sets": ["bench:test"], "removed": 5}},
    )
    return layout.curate("bench")


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def histogram(lengths: dict[str, list[int]], histtype: str) -> None:
    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot()
    top = max(max(v) for v in lengths.values())
    for origin, values in sorted(lengths.items()):
        ax.hist(values, bins=40, range=(0, top), alpha=0.5, histtype=histtype, label=origin)
    FigureCanvasAgg(fig).print_png(io.BytesIO())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = build(root)
        layout = Layout("bench", root)
        t_read = best_of(lambda: read_records(path))
        records = read_records(path)
        t_stats = best_of(lambda: dataset_stats(records))
        t_card = best_of(lambda: write_card(path, None, layout), repeat=2)
        t_stage = best_of(lambda: write_dry_run(path, root / "dry"), repeat=2)
        lengths = length_values(records)["input"]
        t_bar = best_of(lambda: histogram(lengths, "bar"))
        t_filled = best_of(lambda: histogram(lengths, "stepfilled"))
    print(f"records: {N:,}; baseline read_records: {t_read:.3f} s")
    print(f"dataset_stats / read_records:       {t_stats / t_read:.2f}x  ({t_stats:.3f} s)")
    print(f"write_card / read_records:          {t_card / t_read:.2f}x  ({t_card:.3f} s, incl. its own read)")
    print(f"dry-run staging / read_records:     {t_stage / t_read:.2f}x  ({t_stage:.3f} s)")
    print(
        f"histogram speed-up, stepfilled vs bar patches: {t_bar / t_filled:.2f}x "
        f"({t_bar:.3f} s vs {t_filled:.3f} s)"
    )


if __name__ == "__main__":
    main()
